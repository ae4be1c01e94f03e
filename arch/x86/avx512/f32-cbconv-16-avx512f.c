/*
 * f32-cbconv-16-avx512f.c - direct convolution forward on channel-chunked
 * data, AVX-512F (ck_f32_cbconv_forward_16__avx512f).
 *
 * Scalar equivalent: ck_ref_conv_kernels.forward in src/ref/conv-ref.c
 * (groups == 1, zero padding).  Register tile: NB zmm of 16 output
 * channels by UR output pixels: at most 28 accumulators and NB + NB * UR + 1
 * <= 32 registers (4 x 6, 3 x 9, 2 x 14,
 * 1 x 28 ...), the input value a broadcast memory operand of the FMA.  The
 * kernel logic is shared in src/conv-blocked/cbconv.inc; this file supplies
 * its vector words.
 */
#include <immintrin.h>

#include "kernels.h"
#include "f32-activation-avx512f.h"

#define CKC_LANES 16
#define CKC_SUFFIX 16__avx512f
#define CKC_AI static inline __attribute__((always_inline))
#define CKC_ACC_MAX 28
#define CKC_UR_NB1 28
#define CKC_UR_NB2 14
#define CKC_UR_NB3 9
#define CKC_UR_NB4 6
typedef __m512 ckc_vf;
typedef __mmask16 ckc_vm;

CKC_AI ckc_vf ckc_zero(void) { return _mm512_setzero_ps(); }
CKC_AI ckc_vf ckc_bcast(const float *p) { return _mm512_set1_ps(*p); }
CKC_AI ckc_vf ckc_load(const float *p) { return _mm512_loadu_ps(p); }
CKC_AI void ckc_store(float *p, ckc_vf v) { _mm512_storeu_ps(p, v); }
CKC_AI ckc_vf ckc_fmadd(ckc_vf a, ckc_vf b, ckc_vf c) { return _mm512_fmadd_ps(a, b, c); }
CKC_AI ckc_vf ckc_add(ckc_vf a, ckc_vf b) { return _mm512_add_ps(a, b); }
CKC_AI ckc_vm ckc_mask(int n) { return n <= 0 ? 0 : (ckc_vm)((1u << n) - 1u); }
CKC_AI ckc_vf ckc_load_mask(const float *p, ckc_vm m) { return _mm512_maskz_loadu_ps(m, p); }
CKC_AI void ckc_store_mask(float *p, ckc_vf v, ckc_vm m) { _mm512_mask_storeu_ps(p, m, v); }
CKC_AI ckc_vf ckc_keep(ckc_vf v, ckc_vm m) { return _mm512_maskz_mov_ps(m, v); }
CKC_AI ckc_vf ckc_act(ckc_vf v, const ck_conv_epilogue_t *e) { return ck_act_f32x16(v, e); }
CKC_AI ckc_vf ckc_act_minmax(ckc_vf v, const ck_conv_epilogue_t *e) { return ck_act_minmax_f32x16(v, e); }

#include "conv-blocked/cbconv.inc"
