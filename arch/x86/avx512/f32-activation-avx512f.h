/*
 * f32-activation-avx512f.h - the activations of the fused convolution
 * forward epilogue on 16 floats in a zmm register, AVX-512F + SLEEF.
 * Header-only: an AVX-512 arch file includes it and calls
 *     __m512 ck_act_f32x16(__m512 v, const ck_conv_epilogue_t *e)
 * on accumulators before the store (and ck_relu_f32x16,
 * ck_clamp_f32x16, ck_sigmoid_f32x16, ck_silu_f32x16, ck_gelu_tanh_f32x16,
 * ck_gelu_erf_f32x16 for one activation, ck_act_minmax_f32x16 for NONE /
 * RELU / CLAMP without a call).
 *
 * Scalar equivalent: ck_ref_activation in src/ref/activation-ref.c (the
 * same float expressions; SLEEF's Sleef_expf16_u10avx512f,
 * Sleef_tanhf16_u10avx512f and Sleef_erff16_u10avx512f for libm's expf,
 * tanhf and erff).  The functions are src/epilogue-simd/activation.inc
 * over the intrinsics below.
 */
#ifndef CONVKIT_F32_ACTIVATION_AVX512F_H
#define CONVKIT_F32_ACTIVATION_AVX512F_H

#include <immintrin.h>
#include <sleef.h>

#include "epilogue.h"
#include "kernels.h"

/* -x (sign flip, exact for every value, NaN included); scalar: -x. */
static inline __m512 ck_neg_f32x16(__m512 v)
{
    return _mm512_castsi512_ps(
        _mm512_xor_si512(_mm512_castps_si512(v), _mm512_set1_epi32((int)0x80000000u)));
}

#define CKA_V __m512
#define CKA_SUFFIX f32x16
#define cka_set1 _mm512_set1_ps
#define cka_add _mm512_add_ps
#define cka_mul _mm512_mul_ps
#define cka_div _mm512_div_ps
#define cka_max _mm512_max_ps
#define cka_min _mm512_min_ps
#define cka_neg ck_neg_f32x16
#define cka_exp Sleef_expf16_u10avx512f
#define cka_tanh Sleef_tanhf16_u10avx512f
#define cka_erf Sleef_erff16_u10avx512f
#include "epilogue-simd/activation.inc" /* undefines the words above */

#endif /* CONVKIT_F32_ACTIVATION_AVX512F_H */
