/*
 * f32-dwconv-8-avx2.c - direct depthwise convolution, forward and
 * backward-data, AVX2 + FMA (ck_f32_dwconv_forward_8__avx2,
 * ck_f32_dwconv_backward_data_8__avx2).
 *
 * Scalar equivalent: ck_ref_conv_kernels in src/ref/conv-ref.c (groups ==
 * in_channels, zero padding; same sums up to rounding: FMA and, for
 * backward-data, another order).  Register tile: NCHW, 4 ymm = 32 output
 * columns of one output row (4 accumulators, one broadcast weight per tap);
 * NHWC, 4 ymm = 32 channels of one output pixel.  Stride-2 columns load 15
 * floats as two ymm and deinterleave them, stride >= 3 gathers; partial
 * vectors use vmaskmovps loads and stores and masked gathers.  The kernel
 * logic is shared in src/conv-direct/dwconv.inc; this file supplies its
 * vector words.  Forward applies the fused epilogue (activation, residual)
 * to each output vector before its store.
 *
 * Also the chunked forward (ck_f32_dwconv_chunked_forward_8__avx2,
 * src/conv-direct/dwconv-chunked.inc: blocked or NHWC-like data,
 * multiplier 1): 4 ymm = 4 output pixels of one 8-channel chunk, the 9
 * weight vectors of a 3x3 kernel in registers.
 */
#include <immintrin.h>

#include "f32-activation-avx2.h"
#include "kernels.h"

#define CKD_LANES 8
#define CKD_SUFFIX 8__avx2
#define CKD_AI static inline __attribute__((always_inline))
typedef __m256 ckd_vf;
typedef __m256i ckd_vi;
typedef __m256i ckd_vm; /* all-ones lanes where set */

CKD_AI ckd_vf ckd_set1(float x) { return _mm256_set1_ps(x); }
CKD_AI ckd_vf ckd_fmadd(ckd_vf a, ckd_vf b, ckd_vf c) { return _mm256_fmadd_ps(a, b, c); }
CKD_AI ckd_vf ckd_add(ckd_vf a, ckd_vf b) { return _mm256_add_ps(a, b); }
/* the forward epilogue's activation (SLEEF, f32-activation-avx2.h) */
CKD_AI ckd_vf ckd_act(ckd_vf v, const ck_conv_epilogue_t *e) { return ck_act_f32x8(v, e); }
CKD_AI ckd_vf ckd_act_minmax(ckd_vf v, const ck_conv_epilogue_t *e)
{
    return ck_act_minmax_f32x8(v, e);
}
CKD_AI ckd_vf ckd_loadu(const float *p) { return _mm256_loadu_ps(p); }
CKD_AI ckd_vf ckd_loadu_mask(const float *p, ckd_vm m) { return _mm256_maskload_ps(p, m); }

CKD_AI ckd_vf ckd_even(__m256 a, __m256 b)
{
    /* a = p0..p7, b = p7..p14: even lanes of a hold p0, p2, p4, p6, odd
     * lanes of b p8, p10, p12, p14 */
    const __m256 ev = _mm256_blend_ps(a, b, 0xAA); /* p0 p8 p2 p10 p4 p12 p6 p14 */
    return _mm256_permutevar8x32_ps(ev, _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7));
}
/* p[0], p[2], .., p[14] from p[0..7] and p[7..14]. */
CKD_AI ckd_vf ckd_load2(const float *p) { return ckd_even(_mm256_loadu_ps(p), _mm256_loadu_ps(p + 7)); }
CKD_AI ckd_vf ckd_load2_mask(const float *p, ckd_vm lo, ckd_vm hi)
{
    return ckd_even(_mm256_maskload_ps(p, lo), _mm256_maskload_ps(p + 7, hi));
}

CKD_AI ckd_vf ckd_gather(const float *p, ckd_vi off) { return _mm256_i32gather_ps(p, off, 4); }
CKD_AI ckd_vf ckd_gather_mask(const float *p, ckd_vi off, ckd_vm m)
{
    return _mm256_mask_i32gather_ps(_mm256_setzero_ps(), p, off, _mm256_castsi256_ps(m), 4);
}
CKD_AI ckd_vi ckd_loadi(const int32_t *p) { return _mm256_loadu_si256((const __m256i *)p); }
CKD_AI void ckd_storeu(float *p, ckd_vf v) { _mm256_storeu_ps(p, v); }
CKD_AI void ckd_storeu_mask(float *p, ckd_vf v, ckd_vm m) { _mm256_maskstore_ps(p, m, v); }
CKD_AI ckd_vm ckd_mask_range(int lo, int hi)
{
    const __m256i j = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_andnot_si256(_mm256_cmpgt_epi32(_mm256_set1_epi32(lo), j),
                               _mm256_cmpgt_epi32(_mm256_set1_epi32(hi), j));
}

/* a[n..7] followed by b[0..n-1]: per 128-bit half, byte-align a with
 * (a's upper half, b's lower half) */
CKD_AI ckd_vf ckd_shift1(ckd_vf a, ckd_vf b)
{
    const __m256i t = _mm256_castps_si256(_mm256_permute2f128_ps(a, b, 0x21));
    return _mm256_castsi256_ps(_mm256_alignr_epi8(t, _mm256_castps_si256(a), 4));
}
CKD_AI ckd_vf ckd_shift2(ckd_vf a, ckd_vf b)
{
    const __m256i t = _mm256_castps_si256(_mm256_permute2f128_ps(a, b, 0x21));
    return _mm256_castsi256_ps(_mm256_alignr_epi8(t, _mm256_castps_si256(a), 8));
}

#include "conv-direct/dwconv.inc"
#include "conv-direct/dwconv-chunked.inc"
