/*
 * pad-avx512f.c - F.pad (constant, reflect, replicate, circular) for
 * AVX-512F.
 *
 * Scalar equivalent: ck_ref_pad_kernels in src/ref/pad-ref.c.  Tile: one
 * zmm vector of 16 floats along a row (NCHW) or a pixel's channels (NHWC);
 * tails shorter than a vector through mask registers.  The kernel is
 * src/pad-simd/pad.inc over the intrinsics below, the same code as
 * pad-avx2.c; tests/test_pad.c also runs this file on portable stand-ins of
 * these intrinsics, so its logic is checked on CPUs without AVX-512.
 */
#include <immintrin.h>

#include "kernels.h"

#define CKP_V 16
typedef __m512 ckp_vec_t;
typedef __mmask16 ckp_mask_t;

static inline ckp_vec_t ckp_loadu(const float *p) { return _mm512_loadu_ps(p); }
static inline void ckp_storeu(float *p, ckp_vec_t v) { _mm512_storeu_ps(p, v); }
static inline ckp_vec_t ckp_set1(float x) { return _mm512_set1_ps(x); }
static inline ckp_mask_t ckp_first(int64_t m) { return (ckp_mask_t)((1u << m) - 1u); }
static inline ckp_vec_t ckp_maskload(const float *p, ckp_mask_t k) { return _mm512_maskz_loadu_ps(k, p); }
static inline void ckp_store_first(float *p, ckp_vec_t v, int64_t m)
{
    _mm512_mask_storeu_ps(p, ckp_first(m), v);
}
static inline void ckp_copy_first(float *d, const float *s, int64_t m)
{
    _mm512_mask_storeu_ps(d, ckp_first(m), _mm512_maskz_loadu_ps(ckp_first(m), s));
}
static inline ckp_vec_t ckp_reverse(ckp_vec_t v, int64_t m)
{
    const __m512i idx = _mm512_sub_epi32(_mm512_set1_epi32((int)m - 1),
                                         _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
                                                           12, 13, 14, 15));
    return _mm512_permutexvar_ps(idx, v); /* uses the low 4 bits of each index */
}

#define CKP_SET_SYMBOL ck_pad_avx512_kernels
#define CKP_SET_NAME "simd-16"
#define CKP_SET_ISA CONVKIT_ISA_AVX512
#include "pad-simd/pad.inc"
