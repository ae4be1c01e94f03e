/*
 * internal.h - shared declarations of convkit's portable code: errors,
 * checked size arithmetic, tensor descriptors, plans, ISA state, threading.
 * Nothing here is exported; portable code never includes intrinsics.
 */
#ifndef CONVKIT_INTERNAL_H
#define CONVKIT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "convkit.h"

#define CK_INTERNAL __attribute__((visibility("hidden")))

/* ---- errors (error.c) ---------------------------------------------------- */

/* Sets this thread's message from a printf format and returns `status`. */
CK_INTERNAL convkit_status_t ck_fail(convkit_status_t status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Returns from the calling function with the status of `expr` unless it
 * is CONVKIT_SUCCESS. */
#define CK_TRY(expr)                                                                      \
    do {                                                                                  \
        convkit_status_t ck_st_ = (expr);                                                 \
        if (ck_st_ != CONVKIT_SUCCESS) return ck_st_;                                     \
    } while (0)

/* For printing int64_t with %lld. */
#define CK_LL(x) ((long long)(x))

/* Clears the message (called at the start of a successful public call). */
CK_INTERNAL void ck_clear_error(void);

/* ---- checked int64 arithmetic (sizes.c) -------------------------------- */

/* *out = a * b; false on overflow. */
CK_INTERNAL bool ck_mul(int64_t a, int64_t b, int64_t *out);
CK_INTERNAL bool ck_add(int64_t a, int64_t b, int64_t *out);
/* a * b, saturating at INT64_MAX (for cost estimates, not sizes). */
static inline int64_t ck_mul_sat(int64_t a, int64_t b)
{
    int64_t r;
    return __builtin_mul_overflow(a, b, &r) ? INT64_MAX : r;
}

/* Product of n non-negative values; false on overflow of int64 or of the
 * byte count (product * elem_size) in size_t. */
CK_INTERNAL bool ck_count(const int64_t *dims, int n, size_t elem_size, int64_t *out);

/* Output length of a sliding window: floor((in + lo + hi - dil*(k-1) - 1) / s) + 1,
 * or with ceil_mode the pool rule.  Returns false (and *out untouched) if
 * the arithmetic overflows; *out may be <= 0 when the window does not fit. */
CK_INTERNAL bool ck_window_out(int64_t in, int64_t lo, int64_t hi, int64_t k, int64_t s,
                               int64_t dil, bool ceil_mode, int64_t *out);

/* ---- tensors ------------------------------------------------------------- */

/* A 4-D operand: sizes and element strides in logical (N, C, H, W) order. */
typedef struct ck_tensor {
    int64_t dims[4];
    int64_t strides[4];
} ck_tensor_t;

/* Element offset of (n, c, h, w). */
static inline int64_t ck_off(const ck_tensor_t *t, int64_t n, int64_t c, int64_t h, int64_t w)
{
    return n * t->strides[0] + c * t->strides[1] + h * t->strides[2] + w * t->strides[3];
}

/* Builds a tensor from dims and a public layout (params.c).  `what` names
 * the operand in messages ("src_layout").  Operands that are only ever
 * written (is_output) are checked for self-overlap here; operands a plan
 * reads in one direction and writes in another are checked by the execute
 * call that writes them (ck_tensor_check_output).  Fails on a bad format, non-zero reserved, overflow
 * of the addressed span. */
CK_INTERNAL convkit_status_t ck_tensor_from_layout(ck_tensor_t *t, const int64_t dims[4],
                                                   const convkit_layout_t *layout,
                                                   const char *what, bool is_output);

/* Fails unless distinct elements of t have distinct addresses (required of
 * every operand a call writes).  `what` names the operand in messages. */
CK_INTERNAL convkit_status_t ck_tensor_check_output(const ck_tensor_t *t, const char *what);

/* Number of elements. */
CK_INTERNAL int64_t ck_tensor_numel(const ck_tensor_t *t);

/* ---- parameter structs (params.c) -------------------------------------- */

/* Copies a caller's struct of `size_full` bytes into `dst` honouring its
 * struct_size: bytes past struct_size read as zero.  Fails if params is
 * NULL, struct_size is smaller than the first version of the struct
 * (`size_min`) or larger than `size_full` while the extra bytes are not
 * zero.  `what` names the struct in messages. */
CK_INTERNAL convkit_status_t ck_read_params(void *dst, const void *params, size_t size_min,
                                            size_t size_full, const char *what);

/* Fails with CONVKIT_ERROR_RESERVED_NONZERO unless all n words are zero. */
CK_INTERNAL convkit_status_t ck_check_reserved(const uint64_t *words, int n, const char *what);

/* ---- ISA state (isa.c) --------------------------------------------------- */

/* Bit (1u << CONVKIT_ISA_x) for each ISA the CPU and OS support. */
CK_INTERNAL uint32_t ck_isa_mask(void);
/* Rank within the architecture: scalar 0, avx2/neon 1, avx512 2. */
CK_INTERNAL int ck_isa_rank(uint32_t isa);
/* The ISA a plan may use: the process cap lowered by the plan's own field
 * (0 = none).  Fails if the plan asks for an ISA this CPU lacks. */
CK_INTERNAL convkit_status_t ck_plan_isa(uint32_t requested, uint32_t *isa_out);

/* ---- threads (parallel.c) ---------------------------------------------- */

typedef void (*ck_range_fn)(void *ctx, int64_t begin, int64_t end);

/* Calls fn(ctx, b, e) over a static partition of [0, n) across the
 * configured threads.  Each item is processed by exactly one call, so a
 * kernel that computes each output item in a fixed order gives bitwise the
 * same result for any thread count.  `item_cost` estimates the scalar
 * operations of one item: work below CK_PARALLEL_MIN_WORK in total runs on
 * the calling thread, since starting a team costs more than it saves. */
#define CK_PARALLEL_MIN_WORK ((int64_t)1 << 16)
CK_INTERNAL void ck_parallel_for(int64_t n, int64_t item_cost, ck_range_fn fn, void *ctx);

/* ---- plans (plan.c) ---------------------------------------------------- */

typedef enum ck_op {
    CK_OP_CONV = 1,
    CK_OP_MAX_POOL = 2,
    CK_OP_UNFOLD = 3,
    CK_OP_FOLD = 4,
    CK_OP_PAD = 5,
} ck_op_t;

/* Every plan begins with this header; op-specific plans embed it first. */
struct convkit_plan {
    ck_op_t op;
    uint32_t isa;
    int64_t out_dims[4];
    char impl_name[64];
    void (*release)(convkit_plan_t *plan); /* frees what the plan owns; may be NULL */
};

/* Allocates a zeroed plan of `size` bytes (>= sizeof(struct convkit_plan))
 * and fills the header: impl_name "<op_name>:<kernel_name>:<isa name>" and
 * the forward output dims.  Sets the error and returns NULL on failure. */
CK_INTERNAL void *ck_plan_alloc(size_t size, ck_op_t op, const char *op_name,
                                const char *kernel_name, uint32_t isa,
                                const int64_t out_dims[4]);

/* Fails unless `plan` is non-NULL and of kind `op`; `fn` names the caller. */
CK_INTERNAL convkit_status_t ck_plan_check(const convkit_plan_t *plan, ck_op_t op,
                                           const char *fn);

/* Fails with CONVKIT_ERROR_NULL_POINTER if p is NULL and count > 0. */
CK_INTERNAL convkit_status_t ck_check_ptr(const void *p, int64_t count, const char *what);

#endif /* CONVKIT_INTERNAL_H */
