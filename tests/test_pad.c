/*
 * test_pad.c - F.pad over the last two dims: all four modes with
 * asymmetric amounts, constant padding with negative amounts (crop) and any
 * fill value (NaN, -inf, -0.0), the per-mode size rules (reflect pad <
 * size, circular pad <= size), 1-D padding via H = 1, every layout
 * (including negative and zero input strides) against the reference; and
 * every SIMD pad kernel set (plus the AVX-512 one on portable stand-ins of
 * its intrinsics where the CPU lacks AVX-512) bitwise against the reference
 * kernel on shapes that hit every vector tail.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels.h"
#include "test_support.h"

#if defined(__x86_64__) && !defined(__AVX512F__)
/* The AVX-512 pad kernel's logic on any x86-64 CPU (as
 * test_gemm_avx512_logic.c does for the GEMM kernel): its source compiled
 * again against stand-ins for the intrinsics it uses, under another name.
 * This checks its indexing, masks and lane permutes, not the code
 * generation. */
#define _IMMINTRIN_H_INCLUDED /* keep the real <immintrin.h> out (GCC, Clang) */
#define __IMMINTRIN_H

typedef struct {
    float v[16];
} __m512;
typedef struct {
    int32_t v[16];
} __m512i;
typedef uint16_t __mmask16;

static inline __m512 _mm512_loadu_ps(const void *p)
{
    __m512 r;
    memcpy(r.v, p, sizeof r.v);
    return r;
}
static inline void _mm512_storeu_ps(void *p, __m512 a) { memcpy(p, a.v, sizeof a.v); }
static inline __m512 _mm512_set1_ps(float x)
{
    __m512 r;
    for (int i = 0; i < 16; i++) r.v[i] = x;
    return r;
}
static inline __m512 _mm512_maskz_loadu_ps(__mmask16 m, const void *p)
{
    __m512 r = {{0.0f}};
    for (int i = 0; i < 16; i++)
        if (m >> i & 1) memcpy(&r.v[i], (const float *)p + i, sizeof(float));
    return r;
}
static inline void _mm512_mask_storeu_ps(void *p, __mmask16 m, __m512 a)
{
    for (int i = 0; i < 16; i++)
        if (m >> i & 1) memcpy((float *)p + i, &a.v[i], sizeof(float));
}
static inline __m512i _mm512_set1_epi32(int x)
{
    __m512i r;
    for (int i = 0; i < 16; i++) r.v[i] = x;
    return r;
}
static inline __m512i _mm512_setr_epi32(int e0, int e1, int e2, int e3, int e4, int e5, int e6,
                                        int e7, int e8, int e9, int e10, int e11, int e12,
                                        int e13, int e14, int e15)
{
    return (__m512i){{e0, e1, e2, e3, e4, e5, e6, e7, e8, e9, e10, e11, e12, e13, e14, e15}};
}
static inline __m512i _mm512_sub_epi32(__m512i a, __m512i b)
{
    for (int i = 0; i < 16; i++) a.v[i] = (int32_t)((uint32_t)a.v[i] - (uint32_t)b.v[i]);
    return a;
}
static inline __m512 _mm512_permutexvar_ps(__m512i idx, __m512 a)
{
    __m512 r;
    for (int i = 0; i < 16; i++) r.v[i] = a.v[idx.v[i] & 15];
    return r;
}

#define ck_pad_avx512_kernels emulated_pad_avx512_kernels
#include "../arch/x86/avx512/pad-avx512f.c"
#undef ck_pad_avx512_kernels
#define CK_PAD_EMULATED_AVX512 1
#endif

/* fields: n c h w pl pr pt pb mode value */
#define PADCFG(...) ((tk_pad_cfg_t){__VA_ARGS__})

static const tk_kind_t pad_layouts[][2] = {
    /* src (input), dst (output) */
    {TK_NCHW, TK_NCHW},      {TK_NHWC, TK_NHWC},       {TK_NEGATIVE, TK_PADDED},
    {TK_BROADCAST, TK_PERMUTED}, {TK_PERMUTED, TK_NHWC}, {TK_PADDED, TK_NCHW},
};

static void run_pad(const tk_pad_cfg_t *c, uint64_t seed)
{
    int64_t oh, ow;
    tk_pad_out_dims(c, &oh, &ow);
    const int64_t sd[4] = {c->n, c->c, c->h, c->w}, dd[4] = {c->n, c->c, oh, ow};
    for (size_t l = 0; l < sizeof pad_layouts / sizeof pad_layouts[0]; l++) {
        tk_rng_t r;
        tk_rng_seed(&r, seed + l);
        tk_tensor_t x = tk_tensor_f32(sd, pad_layouts[l][0]), y = tk_tensor_f32(dd, pad_layouts[l][1]);
        tk_fill_uniform(&x, &r, -3.0f, 3.0f);
        convkit_pad_params_t p = tk_pad_params(c);
        p.src_layout = x.layout;
        p.dst_layout = y.layout;
        convkit_plan_t *plan = NULL;
        cr_assert_eq(convkit_pad_create(&p, &plan), CONVKIT_SUCCESS, "mode %u: %s", c->mode,
                     convkit_last_error());
        int64_t od[4];
        cr_assert_eq(convkit_plan_output_dims(plan, od), CONVKIT_SUCCESS);
        for (int d = 0; d < 4; d++)
            cr_assert_eq(od[d], dd[d], "output dim %d = %lld want %lld", d, (long long)od[d],
                         (long long)dd[d]);
        cr_assert_eq(convkit_pad_execute(plan, tk_fdata(&x), tk_fdata(&y)), CONVKIT_SUCCESS, "%s",
                     convkit_last_error());
        tk_ref_t ref = tk_ref_new(dd);
        tk_ref_pad(c, &x, &ref);
        char msg[600];
        cr_expect_eq(tk_compare_bits(&y, &ref, msg, sizeof msg), 0,
                     "mode %u pads (%lld,%lld,%lld,%lld) src=%s dst=%s: %s", c->mode,
                     (long long)c->pl, (long long)c->pr, (long long)c->pt, (long long)c->pb,
                     tk_kind_name(x.kind), tk_kind_name(y.kind), msg);
        cr_expect(tk_gaps_intact(&y, msg, sizeof msg), "%s", msg);
        tk_ref_free(&ref);
        convkit_plan_destroy(plan);
        tk_tensor_free(&x);
        tk_tensor_free(&y);
    }
}

Test(pad, constant_sweep)
{
    run_pad(&PADCFG(2, 3, 4, 5, 1, 2, 3, 0, CONVKIT_PAD_CONSTANT, 0.0f), 1);
    run_pad(&PADCFG(2, 3, 4, 5, 0, 0, 0, 0, CONVKIT_PAD_CONSTANT, 1.5f), 2);
    run_pad(&PADCFG(1, 2, 3, 6, 7, 4, 2, 5, CONVKIT_PAD_CONSTANT, -2.25f), 3);
    /* negative amounts crop, alone or mixed with padding */
    run_pad(&PADCFG(2, 2, 5, 6, -1, -2, -3, -1, CONVKIT_PAD_CONSTANT, 9.0f), 4);
    run_pad(&PADCFG(2, 2, 5, 6, -5, 2, 1, -4, CONVKIT_PAD_CONSTANT, -1.0f), 5);
    run_pad(&PADCFG(1, 1, 4, 4, 3, -6, -3, 1, CONVKIT_PAD_CONSTANT, 4.0f), 6);
}

Test(pad, constant_special_fill_values)
{
    run_pad(&PADCFG(2, 2, 3, 4, 1, 2, 2, 1, CONVKIT_PAD_CONSTANT, NAN), 10);
    run_pad(&PADCFG(2, 2, 3, 4, 1, 2, 2, 1, CONVKIT_PAD_CONSTANT, -INFINITY), 11);
    run_pad(&PADCFG(2, 2, 3, 4, 1, 2, 2, 1, CONVKIT_PAD_CONSTANT, -0.0f), 12);
    run_pad(&PADCFG(2, 2, 3, 4, 1, 2, 2, 1, CONVKIT_PAD_CONSTANT, 3.4e38f), 13);
}

Test(pad, reflect_sweep)
{
    run_pad(&PADCFG(2, 3, 4, 5, 1, 2, 3, 0, CONVKIT_PAD_REFLECT, 0.0f), 20);
    run_pad(&PADCFG(1, 2, 3, 6, 5, 4, 2, 2, CONVKIT_PAD_REFLECT, 0.0f), 21); /* size - 1 */
    run_pad(&PADCFG(2, 1, 2, 2, 1, 1, 1, 1, CONVKIT_PAD_REFLECT, 0.0f), 22);
    run_pad(&PADCFG(1, 2, 7, 3, 0, 2, 6, 5, CONVKIT_PAD_REFLECT, 0.0f), 23);
}

Test(pad, replicate_sweep)
{
    run_pad(&PADCFG(2, 3, 4, 5, 1, 2, 3, 0, CONVKIT_PAD_REPLICATE, 0.0f), 30);
    run_pad(&PADCFG(1, 2, 1, 1, 4, 3, 2, 5, CONVKIT_PAD_REPLICATE, 0.0f), 31); /* 1x1 input */
    run_pad(&PADCFG(2, 2, 3, 2, 7, 0, 0, 9, CONVKIT_PAD_REPLICATE, 0.0f), 32); /* pad > size */
}

Test(pad, circular_sweep)
{
    run_pad(&PADCFG(2, 3, 4, 5, 1, 2, 3, 0, CONVKIT_PAD_CIRCULAR, 0.0f), 40);
    run_pad(&PADCFG(1, 2, 3, 6, 6, 6, 3, 3, CONVKIT_PAD_CIRCULAR, 0.0f), 41); /* pad == size */
    run_pad(&PADCFG(2, 1, 1, 1, 1, 1, 0, 1, CONVKIT_PAD_CIRCULAR, 0.0f), 42);
}

Test(pad, one_d_via_height_one)
{
    for (uint32_t mode = 0; mode < 4; mode++)
        run_pad(&PADCFG(2, 3, 1, 9, 3, 2, 0, 0, mode, 0.5f), 50 + mode);
}

Test(pad, wide_rows)
{
    for (uint32_t mode = 0; mode < 4; mode++)
        run_pad(&PADCFG(1, 2, 3, 37, 5, 11, 1, 2, mode, -7.0f), 60 + mode);
}

/* The four modes by hand on [1 2 3] with pads (2, 1). */
Test(pad, hand_computed_1d)
{
    const float x[3] = {1, 2, 3};
    const float want[4][6] = {
        {7, 7, 1, 2, 3, 7}, /* constant 7 */
        {3, 2, 1, 2, 3, 2}, /* reflect */
        {1, 1, 1, 2, 3, 3}, /* replicate */
        {2, 3, 1, 2, 3, 1}, /* circular */
    };
    for (uint32_t mode = 0; mode < 4; mode++) {
        convkit_pad_params_t p = CONVKIT_PAD_PARAMS_INIT;
        p.width = 3;
        p.pad_left = 2;
        p.pad_right = 1;
        p.mode = mode;
        p.value = 7.0f;
        convkit_plan_t *plan = NULL;
        cr_assert_eq(convkit_pad_create(&p, &plan), CONVKIT_SUCCESS, "%s", convkit_last_error());
        float y[6];
        cr_assert_eq(convkit_pad_execute(plan, x, y), CONVKIT_SUCCESS);
        for (int i = 0; i < 6; i++)
            cr_expect_eq(y[i], want[mode][i], "mode %u y[%d] = %g want %g", mode, i, (double)y[i],
                         (double)want[mode][i]);
        convkit_plan_destroy(plan);
    }
}

/* F.pad(x, (2, 0, 1, 1), 'reflect') and a crop, by hand. */
Test(pad, hand_computed_2d)
{
    const float x[6] = {1, 2, 3, 4, 5, 6}; /* 2 x 3 */
    const float want[20] = {6, 5, 4, 5, 6, 3, 2, 1, 2, 3, 6, 5, 4, 5, 6, 3, 2, 1, 2, 3};
    convkit_pad_params_t p = CONVKIT_PAD_PARAMS_INIT;
    p.height = 2;
    p.width = 3;
    p.pad_left = 2;
    p.pad_top = p.pad_bottom = 1;
    p.mode = CONVKIT_PAD_REFLECT;
    convkit_plan_t *plan = NULL;
    cr_assert_eq(convkit_pad_create(&p, &plan), CONVKIT_SUCCESS, "%s", convkit_last_error());
    int64_t dims[4];
    convkit_plan_output_dims(plan, dims);
    cr_expect(dims[2] == 4 && dims[3] == 5);
    float y[20];
    cr_assert_eq(convkit_pad_execute(plan, x, y), CONVKIT_SUCCESS);
    for (int i = 0; i < 20; i++)
        cr_expect_eq(y[i], want[i], "y[%d] = %g want %g", i, (double)y[i], (double)want[i]);
    convkit_plan_destroy(plan);

    /* 3 x 4 of 0..11, constant -5, pads (left -1, right 2, top -2, bottom 0):
     * keeps row 2 from column 1 on, then two fills. */
    float z[12];
    for (int i = 0; i < 12; i++) z[i] = (float)i;
    convkit_pad_params_t q = CONVKIT_PAD_PARAMS_INIT;
    q.height = 3;
    q.width = 4;
    q.pad_left = -1;
    q.pad_right = 2;
    q.pad_top = -2;
    q.value = -5.0f;
    cr_assert_eq(convkit_pad_create(&q, &plan), CONVKIT_SUCCESS, "%s", convkit_last_error());
    convkit_plan_output_dims(plan, dims);
    cr_expect(dims[2] == 1 && dims[3] == 5, "dims %lld x %lld", (long long)dims[2],
              (long long)dims[3]);
    float out[5];
    cr_assert_eq(convkit_pad_execute(plan, z, out), CONVKIT_SUCCESS);
    const float want2[5] = {9, 10, 11, -5, -5};
    for (int i = 0; i < 5; i++)
        cr_expect_eq(out[i], want2[i], "out[%d] = %g want %g", i, (double)out[i], (double)want2[i]);
    convkit_plan_destroy(plan);
}

static convkit_status_t try_pad(uint32_t mode, int64_t h, int64_t w, int64_t l, int64_t r,
                                int64_t t, int64_t b)
{
    convkit_pad_params_t p = CONVKIT_PAD_PARAMS_INIT;
    p.height = h;
    p.width = w;
    p.pad_left = l;
    p.pad_right = r;
    p.pad_top = t;
    p.pad_bottom = b;
    p.mode = mode;
    convkit_plan_t *sentinel = (convkit_plan_t *)(uintptr_t)0x1234, *plan = sentinel;
    convkit_status_t st = convkit_pad_create(&p, &plan);
    if (st == CONVKIT_SUCCESS) convkit_plan_destroy(plan);
    else cr_expect_eq(plan, sentinel, "plan pointer written on failure");
    return st;
}

Test(pad, reflect_requires_pad_below_size)
{
    cr_expect_eq(try_pad(CONVKIT_PAD_REFLECT, 3, 4, 3, 3, 2, 2), CONVKIT_SUCCESS, "%s",
                 convkit_last_error());
    cr_expect_eq(try_pad(CONVKIT_PAD_REFLECT, 3, 4, 4, 0, 0, 0), CONVKIT_ERROR_INVALID_ARGUMENT);
    cr_expect(strstr(convkit_last_error(), "pad_left") != NULL, "message: %s", convkit_last_error());
    cr_expect_eq(try_pad(CONVKIT_PAD_REFLECT, 3, 4, 0, 4, 0, 0), CONVKIT_ERROR_INVALID_ARGUMENT);
    cr_expect(strstr(convkit_last_error(), "pad_right") != NULL, "message: %s", convkit_last_error());
    cr_expect_eq(try_pad(CONVKIT_PAD_REFLECT, 3, 4, 0, 0, 3, 0), CONVKIT_ERROR_INVALID_ARGUMENT);
    cr_expect(strstr(convkit_last_error(), "pad_top") != NULL, "message: %s", convkit_last_error());
    cr_expect_eq(try_pad(CONVKIT_PAD_REFLECT, 3, 4, 0, 0, 0, 3), CONVKIT_ERROR_INVALID_ARGUMENT);
    cr_expect(strstr(convkit_last_error(), "pad_bottom") != NULL, "message: %s",
              convkit_last_error());
    /* a single element cannot be reflected at all */
    cr_expect_eq(try_pad(CONVKIT_PAD_REFLECT, 1, 1, 1, 0, 0, 0), CONVKIT_ERROR_INVALID_ARGUMENT);
    cr_expect_eq(try_pad(CONVKIT_PAD_REFLECT, 1, 1, 0, 0, 0, 0), CONVKIT_SUCCESS);
}

Test(pad, circular_allows_pad_up_to_size)
{
    cr_expect_eq(try_pad(CONVKIT_PAD_CIRCULAR, 3, 4, 4, 4, 3, 3), CONVKIT_SUCCESS, "%s",
                 convkit_last_error());
    cr_expect_eq(try_pad(CONVKIT_PAD_CIRCULAR, 3, 4, 5, 0, 0, 0), CONVKIT_ERROR_INVALID_ARGUMENT);
    cr_expect(strstr(convkit_last_error(), "pad_left") != NULL, "message: %s", convkit_last_error());
    cr_expect_eq(try_pad(CONVKIT_PAD_CIRCULAR, 3, 4, 0, 0, 0, 4), CONVKIT_ERROR_INVALID_ARGUMENT);
    cr_expect(strstr(convkit_last_error(), "pad_bottom") != NULL, "message: %s",
              convkit_last_error());
}

Test(pad, non_constant_modes_reject_negative_amounts)
{
    for (uint32_t mode = CONVKIT_PAD_REFLECT; mode <= CONVKIT_PAD_CIRCULAR; mode++) {
        cr_expect_eq(try_pad(mode, 4, 4, -1, 0, 0, 0), CONVKIT_ERROR_INVALID_ARGUMENT, "mode %u", mode);
        cr_expect(strstr(convkit_last_error(), "pad_left") != NULL, "mode %u message: %s", mode,
                  convkit_last_error());
        cr_expect_eq(try_pad(mode, 4, 4, 0, 0, 0, -2), CONVKIT_ERROR_INVALID_ARGUMENT, "mode %u", mode);
        cr_expect(strstr(convkit_last_error(), "pad_bottom") != NULL, "mode %u message: %s", mode,
                  convkit_last_error());
    }
    cr_expect_eq(try_pad(CONVKIT_PAD_REPLICATE, 2, 2, 9, 9, 9, 9), CONVKIT_SUCCESS);
}

Test(pad, crop_to_nothing_is_an_error)
{
    cr_expect_eq(try_pad(CONVKIT_PAD_CONSTANT, 3, 4, -2, -2, 0, 0), CONVKIT_ERROR_INVALID_ARGUMENT);
    cr_expect_eq(try_pad(CONVKIT_PAD_CONSTANT, 3, 4, 0, 0, -3, 0), CONVKIT_ERROR_INVALID_ARGUMENT);
    cr_expect_eq(try_pad(CONVKIT_PAD_CONSTANT, 3, 4, -9, 2, 0, 0), CONVKIT_ERROR_INVALID_ARGUMENT);
    cr_expect_eq(try_pad(CONVKIT_PAD_CONSTANT, 3, 4, -3, 0, -2, 0), CONVKIT_SUCCESS, "%s",
                 convkit_last_error());
}

Test(pad, batch_zero)
{
    convkit_pad_params_t p = CONVKIT_PAD_PARAMS_INIT;
    p.batch = 0;
    p.channels = 2;
    p.height = 3;
    p.width = 3;
    p.pad_left = 1;
    convkit_plan_t *plan = NULL;
    cr_assert_eq(convkit_pad_create(&p, &plan), CONVKIT_SUCCESS, "%s", convkit_last_error());
    int64_t dims[4];
    convkit_plan_output_dims(plan, dims);
    cr_expect(dims[0] == 0 && dims[1] == 2 && dims[2] == 3 && dims[3] == 4);
    cr_expect_eq(convkit_pad_execute(plan, NULL, NULL), CONVKIT_SUCCESS, "%s", convkit_last_error());
    convkit_plan_destroy(plan);
}

/* ---- every SIMD kernel set against the reference kernel, bitwise --------------- */

/* Memory layouts of the kernel sweep.  ROWS and PIXELS have gaps after
 * every row / pixel (and plane, image), so a vector that runs past its row
 * or pixel writes a gap; FLIPPED (input only) walks H and N backwards with
 * contiguous rows; STRIDED has neither unit W nor unit C stride (the
 * kernels' reference fallback). */
typedef enum { LY_NCHW, LY_NHWC, LY_ROWS, LY_PIXELS, LY_FLIPPED, LY_STRIDED } sweep_layout_t;
static const char *const sweep_layout_names[] = {"NCHW", "NHWC", "NCHW+gaps", "NHWC+gaps",
                                                 "flipped", "strided"};

/* Guard floats before and after each buffer: three AVX-512 vectors. */
#define SWEEP_GUARD 48

typedef struct sweep_buf {
    ck_tensor_t t;
    float *mem;
    int64_t nalloc, origin;
} sweep_buf_t;

static sweep_buf_t sweep_buf(const int64_t d[4], sweep_layout_t ly)
{
    sweep_buf_t b;
    memcpy(b.t.dims, d, sizeof b.t.dims);
    int64_t *s = b.t.strides;
    switch (ly) {
    case LY_NCHW: s[3] = 1, s[2] = d[3], s[1] = d[2] * s[2], s[0] = d[1] * s[1]; break;
    case LY_NHWC: s[1] = 1, s[3] = d[1], s[2] = d[3] * s[3], s[0] = d[2] * s[2]; break;
    case LY_ROWS: s[3] = 1, s[2] = d[3] + 3, s[1] = d[2] * s[2] + 5, s[0] = d[1] * s[1] + 2; break;
    case LY_PIXELS: s[1] = 1, s[3] = d[1] + 2, s[2] = d[3] * s[3] + 3, s[0] = d[2] * s[2] + 1; break;
    case LY_FLIPPED: s[3] = 1, s[2] = -d[3], s[1] = d[2] * d[3], s[0] = -d[1] * s[1]; break;
    case LY_STRIDED: s[3] = 2, s[2] = 2 * d[3] + 1, s[1] = d[2] * s[2] + 1, s[0] = d[1] * s[1]; break;
    }
    int64_t lo = 0, hi = 0;
    for (int i = 0; i < 4; i++) *(s[i] < 0 ? &lo : &hi) += s[i] * (d[i] - 1);
    b.origin = SWEEP_GUARD - lo;
    b.nalloc = hi - lo + 1 + 2 * SWEEP_GUARD;
    b.mem = malloc((size_t)b.nalloc * sizeof(float));
    cr_assert_not_null(b.mem);
    b.mem[0] = tk_sentinel_f32();
    for (int64_t i = 1; i < b.nalloc; i *= 2) /* fast under ASan at -O0 */
        memcpy(b.mem + i, b.mem, (size_t)(i < b.nalloc - i ? i : b.nalloc - i) * sizeof(float));
    return b;
}

/* Random bit patterns everywhere (gaps too: a read from the wrong place
 * gives a wrong value), with -0.0, a signalling NaN and a negative quiet NaN
 * (both with payloads) sprinkled in; never the sentinel. */
static void sweep_fill_src(sweep_buf_t *b, tk_rng_t *r)
{
    static const uint32_t special[] = {0x80000000u, 0x7f800123u, 0xffc01234u};
    for (int64_t i = 0; i < b->nalloc; i++) {
        uint32_t bits = (uint32_t)tk_rng_next(r);
        if (bits % 5 == 0) bits = special[(bits >> 8) % 3];
        if (bits == TK_SENTINEL_F32_BITS) bits = 0;
        b->mem[i] = tk_f32_from_bits(bits);
    }
}

typedef struct sweep_set {
    const char *name;
    void (*pad)(const ck_pad_problem_t *, const float *, float *, int64_t, int64_t);
} sweep_set_t;

/* The SIMD sets to check: every registered set but the reference, and the
 * emulated AVX-512 set where the CPU cannot run the real one. */
static int sweep_sets(sweep_set_t *out, int max)
{
    int n = 0;
    for (int i = 0; i < ck_pad_kernel_count() && n < max; i++) {
        const ck_pad_kernels_t *k = ck_pad_kernel_at(i);
        if (k != &ck_ref_pad_kernels) out[n++] = (sweep_set_t){k->name, k->pad};
    }
#ifdef CK_PAD_EMULATED_AVX512
    if (!convkit_isa_supported(CONVKIT_ISA_AVX512) && n < max)
        out[n++] = (sweep_set_t){"simd-16 (emulated AVX-512)", emulated_pad_avx512_kernels.pad};
#endif
    return n;
}

typedef struct sweep_stats {
    long cases, bad;
} sweep_stats_t;

/* One problem on one layout pair: the reference over the items [b, e) and
 * each set over the same items in two calls split at k (as two threads
 * would), each into a fresh sentinel-filled dst; the whole allocations
 * (view, gaps and guards) must be equal bit for bit. */
static void sweep_case(const sweep_set_t *sets, int nsets, const tk_pad_cfg_t *c,
                       sweep_layout_t sly, sweep_layout_t dly, uint64_t seed, sweep_stats_t *st)
{
    int64_t oh, ow;
    tk_pad_out_dims(c, &oh, &ow);
    const int64_t sd[4] = {c->n, c->c, c->h, c->w}, dd[4] = {c->n, c->c, oh, ow};
    tk_rng_t r;
    tk_rng_seed(&r, seed);
    sweep_buf_t x = sweep_buf(sd, sly), want = sweep_buf(dd, dly);
    sweep_fill_src(&x, &r);
    ck_pad_problem_t p = {
        .batch = c->n, .channels = c->c, .in_h = c->h, .in_w = c->w, .out_h = oh, .out_w = ow,
        .pad_left = c->pl, .pad_right = c->pr, .pad_top = c->pt, .pad_bottom = c->pb,
        .mode = c->mode, .value = c->value, .src = x.t, .dst = want.t,
    };
    const int64_t items = c->n * c->c;
    const int64_t b = items > 2 ? 1 : 0, e = items > 3 ? items - 1 : items;
    const int64_t k = b + tk_rng_range(&r, 0, e - b);
    ck_ref_pad_kernels.pad(&p, x.mem + x.origin, want.mem + want.origin, b, e);
    for (int i = 0; i < nsets; i++) {
        sweep_buf_t got = sweep_buf(dd, dly);
        sets[i].pad(&p, x.mem + x.origin, got.mem + got.origin, b, k);
        sets[i].pad(&p, x.mem + x.origin, got.mem + got.origin, k, e);
        st->cases++;
        if (memcmp(got.mem, want.mem, (size_t)got.nalloc * sizeof(float)) != 0) {
            int64_t j = 0;
            while (tk_f32_bits(got.mem[j]) == tk_f32_bits(want.mem[j])) j++;
            if (st->bad++ < 5)
                cr_expect(false,
                          "'%s' mode %u n=%lld c=%lld h=%lld w=%lld pads l=%lld r=%lld t=%lld "
                          "b=%lld value %#x src %s dst %s items [%lld,%lld) split at %lld: dst "
                          "allocation float %lld (origin %lld) is %#x, the reference wrote %#x",
                          sets[i].name, c->mode, (long long)c->n, (long long)c->c,
                          (long long)c->h, (long long)c->w, (long long)c->pl, (long long)c->pr,
                          (long long)c->pt, (long long)c->pb, tk_f32_bits(c->value),
                          sweep_layout_names[sly], sweep_layout_names[dly], (long long)b,
                          (long long)e, (long long)k, (long long)j, (long long)got.origin,
                          tk_f32_bits(got.mem[j]), tk_f32_bits(want.mem[j]));
        }
        free(got.mem);
    }
    free(x.mem);
    free(want.mem);
}

/* Clamps a pad amount to what `mode` allows on a dim of `size`. */
static int64_t sweep_limit(int64_t pad, int64_t size, uint32_t mode)
{
    if (mode == CONVKIT_PAD_REFLECT) return pad < size ? pad : size - 1;
    if (mode == CONVKIT_PAD_CIRCULAR) return pad <= size ? pad : size;
    return pad;
}

/* Widths 1..33 (2*16+1), left pads 0..17 (16+1; constant also -9..-1,
 * cropping) each with right pads equal, 17 - left (so every right pad
 * 0..17 meets every width: row borders of up to 4 floats, which the kernels
 * write one float at a time, and longer vector ones), varied, and for
 * constant a crop; the H pads
 * small and varied; all within each mode's limits.  Every (mode, width,
 * pads) runs on contiguous-row layouts (NCHW with gaps; every 3rd dense
 * and with a flipped input), channel layouts (NHWC, with a channel count
 * that varies with the problem, into dense and gapped dst; every 3rd from
 * a gapped src) and every 8th on layouts the kernels leave to the
 * reference. */
Test(pad_kernels, every_simd_set_bitwise_on_all_tails)
{
    sweep_set_t sets[8];
    const int nsets = sweep_sets(sets, 8);
    if (nsets == 0) cr_skip_test("no SIMD pad kernel set runs on this CPU");
    static const float values[] = {0.0f, -0.0f, -1.5f, INFINITY};
    /* src and dst layouts, and 1 in how many problems runs on them: the
     * layouts with gaps every time (they show a store that overruns its row
     * or pixel; in a dense dst the next row would hide it), dense NHWC too
     * (the only one whose pixels are copied back to back) */
    static const struct {
        sweep_layout_t src, dst;
        uint64_t every;
    } pairs[] = {
        {LY_ROWS, LY_ROWS, 1},    {LY_NCHW, LY_NCHW, 3},     {LY_FLIPPED, LY_ROWS, 3},
        {LY_NHWC, LY_PIXELS, 1},  {LY_NHWC, LY_NHWC, 1},     {LY_PIXELS, LY_NHWC, 3},
        {LY_STRIDED, LY_STRIDED, 8}, {LY_NCHW, LY_NHWC, 8},
    };
    enum { NPAIRS = sizeof pairs / sizeof pairs[0] };
    sweep_stats_t st = {0, 0};
    uint64_t seed = 0;
    for (uint32_t mode = 0; mode < 4; mode++)
        for (int64_t w = 1; w <= 33; w++)
            for (int64_t l = mode == CONVKIT_PAD_CONSTANT ? -9 : 0; l <= 17; l++) {
                if (sweep_limit(l, w, mode) != l) continue;
                const int64_t rights[4] = {l, 17 - l, (l + 1 + w) % 18,
                                           -(1 + (w + l) % 6)};
                for (int ri = 0; ri < (mode == CONVKIT_PAD_CONSTANT ? 4 : 3); ri++) {
                    const int64_t rr = sweep_limit(rights[ri], w, mode);
                    if (l + w + rr < 1 || (ri > 0 && rr == l)) continue; /* crop to nothing, or seen */
                    seed++;
                    const int64_t h = 1 + (int64_t)(seed % 3);
                    int64_t pt = sweep_limit((int64_t)((seed + 1) % 3), h, mode);
                    int64_t pb = sweep_limit((int64_t)((seed / 3 + (uint64_t)w) % 3), h, mode);
                    if (mode == CONVKIT_PAD_CONSTANT && h + pb >= 2 && seed % 4 == 0) pt = -1;
                    tk_pad_cfg_t c = {2, 2, h, w, l, rr, pt, pb, mode, values[seed % 4]};
                    if (seed % 7 == 0) c.value = tk_f32_from_bits(0x7fa00001u); /* sNaN */
                    for (int pi = 0; pi < NPAIRS; pi++) {
                        if ((seed + (uint64_t)pi) % pairs[pi].every != 0) continue;
                        const bool channels = pairs[pi].src == LY_NHWC || pairs[pi].src == LY_PIXELS;
                        /* NHWC: 1 or 2 images of 1..19 channels, so that runs
                         * of channels (split by the items) cover every tail */
                        if (channels)
                            c.n = 1 + (int64_t)(seed % 2),
                            c.c = 1 + (int64_t)((seed * 7 + (uint64_t)pi) % 19);
                        else
                            c.n = 2, c.c = 2;
                        sweep_case(sets, nsets, &c, pairs[pi].src, pairs[pi].dst,
                                   seed * 16 + (uint64_t)pi, &st);
                    }
                }
            }
    cr_expect_eq(st.bad, 0, "%ld of %ld kernel calls differ from the reference", st.bad, st.cases);
    cr_log_info("%d SIMD sets, %ld checks, %ld differ", nsets, st.cases, st.bad);
}
