/*
 * test_pad.c - F.pad over the last two dims: all four modes with
 * asymmetric amounts, constant padding with negative amounts (crop) and any
 * fill value (NaN, -inf, -0.0), the per-mode size rules (reflect pad <
 * size, circular pad <= size), 1-D padding via H = 1, every layout
 * (including negative and zero input strides) against the reference.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "test_support.h"

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
