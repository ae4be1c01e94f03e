/*
 * test_fold.c - unfold (im2col) and fold (col2im) against the independent
 * references of test_support.c (stride, dilation, padding, non-square
 * kernels, every layout including negative and zero strides on the input
 * side), hand-computed values, fold(unfold(x)) == x * coverage count, and
 * the column shape checks.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "test_support.h"

/* fields: n c h w kh kw dh dw ph pw sh sw */
#define FCFG(...) ((tk_fold_cfg_t){__VA_ARGS__})

static const tk_fold_cfg_t configs[] = {
    FCFG(2, 2, 5, 6, 2, 3, 1, 1, 0, 0, 1, 1), /* plain, non-square */
    FCFG(1, 3, 6, 5, 3, 2, 1, 2, 1, 0, 2, 1), /* stride, dilation, padding */
    FCFG(2, 2, 7, 7, 3, 3, 2, 2, 2, 1, 2, 3), /* everything at once */
    FCFG(1, 2, 4, 4, 4, 4, 1, 1, 0, 0, 1, 1), /* a single block */
    FCFG(1, 2, 5, 8, 1, 1, 1, 1, 0, 0, 2, 3), /* 1x1 with gaps: uncovered pixels */
    FCFG(2, 1, 3, 10, 2, 2, 1, 1, 1, 1, 3, 3), /* padding and uncovered pixels */
    FCFG(1, 3, 2, 19, 1, 3, 1, 1, 0, 1, 1, 1), /* wide rows */
};
#define N_CONFIGS ((int)(sizeof configs / sizeof configs[0]))

static convkit_plan_t *make(const tk_fold_cfg_t *c, bool fold, const tk_tensor_t *image,
                            const tk_tensor_t *col)
{
    convkit_fold_params_t p = tk_fold_params(c, fold);
    p.image_layout = image->layout;
    p.column_layout = col->layout;
    convkit_plan_t *plan = NULL;
    convkit_status_t st = fold ? convkit_fold_create(&p, &plan) : convkit_unfold_create(&p, &plan);
    cr_assert_eq(st, CONVKIT_SUCCESS, "%s create: %s", fold ? "fold" : "unfold",
                 convkit_last_error());
    int64_t dims[4];
    cr_assert_eq(convkit_plan_output_dims(plan, dims), CONVKIT_SUCCESS);
    const tk_tensor_t *out = fold ? image : col;
    for (int d = 0; d < 4; d++)
        cr_assert_eq(dims[d], out->dims[d], "%s output dim %d = %lld want %lld",
                     fold ? "fold" : "unfold", d, (long long)dims[d], (long long)out->dims[d]);
    return plan;
}

static const tk_kind_t unfold_layouts[][2] = {
    /* image (input), column (output) */
    {TK_NCHW, TK_NCHW},       {TK_NHWC, TK_NHWC},     {TK_NEGATIVE, TK_PADDED},
    {TK_BROADCAST, TK_PERMUTED}, {TK_PERMUTED, TK_NHWC},
};
static const tk_kind_t fold_layouts[][2] = {
    /* image (output), column (input) */
    {TK_NCHW, TK_NCHW},         {TK_NHWC, TK_NHWC},  {TK_PADDED, TK_NEGATIVE},
    {TK_PERMUTED, TK_BROADCAST}, {TK_NHWC, TK_PERMUTED},
};

Test(unfold, sweep_against_reference)
{
    for (int k = 0; k < N_CONFIGS; k++)
        for (size_t l = 0; l < sizeof unfold_layouts / sizeof unfold_layouts[0]; l++) {
            const tk_fold_cfg_t *c = &configs[k];
            int64_t id[4], cd[4];
            tk_fold_dims(c, id, cd);
            tk_rng_t r;
            tk_rng_seed(&r, (uint64_t)(k * 10 + l));
            tk_tensor_t img = tk_tensor_f32(id, unfold_layouts[l][0]);
            tk_tensor_t col = tk_tensor_f32(cd, unfold_layouts[l][1]);
            tk_fill_uniform(&img, &r, -2.0f, 2.0f);
            convkit_plan_t *plan = make(c, false, &img, &col);
            cr_assert_eq(convkit_fold_execute(plan, tk_fdata(&img), tk_fdata(&col)),
                         CONVKIT_SUCCESS, "%s", convkit_last_error());
            tk_ref_t ref = tk_ref_new(cd);
            tk_ref_unfold(c, &img, &ref);
            char msg[600];
            cr_expect_eq(tk_compare_bits(&col, &ref, msg, sizeof msg), 0,
                         "config %d image=%s col=%s: %s", k, tk_kind_name(img.kind),
                         tk_kind_name(col.kind), msg);
            cr_expect(tk_gaps_intact(&col, msg, sizeof msg), "config %d: %s", k, msg);
            cr_expect(tk_gaps_intact(&img, msg, sizeof msg), "config %d: input changed: %s", k,
                      msg);
            tk_ref_free(&ref);
            convkit_plan_destroy(plan);
            tk_tensor_free(&img);
            tk_tensor_free(&col);
        }
}

Test(fold, sweep_against_reference)
{
    for (int k = 0; k < N_CONFIGS; k++)
        for (size_t l = 0; l < sizeof fold_layouts / sizeof fold_layouts[0]; l++)
            for (int ints = 0; ints < 2; ints++) {
                const tk_fold_cfg_t *c = &configs[k];
                int64_t id[4], cd[4];
                tk_fold_dims(c, id, cd);
                tk_rng_t r;
                tk_rng_seed(&r, (uint64_t)(k * 100 + l * 2 + ints));
                tk_tensor_t img = tk_tensor_f32(id, fold_layouts[l][0]);
                tk_tensor_t col = tk_tensor_f32(cd, fold_layouts[l][1]);
                if (ints) tk_fill_ints(&col, &r, -5, 5);
                else tk_fill_uniform(&col, &r, -1.0f, 1.0f);
                convkit_plan_t *plan = make(c, true, &img, &col);
                cr_assert_eq(convkit_fold_execute(plan, tk_fdata(&col), tk_fdata(&img)),
                             CONVKIT_SUCCESS, "%s", convkit_last_error());
                tk_ref_t ref = tk_ref_new(id);
                tk_ref_fold(c, &col, &ref);
                char msg[600];
                const int64_t bad = ints ? tk_compare_exact(&img, &ref, msg, sizeof msg)
                                         : tk_compare_bound(&img, &ref, 2.0, msg, sizeof msg);
                cr_expect_eq(bad, 0, "config %d image=%s col=%s ints=%d: %s", k,
                             tk_kind_name(img.kind), tk_kind_name(col.kind), ints, msg);
                cr_expect(tk_gaps_intact(&img, msg, sizeof msg), "config %d: %s", k, msg);
                tk_ref_free(&ref);
                convkit_plan_destroy(plan);
                tk_tensor_free(&img);
                tk_tensor_free(&col);
            }
}

Test(unfold, hand_computed)
{
    /* 3x3 image 1..9, 2x2 kernel, stride 1: 4 rows (kernel offsets) by 4
     * blocks. */
    const float x[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    const float want[16] = {1, 2, 4, 5, 2, 3, 5, 6, 4, 5, 7, 8, 5, 6, 8, 9};
    convkit_fold_params_t p = CONVKIT_FOLD_PARAMS_INIT;
    p.height = p.width = 3;
    p.kernel_h = p.kernel_w = 2;
    convkit_plan_t *plan = NULL;
    cr_assert_eq(convkit_unfold_create(&p, &plan), CONVKIT_SUCCESS, "%s", convkit_last_error());
    int64_t dims[4];
    convkit_plan_output_dims(plan, dims);
    cr_expect(dims[0] == 1 && dims[1] == 4 && dims[2] == 1 && dims[3] == 4,
              "dims %lld %lld %lld %lld", (long long)dims[0], (long long)dims[1],
              (long long)dims[2], (long long)dims[3]);
    float col[16];
    cr_assert_eq(convkit_fold_execute(plan, x, col), CONVKIT_SUCCESS);
    for (int i = 0; i < 16; i++)
        cr_expect_eq(col[i], want[i], "col[%d] = %g want %g", i, (double)col[i], (double)want[i]);
    convkit_plan_destroy(plan);

    /* With padding 1 and stride 2 on a 2x2 image [a b; c d] and 2x2 kernel:
     * blocks at (-1,-1), (-1,1), (1,-1), (1,1); zero outside. */
    const float y[4] = {1, 2, 3, 4};
    const float want2[16] = {0, 0, 0, 4, 0, 0, 3, 0, 0, 2, 0, 0, 1, 0, 0, 0};
    p.height = p.width = 2;
    p.pad_h = p.pad_w = 1;
    p.stride_h = p.stride_w = 2;
    cr_assert_eq(convkit_unfold_create(&p, &plan), CONVKIT_SUCCESS, "%s", convkit_last_error());
    cr_assert_eq(convkit_fold_execute(plan, y, col), CONVKIT_SUCCESS);
    for (int i = 0; i < 16; i++)
        cr_expect(tk_f32_bits(col[i]) == tk_f32_bits(want2[i]), "col[%d] = %g want %g", i,
                  (double)col[i], (double)want2[i]);
    convkit_plan_destroy(plan);
}

Test(fold, hand_computed_overlap_sum_and_uncovered_zero)
{
    /* fold of the 3x3/2x2 columns of 1..9 gives x * coverage:
     * coverage [[1 2 1] [2 4 2] [1 2 1]]. */
    const float col[16] = {1, 2, 4, 5, 2, 3, 5, 6, 4, 5, 7, 8, 5, 6, 8, 9};
    const float want[9] = {1, 4, 3, 8, 20, 12, 7, 16, 9};
    convkit_fold_params_t p = CONVKIT_FOLD_PARAMS_INIT;
    p.height = p.width = 3;
    p.kernel_h = p.kernel_w = 2;
    p.col_channels = 4;
    p.col_length = 4;
    convkit_plan_t *plan = NULL;
    cr_assert_eq(convkit_fold_create(&p, &plan), CONVKIT_SUCCESS, "%s", convkit_last_error());
    float img[9];
    for (int i = 0; i < 9; i++) img[i] = 100.0f; /* overwritten, not accumulated */
    cr_assert_eq(convkit_fold_execute(plan, col, img), CONVKIT_SUCCESS);
    for (int i = 0; i < 9; i++)
        cr_expect_eq(img[i], want[i], "img[%d] = %g want %g", i, (double)img[i], (double)want[i]);
    convkit_plan_destroy(plan);

    /* 1x1 kernel, stride 2 on a 3x3 output: only (0,0) (0,2) (2,0) (2,2). */
    const float c2[4] = {1, 2, 3, 4};
    const float want2[9] = {1, 0, 2, 0, 0, 0, 3, 0, 4};
    p.kernel_h = p.kernel_w = 1;
    p.stride_h = p.stride_w = 2;
    p.col_channels = 1;
    p.col_length = 4;
    cr_assert_eq(convkit_fold_create(&p, &plan), CONVKIT_SUCCESS, "%s", convkit_last_error());
    for (int i = 0; i < 9; i++) img[i] = NAN;
    cr_assert_eq(convkit_fold_execute(plan, c2, img), CONVKIT_SUCCESS);
    for (int i = 0; i < 9; i++)
        cr_expect(tk_f32_bits(img[i]) == tk_f32_bits(want2[i]), "img[%d] = %g want %g", i,
                  (double)img[i], (double)want2[i]);
    convkit_plan_destroy(plan);
}

/* fold(unfold(x)) == x * (number of blocks covering each pixel), exactly on
 * small integers; the coverage is counted here directly. */
Test(fold, fold_of_unfold_is_coverage_times_input)
{
    for (int k = 0; k < N_CONFIGS; k++) {
        const tk_fold_cfg_t *c = &configs[k];
        int64_t id[4], cd[4], oh, ow;
        tk_fold_dims(c, id, cd);
        tk_fold_blocks(c, &oh, &ow);
        tk_rng_t r;
        tk_rng_seed(&r, 900 + (uint64_t)k);
        tk_tensor_t x = tk_tensor_f32(id, TK_NCHW), col = tk_tensor_f32(cd, TK_NCHW);
        tk_tensor_t back = tk_tensor_f32(id, TK_NCHW);
        tk_fill_ints(&x, &r, -9, 9);
        convkit_plan_t *u = make(c, false, &x, &col), *f = make(c, true, &back, &col);
        cr_assert_eq(convkit_fold_execute(u, tk_fdata(&x), tk_fdata(&col)), CONVKIT_SUCCESS);
        cr_assert_eq(convkit_fold_execute(f, tk_fdata(&col), tk_fdata(&back)), CONVKIT_SUCCESS);
        for (int64_t ih = 0; ih < c->h; ih++)
            for (int64_t iw = 0; iw < c->w; iw++) {
                int64_t count = 0;
                for (int64_t a = 0; a < c->kh; a++) {
                    const int64_t t = ih + c->ph - a * c->dh; /* = block_row * sh */
                    if (t < 0 || t % c->sh != 0 || t / c->sh >= oh) continue;
                    for (int64_t b = 0; b < c->kw; b++) {
                        const int64_t s = iw + c->pw - b * c->dw;
                        if (s < 0 || s % c->sw != 0 || s / c->sw >= ow) continue;
                        count++;
                    }
                }
                for (int64_t n = 0; n < c->n; n++)
                    for (int64_t ch = 0; ch < c->c; ch++) {
                        const float got = tk_getf(&back, n, ch, ih, iw);
                        const float want = (float)count * tk_getf(&x, n, ch, ih, iw);
                        cr_expect_eq(got, want,
                                     "config %d (%lld,%lld,%lld,%lld): got %g want %g "
                                     "(coverage %lld)",
                                     k, (long long)n, (long long)ch, (long long)ih, (long long)iw,
                                     (double)got, (double)want, (long long)count);
                    }
            }
        convkit_plan_destroy(u);
        convkit_plan_destroy(f);
        tk_tensor_free(&x);
        tk_tensor_free(&col);
        tk_tensor_free(&back);
    }
}

static convkit_fold_params_t small_fold_params(void)
{
    convkit_fold_params_t p = CONVKIT_FOLD_PARAMS_INIT;
    p.batch = 2;
    p.channels = 3;
    p.height = 5;
    p.width = 4;
    p.kernel_h = 2;
    p.kernel_w = 3;
    p.col_channels = 3 * 2 * 3;
    p.col_length = 4 * 2;
    return p;
}

Test(fold, rejects_col_channels_mismatch)
{
    convkit_fold_params_t p = small_fold_params();
    convkit_plan_t *plan = NULL;
    cr_assert_eq(convkit_fold_create(&p, &plan), CONVKIT_SUCCESS, "%s", convkit_last_error());
    convkit_plan_destroy(plan);
    const int64_t bad[] = {17, 19, 6, 36, 0, -18};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        p.col_channels = bad[i];
        convkit_plan_t *sentinel = (convkit_plan_t *)(uintptr_t)0x1234;
        plan = sentinel;
        convkit_status_t st = convkit_fold_create(&p, &plan);
        cr_expect(st == CONVKIT_ERROR_SHAPE_MISMATCH || (bad[i] < 0 && st == CONVKIT_ERROR_INVALID_ARGUMENT),
                  "col_channels %lld: status %d", (long long)bad[i], st);
        cr_expect(strstr(convkit_last_error(), "col_channels") != NULL,
                  "col_channels %lld: message '%s'", (long long)bad[i], convkit_last_error());
        cr_expect_eq(plan, sentinel, "plan pointer written on failure");
    }
}

Test(fold, rejects_col_length_mismatch)
{
    convkit_fold_params_t p = small_fold_params();
    const int64_t bad[] = {7, 9, 0, 16, -8};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        p.col_length = bad[i];
        convkit_plan_t *sentinel = (convkit_plan_t *)(uintptr_t)0x1234;
        convkit_plan_t *plan = sentinel;
        convkit_status_t st = convkit_fold_create(&p, &plan);
        cr_expect(st == CONVKIT_ERROR_SHAPE_MISMATCH || (bad[i] < 0 && st == CONVKIT_ERROR_INVALID_ARGUMENT),
                  "col_length %lld: status %d", (long long)bad[i], st);
        cr_expect(strstr(convkit_last_error(), "col_length") != NULL,
                  "col_length %lld: message '%s'", (long long)bad[i], convkit_last_error());
        cr_expect_eq(plan, sentinel, "plan pointer written on failure");
    }
}

Test(fold, rejects_window_larger_than_padded_image)
{
    convkit_fold_params_t p = small_fold_params();
    p.kernel_h = 7; /* 5 + 2*0 < 7 */
    p.col_channels = 3 * 7 * 3;
    convkit_plan_t *plan = NULL;
    cr_expect_eq(convkit_fold_create(&p, &plan), CONVKIT_ERROR_INVALID_ARGUMENT);
    cr_expect_eq(convkit_unfold_create(&p, &plan), CONVKIT_ERROR_INVALID_ARGUMENT);
    cr_expect_null(plan);
}

Test(fold, batch_zero)
{
    convkit_fold_params_t p = small_fold_params();
    p.batch = 0;
    convkit_plan_t *plan = NULL;
    cr_assert_eq(convkit_fold_create(&p, &plan), CONVKIT_SUCCESS, "%s", convkit_last_error());
    int64_t dims[4];
    convkit_plan_output_dims(plan, dims);
    cr_expect(dims[0] == 0 && dims[1] == 3 && dims[2] == 5 && dims[3] == 4);
    cr_expect_eq(convkit_fold_execute(plan, NULL, NULL), CONVKIT_SUCCESS, "%s", convkit_last_error());
    convkit_plan_destroy(plan);
    cr_assert_eq(convkit_unfold_create(&p, &plan), CONVKIT_SUCCESS, "%s", convkit_last_error());
    convkit_plan_output_dims(plan, dims);
    cr_expect(dims[0] == 0 && dims[1] == 18 && dims[2] == 1 && dims[3] == 8);
    cr_expect_eq(convkit_fold_execute(plan, NULL, NULL), CONVKIT_SUCCESS, "%s", convkit_last_error());
    convkit_plan_destroy(plan);
}
