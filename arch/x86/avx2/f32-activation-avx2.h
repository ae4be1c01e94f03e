/*
 * f32-activation-avx2.h - the activations of the fused convolution forward
 * epilogue on 8 floats in a ymm register, AVX2 + SLEEF.
 * Header-only: an AVX2 arch file includes it and calls
 *     __m256 ck_act_f32x8(__m256 v, const ck_conv_epilogue_t *e)
 * on accumulators before the store (and ck_relu_f32x8, ck_clamp_f32x8,
 * ck_sigmoid_f32x8, ck_silu_f32x8, ck_gelu_tanh_f32x8, ck_gelu_erf_f32x8
 * for one activation, ck_act_minmax_* for NONE / RELU / CLAMP without a
 * call).
 *
 * Scalar equivalent: ck_ref_activation in src/ref/activation-ref.c (the
 * same float expressions; SLEEF's Sleef_expf8_u10avx2, Sleef_tanhf8_u10avx2
 * and Sleef_erff8_u10avx2 for libm's expf, tanhf and erff).  The functions
 * are src/epilogue-simd/activation.inc over the intrinsics below.
 */
#ifndef CONVKIT_F32_ACTIVATION_AVX2_H
#define CONVKIT_F32_ACTIVATION_AVX2_H

#include <immintrin.h>
#include <sleef.h>

#include "epilogue.h"
#include "kernels.h"

/* -x (sign flip, exact for every value, NaN included); scalar: -x. */
static inline __m256 ck_neg_f32x8(__m256 v) { return _mm256_xor_ps(v, _mm256_set1_ps(-0.0f)); }

#define CKA_V __m256
#define CKA_SUFFIX f32x8
#define cka_set1 _mm256_set1_ps
#define cka_add _mm256_add_ps
#define cka_mul _mm256_mul_ps
#define cka_div _mm256_div_ps
#define cka_max _mm256_max_ps
#define cka_min _mm256_min_ps
#define cka_neg ck_neg_f32x8
#define cka_exp Sleef_expf8_u10avx2
#define cka_tanh Sleef_tanhf8_u10avx2
#define cka_erf Sleef_erff8_u10avx2
#include "epilogue-simd/activation.inc" /* undefines the words above */

#endif /* CONVKIT_F32_ACTIVATION_AVX2_H */
