/*
 * f32-maxpool-8-avx2.c - max_pool2d / max_pool1d forward (values and
 * optional int64 indices) and backward, AVX2.
 *
 * Scalar equivalent: ck_ref_pool_kernels in src/ref/pool-ref.c (same values,
 * indices and sums, bit for bit).  Register tile: NCHW, 8 output columns
 * per ymm (running max + int32 index offsets, 2 registers); NHWC, 4 ymm =
 * 32 channels of one output pixel (8 registers).  Stride-2 windows load 15
 * floats as two ymm and deinterleave (vshufps + vpermpd), stride >= 3
 * gathers; edge columns use the same loads masked (vmaskmovps, masked
 * vgatherdps).  The kernel logic is shared with the AVX-512 set in
 * src/pool-simd/maxpool-simd.inc; this file supplies its vector words.
 */
#include <immintrin.h>

#include "kernels.h"

#define CKP_LANES 8
#define CKP_AI static inline __attribute__((always_inline))
typedef __m256 ckp_vf;
typedef __m256i ckp_vi;
typedef __m256 ckp_vm; /* all-ones lanes */

CKP_AI ckp_vf ckp_loadu(const float *p) { return _mm256_loadu_ps(p); }

/* Masked: lanes outside m read as 0 and are not accessed. */
CKP_AI ckp_vf ckp_loadu_mask(const float *p, ckp_vm m)
{
    return _mm256_maskload_ps(p, _mm256_castps_si256(m));
}

/* p[0], p[2], .., p[14] from a = p[0..7] and b = p[7..14]. */
CKP_AI ckp_vf ckp_even(__m256 a, __m256 b)
{
    /* per 128-bit half: a0 a2 b1 b3 = p0 p2 p8 p10 | p4 p6 p12 p14 */
    const __m256 s = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 2, 0));
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(s), _MM_SHUFFLE(3, 1, 2, 0)));
}

CKP_AI ckp_vf ckp_load2(const float *p) { return ckp_even(_mm256_loadu_ps(p), _mm256_loadu_ps(p + 7)); }

/* ckp_load2 with masks for the elements of p[0..7] and of p[7..14]. */
CKP_AI ckp_vf ckp_load2_mask(const float *p, ckp_vm lo, ckp_vm hi)
{
    return ckp_even(ckp_loadu_mask(p, lo), ckp_loadu_mask(p + 7, hi));
}

CKP_AI ckp_vf ckp_gather(const float *p, ckp_vi off) { return _mm256_i32gather_ps(p, off, 4); }

CKP_AI ckp_vf ckp_gather_mask(const float *p, ckp_vi off, ckp_vm m, ckp_vf fill)
{
    return _mm256_mask_i32gather_ps(fill, p, off, m, 4);
}

CKP_AI ckp_vf ckp_set1f(float x) { return _mm256_set1_ps(x); }
CKP_AI ckp_vi ckp_set1i(int32_t x) { return _mm256_set1_epi32(x); }
CKP_AI ckp_vi ckp_loadi(const int32_t *p) { return _mm256_loadu_si256((const __m256i *)p); }
CKP_AI ckp_vi ckp_addi(ckp_vi a, ckp_vi b) { return _mm256_add_epi32(a, b); }

CKP_AI ckp_vm ckp_better(ckp_vf v, ckp_vf max)
{
    return _mm256_or_ps(_mm256_cmp_ps(v, max, _CMP_GT_OQ), _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
}

CKP_AI ckp_vf ckp_self(ckp_vm m, ckp_vf a, ckp_vf b) { return _mm256_blendv_ps(a, b, m); }
CKP_AI ckp_vi ckp_seli(ckp_vm m, ckp_vi a, ckp_vi b)
{
    return _mm256_castps_si256(
        _mm256_blendv_ps(_mm256_castsi256_ps(a), _mm256_castsi256_ps(b), m));
}

CKP_AI ckp_vm ckp_lti(ckp_vi a, ckp_vi b) { return _mm256_castsi256_ps(_mm256_cmpgt_epi32(b, a)); }
CKP_AI ckp_vm ckp_mand(ckp_vm a, ckp_vm b) { return _mm256_and_ps(a, b); }
CKP_AI ckp_vm ckp_mor(ckp_vm a, ckp_vm b) { return _mm256_or_ps(a, b); }
CKP_AI ckp_vm ckp_mandnot(ckp_vm a, ckp_vm b) { return _mm256_andnot_ps(a, b); }
CKP_AI bool ckp_many(ckp_vm m) { return _mm256_movemask_ps(m) != 0; }

CKP_AI void ckp_storeu(float *p, ckp_vf v) { _mm256_storeu_ps(p, v); }
CKP_AI void ckp_storei(int32_t *p, ckp_vi v) { _mm256_storeu_si256((__m256i *)p, v); }
CKP_AI void ckp_store_index(int64_t *p, ckp_vi v)
{
    _mm256_storeu_si256((__m256i *)p, _mm256_cvtepi32_epi64(_mm256_castsi256_si128(v)));
    _mm256_storeu_si256((__m256i *)(p + 4), _mm256_cvtepi32_epi64(_mm256_extracti128_si256(v, 1)));
}

CKP_AI ckp_vi ckp_castfi(ckp_vf v) { return _mm256_castps_si256(v); }
CKP_AI ckp_vf ckp_castif(ckp_vi v) { return _mm256_castsi256_ps(v); }

/* Where m: vmaskmovps / vpmaskmovq touch no masked-off element. */
CKP_AI void ckp_storeu_mask(float *p, ckp_vf v, ckp_vm m)
{
    _mm256_maskstore_ps(p, _mm256_castps_si256(m), v);
}
CKP_AI void ckp_store_index_mask(int64_t *p, ckp_vi v, ckp_vm m)
{
    const __m256i mi = _mm256_castps_si256(m);
    _mm256_maskstore_epi64((long long *)p, _mm256_cvtepi32_epi64(_mm256_castsi256_si128(mi)),
                           _mm256_cvtepi32_epi64(_mm256_castsi256_si128(v)));
    _mm256_maskstore_epi64((long long *)(p + 4),
                           _mm256_cvtepi32_epi64(_mm256_extracti128_si256(mi, 1)),
                           _mm256_cvtepi32_epi64(_mm256_extracti128_si256(v, 1)));
}

/* 8 x 8 transpose: three rounds, each exchanging bit h of the row and the
 * column number (h = 4: 128-bit halves, 2: pairs, 1: single lanes). */
CKP_AI void ckp_transpose(ckp_vf v[8])
{
    for (int i = 0; i < 4; i++) {
        const __m256 a = v[i], b = v[i + 4];
        v[i] = _mm256_permute2f128_ps(a, b, 0x20);
        v[i + 4] = _mm256_permute2f128_ps(a, b, 0x31);
    }
    for (int i = 0; i < 8; i += (i & 1) ? 3 : 1) { /* rows 0, 1, 4, 5 with 2, 3, 6, 7 */
        const __m256 a = v[i], b = v[i + 2];
        v[i] = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(1, 0, 1, 0));
        v[i + 2] = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(3, 2, 3, 2));
    }
    for (int i = 0; i < 8; i += 2) {
        const __m256 a = v[i], b = v[i + 1];
        v[i] = _mm256_blend_ps(a, _mm256_moveldup_ps(b), 0xaa);
        v[i + 1] = _mm256_blend_ps(_mm256_movehdup_ps(a), b, 0xaa);
    }
}

#define CKP_SET_SYMBOL ck_pool_avx2_kernels
#define CKP_ROWS_SYMBOL ck_pool_avx2_rows_kernels
#define CKP_SET_NAME "simd-8"
#define CKP_SET_ISA CONVKIT_ISA_AVX2
#include "pool-simd/maxpool-simd.inc"
