/* conv.c - convolution plans (conv2d and conv1d): argument checks, shape
 * arithmetic, kernel choice, and the threaded execute functions. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "kernels.h"

typedef struct ck_conv_plan {
    struct convkit_plan base;
    ck_conv_problem_t problem;
    int64_t bias_length;
    const ck_conv_kernels_t *kernels;
    int64_t src_count, weight_count, dst_count;
    /* Work estimates for ck_parallel_for: output plane size, and the
     * reduction length per output element forward (C_in/G*kh*kw) and
     * backward-data (C_out/G*kh*kw). */
    int64_t dst_plane, reduce_forward, reduce_backward_data;
} ck_conv_plan_t;


static convkit_status_t ck_conv_check_positive(int64_t v, int64_t min, const char *what)
{
    if (v < min)
        return ck_fail(CONVKIT_ERROR_INVALID_ARGUMENT, "%s must be >= %lld, got %lld", what,
                       CK_LL(min), CK_LL(v));
    return CONVKIT_SUCCESS;
}

/* reflect needs pad < size, circular pad <= size (F.pad's rules). */
static convkit_status_t ck_conv_check_mode_pad(uint32_t mode, int64_t pad, int64_t size,
                                               const char *what)
{
    if (mode == CONVKIT_PADDING_REFLECT && pad >= size)
        return ck_fail(CONVKIT_ERROR_INVALID_ARGUMENT,
                       "%s = %lld: reflect padding must be smaller than the input size %lld",
                       what, CK_LL(pad), CK_LL(size));
    if (mode == CONVKIT_PADDING_CIRCULAR && pad > size)
        return ck_fail(CONVKIT_ERROR_INVALID_ARGUMENT,
                       "%s = %lld: circular padding must not exceed the input size %lld", what,
                       CK_LL(pad), CK_LL(size));
    return CONVKIT_SUCCESS;
}

/* Validates a conv2d parameter set (conv1d arrives here as H = 1) and
 * creates the plan.  `fn` names the public entry point in messages. */
static convkit_status_t ck_conv_create(const convkit_conv2d_params_t *p, bool is_1d,
                                       convkit_plan_t **out)
{
    const char *fn = is_1d ? "convkit_conv1d_create" : "convkit_conv2d_create";
    if (out == NULL) return ck_fail(CONVKIT_ERROR_NULL_POINTER, "%s: plan is NULL", fn);
    CK_TRY(ck_check_reserved(p->reserved, 3, "params.reserved"));
    if (p->reserved32 != 0)
        return ck_fail(CONVKIT_ERROR_RESERVED_NONZERO, "params.reserved32 must be 0, got %u",
                       p->reserved32);
    if (p->algorithm > CONVKIT_CONV_ALGORITHM_DIRECT)
        return ck_fail(CONVKIT_ERROR_INVALID_ARGUMENT,
                       "algorithm must be CONVKIT_CONV_ALGORITHM_AUTO, _GEMM or _DIRECT, got %u",
                       p->algorithm);
    if (p->flags != 0)
        return ck_fail(CONVKIT_ERROR_RESERVED_NONZERO, "params.flags must be 0, got %u",
                       p->flags);
    CK_TRY(ck_conv_check_positive(p->batch, 0, "batch"));
    CK_TRY(ck_conv_check_positive(p->in_channels, 1, "in_channels"));
    if (!is_1d) CK_TRY(ck_conv_check_positive(p->in_height, 1, "in_height"));
    CK_TRY(ck_conv_check_positive(p->in_width, 1, is_1d ? "in_length" : "in_width"));
    CK_TRY(ck_conv_check_positive(p->out_channels, 1, "out_channels"));
    if (!is_1d) CK_TRY(ck_conv_check_positive(p->kernel_h, 1, "kernel_h"));
    CK_TRY(ck_conv_check_positive(p->kernel_w, 1, is_1d ? "kernel" : "kernel_w"));
    if (!is_1d) CK_TRY(ck_conv_check_positive(p->stride_h, 1, "stride_h"));
    CK_TRY(ck_conv_check_positive(p->stride_w, 1, is_1d ? "stride" : "stride_w"));
    if (!is_1d) CK_TRY(ck_conv_check_positive(p->dilation_h, 1, "dilation_h"));
    CK_TRY(ck_conv_check_positive(p->dilation_w, 1, is_1d ? "dilation" : "dilation_w"));
    if (!is_1d) {
        CK_TRY(ck_conv_check_positive(p->pad_top, 0, "pad_top"));
        CK_TRY(ck_conv_check_positive(p->pad_bottom, 0, "pad_bottom"));
    }
    CK_TRY(ck_conv_check_positive(p->pad_left, 0, "pad_left"));
    CK_TRY(ck_conv_check_positive(p->pad_right, 0, "pad_right"));
    CK_TRY(ck_conv_check_positive(p->groups, 1, "groups"));
    if (p->in_channels % p->groups != 0)
        return ck_fail(CONVKIT_ERROR_SHAPE_MISMATCH,
                       "in_channels (%lld) must be divisible by groups (%lld)",
                       CK_LL(p->in_channels), CK_LL(p->groups));
    if (p->out_channels % p->groups != 0)
        return ck_fail(CONVKIT_ERROR_SHAPE_MISMATCH,
                       "out_channels (%lld) must be divisible by groups (%lld)",
                       CK_LL(p->out_channels), CK_LL(p->groups));
    if (p->bias_length != 0 && p->bias_length != p->out_channels)
        return ck_fail(CONVKIT_ERROR_SHAPE_MISMATCH,
                       "bias_length (%lld) must be 0 (no bias) or out_channels (%lld)",
                       CK_LL(p->bias_length), CK_LL(p->out_channels));
    if (p->padding_mode > CONVKIT_PADDING_CIRCULAR)
        return ck_fail(CONVKIT_ERROR_INVALID_ARGUMENT,
                       "padding_mode must be CONVKIT_PADDING_ZEROS, _REFLECT, _REPLICATE or "
                       "_CIRCULAR, got %u",
                       p->padding_mode);
    if (!is_1d) {
        CK_TRY(ck_conv_check_mode_pad(p->padding_mode, p->pad_top, p->in_height, "pad_top"));
        CK_TRY(ck_conv_check_mode_pad(p->padding_mode, p->pad_bottom, p->in_height,
                                      "pad_bottom"));
    }
    CK_TRY(ck_conv_check_mode_pad(p->padding_mode, p->pad_left, p->in_width, "pad_left"));
    CK_TRY(ck_conv_check_mode_pad(p->padding_mode, p->pad_right, p->in_width, "pad_right"));

    int64_t oh, ow;
    if (!ck_window_out(p->in_height, p->pad_top, p->pad_bottom, p->kernel_h, p->stride_h,
                       p->dilation_h, false, &oh) ||
        !ck_window_out(p->in_width, p->pad_left, p->pad_right, p->kernel_w, p->stride_w,
                       p->dilation_w, false, &ow))
        return ck_fail(CONVKIT_ERROR_OVERFLOW,
                       "the output size overflows (padding, kernel or dilation too large)");
    if (oh < 1 || ow < 1) {
        if (is_1d)
            return ck_fail(CONVKIT_ERROR_INVALID_ARGUMENT,
                           "kernel size (dilated) %lld exceeds the padded input length %lld",
                           CK_LL(p->dilation_w * (p->kernel_w - 1) + 1),
                           CK_LL(p->in_width + p->pad_left + p->pad_right));
        return ck_fail(CONVKIT_ERROR_INVALID_ARGUMENT,
                       "kernel size (dilated) (%lld x %lld) exceeds the padded input size "
                       "(%lld x %lld)",
                       CK_LL(p->dilation_h * (p->kernel_h - 1) + 1),
                       CK_LL(p->dilation_w * (p->kernel_w - 1) + 1),
                       CK_LL(p->in_height + p->pad_top + p->pad_bottom),
                       CK_LL(p->in_width + p->pad_left + p->pad_right));
    }

    ck_conv_problem_t pr = {
        .batch = p->batch, .in_channels = p->in_channels, .in_h = p->in_height,
        .in_w = p->in_width, .out_channels = p->out_channels, .out_h = oh, .out_w = ow,
        .kernel_h = p->kernel_h, .kernel_w = p->kernel_w, .stride_h = p->stride_h,
        .stride_w = p->stride_w, .pad_top = p->pad_top, .pad_bottom = p->pad_bottom,
        .pad_left = p->pad_left, .pad_right = p->pad_right, .dilation_h = p->dilation_h,
        .dilation_w = p->dilation_w, .groups = p->groups, .padding_mode = p->padding_mode,
    };
    const int64_t src_dims[4] = {p->batch, p->in_channels, p->in_height, p->in_width};
    const int64_t w_dims[4] = {p->out_channels, p->in_channels / p->groups, p->kernel_h,
                               p->kernel_w};
    const int64_t dst_dims[4] = {p->batch, p->out_channels, oh, ow};
    /* Each layout is read in some directions and written in another
     * (src/grad_src, weight/grad_weight, dst/grad_dst): the execute call
     * that writes an operand checks that its layout can be written. */
    CK_TRY(ck_tensor_from_layout(&pr.src, src_dims, &p->src_layout, "src_layout", false));
    CK_TRY(ck_tensor_from_layout(&pr.weight, w_dims, &p->weight_layout, "weight_layout", false));
    CK_TRY(ck_tensor_from_layout(&pr.dst, dst_dims, &p->dst_layout, "dst_layout", false));

    uint32_t isa;
    CK_TRY(ck_plan_isa(p->isa, &isa));
    /* The algorithm (documented in convkit.h): direct for the depthwise
     * problems its kernels take, GEMM for everything else. */
    const ck_conv_kernels_t *k = NULL;
    if (p->algorithm != CONVKIT_CONV_ALGORITHM_GEMM && ck_conv_direct_supports(&pr))
        k = ck_select_conv_direct(isa);
    if (k == NULL && p->algorithm == CONVKIT_CONV_ALGORITHM_DIRECT)
        return ck_fail(CONVKIT_ERROR_INVALID_ARGUMENT,
                       "algorithm = CONVKIT_CONV_ALGORITHM_DIRECT needs a depthwise problem "
                       "(groups == in_channels, here %lld and %lld) with padding_mode "
                       "CONVKIT_PADDING_ZEROS (here %u) and src and dst both unit stride along "
                       "W or both along C (then kernel_h * kernel_w <= 64)",
                       CK_LL(pr.groups), CK_LL(pr.in_channels), pr.padding_mode);
    if (k == NULL) k = ck_select_conv(isa);
    ck_conv_plan_t *plan = ck_plan_alloc(sizeof *plan, CK_OP_CONV, is_1d ? "conv1d" : "conv2d",
                                         k->name, k->isa, dst_dims);
    if (plan == NULL) return CONVKIT_ERROR_OUT_OF_MEMORY;
    plan->problem = pr;
    plan->kernels = k;
    plan->bias_length = p->bias_length;
    plan->src_count = ck_tensor_numel(&pr.src);
    plan->weight_count = ck_tensor_numel(&pr.weight);
    plan->dst_count = ck_tensor_numel(&pr.dst);
    plan->dst_plane = oh * ow;
    plan->reduce_forward = ck_mul_sat(pr.in_channels / pr.groups, pr.kernel_h * pr.kernel_w);
    plan->reduce_backward_data =
        ck_mul_sat(pr.out_channels / pr.groups, pr.kernel_h * pr.kernel_w);
    *out = &plan->base;
    ck_clear_error();
    return CONVKIT_SUCCESS;
}

convkit_status_t convkit_conv2d_create(const convkit_conv2d_params_t *params,
                                       convkit_plan_t **plan)
{
    convkit_conv2d_params_t p;
    CK_TRY(ck_read_params(&p, params, sizeof p, sizeof p, "convkit_conv2d_create"));
    return ck_conv_create(&p, false, plan);
}

/* conv1d is conv2d over (N, C, 1, L) with a 1-row kernel. */
convkit_status_t convkit_conv1d_create(const convkit_conv1d_params_t *params,
                                       convkit_plan_t **plan)
{
    convkit_conv1d_params_t q;
    CK_TRY(ck_read_params(&q, params, sizeof q, sizeof q, "convkit_conv1d_create"));
    convkit_conv2d_params_t p = CONVKIT_CONV2D_PARAMS_INIT;
    p.isa = q.isa;
    p.batch = q.batch;
    p.in_channels = q.in_channels;
    p.in_height = 1;
    p.in_width = q.in_length;
    p.out_channels = q.out_channels;
    p.kernel_h = 1;
    p.kernel_w = q.kernel;
    p.stride_h = 1;
    p.stride_w = q.stride;
    p.pad_left = q.pad_left;
    p.pad_right = q.pad_right;
    p.dilation_h = 1;
    p.dilation_w = q.dilation;
    p.groups = q.groups;
    p.bias_length = q.bias_length;
    p.padding_mode = q.padding_mode;
    p.flags = q.flags;
    p.src_layout = q.src_layout;
    p.weight_layout = q.weight_layout;
    p.dst_layout = q.dst_layout;
    p.algorithm = q.algorithm;
    p.reserved32 = q.reserved32;
    memcpy(p.reserved, q.reserved, sizeof p.reserved);
    return ck_conv_create(&p, true, plan);
}

/* ---- execution ----------------------------------------------------------- */

typedef struct ck_conv_call {
    const ck_conv_plan_t *plan;
    const float *a, *b, *c; /* inputs, per direction */
    float *out;
} ck_conv_call_t;

static void ck_conv_forward_range(void *ctx, int64_t begin, int64_t end)
{
    const ck_conv_call_t *c = ctx;
    c->plan->kernels->forward(&c->plan->problem, c->a, c->b, c->c, c->out, begin, end);
}

static void ck_conv_backward_data_range(void *ctx, int64_t begin, int64_t end)
{
    const ck_conv_call_t *c = ctx;
    c->plan->kernels->backward_data(&c->plan->problem, c->a, c->b, c->out, begin, end);
}

static void ck_conv_backward_weights_range(void *ctx, int64_t begin, int64_t end)
{
    const ck_conv_call_t *c = ctx;
    c->plan->kernels->backward_weights(&c->plan->problem, c->a, c->b, c->out, begin, end);
}

static void ck_conv_backward_bias_range(void *ctx, int64_t begin, int64_t end)
{
    const ck_conv_call_t *c = ctx;
    c->plan->kernels->backward_bias(&c->plan->problem, c->a, c->out, begin, end);
}

static convkit_status_t ck_conv_plan_get(convkit_plan_t *plan, const char *fn,
                                         const ck_conv_plan_t **out)
{
    CK_TRY(ck_plan_check(plan, CK_OP_CONV, fn));
    *out = (const ck_conv_plan_t *)plan;
    return CONVKIT_SUCCESS;
}

convkit_status_t convkit_conv_forward(convkit_plan_t *plan, const float *src,
                                      const float *weight, const float *bias, float *dst)
{
    const ck_conv_plan_t *cp;
    CK_TRY(ck_conv_plan_get(plan, "convkit_conv_forward", &cp));
    CK_TRY(ck_check_ptr(src, cp->src_count, "src"));
    CK_TRY(ck_check_ptr(weight, cp->weight_count, "weight"));
    CK_TRY(ck_check_ptr(dst, cp->dst_count, "dst"));
    if (cp->bias_length == 0 && bias != NULL)
        return ck_fail(CONVKIT_ERROR_INVALID_ARGUMENT,
                       "bias is not NULL but the plan was created with bias_length 0");
    if (cp->bias_length != 0) CK_TRY(ck_check_ptr(bias, cp->bias_length, "bias"));
    CK_TRY(ck_tensor_check_output(&cp->problem.dst, "dst_layout (dst is written)"));
    ck_conv_call_t c = {cp, src, weight, bias, dst};
    ck_parallel_for(cp->problem.batch * cp->problem.out_channels,
                    ck_mul_sat(cp->dst_plane, cp->reduce_forward), ck_conv_forward_range, &c);
    ck_clear_error();
    return CONVKIT_SUCCESS;
}

convkit_status_t convkit_conv_backward_data(convkit_plan_t *plan, const float *grad_dst,
                                            const float *weight, float *grad_src)
{
    const ck_conv_plan_t *cp;
    CK_TRY(ck_conv_plan_get(plan, "convkit_conv_backward_data", &cp));
    CK_TRY(ck_check_ptr(grad_dst, cp->dst_count, "grad_dst"));
    CK_TRY(ck_check_ptr(weight, cp->weight_count, "weight"));
    CK_TRY(ck_check_ptr(grad_src, cp->src_count, "grad_src"));
    CK_TRY(ck_tensor_check_output(&cp->problem.src, "src_layout (grad_src is written)"));
    ck_conv_call_t c = {cp, grad_dst, weight, NULL, grad_src};
    ck_parallel_for(cp->problem.batch * cp->problem.in_channels,
                    ck_mul_sat(cp->dst_plane, cp->reduce_backward_data),
                    ck_conv_backward_data_range, &c);
    ck_clear_error();
    return CONVKIT_SUCCESS;
}

convkit_status_t convkit_conv_backward_weights(convkit_plan_t *plan, const float *src,
                                               const float *grad_dst, float *grad_weight)
{
    const ck_conv_plan_t *cp;
    CK_TRY(ck_conv_plan_get(plan, "convkit_conv_backward_weights", &cp));
    CK_TRY(ck_check_ptr(src, cp->src_count, "src"));
    CK_TRY(ck_check_ptr(grad_dst, cp->dst_count, "grad_dst"));
    CK_TRY(ck_check_ptr(grad_weight, cp->weight_count, "grad_weight"));
    CK_TRY(ck_tensor_check_output(&cp->problem.weight, "weight_layout (grad_weight is written)"));
    ck_conv_call_t c = {cp, src, grad_dst, NULL, grad_weight};
    ck_parallel_for(cp->problem.out_channels,
                    ck_mul_sat(ck_mul_sat(cp->problem.batch, cp->dst_plane), cp->reduce_forward),
                    ck_conv_backward_weights_range, &c);
    ck_clear_error();
    return CONVKIT_SUCCESS;
}

convkit_status_t convkit_conv_backward_bias(convkit_plan_t *plan, const float *grad_dst,
                                            float *grad_bias)
{
    const ck_conv_plan_t *cp;
    CK_TRY(ck_conv_plan_get(plan, "convkit_conv_backward_bias", &cp));
    CK_TRY(ck_check_ptr(grad_dst, cp->dst_count, "grad_dst"));
    CK_TRY(ck_check_ptr(grad_bias, cp->problem.out_channels, "grad_bias"));
    ck_conv_call_t c = {cp, grad_dst, NULL, NULL, grad_bias};
    ck_parallel_for(cp->problem.out_channels, ck_mul_sat(cp->problem.batch, cp->dst_plane),
                    ck_conv_backward_bias_range, &c);
    ck_clear_error();
    return CONVKIT_SUCCESS;
}
