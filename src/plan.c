/* plan.c - the plan header shared by every operation and the generic plan
 * functions. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static const char *ck_op_name(ck_op_t op)
{
    switch (op) {
    case CK_OP_CONV: return "convolution";
    case CK_OP_MAX_POOL: return "max-pool";
    case CK_OP_UNFOLD: return "unfold";
    case CK_OP_FOLD: return "fold";
    case CK_OP_PAD: return "pad";
    }
    return "unknown";
}

void *ck_plan_alloc(size_t size, ck_op_t op, const char *op_name, const char *kernel_name,
                    uint32_t isa, const int64_t out_dims[4])
{
    struct convkit_plan *plan = calloc(1, size);
    if (plan == NULL) {
        ck_fail(CONVKIT_ERROR_OUT_OF_MEMORY, "could not allocate a %s plan (%zu bytes)",
                ck_op_name(op), size);
        return NULL;
    }
    plan->op = op;
    plan->isa = isa;
    snprintf(plan->impl_name, sizeof plan->impl_name, "%s:%s:%s", op_name, kernel_name,
             convkit_isa_name(isa));
    memcpy(plan->out_dims, out_dims, sizeof plan->out_dims);
    return plan;
}

convkit_status_t ck_plan_check(const convkit_plan_t *plan, ck_op_t op, const char *fn)
{
    if (plan == NULL) return ck_fail(CONVKIT_ERROR_NULL_POINTER, "%s: plan is NULL", fn);
    if (plan->op != op)
        return ck_fail(CONVKIT_ERROR_WRONG_PLAN, "%s: expected a %s plan, got a %s plan", fn,
                       ck_op_name(op), ck_op_name(plan->op));
    return CONVKIT_SUCCESS;
}

convkit_status_t ck_check_ptr(const void *p, int64_t count, const char *what)
{
    if (p == NULL && count > 0)
        return ck_fail(CONVKIT_ERROR_NULL_POINTER, "%s is NULL but has %lld elements", what,
                       (long long)count);
    return CONVKIT_SUCCESS;
}

void convkit_plan_destroy(convkit_plan_t *plan)
{
    if (plan != NULL && plan->release != NULL) plan->release(plan);
    free(plan);
}

const char *convkit_plan_impl_name(const convkit_plan_t *plan)
{
    return plan != NULL ? plan->impl_name : "";
}

uint32_t convkit_plan_isa(const convkit_plan_t *plan) { return plan != NULL ? plan->isa : 0; }

convkit_status_t convkit_plan_output_dims(const convkit_plan_t *plan, int64_t dims[4])
{
    if (plan == NULL)
        return ck_fail(CONVKIT_ERROR_NULL_POINTER, "convkit_plan_output_dims: plan is NULL");
    if (dims == NULL)
        return ck_fail(CONVKIT_ERROR_NULL_POINTER, "convkit_plan_output_dims: dims is NULL");
    memcpy(dims, plan->out_dims, sizeof plan->out_dims);
    ck_clear_error();
    return CONVKIT_SUCCESS;
}
