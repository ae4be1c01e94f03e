/* f32-gemm-ref.c - the scalar GEMM microkernel: the oracle for every SIMD
 * tile (any MR x NR, the contract in gemm/gemm.h, written as the textbook
 * sum) and the scalar ISA's kernel (a 4x8 register-blocked tile). */
#include "gemm/gemm.h"

void ck_ref_f32_gemm_tile(size_t mr, size_t nr, size_t m, size_t n, size_t kc, const float *a,
                          const float *b, float *c, size_t ldc, float beta)
{
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++) {
            float acc = 0.0f;
            for (size_t k = 0; k < kc; k++) acc += a[k * mr + i] * b[k * nr + j];
            float *cij = &c[i * ldc + j];
            *cij = beta == 0.0f ? acc : beta * *cij + acc;
        }
}

/* The scalar ISA's kernel: the same contract at a fixed 4x8 tile, with the
 * k loop outermost over a 4x8 block of accumulators (which the compiler
 * keeps in SSE registers); checked against ck_ref_f32_gemm_tile. */
void ck_ref_f32_gemm_ukernel_4x8(size_t m, size_t n, size_t kc, const float *a, const float *b,
                                 float *c, size_t ldc, float beta)
{
    float acc[4][8] = {{0.0f}};
    for (size_t k = 0; k < kc; k++, a += 4, b += 8)
        for (size_t i = 0; i < 4; i++)
            for (size_t j = 0; j < 8; j++) acc[i][j] += a[i] * b[j];
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++) {
            float *cij = &c[i * ldc + j];
            *cij = beta == 0.0f ? acc[i][j] : beta * *cij + acc[i][j];
        }
}
