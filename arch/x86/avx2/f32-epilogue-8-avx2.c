/*
 * f32-epilogue-8-avx2.c - the row kernels of the fused convolution forward
 * epilogue, AVX2 (ck_epilogue_avx2_kernels: dst = act(acc + bias) + res
 * over a row, 8 floats per ymm, vmaskmovps tail).
 *
 * Scalar equivalent: ck_ref_epilogue_kernels in src/ref/f32-epilogue-ref.c.
 * The activations are f32-activation-avx2.h (SLEEF's AVX2 functions); the
 * row logic is src/epilogue-simd/epilogue-row.inc.
 */
#include <immintrin.h>

#include "f32-activation-avx2.h"
#include "kernels.h"

#define CKE_LANES 8
#define CKE_SUFFIX 8__avx2
#define CKE_SET ck_epilogue_avx2_kernels
#define CKE_ISA CONVKIT_ISA_AVX2
#define CKE_NAME "simd-8"
#define CKE_AI static inline __attribute__((always_inline))
typedef __m256 cke_vf;
typedef __m256i cke_vm; /* all-ones lanes where set */

CKE_AI cke_vf cke_set1(float x) { return _mm256_set1_ps(x); }
CKE_AI cke_vf cke_add(cke_vf a, cke_vf b) { return _mm256_add_ps(a, b); }
CKE_AI cke_vf cke_loadu(const float *p) { return _mm256_loadu_ps(p); }
CKE_AI cke_vf cke_loadu_mask(const float *p, cke_vm m) { return _mm256_maskload_ps(p, m); }
CKE_AI void cke_storeu(float *p, cke_vf v) { _mm256_storeu_ps(p, v); }
CKE_AI void cke_storeu_mask(float *p, cke_vf v, cke_vm m) { _mm256_maskstore_ps(p, m, v); }
CKE_AI cke_vm cke_first(int k)
{
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(k), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
CKE_AI cke_vf cke_act(cke_vf v, const ck_conv_epilogue_t *e) { return ck_act_f32x8(v, e); }

#include "epilogue-simd/epilogue-row.inc"
