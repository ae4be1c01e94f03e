/*
 * test_conv.c - conv2d / conv1d forward, backward-data, backward-weights and
 * backward-bias against the float64 reference of test_support.c, over a
 * sweep of small configurations, every padding mode and every layout
 * (NCHW, NHWC, strided with gaps, permuted strided) for every operand.
 * Random data must be within c * K * 2^-24 * sum|x*w|; small-integer data
 * must be exact.  Outputs are sentinel-filled so missed or stray writes
 * fail.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "test_support.h"

#define BOUND_C 3.0

/* (src, weight, dst) layout combinations run for every configuration. */
static const tk_kind_t layout_combos[][3] = {
    {TK_NCHW, TK_NCHW, TK_NCHW},         {TK_NHWC, TK_NHWC, TK_NHWC},
    {TK_PADDED, TK_PERMUTED, TK_PADDED}, {TK_PERMUTED, TK_PADDED, TK_PERMUTED},
    {TK_NHWC, TK_NCHW, TK_PERMUTED},     {TK_PADDED, TK_NHWC, TK_NCHW},
    /* read-only views (zero or negative strides) where the operand is only
     * read; the directions that would write through them must fail */
    {TK_NEGATIVE, TK_BROADCAST, TK_PADDED}, {TK_PADDED, TK_NEGATIVE, TK_BROADCAST},
    {TK_BROADCAST, TK_NHWC, TK_NEGATIVE},
};
#define N_COMBOS ((int)(sizeof layout_combos / sizeof layout_combos[0]))

static convkit_plan_t *make_plan(const tk_conv_cfg_t *c, bool one_d, bool bias,
                                 const tk_tensor_t *x, const tk_tensor_t *w, const tk_tensor_t *y)
{
    convkit_plan_t *plan = NULL;
    convkit_status_t st;
    if (one_d) {
        convkit_conv1d_params_t p = tk_conv1d_params(c, bias);
        p.src_layout = x->layout;
        p.weight_layout = w->layout;
        p.dst_layout = y->layout;
        st = convkit_conv1d_create(&p, &plan);
    } else {
        convkit_conv2d_params_t p = tk_conv2d_params(c, bias);
        p.src_layout = x->layout;
        p.weight_layout = w->layout;
        p.dst_layout = y->layout;
        st = convkit_conv2d_create(&p, &plan);
    }
    cr_assert_eq(st, CONVKIT_SUCCESS, "create failed: %s (%s)", convkit_status_string(st),
                 convkit_last_error());
    cr_assert_not_null(plan);
    int64_t dims[4];
    cr_assert_eq(convkit_plan_output_dims(plan, dims), CONVKIT_SUCCESS);
    for (int d = 0; d < 4; d++)
        cr_assert_eq(dims[d], y->dims[d], "output dim %d: got %lld expected %lld", d,
                     (long long)dims[d], (long long)y->dims[d]);
    return plan;
}

static void fill(tk_tensor_t *t, tk_rng_t *r, bool ints)
{
    if (ints) tk_fill_ints(t, r, -3, 3);
    else tk_fill_uniform(t, r, -1.0f, 1.0f);
}

static void check(const tk_tensor_t *got, const tk_ref_t *ref, bool ints, const char *what,
                  const char *ctx)
{
    char msg[600], gaps[300];
    int64_t bad = ints ? tk_compare_exact(got, ref, msg, sizeof msg)
                       : tk_compare_bound(got, ref, BOUND_C, msg, sizeof msg);
    cr_expect_eq(bad, 0, "%s [%s]: %s", what, ctx, msg);
    cr_expect(tk_gaps_intact(got, gaps, sizeof gaps), "%s [%s]: %s", what, ctx, gaps);
}

/* The status of a call that writes `out`: success where the layout can be
 * written, else CONVKIT_ERROR_INVALID_ARGUMENT with nothing written.
 * Returns true if the output should be checked. */
static bool expect_write(convkit_status_t st, const tk_tensor_t *out, const char *what,
                         const char *ctx)
{
    const int wr = tk_writable(out);
    if (wr == 1 || (wr == -1 && st == CONVKIT_SUCCESS)) {
        cr_expect_eq(st, CONVKIT_SUCCESS, "%s [%s]: %s", what, ctx, convkit_last_error());
        return st == CONVKIT_SUCCESS;
    }
    cr_expect_eq(st, CONVKIT_ERROR_INVALID_ARGUMENT,
                 "%s [%s]: writing through a %s layout gave status %d", what, ctx,
                 tk_kind_name(out->kind), st);
    cr_expect(strstr(convkit_last_error(), "layout") != NULL, "%s [%s]: message '%s'", what, ctx,
              convkit_last_error());
    cr_expect(tk_untouched(out), "%s [%s]: output written although the call failed", what, ctx);
    return false;
}

/* Runs all four directions for one configuration, layout combo, bias
 * choice and data kind. */
static void run_case(const tk_conv_cfg_t *c, bool one_d, const tk_kind_t kinds[3], bool bias,
                     bool ints, uint64_t seed)
{
    char ctx[200];
    snprintf(ctx, sizeof ctx, "%s src=%s w=%s dst=%s bias=%d %s mode=%u", one_d ? "1d" : "2d",
             tk_kind_name(kinds[0]), tk_kind_name(kinds[1]), tk_kind_name(kinds[2]), bias,
             ints ? "ints" : "random", c->mode);
    int64_t sd[4], wd[4], dd[4];
    tk_conv_dims(c, sd, wd, dd);
    tk_rng_t rng;
    tk_rng_seed(&rng, seed);

    tk_tensor_t x = tk_tensor_f32(sd, kinds[0]), w = tk_tensor_f32(wd, kinds[1]);
    tk_tensor_t y = tk_tensor_f32(dd, kinds[2]), gy = tk_tensor_f32(dd, kinds[2]);
    tk_tensor_t gx = tk_tensor_f32(sd, kinds[0]), gw = tk_tensor_f32(wd, kinds[1]);
    fill(&x, &rng, ints);
    fill(&w, &rng, ints);
    fill(&gy, &rng, ints);
    float bias_buf[64 + 2 * TK_GUARD], gb_buf[64 + 2 * TK_GUARD];
    cr_assert(c->cout <= 64);
    for (int i = 0; i < 64 + 2 * TK_GUARD; i++)
        bias_buf[i] = gb_buf[i] = tk_sentinel_f32();
    float *b = bias_buf + TK_GUARD, *gb = gb_buf + TK_GUARD;
    for (int64_t i = 0; i < c->cout; i++)
        b[i] = ints ? (float)tk_rng_range(&rng, -3, 3) : tk_rng_float(&rng, -1.0f, 1.0f);

    convkit_plan_t *plan = make_plan(c, one_d, bias, &x, &w, &y);

    /* forward */
    convkit_status_t st = convkit_conv_forward(plan, tk_fdata(&x), tk_fdata(&w), bias ? b : NULL,
                                               tk_fdata(&y));
    tk_ref_t ry = tk_ref_new(dd);
    tk_ref_conv_forward(c, &x, &w, bias ? b : NULL, &ry);
    if (expect_write(st, &y, "forward", ctx)) check(&y, &ry, ints, "forward", ctx);

    /* backward data */
    st = convkit_conv_backward_data(plan, tk_fdata(&gy), tk_fdata(&w), tk_fdata(&gx));
    tk_ref_t rgx = tk_ref_new(sd);
    tk_ref_conv_backward_data(c, &gy, &w, &rgx);
    if (expect_write(st, &gx, "backward_data", ctx)) check(&gx, &rgx, ints, "backward_data", ctx);

    /* backward weights */
    st = convkit_conv_backward_weights(plan, tk_fdata(&x), tk_fdata(&gy), tk_fdata(&gw));
    tk_ref_t rgw = tk_ref_new(wd);
    tk_ref_conv_backward_weights(c, &x, &gy, &rgw);
    if (expect_write(st, &gw, "backward_weights", ctx))
        check(&gw, &rgw, ints, "backward_weights", ctx);

    /* backward bias */
    st = convkit_conv_backward_bias(plan, tk_fdata(&gy), gb);
    cr_assert_eq(st, CONVKIT_SUCCESS, "backward_bias [%s]: %s", ctx, convkit_last_error());
    const int64_t bd[4] = {1, c->cout, 1, 1};
    tk_ref_t rgb = tk_ref_new(bd);
    tk_ref_conv_backward_bias(c, &gy, &rgb);
    for (int64_t co = 0; co < c->cout; co++) {
        const double r = rgb.val[co];
        const double bound = ints ? 0.0
                                  : BOUND_C * (double)(rgb.terms[co] > 0 ? rgb.terms[co] : 1) *
                                        ldexp(1.0, -24) * rgb.mag[co];
        cr_expect(fabs((double)gb[co] - r) <= bound,
                  "backward_bias [%s]: co %lld got %.9g expected %.17g", ctx, (long long)co,
                  (double)gb[co], r);
    }
    for (int i = 0; i < TK_GUARD; i++) {
        cr_expect(tk_is_sentinel_f32(gb_buf[i]), "backward_bias wrote before grad_bias");
        cr_expect(tk_is_sentinel_f32(gb[c->cout + i]), "backward_bias wrote past grad_bias");
    }

    tk_ref_free(&ry);
    tk_ref_free(&rgx);
    tk_ref_free(&rgw);
    tk_ref_free(&rgb);
    convkit_plan_destroy(plan);
    tk_tensor_free(&x);
    tk_tensor_free(&w);
    tk_tensor_free(&y);
    tk_tensor_free(&gy);
    tk_tensor_free(&gx);
    tk_tensor_free(&gw);
}

static void sweep(const tk_conv_cfg_t *c, bool one_d)
{
    uint64_t seed = 1000;
    for (int k = 0; k < N_COMBOS; k++)
        for (int bias = 0; bias < 2; bias++)
            for (int ints = 0; ints < 2; ints++)
                run_case(c, one_d, layout_combos[k], bias, ints, seed++);
}

/* cfg fields: n cin h w cout kh kw sh sw pt pb pl pr dh dw groups mode */
#define CFG(...) ((tk_conv_cfg_t){__VA_ARGS__})

Test(conv2d, basic_3x3)
{
    tk_conv_cfg_t c = CFG(2, 3, 5, 6, 4, 3, 3, 1, 1, 0, 0, 0, 0, 1, 1, 1, CONVKIT_PADDING_ZEROS);
    sweep(&c, false);
}

Test(conv2d, stride_and_asymmetric_padding)
{
    tk_conv_cfg_t c = CFG(2, 2, 7, 8, 3, 3, 2, 2, 3, 1, 2, 0, 1, 1, 1, 1, CONVKIT_PADDING_ZEROS);
    sweep(&c, false);
}

Test(conv2d, dilation)
{
    tk_conv_cfg_t c = CFG(1, 2, 7, 6, 3, 3, 2, 1, 2, 2, 2, 1, 1, 2, 3, 1, CONVKIT_PADDING_ZEROS);
    sweep(&c, false);
}

Test(conv2d, groups)
{
    tk_conv_cfg_t c = CFG(2, 4, 5, 5, 6, 2, 3, 1, 1, 1, 0, 1, 1, 1, 1, 2, CONVKIT_PADDING_ZEROS);
    sweep(&c, false);
}

Test(conv2d, depthwise)
{
    tk_conv_cfg_t c = CFG(2, 4, 5, 6, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 4, CONVKIT_PADDING_ZEROS);
    sweep(&c, false);
}

Test(conv2d, depthwise_channel_multiplier)
{
    tk_conv_cfg_t c = CFG(2, 3, 6, 5, 6, 3, 2, 2, 1, 1, 2, 0, 1, 1, 2, 3, CONVKIT_PADDING_ZEROS);
    sweep(&c, false);
}

Test(conv2d, reflect)
{
    tk_conv_cfg_t c = CFG(2, 2, 4, 5, 3, 3, 3, 1, 1, 1, 2, 3, 1, 1, 1, 1, CONVKIT_PADDING_REFLECT);
    sweep(&c, false);
}

Test(conv2d, replicate_pads_wider_than_input)
{
    tk_conv_cfg_t c =
        CFG(1, 2, 3, 2, 2, 2, 3, 1, 2, 4, 0, 2, 5, 1, 1, 1, CONVKIT_PADDING_REPLICATE);
    sweep(&c, false);
}

Test(conv2d, circular_pad_equal_to_size)
{
    tk_conv_cfg_t c = CFG(2, 2, 4, 3, 2, 3, 2, 1, 1, 4, 1, 3, 0, 1, 2, 1, CONVKIT_PADDING_CIRCULAR);
    sweep(&c, false);
}

Test(conv2d, reflect_strided_dilated_grouped)
{
    tk_conv_cfg_t c = CFG(2, 4, 6, 7, 4, 2, 3, 2, 2, 3, 2, 1, 4, 2, 1, 2, CONVKIT_PADDING_REFLECT);
    sweep(&c, false);
}

Test(conv2d, replicate_depthwise_multiplier)
{
    tk_conv_cfg_t c =
        CFG(1, 2, 5, 4, 4, 3, 3, 1, 2, 2, 1, 0, 3, 1, 1, 2, CONVKIT_PADDING_REPLICATE);
    sweep(&c, false);
}

Test(conv2d, circular_groups_stride)
{
    tk_conv_cfg_t c =
        CFG(2, 6, 5, 5, 3, 3, 2, 2, 1, 2, 1, 1, 2, 1, 2, 3, CONVKIT_PADDING_CIRCULAR);
    sweep(&c, false);
}

Test(conv2d, pointwise_strided)
{
    tk_conv_cfg_t c = CFG(2, 5, 5, 7, 3, 1, 1, 2, 3, 0, 0, 0, 0, 1, 1, 1, CONVKIT_PADDING_ZEROS);
    sweep(&c, false);
}

Test(conv2d, kernel_covers_padded_input)
{
    /* Output 1 x 1: the dilated kernel is exactly the padded input. */
    tk_conv_cfg_t c = CFG(2, 2, 3, 4, 3, 3, 3, 1, 1, 1, 0, 1, 1, 1, 2, 1, CONVKIT_PADDING_ZEROS);
    sweep(&c, false);
}

Test(conv2d, non_square_kernels)
{
    tk_conv_cfg_t a = CFG(1, 2, 6, 5, 2, 1, 4, 1, 1, 0, 0, 2, 1, 1, 1, 1, CONVKIT_PADDING_ZEROS);
    tk_conv_cfg_t b = CFG(1, 2, 6, 5, 2, 4, 1, 2, 1, 1, 2, 0, 0, 1, 1, 1, CONVKIT_PADDING_REFLECT);
    sweep(&a, false);
    sweep(&b, false);
}

Test(conv2d, single_pixel_input)
{
    tk_conv_cfg_t c = CFG(3, 2, 1, 1, 2, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, CONVKIT_PADDING_ZEROS);
    sweep(&c, false);
}

Test(conv2d, larger_tails)
{
    /* Widths and channel counts that are not multiples of 4/8/16. */
    tk_conv_cfg_t c = CFG(1, 5, 6, 19, 9, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, CONVKIT_PADDING_ZEROS);
    run_case(&c, false, layout_combos[0], true, false, 7);
    run_case(&c, false, layout_combos[1], true, true, 8);
    run_case(&c, false, layout_combos[2], false, false, 9);
}

/* Backward-data as ConvTranspose2d with output_padding: H = 8, k = 3,
 * stride 2, no vertical padding gives H_out = 3, and the transposed conv of
 * 3 rows natively makes 7; the 8th row (output_padding 1) is reached by no
 * window and must get zero gradient. */
Test(conv2d, transposed_output_padding)
{
    tk_conv_cfg_t c = CFG(2, 3, 8, 9, 2, 3, 3, 2, 2, 0, 0, 1, 1, 1, 1, 1, CONVKIT_PADDING_ZEROS);
    int64_t oh, ow;
    tk_conv_out_dims(&c, &oh, &ow);
    cr_assert_eq(oh, 3);
    cr_assert_eq(ow, 5);
    sweep(&c, false);
}

Test(conv1d, basic)
{
    tk_conv_cfg_t c = CFG(2, 3, 1, 9, 4, 1, 3, 1, 1, 0, 0, 0, 0, 1, 1, 1, CONVKIT_PADDING_ZEROS);
    sweep(&c, true);
}

Test(conv1d, stride_padding_dilation_groups)
{
    tk_conv_cfg_t c = CFG(2, 4, 1, 11, 6, 1, 3, 1, 2, 0, 0, 2, 1, 1, 2, 2, CONVKIT_PADDING_ZEROS);
    sweep(&c, true);
}

Test(conv1d, padding_modes)
{
    for (uint32_t mode = CONVKIT_PADDING_REFLECT; mode <= CONVKIT_PADDING_CIRCULAR; mode++) {
        tk_conv_cfg_t c = CFG(2, 2, 1, 5, 4, 1, 3, 1, 2, 0, 0, 4, 3, 1, 1, 2, mode);
        sweep(&c, true);
    }
}

Test(conv1d, depthwise_multiplier)
{
    tk_conv_cfg_t c = CFG(1, 3, 1, 8, 9, 1, 4, 1, 1, 0, 0, 1, 2, 1, 1, 3, CONVKIT_PADDING_ZEROS);
    sweep(&c, true);
}

/* conv1d and conv2d with H = 1 are the same operator. */
Test(conv1d, matches_conv2d_with_one_row)
{
    tk_conv_cfg_t c = CFG(2, 4, 1, 10, 4, 1, 3, 1, 2, 0, 0, 1, 2, 1, 2, 2, CONVKIT_PADDING_REFLECT);
    int64_t sd[4], wd[4], dd[4];
    tk_conv_dims(&c, sd, wd, dd);
    tk_rng_t r;
    tk_rng_seed(&r, 5);
    tk_tensor_t x = tk_tensor_f32(sd, TK_NCHW), w = tk_tensor_f32(wd, TK_NCHW);
    tk_tensor_t y1 = tk_tensor_f32(dd, TK_NCHW), y2 = tk_tensor_f32(dd, TK_NCHW);
    tk_fill_uniform(&x, &r, -1, 1);
    tk_fill_uniform(&w, &r, -1, 1);
    convkit_plan_t *p1 = make_plan(&c, true, false, &x, &w, &y1);
    convkit_plan_t *p2 = make_plan(&c, false, false, &x, &w, &y2);
    cr_assert_eq(convkit_conv_forward(p1, tk_fdata(&x), tk_fdata(&w), NULL, tk_fdata(&y1)),
                 CONVKIT_SUCCESS);
    cr_assert_eq(convkit_conv_forward(p2, tk_fdata(&x), tk_fdata(&w), NULL, tk_fdata(&y2)),
                 CONVKIT_SUCCESS);
    char msg[200];
    cr_expect(tk_bitwise_equal(&y1, &y2, msg, sizeof msg), "conv1d vs conv2d: %s", msg);
    convkit_plan_destroy(p1);
    convkit_plan_destroy(p2);
    tk_tensor_free(&x);
    tk_tensor_free(&w);
    tk_tensor_free(&y1);
    tk_tensor_free(&y2);
}

/* A hand-computed case: no reference code involved at all. */
Test(conv2d, hand_computed_values)
{
    /* x = [[1 2 3] [4 5 6] [7 8 9]], w = [[1 0] [0 -1]], bias 10, pad 0:
     * y[i][j] = x[i][j] - x[i+1][j+1] + 10 = 6 everywhere (2 x 2). */
    tk_conv_cfg_t c = CFG(1, 1, 3, 3, 1, 2, 2, 1, 1, 0, 0, 0, 0, 1, 1, 1, CONVKIT_PADDING_ZEROS);
    const float x[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, w[4] = {1, 0, 0, -1}, b[1] = {10};
    float y[4] = {0};
    convkit_conv2d_params_t p = tk_conv2d_params(&c, true);
    convkit_plan_t *plan = NULL;
    cr_assert_eq(convkit_conv2d_create(&p, &plan), CONVKIT_SUCCESS);
    cr_assert_eq(convkit_conv_forward(plan, x, w, b, y), CONVKIT_SUCCESS);
    for (int i = 0; i < 4; i++) cr_expect_eq(y[i], 6.0f, "y[%d] = %g", i, (double)y[i]);
    /* backward data of gy = ones: gx = sum of w over the windows covering each
     * pixel: +1 at top-left 2x2, -1 at bottom-right 2x2. */
    const float gy[4] = {1, 1, 1, 1};
    const float want[9] = {1, 1, 0, 1, 0, -1, 0, -1, -1};
    float gx[9];
    cr_assert_eq(convkit_conv_backward_data(plan, gy, w, gx), CONVKIT_SUCCESS);
    for (int i = 0; i < 9; i++)
        cr_expect_eq(gx[i], want[i], "gx[%d] = %g, want %g", i, (double)gx[i], (double)want[i]);
    /* backward weights of gy = ones: gw[a][b] = sum of the 2x2 block at (a, b). */
    const float wantw[4] = {1 + 2 + 4 + 5, 2 + 3 + 5 + 6, 4 + 5 + 7 + 8, 5 + 6 + 8 + 9};
    float gw[4];
    cr_assert_eq(convkit_conv_backward_weights(plan, x, gy, gw), CONVKIT_SUCCESS);
    for (int i = 0; i < 4; i++) cr_expect_eq(gw[i], wantw[i], "gw[%d] = %g", i, (double)gw[i]);
    float gb = 0;
    cr_assert_eq(convkit_conv_backward_bias(plan, gy, &gb), CONVKIT_SUCCESS);
    cr_expect_eq(gb, 4.0f);
    convkit_plan_destroy(plan);
}

/* Reflect / replicate / circular by hand on a 1-D signal [1 2 3] with a
 * single-tap kernel of weight 1 and pads (2, 2): the output is F.pad. */
Test(conv1d, hand_computed_padding_modes)
{
    const float x[3] = {1, 2, 3}, w[1] = {1};
    const float want[4][7] = {
        {0, 0, 1, 2, 3, 0, 0}, /* zeros */
        {3, 2, 1, 2, 3, 2, 1}, /* reflect */
        {1, 1, 1, 2, 3, 3, 3}, /* replicate */
        {2, 3, 1, 2, 3, 1, 2}, /* circular */
    };
    for (uint32_t mode = 0; mode < 4; mode++) {
        convkit_conv1d_params_t p = CONVKIT_CONV1D_PARAMS_INIT;
        p.in_length = 3;
        p.pad_left = p.pad_right = 2;
        p.padding_mode = mode;
        convkit_plan_t *plan = NULL;
        cr_assert_eq(convkit_conv1d_create(&p, &plan), CONVKIT_SUCCESS, "mode %u: %s", mode,
                     convkit_last_error());
        float y[7];
        cr_assert_eq(convkit_conv_forward(plan, x, w, NULL, y), CONVKIT_SUCCESS);
        for (int i = 0; i < 7; i++)
            cr_expect_eq(y[i], want[mode][i], "mode %u y[%d] = %g want %g", mode, i, (double)y[i],
                         (double)want[mode][i]);
        /* The adjoint: gy = ones gives each source the number of copies of it. */
        const float gy[7] = {1, 1, 1, 1, 1, 1, 1};
        float gx[3];
        cr_assert_eq(convkit_conv_backward_data(plan, gy, w, gx), CONVKIT_SUCCESS);
        float count[3] = {0, 0, 0};
        for (int i = 0; i < 7; i++)
            if (want[mode][i] != 0) count[(int)want[mode][i] - 1] += 1;
        for (int i = 0; i < 3; i++)
            cr_expect_eq(gx[i], count[i], "mode %u gx[%d] = %g want %g", mode, i, (double)gx[i],
                         (double)count[i]);
        convkit_plan_destroy(plan);
    }
}

/* <conv(x), gy> == <x, conv_backward_data(gy)> and == <w, backward_weights>
 * exactly on small integers, with library outputs only (no reference). */
Test(conv2d, adjoint_identities_exact)
{
    tk_conv_cfg_t cfgs[] = {
        CFG(2, 4, 5, 6, 6, 3, 2, 2, 1, 1, 2, 0, 1, 2, 1, 2, CONVKIT_PADDING_ZEROS),
        CFG(2, 2, 5, 6, 4, 3, 3, 1, 2, 2, 1, 1, 2, 1, 1, 2, CONVKIT_PADDING_REFLECT),
        CFG(1, 3, 4, 4, 3, 2, 2, 1, 1, 3, 1, 0, 2, 1, 1, 3, CONVKIT_PADDING_REPLICATE),
        CFG(2, 2, 4, 5, 2, 3, 3, 2, 1, 4, 2, 5, 1, 1, 1, 1, CONVKIT_PADDING_CIRCULAR),
    };
    for (size_t k = 0; k < sizeof cfgs / sizeof cfgs[0]; k++) {
        const tk_conv_cfg_t *c = &cfgs[k];
        int64_t sd[4], wd[4], dd[4];
        tk_conv_dims(c, sd, wd, dd);
        tk_rng_t r;
        tk_rng_seed(&r, 77 + k);
        tk_tensor_t x = tk_tensor_f32(sd, TK_NCHW), w = tk_tensor_f32(wd, TK_NCHW);
        tk_tensor_t y = tk_tensor_f32(dd, TK_NCHW), gy = tk_tensor_f32(dd, TK_NCHW);
        tk_tensor_t gx = tk_tensor_f32(sd, TK_NCHW), gw = tk_tensor_f32(wd, TK_NCHW);
        tk_fill_ints(&x, &r, -3, 3);
        tk_fill_ints(&w, &r, -3, 3);
        tk_fill_ints(&gy, &r, -3, 3);
        convkit_plan_t *plan = make_plan(c, false, false, &x, &w, &y);
        cr_assert_eq(convkit_conv_forward(plan, tk_fdata(&x), tk_fdata(&w), NULL, tk_fdata(&y)), 0);
        cr_assert_eq(convkit_conv_backward_data(plan, tk_fdata(&gy), tk_fdata(&w), tk_fdata(&gx)), 0);
        cr_assert_eq(
            convkit_conv_backward_weights(plan, tk_fdata(&x), tk_fdata(&gy), tk_fdata(&gw)), 0);
        double yg = 0, xg = 0, wg = 0;
        for (int64_t i = 0; i < tk_numel(&y); i++) yg += (double)tk_fdata(&y)[i] * tk_fdata(&gy)[i];
        for (int64_t i = 0; i < tk_numel(&x); i++) xg += (double)tk_fdata(&x)[i] * tk_fdata(&gx)[i];
        for (int64_t i = 0; i < tk_numel(&w); i++) wg += (double)tk_fdata(&w)[i] * tk_fdata(&gw)[i];
        cr_expect_eq(yg, xg, "config %zu: <y,gy> = %.17g but <x,gx> = %.17g", k, yg, xg);
        cr_expect_eq(yg, wg, "config %zu: <y,gy> = %.17g but <w,gw> = %.17g", k, yg, wg);
        convkit_plan_destroy(plan);
        tk_tensor_free(&x);
        tk_tensor_free(&w);
        tk_tensor_free(&y);
        tk_tensor_free(&gy);
        tk_tensor_free(&gx);
        tk_tensor_free(&gw);
    }
}

/* Batch 0: forward and backward-data compute nothing (NULL data allowed),
 * backward-weights and backward-bias write zeros. */
static void batch_zero(bool one_d)
{
    tk_conv_cfg_t c = one_d ? CFG(0, 2, 1, 5, 3, 1, 3, 1, 1, 0, 0, 1, 1, 1, 1, 1, 0)
                            : CFG(0, 2, 4, 5, 3, 2, 3, 1, 1, 1, 0, 1, 1, 1, 1, 1, 0);
    int64_t sd[4], wd[4], dd[4];
    tk_conv_dims(&c, sd, wd, dd);
    tk_rng_t r;
    tk_rng_seed(&r, 3);
    tk_tensor_t x = tk_tensor_f32(sd, TK_NCHW), w = tk_tensor_f32(wd, TK_NCHW);
    tk_tensor_t y = tk_tensor_f32(dd, TK_NCHW), gw = tk_tensor_f32(wd, TK_PADDED);
    tk_fill_uniform(&w, &r, -1, 1);
    convkit_plan_t *plan = NULL;
    convkit_status_t st;
    if (one_d) {
        convkit_conv1d_params_t p = tk_conv1d_params(&c, true);
        p.weight_layout = gw.layout;
        st = convkit_conv1d_create(&p, &plan);
    } else {
        convkit_conv2d_params_t p = tk_conv2d_params(&c, true);
        p.weight_layout = gw.layout;
        st = convkit_conv2d_create(&p, &plan);
    }
    cr_assert_eq(st, CONVKIT_SUCCESS, "batch 0 create: %s", convkit_last_error());
    int64_t od[4];
    cr_assert_eq(convkit_plan_output_dims(plan, od), CONVKIT_SUCCESS);
    cr_expect_eq(od[0], 0);
    cr_expect_eq(od[1], 3);
    cr_expect_eq(od[2], dd[2]);
    cr_expect_eq(od[3], dd[3]);
    /* w is in PADDED layout for this plan */
    tk_tensor_t wp = tk_tensor_f32(wd, TK_PADDED);
    tk_copy_values(&wp, &w);
    const float bias[3] = {1, 2, 3};
    cr_expect_eq(convkit_conv_forward(plan, NULL, tk_fdata(&wp), bias, NULL), CONVKIT_SUCCESS,
                 "%s", convkit_last_error());
    cr_expect_eq(convkit_conv_forward(plan, tk_fdata(&x), tk_fdata(&wp), bias, tk_fdata(&y)),
                 CONVKIT_SUCCESS);
    cr_expect(tk_untouched(&y), "batch 0 forward wrote to dst");
    cr_expect_eq(convkit_conv_backward_data(plan, NULL, tk_fdata(&wp), NULL), CONVKIT_SUCCESS,
                 "%s", convkit_last_error());
    cr_assert_eq(convkit_conv_backward_weights(plan, NULL, NULL, tk_fdata(&gw)), CONVKIT_SUCCESS,
                 "%s", convkit_last_error());
    for (int64_t i = 0; i < wd[0]; i++)
        for (int64_t j = 0; j < wd[1]; j++)
            for (int64_t a = 0; a < wd[2]; a++)
                for (int64_t b = 0; b < wd[3]; b++) {
                    float v = tk_getf(&gw, i, j, a, b);
                    cr_expect(tk_f32_bits(v) == 0u, "grad_weight(%lld,%lld,%lld,%lld) = %g, want +0",
                              (long long)i, (long long)j, (long long)a, (long long)b, (double)v);
                }
    char msg[300];
    cr_expect(tk_gaps_intact(&gw, msg, sizeof msg), "%s", msg);
    float gb[5] = {-1, -1, -1, -1, -1};
    cr_assert_eq(convkit_conv_backward_bias(plan, NULL, gb + 1), CONVKIT_SUCCESS);
    for (int i = 1; i <= 3; i++) cr_expect(tk_f32_bits(gb[i]) == 0u, "grad_bias[%d] = %g", i - 1, (double)gb[i]);
    cr_expect_eq(gb[0], -1.0f);
    cr_expect_eq(gb[4], -1.0f);
    convkit_plan_destroy(plan);
    tk_tensor_free(&x);
    tk_tensor_free(&w);
    tk_tensor_free(&wp);
    tk_tensor_free(&y);
    tk_tensor_free(&gw);
}

Test(conv2d, batch_zero) { batch_zero(false); }
Test(conv1d, batch_zero) { batch_zero(true); }

/* The same plan executed twice gives the same bits (no hidden state), and
 * backward-data / -weights overwrite rather than accumulate. */
Test(conv2d, outputs_are_overwritten_not_accumulated)
{
    tk_conv_cfg_t c = CFG(2, 2, 5, 5, 2, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, CONVKIT_PADDING_ZEROS);
    int64_t sd[4], wd[4], dd[4];
    tk_conv_dims(&c, sd, wd, dd);
    tk_rng_t r;
    tk_rng_seed(&r, 11);
    tk_tensor_t x = tk_tensor_f32(sd, TK_NCHW), w = tk_tensor_f32(wd, TK_NCHW);
    tk_tensor_t y = tk_tensor_f32(dd, TK_NCHW), gy = tk_tensor_f32(dd, TK_NCHW);
    tk_tensor_t gx = tk_tensor_f32(sd, TK_NCHW), gw = tk_tensor_f32(wd, TK_NCHW);
    tk_fill_ints(&x, &r, -3, 3);
    tk_fill_ints(&w, &r, -3, 3);
    tk_fill_ints(&gy, &r, -3, 3);
    convkit_plan_t *plan = make_plan(&c, false, false, &x, &w, &y);
    tk_fill_const(&y, 1000.0f);
    tk_fill_const(&gx, 1000.0f);
    tk_fill_const(&gw, 1000.0f);
    for (int rep = 0; rep < 2; rep++) {
        cr_assert_eq(convkit_conv_forward(plan, tk_fdata(&x), tk_fdata(&w), NULL, tk_fdata(&y)), 0);
        cr_assert_eq(convkit_conv_backward_data(plan, tk_fdata(&gy), tk_fdata(&w), tk_fdata(&gx)), 0);
        cr_assert_eq(
            convkit_conv_backward_weights(plan, tk_fdata(&x), tk_fdata(&gy), tk_fdata(&gw)), 0);
        tk_ref_t ry = tk_ref_new(dd), rgx = tk_ref_new(sd), rgw = tk_ref_new(wd);
        tk_ref_conv_forward(&c, &x, &w, NULL, &ry);
        tk_ref_conv_backward_data(&c, &gy, &w, &rgx);
        tk_ref_conv_backward_weights(&c, &x, &gy, &rgw);
        char msg[600];
        cr_expect_eq(tk_compare_exact(&y, &ry, msg, sizeof msg), 0, "rep %d forward: %s", rep, msg);
        cr_expect_eq(tk_compare_exact(&gx, &rgx, msg, sizeof msg), 0, "rep %d bwd data: %s", rep, msg);
        cr_expect_eq(tk_compare_exact(&gw, &rgw, msg, sizeof msg), 0, "rep %d bwd weights: %s", rep,
                     msg);
        tk_ref_free(&ry);
        tk_ref_free(&rgx);
        tk_ref_free(&rgw);
    }
    convkit_plan_destroy(plan);
    tk_tensor_free(&x);
    tk_tensor_free(&w);
    tk_tensor_free(&y);
    tk_tensor_free(&gy);
    tk_tensor_free(&gx);
    tk_tensor_free(&gw);
}
