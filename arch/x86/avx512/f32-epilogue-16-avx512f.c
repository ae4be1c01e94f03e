/*
 * f32-epilogue-16-avx512f.c - the row kernels of the fused convolution
 * forward epilogue, AVX-512F (ck_epilogue_avx512_kernels: dst = act(acc +
 * bias) + res over a row, 16 floats per zmm, k-masked tail).
 *
 * Scalar equivalent: ck_ref_epilogue_kernels in src/ref/f32-epilogue-ref.c.
 * The activations are f32-activation-avx512f.h (SLEEF's AVX-512F
 * functions); the row logic is src/epilogue-simd/epilogue-row.inc.
 */
#include <immintrin.h>

#include "f32-activation-avx512f.h"
#include "kernels.h"

#define CKE_LANES 16
#define CKE_SUFFIX 16__avx512f
#define CKE_SET ck_epilogue_avx512_kernels
#define CKE_ISA CONVKIT_ISA_AVX512
#define CKE_NAME "simd-16"
#define CKE_AI static inline __attribute__((always_inline))
typedef __m512 cke_vf;
typedef __mmask16 cke_vm;

CKE_AI cke_vf cke_set1(float x) { return _mm512_set1_ps(x); }
CKE_AI cke_vf cke_add(cke_vf a, cke_vf b) { return _mm512_add_ps(a, b); }
CKE_AI cke_vf cke_loadu(const float *p) { return _mm512_loadu_ps(p); }
CKE_AI cke_vf cke_loadu_mask(const float *p, cke_vm m) { return _mm512_maskz_loadu_ps(m, p); }
CKE_AI void cke_storeu(float *p, cke_vf v) { _mm512_storeu_ps(p, v); }
CKE_AI void cke_storeu_mask(float *p, cke_vf v, cke_vm m) { _mm512_mask_storeu_ps(p, m, v); }
CKE_AI cke_vm cke_first(int k) { return (cke_vm)((1u << k) - 1u); }
CKE_AI cke_vf cke_act(cke_vf v, const ck_conv_epilogue_t *e) { return ck_act_f32x16(v, e); }

#include "epilogue-simd/epilogue-row.inc"
