/* pad.c - pad plans (F.pad over the last two dims): argument checks, shape
 * arithmetic, kernel choice, and the threaded execute function. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "kernels.h"

typedef struct ck_pad_plan {
    struct convkit_plan base;
    ck_pad_problem_t problem;
    const ck_pad_kernels_t *kernels;
    int64_t src_count, dst_count;
} ck_pad_plan_t;


static const char *ck_pad_mode_name(uint32_t mode)
{
    switch (mode) {
    case CONVKIT_PAD_REFLECT: return "reflect";
    case CONVKIT_PAD_REPLICATE: return "replicate";
    case CONVKIT_PAD_CIRCULAR: return "circular";
    default: return "constant";
    }
}

static convkit_status_t ck_pad_check_min(int64_t v, int64_t min, const char *what)
{
    if (v < min)
        return ck_fail(CONVKIT_ERROR_INVALID_ARGUMENT, "%s must be >= %lld, got %lld", what,
                       CK_LL(min), CK_LL(v));
    return CONVKIT_SUCCESS;
}

/* The per-mode limits of one padded dim: `lo`/`hi` are the amounts on its
 * two sides, `size` its input size (>= 1), `dim` names it ("width"). */
static convkit_status_t ck_pad_check_mode(uint32_t mode, int64_t lo, int64_t hi, int64_t size,
                                          const char *lo_name, const char *hi_name,
                                          const char *dim)
{
    if (mode == CONVKIT_PAD_CONSTANT) return CONVKIT_SUCCESS; /* any amount; size checked later */
    if (lo < 0 || hi < 0)
        return ck_fail(CONVKIT_ERROR_INVALID_ARGUMENT,
                       "%s padding must be non-negative, but got %s=%lld, %s=%lld",
                       ck_pad_mode_name(mode), lo_name, CK_LL(lo), hi_name, CK_LL(hi));
    if (mode == CONVKIT_PAD_REFLECT && (lo >= size || hi >= size))
        return ck_fail(CONVKIT_ERROR_INVALID_ARGUMENT,
                       "reflect padding size should be less than the corresponding input "
                       "dimension, but got %s=%lld, %s=%lld for %s %lld",
                       lo_name, CK_LL(lo), hi_name, CK_LL(hi), dim, CK_LL(size));
    if (mode == CONVKIT_PAD_CIRCULAR && (lo > size || hi > size))
        return ck_fail(CONVKIT_ERROR_INVALID_ARGUMENT,
                       "circular padding value causes wrapping around more than once: %s=%lld, "
                       "%s=%lld must not exceed %s %lld",
                       lo_name, CK_LL(lo), hi_name, CK_LL(hi), dim, CK_LL(size));
    return CONVKIT_SUCCESS;
}

/* out = size + lo + hi, which must be >= 1; dst coordinate o reads source
 * coordinate o - lo, which must not overflow for o in [0, out). */
static convkit_status_t ck_pad_out_size(int64_t size, int64_t lo, int64_t hi,
                                        const char *lo_name, const char *hi_name,
                                        const char *dim, int64_t *out)
{
    int64_t o, last;
    if (!ck_add(size, lo, &o) || !ck_add(o, hi, &o) || lo == INT64_MIN ||
        (o >= 1 && !ck_add(o - 1, -lo, &last)))
        return ck_fail(CONVKIT_ERROR_OVERFLOW,
                       "%s %lld + %s %lld + %s %lld overflows", dim, CK_LL(size), lo_name,
                       CK_LL(lo), hi_name, CK_LL(hi));
    if (o < 1)
        return ck_fail(CONVKIT_ERROR_INVALID_ARGUMENT,
                       "the input %s %lld, plus padding %s=%lld and %s=%lld, resulted in an "
                       "output %s of %lld, which is invalid (it must be at least 1)",
                       dim, CK_LL(size), lo_name, CK_LL(lo), hi_name, CK_LL(hi), dim, CK_LL(o));
    *out = o;
    return CONVKIT_SUCCESS;
}

static convkit_status_t ck_pad_create(const convkit_pad_params_t *p, convkit_plan_t **out)
{
    if (out == NULL)
        return ck_fail(CONVKIT_ERROR_NULL_POINTER, "convkit_pad_create: plan is NULL");
    CK_TRY(ck_check_reserved(p->reserved, 4, "params.reserved"));
    if (p->mode > CONVKIT_PAD_CIRCULAR)
        return ck_fail(CONVKIT_ERROR_INVALID_ARGUMENT,
                       "mode must be CONVKIT_PAD_CONSTANT, _REFLECT, _REPLICATE or _CIRCULAR, "
                       "got %u",
                       p->mode);
    CK_TRY(ck_pad_check_min(p->batch, 0, "batch"));
    CK_TRY(ck_pad_check_min(p->channels, 1, "channels"));
    CK_TRY(ck_pad_check_min(p->height, 1, "height"));
    CK_TRY(ck_pad_check_min(p->width, 1, "width"));
    CK_TRY(ck_pad_check_mode(p->mode, p->pad_left, p->pad_right, p->width, "pad_left",
                             "pad_right", "width"));
    CK_TRY(ck_pad_check_mode(p->mode, p->pad_top, p->pad_bottom, p->height, "pad_top",
                             "pad_bottom", "height"));
    int64_t oh, ow;
    CK_TRY(ck_pad_out_size(p->height, p->pad_top, p->pad_bottom, "pad_top", "pad_bottom",
                           "height", &oh));
    CK_TRY(ck_pad_out_size(p->width, p->pad_left, p->pad_right, "pad_left", "pad_right",
                           "width", &ow));

    ck_pad_problem_t pr = {
        .batch = p->batch, .channels = p->channels, .in_h = p->height, .in_w = p->width,
        .out_h = oh, .out_w = ow, .pad_left = p->pad_left, .pad_right = p->pad_right,
        .pad_top = p->pad_top, .pad_bottom = p->pad_bottom, .mode = p->mode,
        .value = p->value,
    };
    const int64_t src_dims[4] = {p->batch, p->channels, p->height, p->width};
    const int64_t dst_dims[4] = {p->batch, p->channels, oh, ow};
    CK_TRY(ck_tensor_from_layout(&pr.src, src_dims, &p->src_layout, "src_layout", false));
    CK_TRY(ck_tensor_from_layout(&pr.dst, dst_dims, &p->dst_layout, "dst_layout", true));

    uint32_t isa;
    CK_TRY(ck_plan_isa(p->isa, &isa));
    const ck_pad_kernels_t *k = ck_select_pad(isa);
    ck_pad_plan_t *plan = ck_plan_alloc(sizeof *plan, CK_OP_PAD, "pad", k->name, k->isa, dst_dims);
    if (plan == NULL) return CONVKIT_ERROR_OUT_OF_MEMORY;
    plan->problem = pr;
    plan->kernels = k;
    plan->src_count = ck_tensor_numel(&pr.src);
    plan->dst_count = ck_tensor_numel(&pr.dst);
    *out = &plan->base;
    ck_clear_error();
    return CONVKIT_SUCCESS;
}

convkit_status_t convkit_pad_create(const convkit_pad_params_t *params, convkit_plan_t **plan)
{
    convkit_pad_params_t p;
    CK_TRY(ck_read_params(&p, params, sizeof p, sizeof p, "convkit_pad_create"));
    return ck_pad_create(&p, plan);
}

/* ---- execution ----------------------------------------------------------- */

typedef struct ck_pad_call {
    const ck_pad_plan_t *plan;
    const float *src;
    float *dst;
} ck_pad_call_t;

static void ck_pad_range(void *ctx, int64_t begin, int64_t end)
{
    const ck_pad_call_t *c = ctx;
    c->plan->kernels->pad(&c->plan->problem, c->src, c->dst, begin, end);
}

convkit_status_t convkit_pad_execute(convkit_plan_t *plan, const float *src, float *dst)
{
    CK_TRY(ck_plan_check(plan, CK_OP_PAD, "convkit_pad_execute"));
    const ck_pad_plan_t *pp = (const ck_pad_plan_t *)plan;
    CK_TRY(ck_check_ptr(src, pp->src_count, "src"));
    CK_TRY(ck_check_ptr(dst, pp->dst_count, "dst"));
    ck_pad_call_t c = {pp, src, dst};
    ck_parallel_for(pp->problem.batch * pp->problem.channels,
                    pp->problem.out_h * pp->problem.out_w, ck_pad_range, &c);
    ck_clear_error();
    return CONVKIT_SUCCESS;
}
