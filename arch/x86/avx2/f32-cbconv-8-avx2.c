/*
 * f32-cbconv-8-avx2.c - direct convolution forward on channel-chunked data,
 * AVX2 + FMA (ck_f32_cbconv_forward_8__avx2).
 *
 * Scalar equivalent: ck_ref_conv_kernels.forward in src/ref/conv-ref.c
 * (groups == 1, zero padding).  Register tile: NB ymm of 8 output channels
 * by UR output pixels, NB * UR + NB + 1 <= 16 registers (4 x 2, 3 x 4, 2 x 6, 1 x 12
 * ...), plus NB weight vectors and one broadcast.  The kernel logic is
 * shared in src/conv-blocked/cbconv.inc; this file supplies its vector
 * words.
 */
#include <immintrin.h>

#include "kernels.h"
#include "f32-activation-avx2.h"

#define CKC_LANES 8
#define CKC_SUFFIX 8__avx2
#define CKC_AI static inline __attribute__((always_inline))
#define CKC_ACC_MAX 12
#define CKC_UR_NB1 12
#define CKC_UR_NB2 6
#define CKC_UR_NB3 4
#define CKC_UR_NB4 2
typedef __m256 ckc_vf;
typedef __m256i ckc_vm;

CKC_AI ckc_vf ckc_zero(void) { return _mm256_setzero_ps(); }
CKC_AI ckc_vf ckc_bcast(const float *p) { return _mm256_broadcast_ss(p); }
CKC_AI ckc_vf ckc_load(const float *p) { return _mm256_loadu_ps(p); }
CKC_AI void ckc_store(float *p, ckc_vf v) { _mm256_storeu_ps(p, v); }
CKC_AI ckc_vf ckc_fmadd(ckc_vf a, ckc_vf b, ckc_vf c) { return _mm256_fmadd_ps(a, b, c); }
CKC_AI ckc_vf ckc_add(ckc_vf a, ckc_vf b) { return _mm256_add_ps(a, b); }
CKC_AI ckc_vm ckc_mask(int n)
{
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
CKC_AI ckc_vf ckc_load_mask(const float *p, ckc_vm m) { return _mm256_maskload_ps(p, m); }
CKC_AI void ckc_store_mask(float *p, ckc_vf v, ckc_vm m) { _mm256_maskstore_ps(p, m, v); }
CKC_AI ckc_vf ckc_keep(ckc_vf v, ckc_vm m) { return _mm256_and_ps(v, _mm256_castsi256_ps(m)); }
CKC_AI ckc_vf ckc_act(ckc_vf v, const ck_conv_epilogue_t *e) { return ck_act_f32x8(v, e); }
CKC_AI ckc_vf ckc_act_minmax(ckc_vf v, const ck_conv_epilogue_t *e) { return ck_act_minmax_f32x8(v, e); }

#include "conv-blocked/cbconv.inc"
