/* conv.c - convolution plans (conv2d and conv1d): argument checks, shape
 * arithmetic, kernel choice, and the threaded execute functions. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <stdlib.h>

#include "conv-blocked/conv-blocked.h"
#include "conv-direct/conv-direct.h"
#include "kernels.h"

typedef struct ck_conv_plan {
    struct convkit_plan base;
    /* Blocked src/dst (CONVKIT_FORMAT_NCHW16C/8C) appear here as dense
     * NCHW: the blocked engine reads them itself, every other path gets
     * dense copies (ck_conv_adapt). */
    ck_conv_problem_t problem;
    ck_cb_layouts_t blocked;
    ck_cb_engine_t *engine; /* the channel-blocked direct engine, or NULL */
    /* With an engine, backward-data of a stride-1 problem runs as the
     * forward of the transposed problem (ck_cb_backward_data_problem). */
    ck_cb_engine_t *engine_bwd;
    ck_conv_problem_t bwd_problem;
    int64_t bwd_weight_offset;
    /* Depthwise forward on blocked or NHWC-like src and dst (multiplier
     * 1): the chunked kernel and its geometry, or NULL. */
    ck_dwc_forward_fn dwc_fn;
    ck_dwc_geom_t dwc;
    /* convkit_conv_set_weights without an engine: a dense OIHW copy and
     * the problem that reads it. */
    float *weights;
    ck_conv_problem_t weights_problem;
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

/* The fused activation: a known kind; CLAMP needs alpha <= beta, neither
 * NaN (torch.clamp's bounds). */
static convkit_status_t ck_conv_check_activation(const convkit_conv2d_params_t *p)
{
    if (p->activation > CONVKIT_ACTIVATION_GELU_ERF)
        return ck_fail(CONVKIT_ERROR_INVALID_ARGUMENT,
                       "activation must be one of CONVKIT_ACTIVATION_NONE .. _GELU_ERF (0..7), "
                       "got %u",
                       p->activation);
    const float a = p->activation_alpha, b = p->activation_beta;
    if (p->activation == CONVKIT_ACTIVATION_CLAMP && !(a <= b))
        return ck_fail(CONVKIT_ERROR_INVALID_ARGUMENT,
                       "activation CLAMP needs activation_alpha <= activation_beta (neither "
                       "NaN), got %g and %g",
                       (double)a, (double)b);
    if (p->activation != CONVKIT_ACTIVATION_CLAMP && (a != 0.0f || b != 0.0f))
        return ck_fail(CONVKIT_ERROR_INVALID_ARGUMENT,
                       "activation_alpha and activation_beta are only used by "
                       "CONVKIT_ACTIVATION_CLAMP and must be 0 otherwise, got %g and %g",
                       (double)a, (double)b);
    return CONVKIT_SUCCESS;
}

/* Splits a src/dst layout into its block (0, 16, 8) and the layout the
 * plan's problem describes (dense NCHW for a blocked format). */
static convkit_status_t ck_conv_layout(const convkit_layout_t *in, const char *what,
                                       bool blocked_ok, int64_t *block, convkit_layout_t *out)
{
    *out = *in;
    *block = 0;
    if (in->format != CONVKIT_FORMAT_NCHW16C && in->format != CONVKIT_FORMAT_NCHW8C)
        return CONVKIT_SUCCESS;
    if (!blocked_ok)
        return ck_fail(CONVKIT_ERROR_INVALID_ARGUMENT,
                       "%s.format = %u: the blocked formats (CONVKIT_FORMAT_NCHW16C, _NCHW8C) "
                       "are for src_layout and dst_layout only",
                       what, in->format);
    if (in->reserved != 0)
        return ck_fail(CONVKIT_ERROR_RESERVED_NONZERO, "%s.reserved must be 0, got %u", what,
                       in->reserved);
    for (int d = 0; d < 4; d++)
        if (in->strides[d] != 0)
            return ck_fail(CONVKIT_ERROR_INVALID_ARGUMENT,
                           "%s.strides[%d] = %lld must be 0 unless format is "
                           "CONVKIT_FORMAT_STRIDED",
                           what, d, CK_LL(in->strides[d]));
    *block = in->format == CONVKIT_FORMAT_NCHW16C ? 16 : 8;
    out->format = CONVKIT_FORMAT_NCHW;
    return CONVKIT_SUCCESS;
}

static void ck_conv_plan_release(convkit_plan_t *plan)
{
    ck_conv_plan_t *cp = (ck_conv_plan_t *)plan;
    ck_cb_engine_destroy(cp->engine);
    ck_cb_engine_destroy(cp->engine_bwd);
    free(cp->weights);
}

/* Below this many output pixels (batch * H_out * W_out) AUTO keeps an
 * NCHW problem on GEMM: the engine packs the weights and reorders src on
 * every call, which costs about as much as the convolution itself on the
 * 7x7 ResNet-50 layers at minibatch 1 (49 pixels: 57 against GEMM's 76
 * GFLOP/s), while at 196 pixels the engine already wins (122 against 103). */
#define CK_CONV_NCHW_DIRECT_MIN_PIXELS 128

/* Whether AUTO takes the channel-blocked direct engine for a groups == 1,
 * zero-padding problem (convkit.h): a blocked src or dst (every other path
 * would reorder them), NHWC-like src and dst (read and written in place),
 * or, with enough output pixels, a kernel an im2col GEMM would copy the
 * input for (larger than 1x1, or strided).  A 1x1 stride-1 NCHW problem is
 * a plain matrix product: GEMM. */
static bool ck_conv_prefers_blocked(const ck_conv_problem_t *p, const ck_cb_layouts_t *blocked)
{
    if (blocked->src_block != 0 || blocked->dst_block != 0) return true;
    const bool nhwc = (p->src.strides[1] == 1 || p->in_channels == 1) &&
                      (p->dst.strides[1] == 1 || p->out_channels == 1);
    if (nhwc) return true;
    const bool im2col = p->kernel_h * p->kernel_w > 1 || p->stride_h > 1 || p->stride_w > 1;
    return im2col &&
           ck_mul_sat(p->batch, p->out_h * p->out_w) >= CK_CONV_NCHW_DIRECT_MIN_PIXELS;
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
    if (p->reserved_tail != 0)
        return ck_fail(CONVKIT_ERROR_RESERVED_NONZERO, "params.reserved_tail must be 0, got %u",
                       p->reserved_tail);
    CK_TRY(ck_conv_check_activation(p));
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
        .epilogue = {p->activation, p->activation_alpha, p->activation_beta},
    };
    const int64_t src_dims[4] = {p->batch, p->in_channels, p->in_height, p->in_width};
    const int64_t w_dims[4] = {p->out_channels, p->in_channels / p->groups, p->kernel_h,
                               p->kernel_w};
    const int64_t dst_dims[4] = {p->batch, p->out_channels, oh, ow};
    /* Each layout is read in some directions and written in another
     * (src/grad_src, weight/grad_weight, dst/grad_dst): the execute call
     * that writes an operand checks that its layout can be written. */
    ck_cb_layouts_t blocked;
    convkit_layout_t src_layout, weight_layout, dst_layout;
    int64_t weight_block;
    CK_TRY(ck_conv_layout(&p->src_layout, "src_layout", true, &blocked.src_block, &src_layout));
    CK_TRY(ck_conv_layout(&p->weight_layout, "weight_layout", false, &weight_block,
                          &weight_layout));
    CK_TRY(ck_conv_layout(&p->dst_layout, "dst_layout", true, &blocked.dst_block, &dst_layout));
    CK_TRY(ck_tensor_from_layout(&pr.src, src_dims, &src_layout, "src_layout", false));
    CK_TRY(ck_tensor_from_layout(&pr.weight, w_dims, &weight_layout, "weight_layout", false));
    CK_TRY(ck_tensor_from_layout(&pr.dst, dst_dims, &dst_layout, "dst_layout", false));

    uint32_t isa;
    CK_TRY(ck_plan_isa(p->isa, &isa));
    /* The algorithm (documented in convkit.h): the direct depthwise kernels
     * for the depthwise problems they take; the channel-blocked direct
     * engine for groups == 1 when asked for or when a blocked layout is
     * involved (ck_conv_prefers_blocked); GEMM for everything else. */
    const ck_conv_kernels_t *k = NULL;
    ck_dwc_forward_fn dwc_fn = NULL;
    ck_dwc_geom_t dwc;
    const bool any_blocked = blocked.src_block != 0 || blocked.dst_block != 0;
    /* Depthwise: blocked operands appear in pr as dense NCHW, so the NCHW
     * kernels take them through dense copies; the chunked kernel (blocked
     * or NHWC-like src and dst, multiplier 1) takes them in place.  (A
     * blocked groups == 1 problem with one input channel stays the
     * engine's.) */
    if (p->algorithm != CONVKIT_CONV_ALGORITHM_GEMM && (!any_blocked || pr.groups > 1) &&
        (ck_conv_direct_supports(&pr) ||
         (any_blocked && ck_dwc_takes(&pr, blocked.src_block, blocked.dst_block)))) {
        k = ck_select_conv_direct(isa);
        if (any_blocked || ck_dw_forward_layout(&pr) == CK_DW_NHWC)
            dwc_fn = ck_dwc_init(&dwc, &pr, blocked.src_block, blocked.dst_block, isa);
    }
    ck_cb_engine_t *engine = NULL;
    if (k == NULL && p->algorithm != CONVKIT_CONV_ALGORITHM_GEMM && ck_cb_isa_ok(isa) &&
        ck_cb_supports(&pr, &blocked) &&
        (p->algorithm == CONVKIT_CONV_ALGORITHM_DIRECT || ck_conv_prefers_blocked(&pr, &blocked))) {
        engine = ck_cb_engine_create(&pr, &blocked, isa);
        if (engine == NULL)
            return ck_fail(CONVKIT_ERROR_OUT_OF_MEMORY, "cannot allocate the direct engine");
    }
    if (k == NULL && engine == NULL && p->algorithm == CONVKIT_CONV_ALGORITHM_DIRECT) {
        if (!ck_cb_isa_ok(isa) && ck_cb_supports(&pr, &blocked))
            k = ck_select_conv_direct(isa); /* the scalar direct set is the reference loop */
        else
            return ck_fail(
                CONVKIT_ERROR_INVALID_ARGUMENT,
                "algorithm = CONVKIT_CONV_ALGORITHM_DIRECT needs padding_mode "
                "CONVKIT_PADDING_ZEROS (here %u) and either groups == 1 or a depthwise problem "
                "(groups == in_channels, here %lld and %lld) with src and dst both unit stride "
                "along W, both along C (then kernel_h * kernel_w <= 64), or blocked",
                pr.padding_mode, CK_LL(pr.groups), CK_LL(pr.in_channels));
    }
    if (k == NULL) k = ck_select_conv(isa);
    /* an AVX-512 plan on nChw8c data runs the 8-lane chunked kernel */
    const bool dwc8 = dwc_fn != NULL && dwc.lanes == 8 && k->isa == CONVKIT_ISA_AVX512;
    ck_conv_plan_t *plan = ck_plan_alloc(
        sizeof *plan, CK_OP_CONV, is_1d ? "conv1d" : "conv2d",
        engine != NULL ? ck_cb_engine_name(engine) : dwc8 ? "direct-dw-8" : k->name,
        engine != NULL ? ck_cb_engine_isa(engine) : dwc8 ? CONVKIT_ISA_AVX2 : k->isa,
        dst_dims);
    if (plan == NULL) {
        ck_cb_engine_destroy(engine);
        return CONVKIT_ERROR_OUT_OF_MEMORY;
    }
    plan->base.release = ck_conv_plan_release;
    plan->problem = pr;
    plan->blocked = blocked;
    plan->engine = engine;
    plan->dwc_fn = dwc_fn;
    if (dwc_fn != NULL) plan->dwc = dwc;
    ck_cb_layouts_t bwd_layouts;
    if (engine != NULL && ck_cb_backward_data_problem(&pr, &blocked, &plan->bwd_problem,
                                                      &bwd_layouts, &plan->bwd_weight_offset)) {
        plan->engine_bwd = ck_cb_engine_create(&plan->bwd_problem, &bwd_layouts, isa);
        if (plan->engine_bwd == NULL) {
            convkit_plan_destroy(&plan->base);
            return ck_fail(CONVKIT_ERROR_OUT_OF_MEMORY, "cannot allocate the direct engine");
        }
    }
    plan->kernels = k;
    plan->bias_length = p->bias_length;
    plan->src_count = blocked.src_block ? ck_blocked_count(src_dims, blocked.src_block)
                                        : ck_tensor_numel(&pr.src);
    plan->weight_count = ck_tensor_numel(&pr.weight);
    plan->dst_count = blocked.dst_block ? ck_blocked_count(dst_dims, blocked.dst_block)
                                        : ck_tensor_numel(&pr.dst);
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
    /* 0.1 callers' structs end before the activation fields. */
    CK_TRY(ck_read_params(&p, params, offsetof(convkit_conv2d_params_t, activation), sizeof p,
                          "convkit_conv2d_create"));
    return ck_conv_create(&p, false, plan);
}

/* conv1d is conv2d over (N, C, 1, L) with a 1-row kernel. */
convkit_status_t convkit_conv1d_create(const convkit_conv1d_params_t *params,
                                       convkit_plan_t **plan)
{
    convkit_conv1d_params_t q;
    CK_TRY(ck_read_params(&q, params, offsetof(convkit_conv1d_params_t, activation), sizeof q,
                          "convkit_conv1d_create"));
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
    p.activation = q.activation;
    p.activation_alpha = q.activation_alpha;
    p.activation_beta = q.activation_beta;
    p.reserved_tail = q.reserved_tail;
    return ck_conv_create(&p, true, plan);
}

/* ---- execution ----------------------------------------------------------- */

typedef struct ck_conv_call {
    const ck_conv_plan_t *plan;
    const float *a, *b, *c; /* inputs, per direction */
    const float *residual;  /* forward only, may be NULL */
    float *out;
} ck_conv_call_t;

static void ck_conv_forward_range(void *ctx, int64_t begin, int64_t end)
{
    const ck_conv_call_t *c = ctx;
    c->plan->kernels->forward(&c->plan->problem, c->a, c->b, c->c, c->residual, c->out, begin,
                              end);
}

/* The chunked depthwise forward: its kernel and geometry, with the weight
 * strides of the call (the caller's, or set_weights' dense copy). */
typedef struct ck_dwc_call {
    ck_dwc_forward_fn fn;
    ck_dwc_geom_t g;
    const float *src, *weight, *bias, *residual;
    float *dst;
} ck_dwc_call_t;

static void ck_dwc_forward_range(void *ctx, int64_t begin, int64_t end)
{
    const ck_dwc_call_t *c = ctx;
    c->fn(&c->g, c->src, c->weight, c->bias, c->residual, c->dst, begin, end);
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

/* ---- blocked operands on the paths that need dense ones ---------------- */

/* A dense NCHW copy of a blocked input (block 0: the input itself). */
static convkit_status_t ck_conv_dense_in(const float **x, const ck_tensor_t *t, int64_t block,
                                         float **tmp, const char *what)
{
    *tmp = NULL;
    if (block == 0 || *x == NULL) return CONVKIT_SUCCESS;
    *tmp = malloc((size_t)ck_tensor_numel(t) * sizeof(float) + 1);
    if (*tmp == NULL)
        return ck_fail(CONVKIT_ERROR_OUT_OF_MEMORY, "cannot allocate a dense copy of %s", what);
    ck_blocked_to_plain(*x, *tmp, t->dims, block);
    *x = *tmp;
    return CONVKIT_SUCCESS;
}

/* A dense NCHW buffer standing in for a blocked output until
 * ck_conv_dense_out_end copies it back. */
static convkit_status_t ck_conv_dense_out(float **x, const ck_tensor_t *t, int64_t block,
                                          float **tmp, const char *what)
{
    *tmp = NULL;
    if (block == 0) return CONVKIT_SUCCESS;
    *tmp = malloc((size_t)ck_tensor_numel(t) * sizeof(float) + 1);
    if (*tmp == NULL)
        return ck_fail(CONVKIT_ERROR_OUT_OF_MEMORY, "cannot allocate a dense buffer for %s",
                       what);
    *x = *tmp;
    return CONVKIT_SUCCESS;
}

static void ck_conv_dense_out_end(float *blocked, const ck_tensor_t *t, int64_t block,
                                  float *tmp)
{
    if (tmp != NULL) ck_plain_to_blocked(tmp, blocked, t->dims, block);
}

/* The plan a GEMM-path or reference direction runs with: cp itself, or
 * for weight == NULL a copy whose problem reads the set_weights copy
 * (*weight then points at it). */
static const ck_conv_plan_t *ck_conv_stored_weights(const ck_conv_plan_t *cp,
                                                    const float **weight,
                                                    ck_conv_plan_t *with_weights)
{
    if (*weight != NULL || cp->weights == NULL) return cp;
    *with_weights = *cp;
    with_weights->problem = cp->weights_problem;
    *weight = cp->weights;
    return with_weights;
}

/* Fails for weight == NULL unless `engine` (the direct engine of the
 * direction, may be NULL) or the dense copy holds set_weights' weights. */
static convkit_status_t ck_conv_check_weight(const ck_conv_plan_t *cp, const float *weight,
                                             const ck_cb_engine_t *engine)
{
    const bool stored =
        engine != NULL ? ck_cb_engine_has_weights(engine) : cp->weights != NULL;
    if (weight == NULL && cp->weight_count > 0 && !stored)
        return ck_fail(CONVKIT_ERROR_NULL_POINTER,
                       "weight is NULL and the plan has no weights from convkit_conv_set_weights");
    return CONVKIT_SUCCESS;
}

convkit_status_t convkit_conv_set_weights(convkit_plan_t *plan, const float *weight)
{
    CK_TRY(ck_plan_check(plan, CK_OP_CONV, "convkit_conv_set_weights"));
    ck_conv_plan_t *cp = (ck_conv_plan_t *)plan;
    CK_TRY(ck_check_ptr(weight, cp->weight_count, "weight"));
    if (cp->engine != NULL) {
        CK_TRY(ck_cb_engine_set_weights(cp->engine, &cp->problem, weight));
        if (cp->engine_bwd != NULL)
            CK_TRY(ck_cb_engine_set_weights(cp->engine_bwd, &cp->bwd_problem,
                                            weight + cp->bwd_weight_offset));
    }
    if (cp->engine == NULL || cp->engine_bwd == NULL) { /* a GEMM-path direction reads it */
        const ck_tensor_t *t = &cp->problem.weight;
        if (cp->weights == NULL) {
            cp->weights = malloc((size_t)cp->weight_count * sizeof(float) + 1);
            if (cp->weights == NULL)
                return ck_fail(CONVKIT_ERROR_OUT_OF_MEMORY,
                               "convkit_conv_set_weights: cannot allocate %lld floats",
                               CK_LL(cp->weight_count));
        }
        /* Dense OIHW copy, read through weights_problem. */
        float *out = cp->weights;
        for (int64_t o = 0; o < t->dims[0]; o++)
            for (int64_t i = 0; i < t->dims[1]; i++)
                for (int64_t h = 0; h < t->dims[2]; h++)
                    for (int64_t w = 0; w < t->dims[3]; w++)
                        *out++ = weight[ck_off(t, o, i, h, w)];
        cp->weights_problem = cp->problem;
        ck_tensor_t *d = &cp->weights_problem.weight;
        d->strides[3] = 1;
        d->strides[2] = d->dims[3];
        d->strides[1] = d->dims[2] * d->dims[3];
        d->strides[0] = d->dims[1] * d->strides[1];
    }
    ck_clear_error();
    return CONVKIT_SUCCESS;
}

convkit_status_t convkit_conv_forward(convkit_plan_t *plan, const float *src,
                                      const float *weight, const float *bias, float *dst)
{
    return convkit_conv_forward_residual(plan, src, weight, bias, NULL, dst);
}

convkit_status_t convkit_conv_forward_residual(convkit_plan_t *plan, const float *src,
                                               const float *weight, const float *bias,
                                               const float *residual, float *dst)
{
    const ck_conv_plan_t *cp;
    CK_TRY(ck_conv_plan_get(plan, "convkit_conv_forward", &cp));
    CK_TRY(ck_check_ptr(src, cp->src_count, "src"));
    CK_TRY(ck_conv_check_weight(cp, weight, cp->engine));
    CK_TRY(ck_check_ptr(dst, cp->dst_count, "dst"));
    if (cp->bias_length == 0 && bias != NULL)
        return ck_fail(CONVKIT_ERROR_INVALID_ARGUMENT,
                       "bias is not NULL but the plan was created with bias_length 0");
    if (cp->bias_length != 0) CK_TRY(ck_check_ptr(bias, cp->bias_length, "bias"));
    CK_TRY(ck_tensor_check_output(&cp->problem.dst, "dst_layout (dst is written)"));
    if (cp->engine != NULL) {
        CK_TRY(ck_cb_forward(cp->engine, &cp->problem, src, weight, bias, residual, dst));
        ck_clear_error();
        return CONVKIT_SUCCESS;
    }
    ck_conv_plan_t with_weights;
    const ck_conv_plan_t *run = ck_conv_stored_weights(cp, &weight, &with_weights);
    const ck_conv_problem_t *pr = &cp->problem;
    if (cp->dwc_fn != NULL) {
        ck_dwc_call_t c = {cp->dwc_fn, cp->dwc, src, weight, bias, residual, dst};
        const ck_tensor_t *wt = &run->problem.weight;
        c.g.w_c = wt->strides[0];
        c.g.w_r = wt->strides[2];
        c.g.w_s = wt->strides[3];
        ck_parallel_for(pr->batch * c.g.chunks,
                        ck_mul_sat(cp->dst_plane, cp->reduce_forward * c.g.lanes),
                        ck_dwc_forward_range, &c);
        ck_clear_error();
        return CONVKIT_SUCCESS;
    }
    float *ts = NULL, *tr = NULL, *td = NULL, *out = dst;
    CK_TRY(ck_conv_dense_in(&src, &pr->src, cp->blocked.src_block, &ts, "src"));
    convkit_status_t st = ck_conv_dense_in(&residual, &pr->dst, cp->blocked.dst_block, &tr,
                                           "residual");
    if (st == CONVKIT_SUCCESS)
        st = ck_conv_dense_out(&out, &pr->dst, cp->blocked.dst_block, &td, "dst");
    if (st == CONVKIT_SUCCESS) {
        ck_conv_call_t c = {run, src, weight, bias, residual, out};
        ck_parallel_for(pr->batch * pr->out_channels, ck_mul_sat(cp->dst_plane, cp->reduce_forward),
                        ck_conv_forward_range, &c);
        ck_conv_dense_out_end(dst, &pr->dst, cp->blocked.dst_block, td);
    }
    free(ts);
    free(tr);
    free(td);
    if (st == CONVKIT_SUCCESS) ck_clear_error();
    return st;
}

convkit_status_t convkit_conv_backward_data(convkit_plan_t *plan, const float *grad_dst,
                                            const float *weight, float *grad_src)
{
    const ck_conv_plan_t *cp;
    CK_TRY(ck_conv_plan_get(plan, "convkit_conv_backward_data", &cp));
    CK_TRY(ck_check_ptr(grad_dst, cp->dst_count, "grad_dst"));
    CK_TRY(ck_conv_check_weight(cp, weight, cp->engine_bwd)); /* NULL: set_weights' copy */
    CK_TRY(ck_check_ptr(grad_src, cp->src_count, "grad_src"));
    CK_TRY(ck_tensor_check_output(&cp->problem.src, "src_layout (grad_src is written)"));
    if (cp->engine_bwd != NULL) {
        CK_TRY(ck_cb_forward(cp->engine_bwd, &cp->bwd_problem, grad_dst,
                             weight != NULL ? weight + cp->bwd_weight_offset : NULL, NULL, NULL,
                             grad_src));
        ck_clear_error();
        return CONVKIT_SUCCESS;
    }
    ck_conv_plan_t with_weights;
    const ck_conv_plan_t *run = ck_conv_stored_weights(cp, &weight, &with_weights);
    const ck_conv_problem_t *pr = &cp->problem;
    float *tg = NULL, *ts = NULL, *out = grad_src;
    CK_TRY(ck_conv_dense_in(&grad_dst, &pr->dst, cp->blocked.dst_block, &tg, "grad_dst"));
    convkit_status_t st = ck_conv_dense_out(&out, &pr->src, cp->blocked.src_block, &ts, "grad_src");
    if (st == CONVKIT_SUCCESS) {
        ck_conv_call_t c = {run, grad_dst, weight, NULL, NULL, out};
        ck_parallel_for(pr->batch * pr->in_channels,
                        ck_mul_sat(cp->dst_plane, cp->reduce_backward_data),
                        ck_conv_backward_data_range, &c);
        ck_conv_dense_out_end(grad_src, &pr->src, cp->blocked.src_block, ts);
        ck_clear_error();
    }
    free(tg);
    free(ts);
    return st;
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
    const ck_conv_problem_t *pr = &cp->problem;
    float *ts = NULL, *tg = NULL;
    CK_TRY(ck_conv_dense_in(&src, &pr->src, cp->blocked.src_block, &ts, "src"));
    convkit_status_t st = ck_conv_dense_in(&grad_dst, &pr->dst, cp->blocked.dst_block, &tg,
                                           "grad_dst");
    if (st == CONVKIT_SUCCESS) {
        ck_conv_call_t c = {cp, src, grad_dst, NULL, NULL, grad_weight};
        ck_parallel_for(pr->out_channels,
                        ck_mul_sat(ck_mul_sat(pr->batch, cp->dst_plane), cp->reduce_forward),
                        ck_conv_backward_weights_range, &c);
        ck_clear_error();
    }
    free(ts);
    free(tg);
    return st;
}

convkit_status_t convkit_conv_backward_bias(convkit_plan_t *plan, const float *grad_dst,
                                            float *grad_bias)
{
    const ck_conv_plan_t *cp;
    CK_TRY(ck_conv_plan_get(plan, "convkit_conv_backward_bias", &cp));
    CK_TRY(ck_check_ptr(grad_dst, cp->dst_count, "grad_dst"));
    CK_TRY(ck_check_ptr(grad_bias, cp->problem.out_channels, "grad_bias"));
    float *tg;
    CK_TRY(ck_conv_dense_in(&grad_dst, &cp->problem.dst, cp->blocked.dst_block, &tg,
                            "grad_dst"));
    ck_conv_call_t c = {cp, grad_dst, NULL, NULL, NULL, grad_bias};
    ck_parallel_for(cp->problem.out_channels, ck_mul_sat(cp->problem.batch, cp->dst_plane),
                    ck_conv_backward_bias_range, &c);
    free(tg);
    ck_clear_error();
    return CONVKIT_SUCCESS;
}
