/*
 * test_gemm_avx512_logic.c - the AVX-512 GEMM microkernel's logic on any
 * x86-64 CPU.
 *
 * test_gemm.c runs each kernel only where the CPU has its ISA, so on an
 * AVX2-only machine the AVX-512 kernel would never execute.  Here its
 * source is compiled a second time against portable stand-ins for the
 * handful of intrinsics it uses (16-float structs, per-lane loops and
 * masks), under another name, and checked against the scalar tile like
 * the real kernels: every m and n, kc from 1 to 2*32+1 (sampled), beta 0
 * and 1, sentinel frame, on small integers (exact, so the stand-in's
 * unfused multiply-add gives the same bits as an FMA; fmaf would be a
 * slow library call without -mfma).
 * This checks the indexing, the edge masks and the row skipping, not the
 * code generation; the real kernel is still tested by test_gemm.c on
 * machines with AVX-512.  A kernel change that uses another intrinsic
 * needs its stand-in below.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) && !defined(__AVX512F__)

/* Keep the real <immintrin.h> out (GCC's and Clang's include guards). */
#define _IMMINTRIN_H_INCLUDED
#define __IMMINTRIN_H

typedef struct {
    float v[16];
} __m512;
typedef uint16_t __mmask16;

static inline __m512 _mm512_setzero_ps(void) { return (__m512){{0.0f}}; }
static inline __m512 _mm512_set1_ps(float x)
{
    __m512 r;
    for (int i = 0; i < 16; i++) r.v[i] = x;
    return r;
}
static inline __m512 _mm512_loadu_ps(const void *p)
{
    __m512 r;
    memcpy(r.v, p, sizeof r.v);
    return r;
}
static inline __m512 _mm512_fmadd_ps(__m512 a, __m512 b, __m512 c)
{
    for (int i = 0; i < 16; i++) c.v[i] = a.v[i] * b.v[i] + c.v[i];
    return c;
}
static inline __m512 _mm512_maskz_loadu_ps(__mmask16 m, const void *p)
{
    __m512 r;
    for (int i = 0; i < 16; i++) r.v[i] = (m >> i & 1) ? ((const float *)p)[i] : 0.0f;
    return r;
}
static inline void _mm512_mask_storeu_ps(void *p, __mmask16 m, __m512 a)
{
    for (int i = 0; i < 16; i++)
        if (m >> i & 1) ((float *)p)[i] = a.v[i];
}

/* The kernel under another name (the library's real one stays in the list). */
#define convkit_f32_gemm_ukernel_14x32__avx512f emulated_f32_gemm_ukernel_14x32
#include "../arch/x86/avx512/f32-gemm-14x32-avx512f.c"
#undef convkit_f32_gemm_ukernel_14x32__avx512f

#include "test_support.h"

Test(avx512_logic, f32_gemm_14x32_matches_scalar_tile)
{
    enum { MR = 14, NR = 32, KMAX = 2 * NR + 1, LDC = NR + 5, ROWS = MR + 2 };
    static float a[KMAX * MR], b[KMAX * NR], got[ROWS * LDC], want[ROWS * LDC];
    float *const gc = got + LDC + 2, *const wc = want + LDC + 2; /* tile origin */
    tk_rng_t r;
    tk_rng_seed(&r, 512);
    long calls = 0, bad = 0;
    /* kc 1..9 and around the powers of two up to 2*NR+1 (the kernel has
     * no k unrolling; the full 1..65 took 8 s under ASan) */
    static const int kcs[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, KMAX};
    for (size_t ki = 0; ki < sizeof kcs / sizeof kcs[0]; ki++)
        for (int m = 1, kc = kcs[ki]; m <= MR; m++)
            for (int n = 1; n <= NR; n++)
                for (int beta = 0; beta < 2; beta++, calls++) {
                    /* small integers: every result is exact, so bitwise */
                    for (int p = 0; p < kc; p++) {
                        for (int i = 0; i < MR; i++)
                            a[p * MR + i] = i < m ? (float)tk_rng_range(&r, -4, 4) : 0.0f;
                        for (int j = 0; j < NR; j++)
                            b[p * NR + j] = j < n ? (float)tk_rng_range(&r, -4, 4) : 0.0f;
                    }
                    for (int i = 0; i < ROWS * LDC; i++) got[i] = want[i] = tk_sentinel_f32();
                    if (beta)
                        for (int i = 0; i < m; i++)
                            for (int j = 0; j < n; j++)
                                gc[i * LDC + j] = wc[i * LDC + j] =
                                    (float)tk_rng_range(&r, -9, 9);
                    emulated_f32_gemm_ukernel_14x32((size_t)m, (size_t)n, (size_t)kc, a, b, gc,
                                                    LDC, (float)beta);
                    ck_ref_f32_gemm_tile(MR, NR, (size_t)m, (size_t)n, (size_t)kc, a, b, wc, LDC,
                                         (float)beta);
                    if (memcmp(got, want, sizeof got) != 0 && bad++ < 4)
                        cr_expect(false,
                                  "m=%d n=%d kc=%d beta=%d: result or frame differs from the "
                                  "scalar tile",
                                  m, n, kc, beta);
                }
    cr_expect_eq(bad, 0, "%ld of %ld calls differ", bad, calls);
    cr_log_info("emulated 14x32: %ld calls, %ld differ", calls, bad);
}

#else

Test(avx512_logic, f32_gemm_14x32_matches_scalar_tile)
{
    cr_skip_test("not x86-64, or built with AVX-512 enabled (test_gemm.c runs the real kernel)");
}

#endif
