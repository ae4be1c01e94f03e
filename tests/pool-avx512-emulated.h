/*
 * pool-avx512-emulated.h - the AVX-512 max-pool kernel set compiled against
 * portable stand-ins for the intrinsics it uses, for test_dispatch.c on
 * x86-64 CPUs without AVX-512 (where the real set never runs).
 *
 * Defines ck_pool_avx512_emulated and ck_pool_avx512_rows_emulated (the
 * arch file's sets under other names)
 * when the real intrinsics are not available to this translation unit, and
 * CK_POOL_AVX512_EMULATED to say so.  Each stand-in is a per-lane loop with
 * the instruction's documented semantics (masked-off gather lanes are not
 * read, compares follow the named predicate).  This checks the kernel
 * logic at 16 lanes and the vocabulary's mapping, not the code generation;
 * a change to f32-maxpool-16-avx512f.c that uses another intrinsic needs
 * its stand-in here.  Include before anything that includes <immintrin.h>.
 */
#ifndef CK_POOL_AVX512_EMULATED_H
#define CK_POOL_AVX512_EMULATED_H

#if defined(__x86_64__) && !defined(__AVX512F__)

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Keep the real <immintrin.h> out (GCC's and Clang's include guards). */
#define _IMMINTRIN_H_INCLUDED
#define __IMMINTRIN_H

typedef struct {
    float f[16];
} __m512;
typedef union {
    int32_t d[16];
    int64_t q[8];
} __m512i;
typedef struct {
    int32_t d[8];
} __m256i;
typedef uint16_t __mmask16;
typedef uint8_t __mmask8;

#define _CMP_UNORD_Q 0x03
#define _CMP_GT_OQ 0x1e
#define CK_EMU static inline

CK_EMU __m512 _mm512_loadu_ps(const void *p)
{
    __m512 r;
    memcpy(r.f, p, sizeof r.f);
    return r;
}
CK_EMU void _mm512_storeu_ps(void *p, __m512 a) { memcpy(p, a.f, sizeof a.f); }
/* Masked-off lanes are zero and not read (p may point outside the object). */
CK_EMU __m512 _mm512_maskz_loadu_ps(__mmask16 k, const void *p)
{
    __m512 r;
    for (int i = 0; i < 16; i++) {
        r.f[i] = 0.0f;
        if (k >> i & 1) memcpy(&r.f[i], (const char *)p + 4 * i, sizeof(float));
    }
    return r;
}
CK_EMU __m512i _mm512_loadu_si512(const void *p)
{
    __m512i r;
    memcpy(r.d, p, sizeof r.d);
    return r;
}
CK_EMU void _mm512_storeu_si512(void *p, __m512i a) { memcpy(p, a.d, sizeof a.d); }
CK_EMU __m512 _mm512_set1_ps(float x)
{
    __m512 r;
    for (int i = 0; i < 16; i++) r.f[i] = x;
    return r;
}
CK_EMU __m512i _mm512_set1_epi32(int32_t x)
{
    __m512i r;
    for (int i = 0; i < 16; i++) r.d[i] = x;
    return r;
}
CK_EMU __m512i _mm512_setr_epi32(int a0, int a1, int a2, int a3, int a4, int a5, int a6, int a7,
                                 int a8, int a9, int a10, int a11, int a12, int a13, int a14,
                                 int a15)
{
    return (__m512i){{a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15}};
}
CK_EMU __m512i _mm512_add_epi32(__m512i a, __m512i b)
{
    for (int i = 0; i < 16; i++) a.d[i] = (int32_t)((uint32_t)a.d[i] + (uint32_t)b.d[i]);
    return a;
}
/* vpermt2ps: lane i takes element idx[i] mod 32 of the pair (a, b). */
CK_EMU __m512 _mm512_permutex2var_ps(__m512 a, __m512i idx, __m512 b)
{
    __m512 r;
    for (int i = 0; i < 16; i++) {
        const int j = idx.d[i] & 31;
        r.f[i] = j < 16 ? a.f[j] : b.f[j - 16];
    }
    return r;
}
CK_EMU __m512 _mm512_mask_i32gather_ps(__m512 src, __mmask16 k, __m512i off, const void *base,
                                       int scale)
{
    for (int i = 0; i < 16; i++)
        if (k >> i & 1)
            memcpy(&src.f[i], (const char *)base + (int64_t)off.d[i] * scale, sizeof(float));
    return src;
}
CK_EMU __m512 _mm512_i32gather_ps(__m512i off, const void *base, int scale)
{
    return _mm512_mask_i32gather_ps(_mm512_set1_ps(0.0f), 0xffff, off, base, scale);
}
CK_EMU __mmask16 _mm512_cmp_ps_mask(__m512 a, __m512 b, int pred)
{
    __mmask16 k = 0;
    for (int i = 0; i < 16; i++) {
        bool bit;
        switch (pred) {
        case _CMP_GT_OQ: bit = a.f[i] > b.f[i]; break;
        case _CMP_UNORD_Q: bit = isnan(a.f[i]) || isnan(b.f[i]); break;
        default: abort(); /* add the predicate */
        }
        k = (__mmask16)(k | (unsigned)bit << i);
    }
    return k;
}
CK_EMU __mmask16 _mm512_cmplt_epi32_mask(__m512i a, __m512i b)
{
    __mmask16 k = 0;
    for (int i = 0; i < 16; i++) k = (__mmask16)(k | (unsigned)(a.d[i] < b.d[i]) << i);
    return k;
}
CK_EMU __mmask16 _kor_mask16(__mmask16 a, __mmask16 b) { return (__mmask16)(a | b); }
CK_EMU __mmask16 _kand_mask16(__mmask16 a, __mmask16 b) { return (__mmask16)(a & b); }
CK_EMU __mmask16 _kandn_mask16(__mmask16 a, __mmask16 b) { return (__mmask16)(~a & b); }
CK_EMU __m512 _mm512_mask_blend_ps(__mmask16 k, __m512 a, __m512 b)
{
    for (int i = 0; i < 16; i++)
        if (k >> i & 1) a.f[i] = b.f[i];
    return a;
}
CK_EMU __m512i _mm512_mask_blend_epi32(__mmask16 k, __m512i a, __m512i b)
{
    for (int i = 0; i < 16; i++)
        if (k >> i & 1) a.d[i] = b.d[i];
    return a;
}
CK_EMU __m256i _mm512_castsi512_si256(__m512i a)
{
    __m256i r;
    memcpy(r.d, a.d, sizeof r.d);
    return r;
}
CK_EMU __m256i _mm512_extracti64x4_epi64(__m512i a, int hi)
{
    __m256i r;
    memcpy(r.d, a.d + 8 * (hi & 1), sizeof r.d);
    return r;
}
CK_EMU __m512i _mm512_cvtepi32_epi64(__m256i a)
{
    __m512i r;
    for (int i = 0; i < 8; i++) r.q[i] = a.d[i];
    return r;
}

CK_EMU __m512i _mm512_castps_si512(__m512 a)
{
    __m512i r;
    memcpy(r.d, a.f, sizeof r.d);
    return r;
}
CK_EMU __m512 _mm512_castsi512_ps(__m512i a)
{
    __m512 r;
    memcpy(r.f, a.d, sizeof r.f);
    return r;
}
/* Masked stores write only the lanes in k (p may be near the object's end). */
CK_EMU void _mm512_mask_storeu_ps(void *p, __mmask16 k, __m512 a)
{
    for (int i = 0; i < 16; i++)
        if (k >> i & 1) memcpy((char *)p + 4 * i, &a.f[i], sizeof(float));
}
CK_EMU void _mm512_mask_storeu_epi64(void *p, __mmask8 k, __m512i a)
{
    for (int i = 0; i < 8; i++)
        if (k >> i & 1) memcpy((char *)p + 8 * i, &a.q[i], sizeof(int64_t));
}

/* The kernel sets under other names (the library's real one stays in the
 * dispatch list, for CPUs that have AVX-512). */
#define ck_pool_avx512_kernels ck_pool_avx512_emulated
#define ck_pool_avx512_rows_kernels ck_pool_avx512_rows_emulated
#include "../arch/x86/avx512/f32-maxpool-16-avx512f.c"
#undef ck_pool_avx512_kernels
#undef ck_pool_avx512_rows_kernels
#define CK_POOL_AVX512_EMULATED 1

#endif /* x86-64 without AVX-512 in this translation unit */
#endif /* CK_POOL_AVX512_EMULATED_H */
