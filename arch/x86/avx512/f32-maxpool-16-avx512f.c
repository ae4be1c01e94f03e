/*
 * f32-maxpool-16-avx512f.c - max_pool2d / max_pool1d forward (values and
 * optional int64 indices) and backward, AVX-512F.
 *
 * Scalar equivalent: ck_ref_pool_kernels in src/ref/pool-ref.c (same values,
 * indices and sums, bit for bit).  Register tile: NCHW, 16 output columns
 * per zmm (running max + int32 index offsets, 2 registers, lane masks in k
 * registers); NHWC, 4 zmm = 64 channels of one output pixel (8 registers).
 * Stride-2 windows load 31 floats as two zmm and deinterleave (vpermt2ps),
 * stride >= 3 gathers; edge columns use the same loads masked (k-masked
 * vmovups, vgatherdps).  A line-for-line transliteration
 * of the AVX2 set (f32-maxpool-8-avx2.c); the kernel logic is shared in
 * src/pool-simd/maxpool-simd.inc, this file supplies its vector words.
 */
#include <immintrin.h>

#include "kernels.h"

#define CKP_LANES 16
#define CKP_AI static inline __attribute__((always_inline))
typedef __m512 ckp_vf;
typedef __m512i ckp_vi;
typedef __mmask16 ckp_vm;

CKP_AI ckp_vf ckp_loadu(const float *p) { return _mm512_loadu_ps(p); }

/* Masked: lanes outside m read as 0 and are not accessed. */
CKP_AI ckp_vf ckp_loadu_mask(const float *p, ckp_vm m) { return _mm512_maskz_loadu_ps(m, p); }

/* p[0], p[2], .., p[30] from a = p[0..15] and b = p[15..30]. */
CKP_AI ckp_vf ckp_even(__m512 a, __m512 b)
{
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, /* from a */
                                           17, 19, 21, 23, 25, 27, 29, 31 /* b */);
    return _mm512_permutex2var_ps(a, even, b);
}

CKP_AI ckp_vf ckp_load2(const float *p) { return ckp_even(_mm512_loadu_ps(p), _mm512_loadu_ps(p + 15)); }

/* ckp_load2 with masks for the elements of p[0..15] and of p[15..30]. */
CKP_AI ckp_vf ckp_load2_mask(const float *p, ckp_vm lo, ckp_vm hi)
{
    return ckp_even(ckp_loadu_mask(p, lo), ckp_loadu_mask(p + 15, hi));
}

CKP_AI ckp_vf ckp_gather(const float *p, ckp_vi off) { return _mm512_i32gather_ps(off, p, 4); }

CKP_AI ckp_vf ckp_gather_mask(const float *p, ckp_vi off, ckp_vm m, ckp_vf fill)
{
    return _mm512_mask_i32gather_ps(fill, m, off, p, 4);
}

CKP_AI ckp_vf ckp_set1f(float x) { return _mm512_set1_ps(x); }
CKP_AI ckp_vi ckp_set1i(int32_t x) { return _mm512_set1_epi32(x); }
CKP_AI ckp_vi ckp_loadi(const int32_t *p) { return _mm512_loadu_si512(p); }
CKP_AI ckp_vi ckp_addi(ckp_vi a, ckp_vi b) { return _mm512_add_epi32(a, b); }

CKP_AI ckp_vm ckp_better(ckp_vf v, ckp_vf max)
{
    return _kor_mask16(_mm512_cmp_ps_mask(v, max, _CMP_GT_OQ),
                       _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q));
}

CKP_AI ckp_vf ckp_self(ckp_vm m, ckp_vf a, ckp_vf b) { return _mm512_mask_blend_ps(m, a, b); }
CKP_AI ckp_vi ckp_seli(ckp_vm m, ckp_vi a, ckp_vi b) { return _mm512_mask_blend_epi32(m, a, b); }

CKP_AI ckp_vm ckp_lti(ckp_vi a, ckp_vi b) { return _mm512_cmplt_epi32_mask(a, b); }
CKP_AI ckp_vm ckp_mand(ckp_vm a, ckp_vm b) { return _kand_mask16(a, b); }
CKP_AI ckp_vm ckp_mor(ckp_vm a, ckp_vm b) { return _kor_mask16(a, b); }
CKP_AI ckp_vm ckp_mandnot(ckp_vm a, ckp_vm b) { return _kandn_mask16(a, b); }
CKP_AI bool ckp_many(ckp_vm m) { return m != 0; }

CKP_AI void ckp_storeu(float *p, ckp_vf v) { _mm512_storeu_ps(p, v); }
CKP_AI void ckp_storei(int32_t *p, ckp_vi v) { _mm512_storeu_si512(p, v); }
CKP_AI void ckp_store_index(int64_t *p, ckp_vi v)
{
    _mm512_storeu_si512(p, _mm512_cvtepi32_epi64(_mm512_castsi512_si256(v)));
    _mm512_storeu_si512(p + 8, _mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(v, 1)));
}

CKP_AI ckp_vi ckp_castfi(ckp_vf v) { return _mm512_castps_si512(v); }
CKP_AI ckp_vf ckp_castif(ckp_vi v) { return _mm512_castsi512_ps(v); }

/* Where m (k-masked stores touch no masked-off element). */
CKP_AI void ckp_storeu_mask(float *p, ckp_vf v, ckp_vm m) { _mm512_mask_storeu_ps(p, m, v); }
CKP_AI void ckp_store_index_mask(int64_t *p, ckp_vi v, ckp_vm m)
{
    _mm512_mask_storeu_epi64(p, (__mmask8)(m & 0xff),
                             _mm512_cvtepi32_epi64(_mm512_castsi512_si256(v)));
    _mm512_mask_storeu_epi64(p + 8, (__mmask8)(m >> 8),
                             _mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(v, 1)));
}

/* One round of the transpose: rows i and i + h (bit h of i clear) swap
 * the elements whose row and column differ in bit h. */
#define CKP_TRANSPOSE_ROUND(h, lo, hi)                                                     \
    for (int i = 0; i < 16; i++)                                                           \
        if (!(i & (h))) {                                                                  \
            const __m512 a = v[i], b = v[i + (h)];                                         \
            v[i] = _mm512_permutex2var_ps(a, lo, b);                                       \
            v[i + (h)] = _mm512_permutex2var_ps(a, hi, b);                                 \
        }

/* 16 x 16 transpose: four rounds of vpermt2ps (h = 8, 4, 2, 1); in each,
 * lane j of the low result takes a_j if bit h of j is clear, else
 * b_(j-h); of the high result a_(j+h), else b_j. */
CKP_AI void ckp_transpose(ckp_vf v[16])
{
    const __m512i lo8 = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23);
    const __m512i hi8 = _mm512_setr_epi32(8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31);
    const __m512i lo4 = _mm512_setr_epi32(0, 1, 2, 3, 16, 17, 18, 19, 8, 9, 10, 11, 24, 25, 26, 27);
    const __m512i hi4 = _mm512_setr_epi32(4, 5, 6, 7, 20, 21, 22, 23, 12, 13, 14, 15, 28, 29, 30, 31);
    const __m512i lo2 = _mm512_setr_epi32(0, 1, 16, 17, 4, 5, 20, 21, 8, 9, 24, 25, 12, 13, 28, 29);
    const __m512i hi2 = _mm512_setr_epi32(2, 3, 18, 19, 6, 7, 22, 23, 10, 11, 26, 27, 14, 15, 30, 31);
    const __m512i lo1 = _mm512_setr_epi32(0, 16, 2, 18, 4, 20, 6, 22, 8, 24, 10, 26, 12, 28, 14, 30);
    const __m512i hi1 = _mm512_setr_epi32(1, 17, 3, 19, 5, 21, 7, 23, 9, 25, 11, 27, 13, 29, 15, 31);
    CKP_TRANSPOSE_ROUND(8, lo8, hi8)
    CKP_TRANSPOSE_ROUND(4, lo4, hi4)
    CKP_TRANSPOSE_ROUND(2, lo2, hi2)
    CKP_TRANSPOSE_ROUND(1, lo1, hi1)
}
#undef CKP_TRANSPOSE_ROUND

#define CKP_SET_SYMBOL ck_pool_avx512_kernels
#define CKP_ROWS_SYMBOL ck_pool_avx512_rows_kernels
#define CKP_SET_NAME "simd-16"
#define CKP_SET_ISA CONVKIT_ISA_AVX512
#include "pool-simd/maxpool-simd.inc"
