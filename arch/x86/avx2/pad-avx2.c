/*
 * pad-avx2.c - F.pad (constant, reflect, replicate, circular) for AVX2.
 *
 * Scalar equivalent: ck_ref_pad_kernels in src/ref/pad-ref.c.  Tile: one
 * ymm vector of 8 floats along a row (NCHW) or a pixel's channels (NHWC).
 * Runs shorter than a vector are stored in pieces of 4, 2 and 1 floats
 * (the vmaskmovps store is microcoded on AMD: one took 4.8 ns in a loop on
 * this Zen 3, a vmovups 0.5 ns); short copies load in the same pieces
 * (with a vmaskmovps load, circular rows of 56 with a border of 1 ran
 * ~10% slower than constant ones), reversed ones through vmaskmovps.
 * The kernel is src/pad-simd/pad.inc over the intrinsics below.
 */
#include <immintrin.h>

#include "kernels.h"

#define CKP_V 8
typedef __m256 ckp_vec_t;
typedef __m256i ckp_mask_t;

static inline ckp_vec_t ckp_loadu(const float *p) { return _mm256_loadu_ps(p); }
static inline void ckp_storeu(float *p, ckp_vec_t v) { _mm256_storeu_ps(p, v); }
static inline ckp_vec_t ckp_set1(float x) { return _mm256_set1_ps(x); }
static inline ckp_mask_t ckp_first(int64_t m)
{
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)m), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
static inline ckp_vec_t ckp_maskload(const float *p, ckp_mask_t k) { return _mm256_maskload_ps(p, k); }
static inline void ckp_store_first(float *p, ckp_vec_t v, int64_t m)
{
    __m128 x = _mm256_castps256_ps128(v);
    if (m & 4) {
        _mm_storeu_ps(p, x);
        x = _mm256_extractf128_ps(v, 1);
        p += 4;
    }
    if (m & 2) {
        _mm_storel_pi((__m64 *)(void *)p, x);
        x = _mm_movehl_ps(x, x);
        p += 2;
    }
    if (m & 1) _mm_store_ss(p, x);
}
static inline void ckp_copy_first(float *d, const float *s, int64_t m)
{
    if (m & 4) {
        _mm_storeu_ps(d, _mm_loadu_ps(s));
        d += 4, s += 4;
    }
    if (m & 2) {
        _mm_storel_pi((__m64 *)(void *)d, _mm_loadl_pi(_mm_setzero_ps(), (const __m64 *)(const void *)s));
        d += 2, s += 2;
    }
    if (m & 1) _mm_store_ss(d, _mm_load_ss(s));
}
static inline ckp_vec_t ckp_reverse(ckp_vec_t v, int64_t m)
{
    const __m256i idx = _mm256_sub_epi32(_mm256_set1_epi32((int)m - 1),
                                         _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    return _mm256_permutevar8x32_ps(v, idx); /* uses the low 3 bits of each index */
}

#define CKP_SET_SYMBOL ck_pad_avx2_kernels
#define CKP_SET_NAME "simd-8"
#define CKP_SET_ISA CONVKIT_ISA_AVX2
#include "pad-simd/pad.inc"
