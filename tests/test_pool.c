/*
 * test_pool.c - max_pool2d / max_pool1d with int64 indices: every edge case
 * of semantics.md by hand (NaN, ties, signed zeros, -inf windows, windows
 * with no valid element, ceil_mode, stride 0), the backward scatter-add,
 * and a randomized sweep against the independent reference of
 * test_support.c over every output layout.  Values compare bitwise (the
 * sign of zero matters), indices exactly.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "test_support.h"

/* ---- hand-checked 1-D and 2-D cases --------------------------------------- */

/* Runs max_pool1d on one (1, 1, L) signal; returns the output length. */
static int64_t pool1d(const float *x, int64_t len, int64_t k, int64_t s, int64_t p, int64_t d,
                      bool ceil, float *y, int64_t *idx)
{
    convkit_pool1d_params_t prm = CONVKIT_POOL1D_PARAMS_INIT;
    prm.in_length = len;
    prm.kernel = k;
    prm.stride = s;
    prm.pad = p;
    prm.dilation = d;
    prm.ceil_mode = ceil;
    convkit_plan_t *plan = NULL;
    convkit_status_t st = convkit_max_pool1d_create(&prm, &plan);
    cr_assert_eq(st, CONVKIT_SUCCESS, "create: %s", convkit_last_error());
    int64_t dims[4];
    cr_assert_eq(convkit_plan_output_dims(plan, dims), CONVKIT_SUCCESS);
    cr_assert_eq(dims[0], 1);
    cr_assert_eq(dims[1], 1);
    cr_assert_eq(dims[2], 1);
    cr_assert(dims[3] >= 1 && dims[3] <= 16, "L_out = %lld", (long long)dims[3]);
    st = convkit_max_pool_forward(plan, x, y, idx);
    cr_assert_eq(st, CONVKIT_SUCCESS, "forward: %s", convkit_last_error());
    convkit_plan_destroy(plan);
    return dims[3];
}

static int64_t pool2d(const float *x, int64_t h, int64_t w, int64_t k, int64_t s, int64_t p,
                      int64_t d, bool ceil, float *y, int64_t *idx, int64_t *oh, int64_t *ow)
{
    convkit_pool2d_params_t prm = CONVKIT_POOL2D_PARAMS_INIT;
    prm.in_height = h;
    prm.in_width = w;
    prm.kernel_h = prm.kernel_w = k;
    prm.stride_h = prm.stride_w = s;
    prm.pad_h = prm.pad_w = p;
    prm.dilation_h = prm.dilation_w = d;
    prm.ceil_mode = ceil;
    convkit_plan_t *plan = NULL;
    convkit_status_t st = convkit_max_pool2d_create(&prm, &plan);
    cr_assert_eq(st, CONVKIT_SUCCESS, "create: %s", convkit_last_error());
    int64_t dims[4];
    cr_assert_eq(convkit_plan_output_dims(plan, dims), CONVKIT_SUCCESS);
    *oh = dims[2];
    *ow = dims[3];
    cr_assert(dims[2] * dims[3] <= 64);
    st = convkit_max_pool_forward(plan, x, y, idx);
    cr_assert_eq(st, CONVKIT_SUCCESS, "forward: %s", convkit_last_error());
    convkit_plan_destroy(plan);
    return dims[2] * dims[3];
}

static bool same_bits(float a, float b) { return tk_f32_bits(a) == tk_f32_bits(b); }

Test(pool_edge, nan_propagates_and_last_nan_index_wins)
{
    float y[64];
    int64_t idx[64];
    const float a[5] = {1.0f, NAN, 3.0f, NAN, 2.0f};
    cr_assert_eq(pool1d(a, 5, 5, 1, 0, 1, false, y, idx), 1);
    cr_expect(isnan(y[0]), "y = %g, want NaN", (double)y[0]);
    cr_expect_eq(idx[0], 3, "index %lld, want 3 (the last NaN)", (long long)idx[0]);

    /* NaN first, then a larger number: the NaN stays (5 > NaN is false). */
    const float b[2] = {NAN, 5.0f};
    cr_assert_eq(pool1d(b, 2, 2, 1, 0, 1, false, y, idx), 1);
    cr_expect(isnan(y[0]));
    cr_expect_eq(idx[0], 0);

    /* NaN after the maximum replaces it. */
    const float c[3] = {7.0f, NAN, -1.0f};
    cr_assert_eq(pool1d(c, 3, 3, 1, 0, 1, false, y, idx), 1);
    cr_expect(isnan(y[0]));
    cr_expect_eq(idx[0], 1);

    /* Row-major scan in 2-D: NaNs at (0,1) and (1,0); (1,0) comes later. */
    const float d[4] = {0.0f, NAN, NAN, 9.0f};
    int64_t oh, ow;
    cr_assert_eq(pool2d(d, 2, 2, 2, 0, 0, 1, false, y, idx, &oh, &ow), 1);
    cr_expect(isnan(y[0]));
    cr_expect_eq(idx[0], 2, "2-D: index %lld, want 2", (long long)idx[0]);
}

Test(pool_edge, ties_keep_first_maximum)
{
    float y[64];
    int64_t idx[64];
    const float a[4] = {2.0f, 5.0f, 5.0f, 1.0f};
    cr_assert_eq(pool1d(a, 4, 4, 1, 0, 1, false, y, idx), 1);
    cr_expect_eq(y[0], 5.0f);
    cr_expect_eq(idx[0], 1);

    /* 2-D: the tie at (0,1) and (1,0): row-major first is (0,1) = 1. */
    const float b[4] = {1.0f, 7.0f, 7.0f, 1.0f};
    int64_t oh, ow;
    cr_assert_eq(pool2d(b, 2, 2, 2, 0, 0, 1, false, y, idx, &oh, &ow), 1);
    cr_expect_eq(y[0], 7.0f);
    cr_expect_eq(idx[0], 1);

    /* +inf ties too. */
    const float c[3] = {INFINITY, 0.0f, INFINITY};
    cr_assert_eq(pool1d(c, 3, 3, 1, 0, 1, false, y, idx), 1);
    cr_expect_eq(y[0], INFINITY);
    cr_expect_eq(idx[0], 0);
}

Test(pool_edge, signed_zero_first_wins)
{
    float y[64];
    int64_t idx[64];
    const float a[2] = {-0.0f, 0.0f};
    cr_assert_eq(pool1d(a, 2, 2, 1, 0, 1, false, y, idx), 1);
    cr_expect(same_bits(y[0], -0.0f), "[-0, +0]: got bits 0x%08x, want -0.0", tk_f32_bits(y[0]));
    cr_expect_eq(idx[0], 0);
    const float b[2] = {0.0f, -0.0f};
    cr_assert_eq(pool1d(b, 2, 2, 1, 0, 1, false, y, idx), 1);
    cr_expect(same_bits(y[0], 0.0f), "[+0, -0]: got bits 0x%08x, want +0.0", tk_f32_bits(y[0]));
    cr_expect_eq(idx[0], 0);
    /* After a smaller negative value, the first zero still wins. */
    const float c[4] = {-1.0f, -0.0f, 0.0f, -0.0f};
    cr_assert_eq(pool1d(c, 4, 4, 1, 0, 1, false, y, idx), 1);
    cr_expect(same_bits(y[0], -0.0f), "got bits 0x%08x, want -0.0", tk_f32_bits(y[0]));
    cr_expect_eq(idx[0], 1);
}

Test(pool_edge, all_minus_inf_window_reports_first_valid_element)
{
    float y[64];
    int64_t idx[64];
    const float a[3] = {-INFINITY, -INFINITY, -INFINITY};
    /* k 3, stride 2, pad 1: windows {-1, 0, 1} and {1, 2, 3}. */
    cr_assert_eq(pool1d(a, 3, 3, 2, 1, 1, false, y, idx), 2);
    cr_expect(y[0] == -INFINITY && y[1] == -INFINITY, "y = %g %g", (double)y[0], (double)y[1]);
    cr_expect_eq(idx[0], 0, "window 0 index %lld, want 0", (long long)idx[0]);
    cr_expect_eq(idx[1], 1, "window 1 index %lld, want 1", (long long)idx[1]);

    /* 2-D, 3x3 of -inf, k 3, stride 2, pad 1: window (1,1) starts at (1,1) = 4. */
    float b[9];
    for (int i = 0; i < 9; i++) b[i] = -INFINITY;
    int64_t oh, ow;
    cr_assert_eq(pool2d(b, 3, 3, 3, 2, 1, 1, false, y, idx, &oh, &ow), 4);
    const int64_t want[4] = {0, 1, 3, 4};
    for (int i = 0; i < 4; i++) {
        cr_expect(y[i] == -INFINITY, "y[%d] = %g", i, (double)y[i]);
        cr_expect_eq(idx[i], want[i], "2-D index[%d] = %lld, want %lld", i, (long long)idx[i],
                     (long long)want[i]);
    }
}

Test(pool_edge, window_without_valid_element_gives_minus_inf_and_index_minus_one)
{
    float y[64];
    int64_t idx[64];
    /* L 2, k 2, dilation 3, pad 2: padded positions {-2,1}, {-1,2}, {0,3}. */
    const float a[2] = {4.0f, 8.0f};
    cr_assert_eq(pool1d(a, 2, 2, 1, 2, 3, false, y, idx), 3);
    cr_expect_eq(y[0], 8.0f);
    cr_expect_eq(idx[0], 1);
    cr_expect(y[1] == -INFINITY, "empty window value %g, want -inf", (double)y[1]);
    cr_expect_eq(idx[1], -1, "empty window index %lld, want -1", (long long)idx[1]);
    cr_expect_eq(y[2], 4.0f);
    cr_expect_eq(idx[2], 0);

    /* 2-D: the same geometry in both dims; the middle row and column are empty. */
    const float b[4] = {1.0f, 2.0f, 3.0f, 4.0f};
    int64_t oh, ow;
    cr_assert_eq(pool2d(b, 2, 2, 2, 1, 2, 3, false, y, idx, &oh, &ow), 9);
    const float wy[9] = {4, -INFINITY, 3, -INFINITY, -INFINITY, -INFINITY, 2, -INFINITY, 1};
    const int64_t wi[9] = {3, -1, 2, -1, -1, -1, 1, -1, 0};
    for (int i = 0; i < 9; i++) {
        cr_expect(y[i] == wy[i], "y[%d] = %g want %g", i, (double)y[i], (double)wy[i]);
        cr_expect_eq(idx[i], wi[i], "idx[%d] = %lld want %lld", i, (long long)idx[i],
                     (long long)wi[i]);
    }
}

Test(pool_edge, ceil_mode_adds_partial_window)
{
    float y[64];
    int64_t idx[64];
    const float a[5] = {1, 2, 3, 4, 5};
    cr_assert_eq(pool1d(a, 5, 2, 2, 0, 1, false, y, idx), 2);
    cr_assert_eq(pool1d(a, 5, 2, 2, 0, 1, true, y, idx), 3);
    cr_expect_eq(y[2], 5.0f);
    cr_expect_eq(idx[2], 4);
}

Test(pool_edge, ceil_mode_drops_window_starting_in_right_padding)
{
    float y[64];
    int64_t idx[64];
    /* L 3, k 2, stride 2, pad 1: floor 2; rounding up gives 3 but the third
     * window would start at padded 4 = the right padding, so it is dropped. */
    const float a[3] = {1, 2, 3};
    cr_assert_eq(pool1d(a, 3, 2, 2, 1, 1, false, y, idx), 2);
    cr_assert_eq(pool1d(a, 3, 2, 2, 1, 1, true, y, idx), 2);
    cr_expect_eq(idx[0], 0);
    cr_expect_eq(idx[1], 2);
    /* L 6, k 3, stride 3, pad 1: floor 2, ceil 3 and the third window starts
     * at padded 6 = input 5, inside: kept. */
    const float b[6] = {1, 2, 3, 4, 5, 6};
    cr_assert_eq(pool1d(b, 6, 3, 3, 1, 1, false, y, idx), 2);
    cr_assert_eq(pool1d(b, 6, 3, 3, 1, 1, true, y, idx), 3);
    cr_expect_eq(y[2], 6.0f);
    cr_expect_eq(idx[2], 5);
    /* 2-D: the same rule per dimension. */
    float c[9];
    for (int i = 0; i < 9; i++) c[i] = (float)i;
    int64_t oh, ow;
    cr_assert_eq(pool2d(c, 3, 3, 2, 2, 1, 1, true, y, idx, &oh, &ow), 4);
    cr_expect_eq(oh, 2);
    cr_expect_eq(ow, 2);
    const int64_t wi[4] = {0, 2, 6, 8};
    for (int i = 0; i < 4; i++) cr_expect_eq(idx[i], wi[i], "idx[%d] = %lld", i, (long long)idx[i]);
}

Test(pool_edge, output_size_rule_matches_formula)
{
    /* Plan output dims against the independent formula over a grid. */
    for (int64_t len = 1; len <= 9; len++)
        for (int64_t k = 1; k <= 4; k++)
            for (int64_t s = 0; s <= 3; s++)
                for (int64_t d = 1; d <= 2; d++)
                    for (int64_t p = 0; p <= (d * (k - 1) + 1) / 2; p++)
                        for (int ceil = 0; ceil < 2; ceil++) {
                            const int64_t want = tk_pool_out_size(len, p, k, s, d, ceil);
                            convkit_pool1d_params_t prm = CONVKIT_POOL1D_PARAMS_INIT;
                            prm.in_length = len;
                            prm.kernel = k;
                            prm.stride = s;
                            prm.pad = p;
                            prm.dilation = d;
                            prm.ceil_mode = (uint32_t)ceil;
                            convkit_plan_t *plan = NULL;
                            convkit_status_t st = convkit_max_pool1d_create(&prm, &plan);
                            if (want < 1) {
                                cr_expect_neq(st, CONVKIT_SUCCESS,
                                              "L %lld k %lld s %lld d %lld p %lld ceil %d: "
                                              "created a plan with empty output",
                                              (long long)len, (long long)k, (long long)s,
                                              (long long)d, (long long)p, ceil);
                                convkit_plan_destroy(st == CONVKIT_SUCCESS ? plan : NULL);
                                continue;
                            }
                            cr_assert_eq(st, CONVKIT_SUCCESS, "%s", convkit_last_error());
                            int64_t dims[4];
                            convkit_plan_output_dims(plan, dims);
                            cr_expect_eq(dims[3], want,
                                         "L %lld k %lld s %lld d %lld p %lld ceil %d: got %lld "
                                         "want %lld",
                                         (long long)len, (long long)k, (long long)s, (long long)d,
                                         (long long)p, ceil, (long long)dims[3], (long long)want);
                            convkit_plan_destroy(plan);
                        }
}

Test(pool_edge, stride_zero_means_kernel)
{
    float x[30], y0[64], y1[64];
    int64_t i0[64], i1[64], oh0, ow0, oh1, ow1;
    for (int i = 0; i < 30; i++) x[i] = (float)((i * 7) % 11);
    const int64_t n0 = pool2d(x, 5, 6, 2, 0, 1, 1, false, y0, i0, &oh0, &ow0);
    const int64_t n1 = pool2d(x, 5, 6, 2, 2, 1, 1, false, y1, i1, &oh1, &ow1);
    cr_assert_eq(oh0, oh1);
    cr_assert_eq(ow0, ow1);
    cr_assert_eq(oh0, 3);
    cr_assert_eq(ow0, 4);
    for (int64_t i = 0; i < n0 && i < n1; i++) {
        cr_expect(same_bits(y0[i], y1[i]), "y[%lld]", (long long)i);
        cr_expect_eq(i0[i], i1[i], "idx[%lld]", (long long)i);
    }
    const float a[6] = {1, 5, 2, 8, 3, 0};
    float y[64];
    int64_t idx[64];
    cr_assert_eq(pool1d(a, 6, 3, 0, 0, 1, false, y, idx), 2);
    cr_expect_eq(y[0], 5.0f);
    cr_expect_eq(idx[0], 1);
    cr_expect_eq(y[1], 8.0f);
    cr_expect_eq(idx[1], 3);
}

Test(pool_edge, indices_may_be_null)
{
    float x[20], y0[64], y1[64];
    int64_t idx[64];
    for (int i = 0; i < 20; i++) x[i] = (float)((i * 5) % 7) - 3.0f;
    int64_t oh, ow;
    const int64_t n = pool2d(x, 4, 5, 3, 1, 1, 1, true, y0, idx, &oh, &ow);
    pool2d(x, 4, 5, 3, 1, 1, 1, true, y1, NULL, &oh, &ow);
    for (int64_t i = 0; i < n; i++) cr_expect(same_bits(y0[i], y1[i]), "y[%lld]", (long long)i);
}

/* ---- backward -------------------------------------------------------------- */

static convkit_plan_t *plan1d(int64_t n, int64_t c, int64_t len, int64_t k, int64_t s, int64_t p)
{
    convkit_pool1d_params_t prm = CONVKIT_POOL1D_PARAMS_INIT;
    prm.batch = n;
    prm.channels = c;
    prm.in_length = len;
    prm.kernel = k;
    prm.stride = s;
    prm.pad = p;
    convkit_plan_t *plan = NULL;
    cr_assert_eq(convkit_max_pool1d_create(&prm, &plan), CONVKIT_SUCCESS, "%s",
                 convkit_last_error());
    return plan;
}

Test(pool_backward, overlapping_windows_accumulate)
{
    /* L 4, k 3, stride 1: both windows pick index 1. */
    const float x[4] = {1, 9, 2, 0};
    convkit_plan_t *plan = plan1d(1, 1, 4, 3, 1, 0);
    float y[2];
    int64_t idx[2];
    cr_assert_eq(convkit_max_pool_forward(plan, x, y, idx), CONVKIT_SUCCESS);
    cr_expect_eq(idx[0], 1);
    cr_expect_eq(idx[1], 1);
    const float gy[2] = {0.5f, 2.0f};
    float gx[4] = {7, 7, 7, 7};
    cr_assert_eq(convkit_max_pool_backward(plan, gy, idx, gx), CONVKIT_SUCCESS);
    const float want[4] = {0, 2.5f, 0, 0};
    for (int i = 0; i < 4; i++)
        cr_expect(same_bits(gx[i], want[i]), "gx[%d] = %g want %g", i, (double)gx[i],
                  (double)want[i]);
    convkit_plan_destroy(plan);
}

Test(pool_backward, skips_minus_one_and_accepts_any_in_plane_index)
{
    /* 2 channels, L 3, k 1 (3 outputs per channel): indices are the
     * caller's, anywhere inside the plane. */
    convkit_plan_t *plan = plan1d(1, 2, 3, 1, 1, 0);
    const float gy[6] = {1, 2, 4, 8, 16, 32};
    const int64_t idx[6] = {2, -1, 2, 0, 0, -1};
    float gx[6];
    for (int i = 0; i < 6; i++) gx[i] = tk_sentinel_f32();
    cr_assert_eq(convkit_max_pool_backward(plan, gy, idx, gx), CONVKIT_SUCCESS, "%s",
                 convkit_last_error());
    const float want[6] = {0, 0, 5, 24, 0, 0};
    for (int i = 0; i < 6; i++)
        cr_expect(same_bits(gx[i], want[i]), "gx[%d] = %g want %g", i, (double)gx[i],
                  (double)want[i]);
    convkit_plan_destroy(plan);
}

Test(pool_backward, rejects_out_of_plane_indices_without_writing)
{
    /* Index == plane size would be the next channel's first element in
     * PyTorch; here it is an error and grad_src stays untouched. */
    const int64_t bad_values[] = {3, 4, -2, INT64_MAX, INT64_MIN, 6};
    for (size_t b = 0; b < sizeof bad_values / sizeof bad_values[0]; b++) {
        convkit_plan_t *plan = plan1d(1, 2, 3, 1, 1, 0);
        const float gy[6] = {1, 2, 3, 4, 5, 6};
        int64_t idx[6] = {0, 1, 2, 0, 1, 2};
        idx[4] = bad_values[b]; /* second channel, so the first could be written early */
        float gx[6 + 2 * TK_GUARD];
        for (int i = 0; i < 6 + 2 * TK_GUARD; i++) gx[i] = tk_sentinel_f32();
        convkit_status_t st = convkit_max_pool_backward(plan, gy, idx, gx + TK_GUARD);
        cr_expect_eq(st, CONVKIT_ERROR_INDEX_OUT_OF_RANGE, "index %lld: status %d",
                     (long long)bad_values[b], st);
        cr_expect(strlen(convkit_last_error()) > 0, "no message for index %lld",
                  (long long)bad_values[b]);
        cr_expect(strstr(convkit_last_error(), "indices") != NULL, "message: %s",
                  convkit_last_error());
        for (int i = 0; i < 6 + 2 * TK_GUARD; i++)
            cr_expect(tk_is_sentinel_f32(gx[i]), "index %lld: grad_src[%d] written",
                      (long long)bad_values[b], i - TK_GUARD);
        convkit_plan_destroy(plan);
    }
}

Test(pool_backward, rejects_out_of_plane_index_2d)
{
    convkit_pool2d_params_t prm = CONVKIT_POOL2D_PARAMS_INIT;
    prm.batch = 2;
    prm.channels = 2;
    prm.in_height = 3;
    prm.in_width = 4;
    prm.kernel_h = prm.kernel_w = 2;
    convkit_plan_t *plan = NULL;
    cr_assert_eq(convkit_max_pool2d_create(&prm, &plan), CONVKIT_SUCCESS);
    /* output 1 x 2 per plane; 4 planes */
    const float gy[8] = {1, 1, 1, 1, 1, 1, 1, 1};
    int64_t idx[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    float gx[48];
    for (int i = 0; i < 48; i++) gx[i] = tk_sentinel_f32();
    idx[7] = 12; /* == H * W */
    cr_expect_eq(convkit_max_pool_backward(plan, gy, idx, gx), CONVKIT_ERROR_INDEX_OUT_OF_RANGE);
    for (int i = 0; i < 48; i++) cr_expect(tk_is_sentinel_f32(gx[i]), "grad_src[%d] written", i);
    idx[7] = 11; /* the last element: fine */
    cr_expect_eq(convkit_max_pool_backward(plan, gy, idx, gx), CONVKIT_SUCCESS, "%s",
                 convkit_last_error());
    cr_expect_eq(gx[36 + 11], 1.0f);
    convkit_plan_destroy(plan);
}

Test(pool_backward, channels_last_index_error_names_the_first_bad_element)
{
    /* NHWC indices, read pixel by pixel: the error still names the first bad
     * element in (n, c, h, w) order, for any thread count. */
    convkit_pool2d_params_t prm = CONVKIT_POOL2D_PARAMS_INIT;
    prm.batch = 2;
    prm.channels = 40;
    prm.in_height = 30;
    prm.in_width = 32;
    prm.kernel_h = prm.kernel_w = 2; /* output 15 x 16 */
    prm.src_layout.format = prm.dst_layout.format = prm.indices_layout.format =
        CONVKIT_FORMAT_NHWC;
    convkit_plan_t *plan = NULL;
    cr_assert_eq(convkit_max_pool2d_create(&prm, &plan), CONVKIT_SUCCESS, "%s",
                 convkit_last_error());
    const int64_t sd[4] = {2, 40, 30, 32}, dd[4] = {2, 40, 15, 16};
    tk_tensor_t idx = tk_tensor_i64(dd, TK_NHWC), gy = tk_tensor_f32(dd, TK_NHWC);
    tk_tensor_t gx = tk_tensor_f32(sd, TK_NHWC);
    tk_fill_const(&gy, 1.0f);
    for (int64_t n = 0; n < 2; n++)
        for (int64_t c = 0; c < 40; c++)
            for (int64_t h = 0; h < 15; h++)
                for (int64_t w = 0; w < 16; w++) tk_seti(&idx, n, c, h, w, (h * 32 + w) * 2);
    tk_seti(&idx, 1, 0, 0, 0, 960);      /* == plane: bad, but in image 1 */
    tk_seti(&idx, 0, 30, 0, 0, -2);      /* earlier pixel, later channel */
    tk_seti(&idx, 0, 7, 14, 15, 99999);  /* the first in (n, c, h, w) order */
    tk_seti(&idx, 0, 7, 14, 14, -1);     /* fine */
    tk_seti(&idx, 0, 9, 3, 2, INT64_MIN);
    for (int t = 1; t <= 3; t++) {
        convkit_set_num_threads(t);
        tk_fill_sentinel(&gx);
        cr_expect_eq(convkit_max_pool_backward(plan, tk_fdata(&gy), tk_idata(&idx), tk_fdata(&gx)),
                     CONVKIT_ERROR_INDEX_OUT_OF_RANGE);
        cr_expect(strstr(convkit_last_error(), "indices[0, 7, 14, 15] = 99999") != NULL,
                  "%d threads: %s", t, convkit_last_error());
        cr_expect(tk_untouched(&gx), "%d threads: grad_src written", t);
    }
    convkit_set_num_threads(0);
    convkit_plan_destroy(plan);
    tk_tensor_free(&idx);
    tk_tensor_free(&gy);
    tk_tensor_free(&gx);
}

/* ---- randomized sweep against the reference -------------------------------- */

enum data_kind { DATA_UNIFORM, DATA_TIES, DATA_SPECIAL, DATA_ALL_NEG_INF, DATA_ZEROS, DATA_COUNT };

static void fill_data(tk_tensor_t *x, tk_rng_t *r, int kind)
{
    for (int64_t n = 0; n < x->dims[0]; n++)
        for (int64_t c = 0; c < x->dims[1]; c++)
            for (int64_t h = 0; h < x->dims[2]; h++)
                for (int64_t w = 0; w < x->dims[3]; w++) {
                    float v = 0.0f;
                    const int64_t u = tk_rng_range(r, 0, 9);
                    switch (kind) {
                    case DATA_UNIFORM: v = tk_rng_float(r, -4.0f, 4.0f); break;
                    case DATA_TIES: v = (float)tk_rng_range(r, -2, 2); break;
                    case DATA_SPECIAL:
                        v = u == 0 ? NAN
                                   : u == 1 ? -INFINITY
                                            : u == 2 ? INFINITY : (float)tk_rng_range(r, -2, 2);
                        break;
                    case DATA_ALL_NEG_INF: v = u == 0 ? -1.0f : -INFINITY; break;
                    case DATA_ZEROS: v = u < 4 ? -0.0f : u < 8 ? 0.0f : -1.0f; break;
                    }
                    tk_setf(x, n, c, h, w, v);
                }
}

static const tk_kind_t pool_layouts[][3] = {
    /* src, dst, indices */
    {TK_NCHW, TK_NCHW, TK_NCHW},
    {TK_NHWC, TK_NHWC, TK_NHWC},
    {TK_PADDED, TK_PERMUTED, TK_PADDED},
    {TK_PERMUTED, TK_PADDED, TK_NHWC},
    /* read-only views where an operand is only read; the calls that would
     * write through them must fail and write nothing */
    {TK_NEGATIVE, TK_PADDED, TK_NHWC},
    {TK_BROADCAST, TK_NCHW, TK_PERMUTED},
    {TK_PADDED, TK_BROADCAST, TK_NEGATIVE},
    {TK_NCHW, TK_NEGATIVE, TK_BROADCAST},
};

/* The status of a call writing a and b (b may be NULL): success where both
 * layouts can be written, else CONVKIT_ERROR_INVALID_ARGUMENT with nothing
 * written.  Returns true if the outputs should be checked. */
static bool expect_write(convkit_status_t st, const tk_tensor_t *a, const tk_tensor_t *b,
                         const char *what, const char *ctx)
{
    const int wa = tk_writable(a), wb = b != NULL ? tk_writable(b) : 1;
    const int wr = (wa == 0 || wb == 0) ? 0 : (wa == -1 || wb == -1) ? -1 : 1;
    if (wr == 1 || (wr == -1 && st == CONVKIT_SUCCESS)) {
        cr_expect_eq(st, CONVKIT_SUCCESS, "[%s] %s: %s", ctx, what, convkit_last_error());
        return st == CONVKIT_SUCCESS;
    }
    cr_expect_eq(st, CONVKIT_ERROR_INVALID_ARGUMENT, "[%s] %s: status %d", ctx, what, st);
    cr_expect(strstr(convkit_last_error(), "layout") != NULL, "[%s] %s: message '%s'", ctx, what,
              convkit_last_error());
    cr_expect(tk_untouched(a) && (b == NULL || tk_untouched(b)),
              "[%s] %s: output written although the call failed", ctx, what);
    return false;
}

static void run_pool(const tk_pool_cfg_t *c, bool one_d, uint64_t seed)
{
    int64_t oh, ow;
    tk_pool_out_dims(c, &oh, &ow);
    const int64_t sd[4] = {c->n, c->c, c->h, c->w}, dd[4] = {c->n, c->c, oh, ow};
    tk_rng_t r;
    tk_rng_seed(&r, seed);
    for (size_t l = 0; l < sizeof pool_layouts / sizeof pool_layouts[0]; l++)
        for (int kind = 0; kind < DATA_COUNT; kind++) {
            const tk_kind_t *k = pool_layouts[l];
            char ctx[160];
            snprintf(ctx, sizeof ctx, "%s src=%s dst=%s idx=%s data=%d ceil=%d", one_d ? "1d" : "2d",
                     tk_kind_name(k[0]), tk_kind_name(k[1]), tk_kind_name(k[2]), kind, c->ceil);
            tk_tensor_t x = tk_tensor_f32(sd, k[0]), y = tk_tensor_f32(dd, k[1]);
            tk_tensor_t idx = tk_tensor_i64(dd, k[2]), gy = tk_tensor_f32(dd, k[1]);
            tk_tensor_t gx = tk_tensor_f32(sd, k[0]);
            fill_data(&x, &r, kind);
            tk_fill_ints(&gy, &r, -4, 4);
            convkit_plan_t *plan = NULL;
            convkit_status_t st;
            if (one_d) {
                convkit_pool1d_params_t p = tk_pool1d_params(c);
                p.src_layout = x.layout;
                p.dst_layout = y.layout;
                p.indices_layout = idx.layout;
                st = convkit_max_pool1d_create(&p, &plan);
            } else {
                convkit_pool2d_params_t p = tk_pool2d_params(c);
                p.src_layout = x.layout;
                p.dst_layout = y.layout;
                p.indices_layout = idx.layout;
                st = convkit_max_pool2d_create(&p, &plan);
            }
            cr_assert_eq(st, CONVKIT_SUCCESS, "[%s] create: %s", ctx, convkit_last_error());
            int64_t od[4];
            cr_assert_eq(convkit_plan_output_dims(plan, od), CONVKIT_SUCCESS);
            for (int d = 0; d < 4; d++)
                cr_assert_eq(od[d], dd[d], "[%s] output dim %d = %lld want %lld", ctx, d,
                             (long long)od[d], (long long)dd[d]);
            st = convkit_max_pool_forward(plan, tk_fdata(&x), tk_fdata(&y), tk_idata(&idx));
            tk_ref_t ry = tk_ref_new(dd);
            tk_ref_pool_forward(c, &x, &ry);
            char msg[600];
            if (expect_write(st, &y, &idx, "forward", ctx)) {
                cr_expect_eq(tk_compare_bits(&y, &ry, msg, sizeof msg), 0, "[%s] values: %s", ctx,
                             msg);
                cr_expect_eq(tk_compare_index(&idx, &ry, msg, sizeof msg), 0, "[%s] indices: %s",
                             ctx, msg);
                cr_expect(tk_gaps_intact(&y, msg, sizeof msg), "[%s] dst: %s", ctx, msg);
                cr_expect(tk_gaps_intact(&idx, msg, sizeof msg), "[%s] indices: %s", ctx, msg);
            }
            /* without indices only dst is written */
            tk_fill_sentinel(&y);
            st = convkit_max_pool_forward(plan, tk_fdata(&x), tk_fdata(&y), NULL);
            if (expect_write(st, &y, NULL, "forward without indices", ctx))
                cr_expect_eq(tk_compare_bits(&y, &ry, msg, sizeof msg), 0,
                             "[%s] values without indices: %s", ctx, msg);

            /* backward with the reference's indices (the library's are
             * checked equal above) */
            for (int64_t n = 0; n < dd[0]; n++)
                for (int64_t ch = 0; ch < dd[1]; ch++)
                    for (int64_t i = 0; i < dd[2]; i++)
                        for (int64_t j = 0; j < dd[3]; j++)
                            tk_seti(&idx, n, ch, i, j, ry.index[tk_ref_at(&ry, n, ch, i, j)]);
            st = convkit_max_pool_backward(plan, tk_fdata(&gy), tk_idata(&idx), tk_fdata(&gx));
            tk_ref_t rgx = tk_ref_new(sd);
            tk_ref_pool_backward(c, &gy, &idx, &rgx);
            if (expect_write(st, &gx, NULL, "backward", ctx)) {
                cr_expect_eq(tk_compare_exact(&gx, &rgx, msg, sizeof msg), 0, "[%s] backward: %s",
                             ctx, msg);
                cr_expect(tk_gaps_intact(&gx, msg, sizeof msg), "[%s] grad_src: %s", ctx, msg);
            }

            tk_ref_free(&ry);
            tk_ref_free(&rgx);
            convkit_plan_destroy(plan);
            tk_tensor_free(&x);
            tk_tensor_free(&y);
            tk_tensor_free(&idx);
            tk_tensor_free(&gy);
            tk_tensor_free(&gx);
        }
}

/* fields: n c h w kh kw sh sw ph pw dh dw ceil */
#define PCFG(...) ((tk_pool_cfg_t){__VA_ARGS__})

Test(pool2d, sweep_basic)
{
    tk_pool_cfg_t c = PCFG(2, 3, 6, 7, 3, 3, 2, 2, 1, 1, 1, 1, false);
    run_pool(&c, false, 1);
}

Test(pool2d, sweep_ceil_non_square)
{
    tk_pool_cfg_t c = PCFG(2, 3, 7, 6, 3, 2, 2, 1, 1, 1, 1, 1, true);
    run_pool(&c, false, 2);
}

Test(pool2d, sweep_dilation_ceil)
{
    tk_pool_cfg_t c = PCFG(1, 2, 8, 9, 2, 3, 3, 2, 1, 2, 2, 2, true);
    run_pool(&c, false, 3);
}

Test(pool2d, sweep_stride_zero)
{
    tk_pool_cfg_t c = PCFG(2, 2, 5, 5, 2, 2, 0, 0, 0, 0, 1, 1, false);
    run_pool(&c, false, 4);
}

Test(pool2d, sweep_empty_windows)
{
    /* dilation 3 with pad 2 leaves windows with no valid element */
    tk_pool_cfg_t c = PCFG(1, 2, 2, 3, 2, 2, 1, 1, 2, 2, 3, 3, false);
    run_pool(&c, false, 5);
}

Test(pool2d, sweep_overlapping_ceil)
{
    tk_pool_cfg_t c = PCFG(2, 2, 5, 6, 3, 3, 2, 2, 1, 1, 1, 1, true);
    run_pool(&c, false, 6);
}

Test(pool2d, sweep_wide_tail)
{
    tk_pool_cfg_t c = PCFG(1, 5, 3, 21, 2, 3, 1, 1, 0, 1, 1, 1, false);
    run_pool(&c, false, 7);
}

Test(pool1d, sweep)
{
    tk_pool_cfg_t a = PCFG(2, 3, 1, 11, 1, 3, 1, 2, 0, 1, 1, 1, false);
    tk_pool_cfg_t b = PCFG(2, 3, 1, 10, 1, 4, 1, 3, 0, 2, 1, 1, true);
    tk_pool_cfg_t c = PCFG(1, 2, 1, 9, 1, 3, 1, 0, 0, 1, 1, 2, true);
    tk_pool_cfg_t d = PCFG(1, 2, 1, 2, 1, 2, 1, 1, 0, 2, 1, 3, false); /* empty windows */
    run_pool(&a, true, 11);
    run_pool(&b, true, 12);
    run_pool(&c, true, 13);
    run_pool(&d, true, 14);
}

/* ---- the plan at the ISA cap against a scalar-reference plan ----------------- */

/* Runs forward (with and without indices) and backward through a plan at
 * the process cap (the SIMD kernels where the CPU has them) and through the
 * same parameters at params.isa = SCALAR, with 3 threads (so the work
 * splits inside an image's channel run), and expects bit-identical outputs:
 * values with their NaN payloads, indices, gradients. */
static void cap_vs_scalar(const tk_pool_cfg_t *c, const tk_kind_t k[3], int kind, uint64_t seed)
{
    int64_t oh, ow;
    tk_pool_out_dims(c, &oh, &ow);
    const int64_t sd[4] = {c->n, c->c, c->h, c->w}, dd[4] = {c->n, c->c, oh, ow};
    tk_rng_t r;
    tk_rng_seed(&r, seed);
    tk_tensor_t x = tk_tensor_f32(sd, k[0]), gy = tk_tensor_f32(dd, k[1]);
    fill_data(&x, &r, kind);
    tk_fill_ints(&gy, &r, -4, 4);
    tk_tensor_t y[2], y0[2], idx[2], gx[2];
    convkit_plan_t *plan[2];
    cr_assert_eq(convkit_set_num_threads(3), CONVKIT_SUCCESS);
    for (int s = 0; s < 2; s++) { /* 0: the cap, 1: scalar */
        convkit_pool2d_params_t p = tk_pool2d_params(c);
        p.isa = s == 0 ? CONVKIT_ISA_DEFAULT : CONVKIT_ISA_SCALAR;
        p.src_layout = x.layout;
        p.dst_layout = gy.layout;
        y[s] = tk_tensor_f32(dd, k[1]);
        y0[s] = tk_tensor_f32(dd, k[1]);
        idx[s] = tk_tensor_i64(dd, k[2]);
        gx[s] = tk_tensor_f32(sd, k[0]);
        p.indices_layout = idx[s].layout;
        cr_assert_eq(convkit_max_pool2d_create(&p, &plan[s]), CONVKIT_SUCCESS, "%s",
                     convkit_last_error());
        cr_assert_eq(convkit_max_pool_forward(plan[s], tk_fdata(&x), tk_fdata(&y[s]),
                                              tk_idata(&idx[s])),
                     CONVKIT_SUCCESS, "%s", convkit_last_error());
        cr_assert_eq(convkit_max_pool_forward(plan[s], tk_fdata(&x), tk_fdata(&y0[s]), NULL),
                     CONVKIT_SUCCESS, "%s", convkit_last_error());
        cr_assert_eq(convkit_max_pool_backward(plan[s], tk_fdata(&gy), tk_idata(&idx[s]),
                                               tk_fdata(&gx[s])),
                     CONVKIT_SUCCESS, "%s", convkit_last_error());
    }
    convkit_set_num_threads(0);
    char msg[300];
    const char *impl = convkit_plan_impl_name(plan[0]);
    tk_tensor_t *got[] = {&y[0], &y0[0], &idx[0], &gx[0]}, *want[] = {&y[1], &y0[1], &idx[1], &gx[1]};
    const char *what[] = {"values", "values without indices", "indices", "backward"};
    for (int i = 0; i < 4; i++) {
        cr_expect(tk_bitwise_equal(got[i], want[i], msg, sizeof msg), "%s %s/%s/%s data %d: %s: %s",
                  impl, tk_kind_name(k[0]), tk_kind_name(k[1]), tk_kind_name(k[2]), kind, what[i],
                  msg);
        cr_expect(tk_gaps_intact(got[i], msg, sizeof msg), "%s %s: %s", impl, what[i], msg);
    }
    for (int s = 0; s < 2; s++) {
        convkit_plan_destroy(plan[s]);
        tk_tensor_free(&y[s]);
        tk_tensor_free(&y0[s]);
        tk_tensor_free(&idx[s]);
        tk_tensor_free(&gx[s]);
    }
    tk_tensor_free(&x);
    tk_tensor_free(&gy);
}

Test(pool2d, plan_at_cap_matches_scalar_plan_bitwise)
{
    static const tk_kind_t layouts[][3] = {
        {TK_NCHW, TK_NCHW, TK_NCHW}, {TK_NHWC, TK_NHWC, TK_NHWC}, {TK_PERMUTED, TK_PERMUTED, TK_NHWC}};
    const tk_pool_cfg_t cfgs[] = {
        PCFG(2, 37, 23, 70, 3, 3, 2, 2, 1, 1, 1, 1, false), /* ResNet-like, odd sizes */
        PCFG(2, 37, 23, 69, 3, 3, 2, 2, 0, 0, 1, 1, true),
        PCFG(1, 45, 9, 81, 3, 3, 1, 1, 1, 1, 2, 2, false),  /* dilation 2 */
        PCFG(1, 19, 7, 65, 2, 4, 1, 3, 1, 2, 1, 2, true),   /* stride 3 along w */
        PCFG(3, 11, 1, 300, 1, 5, 1, 1, 0, 2, 1, 1, false), /* a 1-D signal as H = 1 */
    };
    for (size_t c = 0; c < sizeof cfgs / sizeof cfgs[0]; c++)
        for (size_t l = 0; l < sizeof layouts / sizeof layouts[0]; l++)
            for (int kind = 0; kind < DATA_COUNT; kind++)
                cap_vs_scalar(&cfgs[c], layouts[l], kind, 100 * c + 10 * l + (uint64_t)kind);
}

Test(pool2d, batch_zero)
{
    convkit_pool2d_params_t p = CONVKIT_POOL2D_PARAMS_INIT;
    p.batch = 0;
    p.channels = 3;
    p.in_height = 4;
    p.in_width = 4;
    p.kernel_h = p.kernel_w = 2;
    convkit_plan_t *plan = NULL;
    cr_assert_eq(convkit_max_pool2d_create(&p, &plan), CONVKIT_SUCCESS, "%s", convkit_last_error());
    int64_t dims[4];
    cr_assert_eq(convkit_plan_output_dims(plan, dims), CONVKIT_SUCCESS);
    cr_expect(dims[0] == 0 && dims[1] == 3 && dims[2] == 2 && dims[3] == 2);
    cr_expect_eq(convkit_max_pool_forward(plan, NULL, NULL, NULL), CONVKIT_SUCCESS, "%s",
                 convkit_last_error());
    cr_expect_eq(convkit_max_pool_backward(plan, NULL, NULL, NULL), CONVKIT_SUCCESS, "%s",
                 convkit_last_error());
    convkit_plan_destroy(plan);
}
