/*
 * f32-gemm-6x16-avx2.c - SGEMM microkernel for AVX2 + FMA.
 *
 * Register tile 6x16: 6 rows x 2 ymm columns = 12 accumulators, plus the two
 * B vectors of the current k and one broadcast A value (15 of 16 ymm).  Per
 * k: 2 loads of B, 6 broadcasts of A, 12 FMAs, so the two FMA pipes bound it
 * (BLIS's Haswell tile).  Measured on Zen 3 (kc = 256, data in L1 and in
 * L2), 4x24 and 5x16 came out within the run-to-run noise of this tile
 * (all 97-99% of the FMA peak at best); 6x16 is kept for its smaller B
 * micro-panel in L1 (16 KiB at kc = 256, 4x24 needs 24 KiB) and because
 * NR = 16 divides the common spatial sizes (56^2, 28^2).
 *
 * Scalar equivalent: ck_ref_f32_gemm_tile(6, 16, ...) in src/ref/f32-gemm-ref.c;
 * the contract (packed layouts, beta, edge tiles) is in src/gemm/gemm.h.
 * Edge tiles: rows past m are skipped, columns past n are masked
 * (vmaskmovps), so nothing outside the m x n tile is read or written.
 */
#include <immintrin.h>

#include "gemm/gemm.h"

/* Writes one row of the tile: 16 columns, or the first n through masks. */
static inline __attribute__((always_inline)) void ck_row_full(float *c, __m256 v0, __m256 v1,
                                                               __m256 vbeta, int accumulate)
{
    if (accumulate) {
        v0 = _mm256_fmadd_ps(vbeta, _mm256_loadu_ps(c), v0);
        v1 = _mm256_fmadd_ps(vbeta, _mm256_loadu_ps(c + 8), v1);
    }
    _mm256_storeu_ps(c, v0);
    _mm256_storeu_ps(c + 8, v1);
}

static inline __attribute__((always_inline)) void ck_row_masked(float *c, __m256 v0, __m256 v1,
                                                                 __m256 vbeta, int accumulate,
                                                                 __m256i mask0, __m256i mask1)
{
    if (accumulate) {
        v0 = _mm256_fmadd_ps(vbeta, _mm256_maskload_ps(c, mask0), v0);
        v1 = _mm256_fmadd_ps(vbeta, _mm256_maskload_ps(c + 8, mask1), v1);
    }
    _mm256_maskstore_ps(c, mask0, v0);
    _mm256_maskstore_ps(c + 8, mask1, v1);
}

/* 64-byte function alignment fixes where the k loop falls relative to the
 * decoder's 64-byte fetch windows whatever the link order; measured on
 * Zen 3, a 16-byte-aligned placement in the library ran 3-4% slower. */
__attribute__((aligned(64))) void
convkit_f32_gemm_ukernel_6x16__avx2(size_t m, size_t n, size_t kc, const float *restrict a,
                                    const float *restrict b, float *restrict c, size_t ldc,
                                    float beta)
{
    __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
    __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
    __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
    __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
    __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
    __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();

    /* C's rows are written once, after the loop: start fetching them now
     * (a row of 16 floats may span two cache lines). */
    for (size_t i = 0; i < m; i++) {
        _mm_prefetch((const char *)(c + i * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(c + i * ldc + n - 1), _MM_HINT_T0);
    }

#pragma GCC unroll 4
    for (size_t k = 0; k < kc; k++) {
        const __m256 b0 = _mm256_loadu_ps(b);
        const __m256 b1 = _mm256_loadu_ps(b + 8);
        __m256 ai = _mm256_broadcast_ss(a + 0);
        c00 = _mm256_fmadd_ps(ai, b0, c00);
        c01 = _mm256_fmadd_ps(ai, b1, c01);
        ai = _mm256_broadcast_ss(a + 1);
        c10 = _mm256_fmadd_ps(ai, b0, c10);
        c11 = _mm256_fmadd_ps(ai, b1, c11);
        ai = _mm256_broadcast_ss(a + 2);
        c20 = _mm256_fmadd_ps(ai, b0, c20);
        c21 = _mm256_fmadd_ps(ai, b1, c21);
        ai = _mm256_broadcast_ss(a + 3);
        c30 = _mm256_fmadd_ps(ai, b0, c30);
        c31 = _mm256_fmadd_ps(ai, b1, c31);
        ai = _mm256_broadcast_ss(a + 4);
        c40 = _mm256_fmadd_ps(ai, b0, c40);
        c41 = _mm256_fmadd_ps(ai, b1, c41);
        ai = _mm256_broadcast_ss(a + 5);
        c50 = _mm256_fmadd_ps(ai, b0, c50);
        c51 = _mm256_fmadd_ps(ai, b1, c51);
        a += 6;
        b += 16;
    }

    const __m256 vbeta = _mm256_set1_ps(beta);
    const int acc = beta != 0.0f;
    if (n == 16) {
        ck_row_full(c, c00, c01, vbeta, acc);
        if (m > 1) ck_row_full(c + ldc, c10, c11, vbeta, acc);
        if (m > 2) ck_row_full(c + 2 * ldc, c20, c21, vbeta, acc);
        if (m > 3) ck_row_full(c + 3 * ldc, c30, c31, vbeta, acc);
        if (m > 4) ck_row_full(c + 4 * ldc, c40, c41, vbeta, acc);
        if (m > 5) ck_row_full(c + 5 * ldc, c50, c51, vbeta, acc);
    } else {
        /* lane j of mask0 is set for j < n, lane j of mask1 for 8 + j < n */
        const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        const __m256i mask0 = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)n), lane);
        const __m256i mask1 = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)n - 8), lane);
        ck_row_masked(c, c00, c01, vbeta, acc, mask0, mask1);
        if (m > 1) ck_row_masked(c + ldc, c10, c11, vbeta, acc, mask0, mask1);
        if (m > 2) ck_row_masked(c + 2 * ldc, c20, c21, vbeta, acc, mask0, mask1);
        if (m > 3) ck_row_masked(c + 3 * ldc, c30, c31, vbeta, acc, mask0, mask1);
        if (m > 4) ck_row_masked(c + 4 * ldc, c40, c41, vbeta, acc, mask0, mask1);
        if (m > 5) ck_row_masked(c + 5 * ldc, c50, c51, vbeta, acc, mask0, mask1);
    }
}
