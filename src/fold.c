/* fold.c - unfold (im2col) and fold (col2im) plans: argument checks, shape
 * arithmetic, kernel choice, and the threaded execute function both plan
 * kinds share. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "kernels.h"

typedef struct ck_fold_plan {
    struct convkit_plan base;
    ck_fold_problem_t problem;
    const ck_fold_kernels_t *kernels;
    int64_t image_count, column_count;
} ck_fold_plan_t;


static convkit_status_t ck_fold_check_min(int64_t v, int64_t min, const char *what)
{
    if (v < min)
        return ck_fail(CONVKIT_ERROR_INVALID_ARGUMENT, "%s must be >= %lld, got %lld", what,
                       CK_LL(min), CK_LL(v));
    return CONVKIT_SUCCESS;
}

/* Validates the parameters shared by unfold and fold and creates the plan.
 * For fold the column dims given by the caller must match; for unfold they
 * may be 0. */
static convkit_status_t ck_fold_create(const convkit_fold_params_t *p, bool is_fold,
                                       convkit_plan_t **out)
{
    const char *fn = is_fold ? "convkit_fold_create" : "convkit_unfold_create";
    if (out == NULL) return ck_fail(CONVKIT_ERROR_NULL_POINTER, "%s: plan is NULL", fn);
    CK_TRY(ck_check_reserved(p->reserved, 4, "params.reserved"));
    CK_TRY(ck_fold_check_min(p->batch, 0, "batch"));
    CK_TRY(ck_fold_check_min(p->channels, 1, "channels"));
    CK_TRY(ck_fold_check_min(p->height, 1, "height"));
    CK_TRY(ck_fold_check_min(p->width, 1, "width"));
    CK_TRY(ck_fold_check_min(p->kernel_h, 1, "kernel_h"));
    CK_TRY(ck_fold_check_min(p->kernel_w, 1, "kernel_w"));
    CK_TRY(ck_fold_check_min(p->dilation_h, 1, "dilation_h"));
    CK_TRY(ck_fold_check_min(p->dilation_w, 1, "dilation_w"));
    CK_TRY(ck_fold_check_min(p->pad_h, 0, "pad_h"));
    CK_TRY(ck_fold_check_min(p->pad_w, 0, "pad_w"));
    CK_TRY(ck_fold_check_min(p->stride_h, 1, "stride_h"));
    CK_TRY(ck_fold_check_min(p->stride_w, 1, "stride_w"));

    int64_t oh, ow;
    if (!ck_window_out(p->height, p->pad_h, p->pad_h, p->kernel_h, p->stride_h, p->dilation_h,
                       false, &oh) ||
        !ck_window_out(p->width, p->pad_w, p->pad_w, p->kernel_w, p->stride_w, p->dilation_w,
                       false, &ow))
        return ck_fail(CONVKIT_ERROR_OVERFLOW,
                       "the number of sliding blocks overflows (padding, kernel or dilation too "
                       "large)");
    if (oh < 1 || ow < 1)
        return ck_fail(CONVKIT_ERROR_INVALID_ARGUMENT,
                       "Given %s spatial size (%lld, %lld), kernel_size=(%lld, %lld), "
                       "dilation=(%lld, %lld), padding=(%lld, %lld), calculated shape of the "
                       "array of sliding blocks as (%lld, %lld), but its components must be at "
                       "least one",
                       is_fold ? "output" : "input", CK_LL(p->height), CK_LL(p->width),
                       CK_LL(p->kernel_h), CK_LL(p->kernel_w), CK_LL(p->dilation_h),
                       CK_LL(p->dilation_w), CK_LL(p->pad_h), CK_LL(p->pad_w), CK_LL(oh),
                       CK_LL(ow));
    int64_t rows, length;
    const int64_t row_dims[3] = {p->channels, p->kernel_h, p->kernel_w};
    if (!ck_count(row_dims, 3, sizeof(float), &rows))
        return ck_fail(CONVKIT_ERROR_OVERFLOW,
                       "channels * kernel_h * kernel_w = %lld * %lld * %lld overflows",
                       CK_LL(p->channels), CK_LL(p->kernel_h), CK_LL(p->kernel_w));
    if (!ck_mul(oh, ow, &length))
        return ck_fail(CONVKIT_ERROR_OVERFLOW,
                       "the number of sliding blocks %lld * %lld overflows", CK_LL(oh),
                       CK_LL(ow));
    if (is_fold) {
        if (p->col_channels != rows)
            return ck_fail(CONVKIT_ERROR_SHAPE_MISMATCH,
                           "col_channels (%lld) must equal channels * kernel_h * kernel_w = "
                           "%lld * %lld * %lld = %lld",
                           CK_LL(p->col_channels), CK_LL(p->channels), CK_LL(p->kernel_h),
                           CK_LL(p->kernel_w), CK_LL(rows));
        if (p->col_length != length)
            return ck_fail(CONVKIT_ERROR_SHAPE_MISMATCH,
                           "Given output_size=(%lld, %lld), kernel_size=(%lld, %lld), "
                           "dilation=(%lld, %lld), padding=(%lld, %lld), stride=(%lld, %lld), "
                           "expected col_length to match the calculated number of sliding "
                           "blocks %lld * %lld = %lld, but got col_length=%lld",
                           CK_LL(p->height), CK_LL(p->width), CK_LL(p->kernel_h),
                           CK_LL(p->kernel_w), CK_LL(p->dilation_h), CK_LL(p->dilation_w),
                           CK_LL(p->pad_h), CK_LL(p->pad_w), CK_LL(p->stride_h),
                           CK_LL(p->stride_w), CK_LL(oh), CK_LL(ow), CK_LL(length),
                           CK_LL(p->col_length));
    } else {
        if (p->col_channels != 0 && p->col_channels != rows)
            return ck_fail(CONVKIT_ERROR_SHAPE_MISMATCH,
                           "col_channels (%lld) must be 0 or channels * kernel_h * kernel_w = "
                           "%lld",
                           CK_LL(p->col_channels), CK_LL(rows));
        if (p->col_length != 0 && p->col_length != length)
            return ck_fail(CONVKIT_ERROR_SHAPE_MISMATCH,
                           "col_length (%lld) must be 0 or the number of sliding blocks "
                           "%lld * %lld = %lld",
                           CK_LL(p->col_length), CK_LL(oh), CK_LL(ow), CK_LL(length));
    }

    ck_fold_problem_t pr = {
        .batch = p->batch, .channels = p->channels, .height = p->height, .width = p->width,
        .kernel_h = p->kernel_h, .kernel_w = p->kernel_w, .dilation_h = p->dilation_h,
        .dilation_w = p->dilation_w, .pad_h = p->pad_h, .pad_w = p->pad_w,
        .stride_h = p->stride_h, .stride_w = p->stride_w, .out_h = oh, .out_w = ow,
    };
    const int64_t image_dims[4] = {p->batch, p->channels, p->height, p->width};
    const int64_t column_dims[4] = {p->batch, rows, 1, length};
    /* unfold writes the columns, fold writes the image. */
    CK_TRY(ck_tensor_from_layout(&pr.image, image_dims, &p->image_layout, "image_layout",
                                 is_fold));
    CK_TRY(ck_tensor_from_layout(&pr.column, column_dims, &p->column_layout, "column_layout",
                                 !is_fold));

    uint32_t isa;
    CK_TRY(ck_plan_isa(p->isa, &isa));
    const ck_fold_kernels_t *k = ck_select_fold(isa);
    ck_fold_plan_t *plan =
        ck_plan_alloc(sizeof *plan, is_fold ? CK_OP_FOLD : CK_OP_UNFOLD,
                      is_fold ? "fold" : "unfold", k->name, k->isa,
                      is_fold ? image_dims : column_dims);
    if (plan == NULL) return CONVKIT_ERROR_OUT_OF_MEMORY;
    plan->problem = pr;
    plan->kernels = k;
    plan->image_count = ck_tensor_numel(&pr.image);
    plan->column_count = ck_tensor_numel(&pr.column);
    *out = &plan->base;
    ck_clear_error();
    return CONVKIT_SUCCESS;
}

convkit_status_t convkit_unfold_create(const convkit_fold_params_t *params,
                                       convkit_plan_t **plan)
{
    convkit_fold_params_t p;
    CK_TRY(ck_read_params(&p, params, sizeof p, sizeof p, "convkit_unfold_create"));
    return ck_fold_create(&p, false, plan);
}

convkit_status_t convkit_fold_create(const convkit_fold_params_t *params,
                                     convkit_plan_t **plan)
{
    convkit_fold_params_t p;
    CK_TRY(ck_read_params(&p, params, sizeof p, sizeof p, "convkit_fold_create"));
    return ck_fold_create(&p, true, plan);
}

/* ---- execution ----------------------------------------------------------- */

typedef struct ck_fold_call {
    const ck_fold_plan_t *plan;
    const float *in;
    float *out;
} ck_fold_call_t;

static void ck_unfold_range(void *ctx, int64_t begin, int64_t end)
{
    const ck_fold_call_t *c = ctx;
    c->plan->kernels->unfold(&c->plan->problem, c->in, c->out, begin, end);
}

static void ck_fold_range(void *ctx, int64_t begin, int64_t end)
{
    const ck_fold_call_t *c = ctx;
    c->plan->kernels->fold(&c->plan->problem, c->in, c->out, begin, end);
}

convkit_status_t convkit_fold_execute(convkit_plan_t *plan, const float *src, float *dst)
{
    static const char fn[] = "convkit_fold_execute";
    if (plan == NULL) return ck_fail(CONVKIT_ERROR_NULL_POINTER, "%s: plan is NULL", fn);
    /* Either kind of plan is accepted; anything else is reported as not a
     * fold plan. */
    if (plan->op != CK_OP_UNFOLD) CK_TRY(ck_plan_check(plan, CK_OP_FOLD, fn));
    const ck_fold_plan_t *fp = (const ck_fold_plan_t *)plan;
    const bool is_fold = plan->op == CK_OP_FOLD;
    const int64_t src_count = is_fold ? fp->column_count : fp->image_count;
    const int64_t dst_count = is_fold ? fp->image_count : fp->column_count;
    CK_TRY(ck_check_ptr(src, src_count, "src"));
    CK_TRY(ck_check_ptr(dst, dst_count, "dst"));
    ck_fold_call_t c = {fp, src, dst};
    ck_parallel_for(fp->problem.batch * fp->problem.channels,
                    ck_mul_sat(fp->problem.out_h * fp->problem.out_w,
                               ck_mul_sat(fp->problem.kernel_h, fp->problem.kernel_w)),
                    is_fold ? ck_fold_range : ck_unfold_range, &c);
    ck_clear_error();
    return CONVKIT_SUCCESS;
}
