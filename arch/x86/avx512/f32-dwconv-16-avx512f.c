/*
 * f32-dwconv-16-avx512f.c - direct depthwise convolution, forward and
 * backward-data, AVX-512F (ck_f32_dwconv_forward_16__avx512f,
 * ck_f32_dwconv_backward_data_16__avx512f).
 *
 * Scalar equivalent: ck_ref_conv_kernels in src/ref/conv-ref.c (groups ==
 * in_channels, zero padding; same sums up to rounding: FMA and, for
 * backward-data, another order).  Register tile: NCHW, 4 zmm = 64 output
 * columns of one output row (4 accumulators, one broadcast weight per tap);
 * NHWC, 4 zmm = 64 channels of one output pixel.  Stride-2 columns load 31
 * floats as two zmm and deinterleave them (vpermt2ps), stride >= 3 gathers;
 * partial vectors use k-masked loads, stores and gathers.  The kernel logic
 * is shared in src/conv-direct/dwconv.inc; this file supplies its vector
 * words.  Forward applies the fused epilogue (activation, residual) to
 * each output vector before its store.
 *
 * Also the chunked forward (ck_f32_dwconv_chunked_forward_16__avx512f,
 * src/conv-direct/dwconv-chunked.inc: blocked or NHWC-like data,
 * multiplier 1): 8 zmm = 8 output pixels of one 16-channel chunk, the 9
 * weight vectors of a 3x3 kernel in registers.
 */
#include <immintrin.h>

#include "f32-activation-avx512f.h"
#include "kernels.h"

#define CKD_LANES 16
#define CKD_SUFFIX 16__avx512f
#define CKD_AI static inline __attribute__((always_inline))
typedef __m512 ckd_vf;
typedef __m512i ckd_vi;
typedef __mmask16 ckd_vm;

CKD_AI ckd_vf ckd_set1(float x) { return _mm512_set1_ps(x); }
CKD_AI ckd_vf ckd_fmadd(ckd_vf a, ckd_vf b, ckd_vf c) { return _mm512_fmadd_ps(a, b, c); }
CKD_AI ckd_vf ckd_add(ckd_vf a, ckd_vf b) { return _mm512_add_ps(a, b); }
/* the forward epilogue's activation (SLEEF, f32-activation-avx512f.h) */
CKD_AI ckd_vf ckd_act(ckd_vf v, const ck_conv_epilogue_t *e) { return ck_act_f32x16(v, e); }
CKD_AI ckd_vf ckd_act_minmax(ckd_vf v, const ck_conv_epilogue_t *e)
{
    return ck_act_minmax_f32x16(v, e);
}
CKD_AI ckd_vf ckd_loadu(const float *p) { return _mm512_loadu_ps(p); }
CKD_AI ckd_vf ckd_loadu_mask(const float *p, ckd_vm m) { return _mm512_maskz_loadu_ps(m, p); }

/* p[0], p[2], .., p[30] from p[0..15] and p[15..30]. */
CKD_AI ckd_vf ckd_load2(const float *p)
{
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, /* from p[0..15] */
                                           17, 19, 21, 23, 25, 27, 29, 31 /* p[15..30] */);
    return _mm512_permutex2var_ps(_mm512_loadu_ps(p), even, _mm512_loadu_ps(p + 15));
}

CKD_AI ckd_vf ckd_load2_mask(const float *p, ckd_vm lo, ckd_vm hi)
{
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 17, 19, 21, 23, 25, 27, 29, 31);
    return _mm512_permutex2var_ps(_mm512_maskz_loadu_ps(lo, p), even,
                                  _mm512_maskz_loadu_ps(hi, p + 15));
}

CKD_AI ckd_vf ckd_gather(const float *p, ckd_vi off) { return _mm512_i32gather_ps(off, p, 4); }
CKD_AI ckd_vf ckd_gather_mask(const float *p, ckd_vi off, ckd_vm m)
{
    return _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m, off, p, 4);
}
CKD_AI ckd_vi ckd_loadi(const int32_t *p) { return _mm512_loadu_si512(p); }
CKD_AI void ckd_storeu(float *p, ckd_vf v) { _mm512_storeu_ps(p, v); }
CKD_AI void ckd_storeu_mask(float *p, ckd_vf v, ckd_vm m) { _mm512_mask_storeu_ps(p, m, v); }
CKD_AI ckd_vm ckd_mask_range(int lo, int hi) { return (ckd_vm)(((1u << hi) - 1u) & ~((1u << lo) - 1u)); }

/* a[n..15] followed by b[0..n-1] */
CKD_AI ckd_vf ckd_shift1(ckd_vf a, ckd_vf b)
{
    return _mm512_castsi512_ps(_mm512_alignr_epi32(_mm512_castps_si512(b), _mm512_castps_si512(a), 1));
}
CKD_AI ckd_vf ckd_shift2(ckd_vf a, ckd_vf b)
{
    return _mm512_castsi512_ps(_mm512_alignr_epi32(_mm512_castps_si512(b), _mm512_castps_si512(a), 2));
}

#include "conv-direct/dwconv.inc"
#include "conv-direct/dwconv-chunked.inc"
