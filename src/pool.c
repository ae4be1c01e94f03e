/* pool.c - max-pool plans (max_pool2d and max_pool1d): argument checks, shape
 * arithmetic, kernel choice, index validation, and the threaded execute
 * functions. */
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "kernels.h"

typedef struct ck_pool_plan {
    struct convkit_plan base;
    ck_pool_problem_t problem;
    const ck_pool_kernels_t *kernels;
    bool is_1d;
    int64_t src_count, dst_count;
    int64_t window_work; /* out_h * out_w * kh * kw: forward cost of one plane */
} ck_pool_plan_t;


static convkit_status_t ck_pool_check_min(int64_t v, int64_t min, const char *what)
{
    if (v < min)
        return ck_fail(CONVKIT_ERROR_INVALID_ARGUMENT, "%s must be >= %lld, got %lld", what,
                       CK_LL(min), CK_LL(v));
    return CONVKIT_SUCCESS;
}

/* PyTorch: pad <= ((kernel - 1) * dilation + 1) / 2.  Kernel and dilation
 * are already >= 1 and pad >= 0; the span is computed in checked
 * arithmetic. */
static convkit_status_t ck_pool_check_pad(int64_t pad, int64_t kernel, int64_t dilation,
                                          const char *pad_name, const char *kernel_name,
                                          const char *dilation_name)
{
    int64_t span;
    if (!ck_mul(dilation, kernel - 1, &span) || !ck_add(span, 1, &span))
        return ck_fail(CONVKIT_ERROR_OVERFLOW,
                       "the effective kernel size (%s - 1) * %s + 1 overflows (%s = %lld, %s = "
                       "%lld)",
                       kernel_name, dilation_name, kernel_name, CK_LL(kernel), dilation_name,
                       CK_LL(dilation));
    if (pad > span / 2)
        return ck_fail(CONVKIT_ERROR_INVALID_ARGUMENT,
                       "pad should be at most half of effective kernel size, but got %s=%lld, "
                       "%s=%lld and %s=%lld",
                       pad_name, CK_LL(pad), kernel_name, CK_LL(kernel), dilation_name,
                       CK_LL(dilation));
    return CONVKIT_SUCCESS;
}

/* Validates a pool2d parameter set (pool1d arrives here as H = 1) and
 * creates the plan. */
static convkit_status_t ck_pool_create(const convkit_pool2d_params_t *p, bool is_1d,
                                       convkit_plan_t **out)
{
    const char *fn = is_1d ? "convkit_max_pool1d_create" : "convkit_max_pool2d_create";
    if (out == NULL) return ck_fail(CONVKIT_ERROR_NULL_POINTER, "%s: plan is NULL", fn);
    CK_TRY(ck_check_reserved(p->reserved, 4, "params.reserved"));
    if (p->flags != 0)
        return ck_fail(CONVKIT_ERROR_RESERVED_NONZERO, "params.flags must be 0, got %u",
                       p->flags);
    CK_TRY(ck_pool_check_min(p->batch, 0, "batch"));
    CK_TRY(ck_pool_check_min(p->channels, 1, "channels"));
    if (!is_1d) CK_TRY(ck_pool_check_min(p->in_height, 1, "in_height"));
    CK_TRY(ck_pool_check_min(p->in_width, 1, is_1d ? "in_length" : "in_width"));
    if (!is_1d) CK_TRY(ck_pool_check_min(p->kernel_h, 1, "kernel_h"));
    CK_TRY(ck_pool_check_min(p->kernel_w, 1, is_1d ? "kernel" : "kernel_w"));
    if (!is_1d && p->stride_h < 0)
        return ck_fail(CONVKIT_ERROR_INVALID_ARGUMENT,
                       "stride_h must be >= 0 (0 means stride_h = kernel_h), got %lld",
                       CK_LL(p->stride_h));
    if (p->stride_w < 0)
        return ck_fail(CONVKIT_ERROR_INVALID_ARGUMENT,
                       is_1d ? "stride must be >= 0 (0 means stride = kernel), got %lld"
                             : "stride_w must be >= 0 (0 means stride_w = kernel_w), got %lld",
                       CK_LL(p->stride_w));
    if (!is_1d) CK_TRY(ck_pool_check_min(p->dilation_h, 1, "dilation_h"));
    CK_TRY(ck_pool_check_min(p->dilation_w, 1, is_1d ? "dilation" : "dilation_w"));
    if (!is_1d) CK_TRY(ck_pool_check_min(p->pad_h, 0, "pad_h"));
    CK_TRY(ck_pool_check_min(p->pad_w, 0, is_1d ? "pad" : "pad_w"));
    if (p->ceil_mode > 1)
        return ck_fail(CONVKIT_ERROR_INVALID_ARGUMENT, "ceil_mode must be 0 or 1, got %u",
                       p->ceil_mode);
    if (!is_1d)
        CK_TRY(ck_pool_check_pad(p->pad_h, p->kernel_h, p->dilation_h, "pad_h", "kernel_h",
                                 "dilation_h"));
    if (is_1d)
        CK_TRY(ck_pool_check_pad(p->pad_w, p->kernel_w, p->dilation_w, "pad", "kernel",
                                 "dilation"));
    else
        CK_TRY(ck_pool_check_pad(p->pad_w, p->kernel_w, p->dilation_w, "pad_w", "kernel_w",
                                 "dilation_w"));

    const int64_t stride_h = p->stride_h == 0 ? p->kernel_h : p->stride_h;
    const int64_t stride_w = p->stride_w == 0 ? p->kernel_w : p->stride_w;
    const bool ceil_mode = p->ceil_mode != 0;
    int64_t oh, ow;
    if (!ck_window_out(p->in_height, p->pad_h, p->pad_h, p->kernel_h, stride_h, p->dilation_h,
                       ceil_mode, &oh) ||
        !ck_window_out(p->in_width, p->pad_w, p->pad_w, p->kernel_w, stride_w, p->dilation_w,
                       ceil_mode, &ow))
        return ck_fail(CONVKIT_ERROR_OVERFLOW,
                       "the output size overflows (padding, kernel, stride or dilation too "
                       "large)");
    if (oh < 1 || ow < 1) {
        if (is_1d)
            return ck_fail(CONVKIT_ERROR_INVALID_ARGUMENT,
                           "Given input size: (%lldx1x%lld). Calculated output size: "
                           "(%lldx1x%lld). Output size is too small",
                           CK_LL(p->channels), CK_LL(p->in_width), CK_LL(p->channels),
                           CK_LL(ow));
        return ck_fail(CONVKIT_ERROR_INVALID_ARGUMENT,
                       "Given input size: (%lldx%lldx%lld). Calculated output size: "
                       "(%lldx%lldx%lld). Output size is too small",
                       CK_LL(p->channels), CK_LL(p->in_height), CK_LL(p->in_width),
                       CK_LL(p->channels), CK_LL(oh), CK_LL(ow));
    }

    ck_pool_problem_t pr = {
        .batch = p->batch, .channels = p->channels, .in_h = p->in_height,
        .in_w = p->in_width, .out_h = oh, .out_w = ow, .kernel_h = p->kernel_h,
        .kernel_w = p->kernel_w, .stride_h = stride_h, .stride_w = stride_w,
        .pad_h = p->pad_h, .pad_w = p->pad_w, .dilation_h = p->dilation_h,
        .dilation_w = p->dilation_w,
    };
    const int64_t src_dims[4] = {p->batch, p->channels, p->in_height, p->in_width};
    const int64_t dst_dims[4] = {p->batch, p->channels, oh, ow};
    /* src doubles as grad_src and dst is written by forward: both outputs;
     * the indices are written by forward too. */
    /* src/grad_src, dst/grad_dst and the indices are each written by one
     * direction and read by the other: the writing call checks them. */
    CK_TRY(ck_tensor_from_layout(&pr.src, src_dims, &p->src_layout, "src_layout", false));
    CK_TRY(ck_tensor_from_layout(&pr.dst, dst_dims, &p->dst_layout, "dst_layout", false));
    CK_TRY(ck_tensor_from_layout(&pr.indices, dst_dims, &p->indices_layout, "indices_layout",
                                 false));
    int64_t index_count;
    if (!ck_count(dst_dims, 4, sizeof(int64_t), &index_count))
        return ck_fail(CONVKIT_ERROR_OVERFLOW,
                       "indices: %lld x %lld x %lld x %lld int64 elements overflow the address "
                       "space",
                       CK_LL(dst_dims[0]), CK_LL(dst_dims[1]), CK_LL(dst_dims[2]),
                       CK_LL(dst_dims[3]));

    uint32_t isa;
    CK_TRY(ck_plan_isa(p->isa, &isa));
    const ck_pool_kernels_t *k = ck_select_pool(isa);
    ck_pool_plan_t *plan = ck_plan_alloc(sizeof *plan, CK_OP_MAX_POOL,
                                         is_1d ? "max_pool1d" : "max_pool2d", k->name, k->isa,
                                         dst_dims);
    if (plan == NULL) return CONVKIT_ERROR_OUT_OF_MEMORY;
    plan->problem = pr;
    plan->kernels = k;
    plan->is_1d = is_1d;
    plan->src_count = ck_tensor_numel(&pr.src);
    plan->dst_count = ck_tensor_numel(&pr.dst);
    plan->window_work = ck_mul_sat(oh * ow, ck_mul_sat(pr.kernel_h, pr.kernel_w));
    *out = &plan->base;
    ck_clear_error();
    return CONVKIT_SUCCESS;
}

convkit_status_t convkit_max_pool2d_create(const convkit_pool2d_params_t *params,
                                           convkit_plan_t **plan)
{
    convkit_pool2d_params_t p;
    CK_TRY(ck_read_params(&p, params, sizeof p, sizeof p, "convkit_max_pool2d_create"));
    return ck_pool_create(&p, false, plan);
}

/* max_pool1d is max_pool2d over (N, C, 1, L) with a 1-row window. */
convkit_status_t convkit_max_pool1d_create(const convkit_pool1d_params_t *params,
                                           convkit_plan_t **plan)
{
    convkit_pool1d_params_t q;
    CK_TRY(ck_read_params(&q, params, sizeof q, sizeof q, "convkit_max_pool1d_create"));
    convkit_pool2d_params_t p = CONVKIT_POOL2D_PARAMS_INIT;
    p.isa = q.isa;
    p.batch = q.batch;
    p.channels = q.channels;
    p.in_height = 1;
    p.in_width = q.in_length;
    p.kernel_h = 1;
    p.kernel_w = q.kernel;
    p.stride_h = 1;
    p.stride_w = q.stride;
    p.pad_h = 0;
    p.pad_w = q.pad;
    p.dilation_h = 1;
    p.dilation_w = q.dilation;
    p.ceil_mode = q.ceil_mode;
    p.flags = q.flags;
    p.src_layout = q.src_layout;
    p.dst_layout = q.dst_layout;
    p.indices_layout = q.indices_layout;
    memcpy(p.reserved, q.reserved, sizeof p.reserved);
    return ck_pool_create(&p, true, plan);
}

/* ---- execution ----------------------------------------------------------- */

typedef struct ck_pool_call {
    const ck_pool_plan_t *plan;
    const float *in;
    const int64_t *indices_in;
    float *out;
    int64_t *indices_out;
} ck_pool_call_t;

static void ck_pool_forward_range(void *ctx, int64_t begin, int64_t end)
{
    const ck_pool_call_t *c = ctx;
    c->plan->kernels->forward(&c->plan->problem, c->in, c->out, c->indices_out, begin, end);
}

static void ck_pool_backward_range(void *ctx, int64_t begin, int64_t end)
{
    const ck_pool_call_t *c = ctx;
    c->plan->kernels->backward(&c->plan->problem, c->in, c->indices_in, c->out, begin, end);
}

static convkit_status_t ck_pool_plan_get(convkit_plan_t *plan, const char *fn,
                                         const ck_pool_plan_t **out)
{
    CK_TRY(ck_plan_check(plan, CK_OP_MAX_POOL, fn));
    *out = (const ck_pool_plan_t *)plan;
    return CONVKIT_SUCCESS;
}

convkit_status_t convkit_max_pool_forward(convkit_plan_t *plan, const float *src, float *dst,
                                          int64_t *indices)
{
    const ck_pool_plan_t *pp;
    CK_TRY(ck_pool_plan_get(plan, "convkit_max_pool_forward", &pp));
    CK_TRY(ck_check_ptr(src, pp->src_count, "src"));
    CK_TRY(ck_check_ptr(dst, pp->dst_count, "dst"));
    CK_TRY(ck_tensor_check_output(&pp->problem.dst, "dst_layout (dst is written)"));
    if (indices != NULL)
        CK_TRY(ck_tensor_check_output(&pp->problem.indices,
                                      "indices_layout (indices are written)"));
    ck_pool_call_t c = {pp, src, NULL, dst, indices};
    ck_parallel_for(pp->problem.batch * pp->problem.channels, pp->window_work,
                    ck_pool_forward_range, &c);
    ck_clear_error();
    return CONVKIT_SUCCESS;
}

/* Index validation runs in parallel over (n, c) planes; each range records
 * its first bad element's flat position (n, c, h, w order) with an atomic
 * minimum, so the reported element is the first bad one for any thread
 * count.  Channels-last indices are read in memory order (pixel by pixel;
 * plane by plane would stride through the whole tensor once per channel)
 * and the range records the smallest bad position it saw. */
typedef struct ck_pool_index_check {
    const ck_pool_problem_t *p;
    const int64_t *indices;
    _Atomic int64_t first_bad; /* INT64_MAX: none */
} ck_pool_index_check_t;

/* v is -1 or in [0, plane) exactly when (uint64_t)v + 1 <= plane. */
static inline bool ck_pool_index_bad(int64_t v, uint64_t plane)
{
    return (uint64_t)v + 1 > plane;
}

static void ck_pool_first_bad_min(ck_pool_index_check_t *chk, int64_t pos)
{
    int64_t cur = atomic_load(&chk->first_bad);
    while (pos < cur && !atomic_compare_exchange_weak(&chk->first_bad, &cur, pos)) {
    }
}

static void ck_pool_check_indices_range(void *ctx, int64_t begin, int64_t end)
{
    ck_pool_index_check_t *chk = ctx;
    const ck_pool_problem_t *p = chk->p;
    const ck_tensor_t *t = &p->indices;
    const uint64_t plane = (uint64_t)(p->in_h * p->in_w); /* bounded by the src element count */
    if (t->strides[1] == 1 && p->channels > 1) {
        /* channels-last: memory order, pixel by pixel over the range's runs
         * of channels; a bad pixel reports its smallest flat position */
        int64_t first = INT64_MAX;
        for (int64_t item = begin; item < end;) {
            const int64_t n = item / p->channels, cb = item % p->channels;
            const int64_t ce = end - item < p->channels - cb ? cb + (end - item) : p->channels;
            for (int64_t oh = 0; oh < p->out_h; oh++)
                for (int64_t ow = 0; ow < p->out_w; ow++) {
                    const int64_t *ip = chk->indices + ck_off(t, n, 0, oh, ow);
                    bool bad = false;
                    for (int64_t c = cb; c < ce; c++) bad |= ck_pool_index_bad(ip[c], plane);
                    if (!bad) continue;
                    for (int64_t c = cb; c < ce; c++)
                        if (ck_pool_index_bad(ip[c], plane)) {
                            const int64_t pos =
                                ((n * p->channels + c) * p->out_h + oh) * p->out_w + ow;
                            if (pos < first) first = pos;
                            break; /* later channels of this pixel come after pos */
                        }
                }
            item += ce - cb;
        }
        if (first != INT64_MAX) ck_pool_first_bad_min(chk, first);
        return;
    }
    for (int64_t item = begin; item < end; item++) {
        const int64_t n = item / p->channels, c = item % p->channels;
        for (int64_t oh = 0; oh < p->out_h; oh++) {
            const int64_t *ir = chk->indices + ck_off(t, n, c, oh, 0);
            const int64_t s3 = t->strides[3];
            bool bad = false;
            for (int64_t ow = 0; ow < p->out_w; ow++) bad |= ck_pool_index_bad(ir[ow * s3], plane);
            if (!bad) continue;
            for (int64_t ow = 0; ow < p->out_w; ow++)
                if (ck_pool_index_bad(ir[ow * s3], plane)) {
                    ck_pool_first_bad_min(chk, (item * p->out_h + oh) * p->out_w + ow);
                    return; /* later elements of this range come after it */
                }
        }
    }
}

/* Every index must be -1 or inside its (n, c) plane. */
static convkit_status_t ck_pool_check_indices(const ck_pool_plan_t *pp, const int64_t *indices)
{
    const ck_pool_problem_t *p = &pp->problem;
    ck_pool_index_check_t chk = {p, indices, INT64_MAX};
    ck_parallel_for(p->batch * p->channels, p->out_h * p->out_w, ck_pool_check_indices_range,
                    &chk);
    const int64_t pos = atomic_load(&chk.first_bad);
    if (pos == INT64_MAX) return CONVKIT_SUCCESS;
    const int64_t ow = pos % p->out_w, oh = pos / p->out_w % p->out_h;
    const int64_t item = pos / p->out_w / p->out_h;
    const int64_t n = item / p->channels, c = item % p->channels;
    const int64_t v = indices[ck_off(&p->indices, n, c, oh, ow)];
    const int64_t plane = p->in_h * p->in_w;
    if (pp->is_1d)
        return ck_fail(CONVKIT_ERROR_INDEX_OUT_OF_RANGE,
                       "convkit_max_pool_backward: indices[%lld, %lld, %lld] = %lld is outside "
                       "the input plane of length %lld (valid: -1 or 0 .. %lld)",
                       CK_LL(n), CK_LL(c), CK_LL(ow), CK_LL(v), CK_LL(plane), CK_LL(plane - 1));
    return ck_fail(CONVKIT_ERROR_INDEX_OUT_OF_RANGE,
                   "convkit_max_pool_backward: indices[%lld, %lld, %lld, %lld] = %lld is outside "
                   "the %lld x %lld input plane (valid: -1 or 0 .. %lld)",
                   CK_LL(n), CK_LL(c), CK_LL(oh), CK_LL(ow), CK_LL(v), CK_LL(p->in_h),
                   CK_LL(p->in_w), CK_LL(plane - 1));
}

convkit_status_t convkit_max_pool_backward(convkit_plan_t *plan, const float *grad_dst,
                                           const int64_t *indices, float *grad_src)
{
    const ck_pool_plan_t *pp;
    CK_TRY(ck_pool_plan_get(plan, "convkit_max_pool_backward", &pp));
    CK_TRY(ck_check_ptr(grad_dst, pp->dst_count, "grad_dst"));
    CK_TRY(ck_check_ptr(indices, pp->dst_count, "indices"));
    CK_TRY(ck_check_ptr(grad_src, pp->src_count, "grad_src"));
    CK_TRY(ck_tensor_check_output(&pp->problem.src, "src_layout (grad_src is written)"));
    CK_TRY(ck_pool_check_indices(pp, indices));
    ck_pool_call_t c = {pp, grad_dst, indices, grad_src, NULL};
    ck_parallel_for(pp->problem.batch * pp->problem.channels,
                    pp->problem.in_h * pp->problem.in_w + pp->problem.out_h * pp->problem.out_w,
                    ck_pool_backward_range, &c);
    ck_clear_error();
    return CONVKIT_SUCCESS;
}
