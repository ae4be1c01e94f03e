/*
 * test_conv_direct.c - the direct depthwise convolution: every direct
 * kernel set (ck_conv_direct_kernel_at) against the float64 reference of
 * test_support.c on shapes that reach every remainder path (widths
 * 1..2L+1 and past an edge vector plus a 4-vector block, heights 1..5,
 * kernels 1x1..5x5 and 1-D 3/7, strides and dilations 1..3, paddings
 * 0..k, multipliers 1..3, channels 1..20 and past the NHWC channel block,
 * batch 1..3; NCHW, NCHW with row gaps, NHWC, channels-last with gaps,
 * OHWI weights; with and without bias), forward, backward-data and
 * backward-weights, whole and split item ranges (bitwise equal); sources and destinations flush
 * against inaccessible pages (masked loads are invisible to
 * AddressSanitizer); and the `algorithm` field through the public API:
 * AUTO picks direct for depthwise, GEMM and DIRECT can be forced, DIRECT
 * on a problem it cannot run fails cleanly, bad values fail, and both
 * algorithms agree with the reference on depthwise problems in every
 * direction.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "kernels.h"
#include "test_support.h"
#include "kernel-views.h"

/* ---- layouts ----------------------------------------------------------------- */

typedef enum {
    LAY_NCHW,     /* all dense NCHW */
    LAY_NHWC,     /* all dense NHWC */
    LAY_ROWGAP,   /* src/dst NCHW with rows 5 elements longer than the view */
    LAY_PERMUTED, /* src/dst channels unit stride with gaps, weight NHWC (OHWI) */
    LAY_OHWI,     /* src/dst NCHW, weight NHWC (OHWI) */
    LAY_PADDED,   /* src/dst W stride 2: not direct (the sets fall back to GEMM) */
    LAY_COUNT
} layout_t;

static const char *lay_name(layout_t l)
{
    static const char *const names[] = {"nchw", "nhwc", "rowgap", "permuted", "ohwi", "padded"};
    return names[l];
}

static tk_tensor_t lay_tensor(const int64_t d[4], layout_t l, bool weight)
{
    tk_kind_t kind = TK_NCHW;
    int64_t gap = 0;
    switch (l) {
    case LAY_NCHW: break;
    case LAY_NHWC: kind = TK_NHWC; break;
    case LAY_ROWGAP: gap = weight ? 0 : 5; break;
    case LAY_PERMUTED: kind = weight ? TK_NHWC : TK_PERMUTED; break;
    case LAY_OHWI: kind = weight ? TK_NHWC : TK_NCHW; break;
    default: kind = weight ? TK_NCHW : TK_PADDED; break;
    }
    const int64_t dd[4] = {d[0], d[1], d[2], d[3] + gap};
    tk_tensor_t t = tk_tensor_f32(dd, kind);
    t.dims[3] = d[3];
    return t;
}

static void to_ck(ck_tensor_t *dst, const tk_tensor_t *src)
{
    memcpy(dst->dims, src->dims, sizeof dst->dims);
    memcpy(dst->strides, src->strides, sizeof dst->strides);
}

static ck_conv_problem_t problem_of(const tk_conv_cfg_t *c, const tk_tensor_t *x,
                                    const tk_tensor_t *w, const tk_tensor_t *y)
{
    int64_t oh, ow;
    tk_conv_out_dims(c, &oh, &ow);
    ck_conv_problem_t p = {
        .batch = c->n, .in_channels = c->cin, .in_h = c->h, .in_w = c->w,
        .out_channels = c->cout, .out_h = oh, .out_w = ow, .kernel_h = c->kh,
        .kernel_w = c->kw, .stride_h = c->sh, .stride_w = c->sw, .pad_top = c->pt,
        .pad_bottom = c->pb, .pad_left = c->pl, .pad_right = c->pr, .dilation_h = c->dh,
        .dilation_w = c->dw, .groups = c->groups, .padding_mode = c->mode,
    };
    to_ck(&p.src, x);
    to_ck(&p.weight, w);
    to_ck(&p.dst, y);
    return p;
}

static int64_t compare(const tk_tensor_t *got, const tk_ref_t *ref, bool ints, char *msg,
                       size_t len)
{
    return ints ? tk_compare_exact(got, ref, msg, len) : tk_compare_bound(got, ref, 3.0, msg, len);
}

static void fill(tk_tensor_t *t, tk_rng_t *r, bool ints)
{
    if (ints) tk_fill_ints(t, r, -3, 3);
    else tk_fill_uniform(t, r, -1, 1);
}

#define CFG_FMT "n%lld c%lld m%lld %lldx%lld k%lldx%lld s%lld,%lld p%lld,%lld,%lld,%lld d%lld,%lld"
#define CFG_ARGS(c)                                                                            \
    (long long)(c)->n, (long long)(c)->cin, (long long)((c)->cout / (c)->cin), (long long)(c)->h, \
        (long long)(c)->w, (long long)(c)->kh, (long long)(c)->kw, (long long)(c)->sh,        \
        (long long)(c)->sw, (long long)(c)->pt, (long long)(c)->pb, (long long)(c)->pl,       \
        (long long)(c)->pr, (long long)(c)->dh, (long long)(c)->dw

/* One direct set on one problem and layout: forward with and without bias
 * (whole range, and split in three), backward-data and backward-weights
 * (whole, split). */
static void direct_case(const ck_conv_kernels_t *k, const tk_conv_cfg_t *c, layout_t l,
                        bool ints, uint64_t seed)
{
    char ctx[300], msg[600];
    snprintf(ctx, sizeof ctx, "set %s, " CFG_FMT " %s %s", k->name, CFG_ARGS(c), lay_name(l),
             ints ? "ints" : "random");
    int64_t sd[4], wd[4], dd[4];
    tk_conv_dims(c, sd, wd, dd);
    tk_rng_t r;
    tk_rng_seed(&r, seed);
    tk_tensor_t x = lay_tensor(sd, l, false), w = lay_tensor(wd, l, true);
    tk_tensor_t gy = lay_tensor(dd, l, false);
    fill(&x, &r, ints);
    fill(&w, &r, ints);
    fill(&gy, &r, ints);
    float bias[256];
    cr_assert(c->cout <= 256);
    for (int i = 0; i < 256; i++)
        bias[i] = ints ? (float)tk_rng_range(&r, -3, 3) : tk_rng_float(&r, -1, 1);
    ck_conv_problem_t p = problem_of(c, &x, &w, &gy);
    if (l != LAY_PADDED && c->mode == CONVKIT_PADDING_ZEROS && c->groups == c->cin &&
        ((l != LAY_NHWC && l != LAY_PERMUTED) || c->kh * c->kw <= 64))
        cr_assert(ck_conv_direct_supports(&p), "[%s] not taken by the direct kernels", ctx);

    const int64_t items = c->n * c->cout, third = items / 3;
    for (int b = 0; b < 2; b++) {
        const float *bp = b ? bias : NULL;
        tk_tensor_t y = lay_tensor(dd, l, false), y2 = lay_tensor(dd, l, false);
        k->forward(&p, tk_fdata(&x), tk_fdata(&w), bp, NULL, tk_fdata(&y), 0, items);
        k->forward(&p, tk_fdata(&x), tk_fdata(&w), bp, NULL, tk_fdata(&y2), 0, third);
        k->forward(&p, tk_fdata(&x), tk_fdata(&w), bp, NULL, tk_fdata(&y2), third, items - 1);
        k->forward(&p, tk_fdata(&x), tk_fdata(&w), bp, NULL, tk_fdata(&y2), items - 1, items);
        tk_ref_t ry = tk_ref_new(dd);
        tk_ref_conv_forward(c, &x, &w, bp, &ry);
        cr_expect_eq(compare(&y, &ry, ints, msg, sizeof msg), 0, "forward bias=%d [%s]: %s", b,
                     ctx, msg);
        cr_expect(tk_gaps_intact(&y, msg, sizeof msg), "forward [%s]: %s", ctx, msg);
        cr_expect(tk_bitwise_equal(&y, &y2, msg, sizeof msg), "forward split [%s]: %s", ctx, msg);
        tk_ref_free(&ry);
        tk_tensor_free(&y);
        tk_tensor_free(&y2);
    }

    tk_tensor_t gx = lay_tensor(sd, l, false), gx2 = lay_tensor(sd, l, false);
    const int64_t bitems = c->n * c->cin;
    k->backward_data(&p, tk_fdata(&gy), tk_fdata(&w), tk_fdata(&gx), 0, bitems);
    k->backward_data(&p, tk_fdata(&gy), tk_fdata(&w), tk_fdata(&gx2), 0, bitems / 2);
    k->backward_data(&p, tk_fdata(&gy), tk_fdata(&w), tk_fdata(&gx2), bitems / 2, bitems);
    tk_ref_t rgx = tk_ref_new(sd);
    tk_ref_conv_backward_data(c, &gy, &w, &rgx);
    cr_expect_eq(compare(&gx, &rgx, ints, msg, sizeof msg), 0, "backward_data [%s]: %s", ctx, msg);
    cr_expect(tk_gaps_intact(&gx, msg, sizeof msg), "backward_data [%s]: %s", ctx, msg);
    cr_expect(tk_bitwise_equal(&gx, &gx2, msg, sizeof msg), "backward_data split [%s]: %s", ctx,
              msg);
    tk_ref_free(&rgx);

    tk_tensor_t gw = lay_tensor(wd, l, true), gw2 = lay_tensor(wd, l, true);
    k->backward_weights(&p, tk_fdata(&x), tk_fdata(&gy), tk_fdata(&gw), 0, c->cout);
    k->backward_weights(&p, tk_fdata(&x), tk_fdata(&gy), tk_fdata(&gw2), 0, c->cout / 2);
    k->backward_weights(&p, tk_fdata(&x), tk_fdata(&gy), tk_fdata(&gw2), c->cout / 2, c->cout);
    tk_ref_t rgw = tk_ref_new(wd);
    tk_ref_conv_backward_weights(c, &x, &gy, &rgw);
    cr_expect_eq(compare(&gw, &rgw, ints, msg, sizeof msg), 0, "backward_weights [%s]: %s", ctx,
                 msg);
    cr_expect(tk_gaps_intact(&gw, msg, sizeof msg), "backward_weights [%s]: %s", ctx, msg);
    cr_expect(tk_bitwise_equal(&gw, &gw2, msg, sizeof msg), "backward_weights split [%s]: %s",
              ctx, msg);
    tk_ref_free(&rgw);
    tk_tensor_t *all[] = {&x, &w, &gy, &gx, &gx2, &gw, &gw2};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) tk_tensor_free(all[i]);
}

static bool fits(const tk_conv_cfg_t *c)
{
    int64_t oh, ow;
    tk_conv_out_dims(c, &oh, &ow);
    return oh >= 1 && ow >= 1;
}

/* A depthwise config: fields n c h w mult kh kw sh sw pt pb pl pr dh dw. */
static tk_conv_cfg_t dw(int64_t n, int64_t c, int64_t h, int64_t w, int64_t m, int64_t kh,
                        int64_t kw, int64_t sh, int64_t sw, int64_t pt, int64_t pb, int64_t pl,
                        int64_t pr, int64_t dh, int64_t dwl)
{
    tk_conv_cfg_t cfg = {n, c, h, w, c * m, kh, kw, sh, sw, pt, pb, pl, pr, dh, dwl, c,
                         CONVKIT_PADDING_ZEROS};
    return cfg;
}

static void every_set(const tk_conv_cfg_t *c, layout_t l, bool ints, uint64_t seed)
{
    for (int i = 0; i < ck_conv_direct_kernel_count(); i++)
        direct_case(ck_conv_direct_kernel_at(i), c, l, ints, seed + (uint64_t)i);
}

Test(direct_sets, table)
{
    const int n = ck_conv_direct_kernel_count();
    cr_assert(n >= 1);
    for (int i = 0; i < n; i++) {
        const ck_conv_kernels_t *k = ck_conv_direct_kernel_at(i);
        cr_assert_not_null(k);
        cr_expect(convkit_isa_supported(k->isa));
        cr_expect(strncmp(k->name, "direct-", 7) == 0, "name %s", k->name);
        cr_expect(k->forward && k->backward_data && k->backward_weights && k->backward_bias);
        if (i > 0) cr_expect(ck_isa_rank(k->isa) <= ck_isa_rank(ck_conv_direct_kernel_at(i - 1)->isa));
    }
    cr_expect_null(ck_conv_direct_kernel_at(n));
    cr_expect_null(ck_conv_direct_kernel_at(-1));
    cr_expect_eq(ck_select_conv_direct(CONVKIT_ISA_SCALAR)->isa, CONVKIT_ISA_SCALAR);
    const uint32_t cap = convkit_get_max_isa();
    const ck_conv_kernels_t *best = ck_select_conv_direct(cap);
    cr_assert_not_null(best);
    cr_expect_eq(best->isa, cap, "the cap %s has no direct set of its own (got %s)",
                 convkit_isa_name(cap), best->name);
}

/* Output widths 1 .. 2L+1 for L = 16 and past the 4-vector block after a
 * left edge vector (up to 136) under the column rules
 * that give interior, masked-interior, overlapped and edge columns. */
Test(direct_sets, width_sweep, .timeout = 900)
{
    /* kh kw sh sw pl pr dw */
    static const int64_t rules[][7] = {
        {3, 3, 1, 1, 1, 1, 1}, {1, 1, 1, 1, 0, 0, 1}, {3, 5, 1, 2, 2, 2, 1},
        {2, 3, 1, 3, 1, 0, 2}, {3, 3, 2, 1, 0, 3, 3}, {1, 7, 1, 1, 3, 3, 1},
    };
    uint64_t seed = 1;
    for (size_t q = 0; q < sizeof rules / sizeof rules[0]; q++)
        for (int64_t ow = 1; ow <= 140; ow += ow < 34 ? 1 : 17) {
            const int64_t *u = rules[q];
            /* the input width that gives `ow` outputs */
            const int64_t span = u[6] * (u[1] - 1) + 1;
            const int64_t w = (ow - 1) * u[3] + span - u[4] - u[5];
            if (w < 1) continue;
            tk_conv_cfg_t c = dw(1, 2, 3, w, 1 + (ow % 2), u[0], u[1], u[2], u[3], 1, 0, u[4],
                                 u[5], 1, u[6]);
            if (!fits(&c)) continue;
            every_set(&c, LAY_NCHW, ow % 3 == 0, seed++);
            if (ow % 4 == 1) every_set(&c, LAY_ROWGAP, false, seed++);
            if (ow % 5 == 2) every_set(&c, LAY_NHWC, true, seed++);
        }
}

/* The narrow-row tiles of the NCHW 3x3 kernels (stride 1 and 2, dilation
 * 1, one plane): output widths of 1 .. 8 vectors of L = 16 and 8 with
 * every partial last vector kind, heights that leave every remainder of
 * the 1, 2, 4 and 8 row tiles, each padding 0 or 1 (first, last and
 * middle vectors' masks), stride 2 with and without an unread last input
 * column, and row gaps. */
Test(direct_sets, narrow_rows, .timeout = 900)
{
    static const int64_t widths[] = {1,  2,  7,  8,  9,  14, 15, 16, 17,  23,  24,  28, 31,
                                     32, 33, 40, 47, 48, 49, 56, 63, 64, 65, 96, 111, 112, 128};
    static const int64_t heights[] = {1, 2, 3, 4, 6, 9, 12, 13, 19};
    uint64_t seed = 5000;
    int i = 0;
    for (int64_t s = 1; s <= 2; s++)
        for (size_t a = 0; a < sizeof widths / sizeof widths[0]; a++)
            for (size_t b = 0; b < sizeof heights / sizeof heights[0]; b++, i++) {
                const int64_t ow = widths[a], oh = heights[b];
                const int64_t pt = i % 2, pb = (i / 2) % 2, pl = (i / 4) % 2, pr = (i / 8) % 2;
                const int64_t extra = s == 2 ? (i / 3) % 2 : 0;
                const int64_t h = (oh - 1) * s + 3 - pt - pb + extra;
                const int64_t w = (ow - 1) * s + 3 - pl - pr + extra;
                if (h < 1 || w < 1) continue;
                tk_conv_cfg_t c = dw(1 + i % 2, 2, h, w, 1, 3, 3, s, s, pt, pb, pl, pr, 1, 1);
                if (!fits(&c)) continue;
                every_set(&c, i % 5 == 4 ? LAY_ROWGAP : LAY_NCHW, i % 3 == 0, seed++);
            }
}

/* Channel counts across the NHWC block (4 vectors) with multipliers. */
Test(direct_sets, channel_sweep, .timeout = 900)
{
    uint64_t seed = 100;
    for (int64_t ch = 1; ch <= 70; ch += ch < 20 ? 1 : 7)
        for (int64_t m = 1; m <= 3; m++) {
            if (ch * m > 256) continue;
            tk_conv_cfg_t c = dw(2, ch, 4, 5, m, 3, 3, 1 + (ch % 2), 1, 1, 1, 1, 1, 1, 1);
            every_set(&c, ch % 2 ? LAY_NHWC : LAY_PERMUTED, ch % 3 == 0, seed++);
            if (ch < 8) every_set(&c, LAY_NCHW, false, seed++);
        }
}

/* Random depthwise problems over every parameter range. */
Test(direct_sets, random_problems, .timeout = 900)
{
    tk_rng_t r;
    tk_rng_seed(&r, 4242);
    int done = 0;
    for (int it = 0; done < 300 && it < 5000; it++) {
        const bool one_d = tk_rng_range(&r, 0, 4) == 0;
        const int64_t kh = one_d ? 1 : tk_rng_range(&r, 1, 5);
        const int64_t kw = one_d ? (tk_rng_range(&r, 0, 1) ? 3 : 7) : tk_rng_range(&r, 1, 5);
        tk_conv_cfg_t c = dw(tk_rng_range(&r, 1, 3), tk_rng_range(&r, 1, 20),
                             one_d ? 1 : tk_rng_range(&r, 1, 5), tk_rng_range(&r, 1, 40),
                             tk_rng_range(&r, 1, 3), kh, kw, one_d ? 1 : tk_rng_range(&r, 1, 3),
                             tk_rng_range(&r, 1, 3), one_d ? 0 : tk_rng_range(&r, 0, kh),
                             one_d ? 0 : tk_rng_range(&r, 0, kh), tk_rng_range(&r, 0, kw),
                             tk_rng_range(&r, 0, kw), one_d ? 1 : tk_rng_range(&r, 1, 3),
                             tk_rng_range(&r, 1, 3));
        if (!fits(&c)) continue;
        const layout_t l = (layout_t)tk_rng_range(&r, 0, LAY_COUNT - 1);
        every_set(&c, l, tk_rng_range(&r, 0, 1) == 1, (uint64_t)(10000 + done));
        done++;
    }
    cr_expect(done == 300, "only %d problems fit", done);
}

/* Stride 1 backward-data runs the vector engine; larger strides and the
 * padding modes (and a W-strided layout) fall back, but the set must
 * still be right. */
Test(direct_sets, fallbacks_stay_correct)
{
    tk_conv_cfg_t c = dw(2, 3, 6, 9, 2, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1);
    c.mode = CONVKIT_PADDING_REFLECT;
    every_set(&c, LAY_NCHW, false, 77);
    c.mode = CONVKIT_PADDING_CIRCULAR;
    every_set(&c, LAY_NHWC, true, 78);
    tk_conv_cfg_t g = {1, 4, 5, 6, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2, CONVKIT_PADDING_ZEROS};
    every_set(&g, LAY_NCHW, false, 79); /* grouped, not depthwise */
    tk_conv_cfg_t big = dw(1, 3, 12, 12, 1, 9, 9, 1, 1, 4, 4, 4, 4, 1, 1); /* 81 taps NHWC */
    every_set(&big, LAY_NHWC, false, 80);
    every_set(&big, LAY_NCHW, false, 81);
}

/* ---- nothing read or written outside the tensors -------------------------------- */

Test(direct_sets, touch_nothing_outside_the_tensors, .timeout = 600)
{
    uint64_t seed = 9;
    for (int i = 0; i < ck_conv_direct_kernel_count(); i++) {
        const ck_conv_kernels_t *k = ck_conv_direct_kernel_at(i);
        for (int64_t w = 1; w <= 40; w += w < 18 ? 1 : 11)
            for (int rule = 0; rule < 3; rule++)
                for (int nhwc = 0; nhwc < 2; nhwc++)
                    for (int at_end = 0; at_end < 2; at_end++) {
                        const int64_t s = rule + 1;
                        tk_conv_cfg_t c = dw(1, nhwc ? 19 : 2, 3, w, 1 + rule % 2, 3, 3, 1, s,
                                             1, 1, rule, 1, 1, 1 + (rule == 2));
                        if (!fits(&c)) continue;
                        int64_t sd[4], wd[4], dd[4];
                        tk_conv_dims(&c, sd, wd, dd);
                        ck_conv_problem_t p = {
                            .batch = 1, .in_channels = c.cin, .in_h = c.h, .in_w = c.w,
                            .out_channels = c.cout, .out_h = dd[2], .out_w = dd[3],
                            .kernel_h = 3, .kernel_w = 3, .stride_h = 1, .stride_w = s,
                            .pad_top = 1, .pad_bottom = 1, .pad_left = c.pl, .pad_right = 1,
                            .dilation_h = 1, .dilation_w = c.dw, .groups = c.cin,
                        };
                        tk_dense_view(&p.src, sd, nhwc);
                        tk_dense_view(&p.weight, wd, false);
                        tk_dense_view(&p.dst, dd, nhwc);
                        const int64_t ns = sd[1] * sd[2] * sd[3], nd = dd[1] * dd[2] * dd[3];
                        tk_guarded_t gs = tk_guarded_floats(ns, at_end);
                        tk_guarded_t gd = tk_guarded_floats(nd, !at_end);
                        float wt[9 * 38], bias[38];
                        tk_rng_t r;
                        tk_rng_seed(&r, seed++);
                        for (int64_t j = 0; j < ns; j++) gs.data[j] = tk_rng_float(&r, -1, 1);
                        for (int j = 0; j < 9 * 38; j++) wt[j] = tk_rng_float(&r, -1, 1);
                        for (int j = 0; j < 38; j++) bias[j] = tk_rng_float(&r, -1, 1);
                        k->forward(&p, gs.data, wt, bias, NULL, gd.data, 0, c.cout);
                        /* backward-data: grad_dst is gd, grad_src gs */
                        k->backward_weights(&p, gs.data, gd.data, wt, 0, c.cout);
                        k->backward_data(&p, gd.data, wt, gs.data, 0, c.cin);
                        for (int64_t j = 0; j < ns; j++)
                            cr_assert(isfinite(gs.data[j]), "%s w %lld: grad_src not written",
                                      k->name, (long long)w);
                        tk_guarded_free(&gs);
                        tk_guarded_free(&gd);
                    }
    }
}

/* ---- the algorithm field ------------------------------------------------------------ */

static convkit_conv2d_params_t dw_params(int64_t c, int64_t m)
{
    convkit_conv2d_params_t p = CONVKIT_CONV2D_PARAMS_INIT;
    p.batch = 2;
    p.in_channels = p.groups = c;
    p.out_channels = c * m;
    p.in_height = 9;
    p.in_width = 20;
    p.kernel_h = p.kernel_w = 3;
    p.pad_top = p.pad_bottom = p.pad_left = p.pad_right = 1;
    p.bias_length = c * m;
    return p;
}

static void expect_impl(convkit_plan_t *plan, const char *op, const char *set, const char *what)
{
    char want[96];
    snprintf(want, sizeof want, "%s:%s:%s", op, set, convkit_isa_name(convkit_plan_isa(plan)));
    cr_expect_str_eq(convkit_plan_impl_name(plan), want, "%s", what);
}

Test(algorithm, auto_gemm_direct_choice)
{
    const uint32_t isa = convkit_get_max_isa();
    const char *direct = ck_select_conv_direct(isa)->name, *gemm = ck_select_conv(isa)->name;
    convkit_plan_t *plan = NULL;
    /* AUTO: direct for depthwise (NCHW and NHWC, multiplier 1 and 3) */
    for (int m = 1; m <= 3; m += 2)
        for (int nhwc = 0; nhwc < 2; nhwc++) {
            convkit_conv2d_params_t p = dw_params(8, m);
            if (nhwc) p.src_layout.format = p.dst_layout.format = CONVKIT_FORMAT_NHWC;
            cr_assert_eq(convkit_conv2d_create(&p, &plan), CONVKIT_SUCCESS, "%s",
                         convkit_last_error());
            expect_impl(plan, "conv2d", direct, "AUTO depthwise");
            convkit_plan_destroy(plan);
            p.algorithm = CONVKIT_CONV_ALGORITHM_DIRECT;
            cr_assert_eq(convkit_conv2d_create(&p, &plan), CONVKIT_SUCCESS, "%s",
                         convkit_last_error());
            expect_impl(plan, "conv2d", direct, "DIRECT depthwise");
            convkit_plan_destroy(plan);
            p.algorithm = CONVKIT_CONV_ALGORITHM_GEMM;
            cr_assert_eq(convkit_conv2d_create(&p, &plan), CONVKIT_SUCCESS, "%s",
                         convkit_last_error());
            expect_impl(plan, "conv2d", gemm, "GEMM depthwise");
            convkit_plan_destroy(plan);
        }
    /* AUTO: GEMM for anything else */
    convkit_conv2d_params_t p = dw_params(8, 1);
    p.groups = 4;
    cr_assert_eq(convkit_conv2d_create(&p, &plan), CONVKIT_SUCCESS);
    expect_impl(plan, "conv2d", gemm, "AUTO grouped");
    convkit_plan_destroy(plan);
    p = dw_params(8, 1);
    p.padding_mode = CONVKIT_PADDING_REFLECT;
    cr_assert_eq(convkit_conv2d_create(&p, &plan), CONVKIT_SUCCESS);
    expect_impl(plan, "conv2d", gemm, "AUTO reflect");
    convkit_plan_destroy(plan);
    p = dw_params(8, 1);
    p.src_layout.format = CONVKIT_FORMAT_NHWC; /* src NHWC, dst NCHW */
    cr_assert_eq(convkit_conv2d_create(&p, &plan), CONVKIT_SUCCESS);
    expect_impl(plan, "conv2d", gemm, "AUTO mixed layouts");
    convkit_plan_destroy(plan);
    /* conv1d */
    convkit_conv1d_params_t q = CONVKIT_CONV1D_PARAMS_INIT;
    q.in_channels = q.groups = 5;
    q.out_channels = 10;
    q.in_length = 30;
    q.kernel = 7;
    q.pad_left = q.pad_right = 3;
    cr_assert_eq(convkit_conv1d_create(&q, &plan), CONVKIT_SUCCESS);
    expect_impl(plan, "conv1d", direct, "conv1d AUTO depthwise");
    convkit_plan_destroy(plan);
    q.algorithm = CONVKIT_CONV_ALGORITHM_GEMM;
    cr_assert_eq(convkit_conv1d_create(&q, &plan), CONVKIT_SUCCESS);
    expect_impl(plan, "conv1d", gemm, "conv1d GEMM");
    convkit_plan_destroy(plan);
}

static void expect_create_fails(convkit_conv2d_params_t p, convkit_status_t want,
                                const char *needle, const char *what)
{
    convkit_plan_t *sentinel = (convkit_plan_t *)(uintptr_t)0x77, *plan = sentinel;
    const convkit_status_t st = convkit_conv2d_create(&p, &plan);
    cr_expect_eq(st, want, "%s: status %d (%s)", what, st, convkit_last_error());
    cr_expect(strstr(convkit_last_error(), needle) != NULL, "%s: message '%s'", what,
              convkit_last_error());
    cr_expect(plan == sentinel, "%s: plan written on failure", what);
}

Test(algorithm, bad_values_and_unsupported_direct)
{
    convkit_conv2d_params_t p = dw_params(4, 2);
    p.algorithm = 3;
    expect_create_fails(p, CONVKIT_ERROR_INVALID_ARGUMENT, "algorithm", "algorithm 3");
    p.algorithm = UINT32_MAX;
    expect_create_fails(p, CONVKIT_ERROR_INVALID_ARGUMENT, "algorithm", "algorithm max");
    p = dw_params(4, 2);
    p.reserved32 = 1;
    expect_create_fails(p, CONVKIT_ERROR_RESERVED_NONZERO, "reserved32", "reserved32");
    p = dw_params(4, 2);
    p.algorithm = CONVKIT_CONV_ALGORITHM_DIRECT;
    p.groups = 2;
    expect_create_fails(p, CONVKIT_ERROR_INVALID_ARGUMENT, "algorithm", "DIRECT grouped");
    p = dw_params(4, 2);
    p.algorithm = CONVKIT_CONV_ALGORITHM_DIRECT;
    p.padding_mode = CONVKIT_PADDING_REPLICATE;
    expect_create_fails(p, CONVKIT_ERROR_INVALID_ARGUMENT, "algorithm", "DIRECT replicate");
    p = dw_params(4, 2);
    p.algorithm = CONVKIT_CONV_ALGORITHM_DIRECT;
    p.dst_layout.format = CONVKIT_FORMAT_NHWC;
    expect_create_fails(p, CONVKIT_ERROR_INVALID_ARGUMENT, "algorithm", "DIRECT mixed layouts");
    p = dw_params(4, 1);
    p.algorithm = CONVKIT_CONV_ALGORITHM_DIRECT;
    p.src_layout.format = p.dst_layout.format = CONVKIT_FORMAT_NHWC;
    p.kernel_h = p.kernel_w = 9;
    p.pad_top = p.pad_bottom = p.pad_left = p.pad_right = 4;
    expect_create_fails(p, CONVKIT_ERROR_INVALID_ARGUMENT, "algorithm", "DIRECT NHWC 9x9");
    convkit_conv1d_params_t q = CONVKIT_CONV1D_PARAMS_INIT;
    q.algorithm = 7;
    convkit_plan_t *plan = NULL;
    cr_expect_eq(convkit_conv1d_create(&q, &plan), CONVKIT_ERROR_INVALID_ARGUMENT);
    cr_expect(strstr(convkit_last_error(), "algorithm") != NULL);
    q.algorithm = CONVKIT_CONV_ALGORITHM_DIRECT;
    q.reserved32 = 2;
    cr_expect_eq(convkit_conv1d_create(&q, &plan), CONVKIT_ERROR_RESERVED_NONZERO);
}

/* Both algorithms, through the public API, on depthwise problems: every
 * direction within the bound of the float64 reference. */
static void both_algorithms(const tk_conv_cfg_t *c, bool nhwc, uint64_t seed)
{
    const tk_kind_t kind = nhwc ? TK_NHWC : TK_NCHW;
    int64_t sd[4], wd[4], dd[4];
    tk_conv_dims(c, sd, wd, dd);
    tk_rng_t r;
    tk_rng_seed(&r, seed);
    tk_tensor_t x = tk_tensor_f32(sd, kind), w = tk_tensor_f32(wd, TK_NCHW);
    tk_tensor_t gy = tk_tensor_f32(dd, kind);
    tk_fill_uniform(&x, &r, -1, 1);
    tk_fill_uniform(&w, &r, -1, 1);
    tk_fill_uniform(&gy, &r, -1, 1);
    float bias[64];
    for (int i = 0; i < 64; i++) bias[i] = tk_rng_float(&r, -1, 1);
    tk_ref_t ry = tk_ref_new(dd), rgx = tk_ref_new(sd), rgw = tk_ref_new(wd);
    tk_ref_conv_forward(c, &x, &w, bias, &ry);
    tk_ref_conv_backward_data(c, &gy, &w, &rgx);
    tk_ref_conv_backward_weights(c, &x, &gy, &rgw);
    char msg[600];
    for (uint32_t alg = CONVKIT_CONV_ALGORITHM_GEMM; alg <= CONVKIT_CONV_ALGORITHM_DIRECT; alg++) {
        convkit_conv2d_params_t p = tk_conv2d_params(c, true);
        p.src_layout.format = p.dst_layout.format = kind == TK_NHWC ? CONVKIT_FORMAT_NHWC
                                                                    : CONVKIT_FORMAT_NCHW;
        p.algorithm = alg;
        convkit_plan_t *plan = NULL;
        cr_assert_eq(convkit_conv2d_create(&p, &plan), CONVKIT_SUCCESS, "%s", convkit_last_error());
        cr_expect(strstr(convkit_plan_impl_name(plan),
                         alg == CONVKIT_CONV_ALGORITHM_GEMM ? ":gemm-" : ":direct-") != NULL,
                  "%s", convkit_plan_impl_name(plan));
        tk_tensor_t y = tk_tensor_f32(dd, kind), gx = tk_tensor_f32(sd, kind);
        tk_tensor_t gw = tk_tensor_f32(wd, TK_NCHW);
        cr_assert_eq(convkit_conv_forward(plan, tk_fdata(&x), tk_fdata(&w), bias, tk_fdata(&y)), 0);
        cr_assert_eq(convkit_conv_backward_data(plan, tk_fdata(&gy), tk_fdata(&w), tk_fdata(&gx)),
                     0);
        cr_assert_eq(
            convkit_conv_backward_weights(plan, tk_fdata(&x), tk_fdata(&gy), tk_fdata(&gw)), 0);
        cr_expect_eq(tk_compare_bound(&y, &ry, 3.0, msg, sizeof msg), 0, "%s forward " CFG_FMT ": %s",
                     convkit_plan_impl_name(plan), CFG_ARGS(c), msg);
        cr_expect_eq(tk_compare_bound(&gx, &rgx, 3.0, msg, sizeof msg), 0,
                     "%s backward_data " CFG_FMT ": %s", convkit_plan_impl_name(plan), CFG_ARGS(c),
                     msg);
        cr_expect_eq(tk_compare_bound(&gw, &rgw, 3.0, msg, sizeof msg), 0,
                     "%s backward_weights " CFG_FMT ": %s", convkit_plan_impl_name(plan),
                     CFG_ARGS(c), msg);
        convkit_plan_destroy(plan);
        tk_tensor_free(&y);
        tk_tensor_free(&gx);
        tk_tensor_free(&gw);
    }
    tk_ref_free(&ry);
    tk_ref_free(&rgx);
    tk_ref_free(&rgw);
    tk_tensor_free(&x);
    tk_tensor_free(&w);
    tk_tensor_free(&gy);
}

Test(algorithm, both_agree_on_depthwise_problems, .timeout = 600)
{
    const tk_conv_cfg_t cfgs[] = {
        dw(2, 16, 14, 14, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1),
        dw(1, 12, 15, 17, 2, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1),
        dw(3, 7, 9, 33, 3, 5, 5, 1, 1, 2, 2, 2, 2, 1, 1),
        dw(1, 20, 11, 12, 1, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2),
        dw(2, 5, 1, 50, 2, 1, 7, 1, 3, 0, 0, 3, 3, 1, 1),
    };
    for (size_t i = 0; i < sizeof cfgs / sizeof cfgs[0]; i++)
        for (int nhwc = 0; nhwc < 2; nhwc++) both_algorithms(&cfgs[i], nhwc, 500 + i * 2 + nhwc);
}
