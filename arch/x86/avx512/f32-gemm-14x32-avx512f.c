/*
 * f32-gemm-14x32-avx512f.c - SGEMM microkernel for AVX-512F.
 *
 * Register tile 14x32: 14 rows x 2 zmm columns = 28 accumulators, plus the
 * two B vectors of the current k and one broadcast A value (31 of 32 zmm).
 * Per k: 2 loads of B, 14 broadcasts of A, 28 FMAs: the largest tile that
 * fits the register file, so the fewest loads per FMA (a standard AVX-512
 * choice; not measured: this machine has no AVX-512).
 *
 * Scalar equivalent: ck_ref_f32_gemm_tile(14, 32, ...) in src/ref/f32-gemm-ref.c;
 * the contract (packed layouts, beta, edge tiles) is in src/gemm/gemm.h.
 * Edge tiles: rows past m are skipped, columns past n are masked with
 * k-masks, so nothing outside the m x n tile is read or written.
 */
#include <immintrin.h>

#include "gemm/gemm.h"

#define CK_MR 14

void convkit_f32_gemm_ukernel_14x32__avx512f(size_t m, size_t n, size_t kc,
                                             const float *restrict a, const float *restrict b,
                                             float *restrict c, size_t ldc, float beta)
{
    /* Fully unrolled with constant indices, so every element lives in a
     * register (no stack traffic in the k loop). */
    __m512 acc0[CK_MR], acc1[CK_MR];
#pragma GCC unroll 14
    for (int i = 0; i < CK_MR; i++) acc0[i] = acc1[i] = _mm512_setzero_ps();

    for (size_t k = 0; k < kc; k++) {
        const __m512 b0 = _mm512_loadu_ps(b);
        const __m512 b1 = _mm512_loadu_ps(b + 16);
#pragma GCC unroll 14
        for (int i = 0; i < CK_MR; i++) {
            const __m512 ai = _mm512_set1_ps(a[i]);
            acc0[i] = _mm512_fmadd_ps(ai, b0, acc0[i]);
            acc1[i] = _mm512_fmadd_ps(ai, b1, acc1[i]);
        }
        a += CK_MR;
        b += 32;
    }

    /* lanes j < n of the first vector, 16 + j < n of the second */
    const __mmask16 mask0 = n >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << n) - 1u);
    const __mmask16 mask1 = n <= 16 ? (__mmask16)0 : (__mmask16)((1u << (n - 16)) - 1u);
    const __m512 vbeta = _mm512_set1_ps(beta);
    if (beta == 0.0f) {
#pragma GCC unroll 14
        for (int i = 0; i < CK_MR; i++) {
            if ((size_t)i >= m) break;
            _mm512_mask_storeu_ps(c + i * ldc, mask0, acc0[i]);
            _mm512_mask_storeu_ps(c + i * ldc + 16, mask1, acc1[i]);
        }
    } else {
#pragma GCC unroll 14
        for (int i = 0; i < CK_MR; i++) {
            if ((size_t)i >= m) break;
            float *ci = c + i * ldc;
            const __m512 v0 = _mm512_fmadd_ps(vbeta, _mm512_maskz_loadu_ps(mask0, ci), acc0[i]);
            const __m512 v1 =
                _mm512_fmadd_ps(vbeta, _mm512_maskz_loadu_ps(mask1, ci + 16), acc1[i]);
            _mm512_mask_storeu_ps(ci, mask0, v0);
            _mm512_mask_storeu_ps(ci + 16, mask1, v1);
        }
    }
}
