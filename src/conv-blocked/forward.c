/* forward.c - the channel-blocked direct engine of a conv plan
 * (conv-blocked.h): kernel choice, the set_weights copy, and the threaded
 * forward (pack weights if needed, reorder src if needed, run the arch
 * kernel over its items). */
#include <stdlib.h>

#include "conv-blocked/conv-blocked.h"
#include "conv-gemm/conv-gemm.h" /* ck_conv_gemm_scratch: per-thread scratch */

typedef void (*ck_cb_kernel_fn)(const ck_cb_geom_t *g, const float *src, const float *packed,
                                const float *bias, const float *residual, float *dst,
                                float *scratch, int64_t begin, int64_t end);

struct ck_cb_engine {
    ck_cb_geom_t g;
    ck_cb_src_kind_t src_kind;
    ck_cb_kernel_fn kernel;
    uint32_t isa;
    const char *name;
    float *packed; /* convkit_conv_set_weights' copy, or NULL */
    /* Buffers of the forward calls, allocated by the first call that needs
     * them and kept (their sizes are fixed by the plan; a plan never runs
     * on two threads at once): weights packed per call, the blocked copy
     * of an NCHW src. */
    float *call_packed, *call_src;
};

/* *slot, allocated on first use with `count` floats (64-byte aligned);
 * NULL when that fails. */
static float *ck_cb_buffer(float **slot, int64_t count)
{
    if (*slot == NULL)
        *slot = aligned_alloc(64, ((size_t)count * sizeof(float) + 63) / 64 * 64);
    return *slot;
}

bool ck_cb_isa_ok(uint32_t isa)
{
#if defined(__x86_64__) || defined(_M_X64)
    return isa == CONVKIT_ISA_AVX512 || isa == CONVKIT_ISA_AVX2;
#else
    (void)isa;
    return false;
#endif
}

ck_cb_engine_t *ck_cb_engine_create(const ck_conv_problem_t *p, const ck_cb_layouts_t *lay,
                                    uint32_t isa)
{
#if defined(__x86_64__) || defined(_M_X64)
    ck_cb_kernel_fn kernel = NULL;
    int64_t lanes = 0;
    const char *name = NULL;
    uint32_t kisa = 0;
    if (isa == CONVKIT_ISA_AVX512 && lay->dst_block != 8) {
        kernel = ck_f32_cbconv_forward_16__avx512f;
        lanes = 16;
        name = "direct-16";
        kisa = CONVKIT_ISA_AVX512;
    } else if (isa == CONVKIT_ISA_AVX512 || isa == CONVKIT_ISA_AVX2) {
        kernel = ck_f32_cbconv_forward_8__avx2;
        lanes = 8;
        name = "direct-8";
        kisa = CONVKIT_ISA_AVX2;
    }
    if (kernel == NULL || !ck_cb_supports(p, lay)) return NULL;
    ck_cb_engine_t *e = calloc(1, sizeof *e);
    if (e == NULL) return NULL;
    ck_cb_geom_init(&e->g, p, lay, lanes);
    e->src_kind = ck_cb_src_kind(p, lay);
    e->kernel = kernel;
    e->isa = kisa;
    e->name = name;
    return e;
#else
    (void)p;
    (void)lay;
    (void)isa;
    return NULL;
#endif
}

void ck_cb_engine_destroy(ck_cb_engine_t *e)
{
    if (e == NULL) return;
    free(e->packed);
    free(e->call_packed);
    free(e->call_src);
    free(e);
}

const char *ck_cb_engine_name(const ck_cb_engine_t *e)
{
    return e->name;
}

uint32_t ck_cb_engine_isa(const ck_cb_engine_t *e)
{
    return e->isa;
}

const ck_cb_geom_t *ck_cb_engine_geom(const ck_cb_engine_t *e)
{
    return &e->g;
}

convkit_status_t ck_cb_engine_set_weights(ck_cb_engine_t *e, const ck_conv_problem_t *p,
                                          const float *weight)
{
    if (ck_cb_buffer(&e->packed, ck_cb_packed_weight_count(&e->g)) == NULL)
        return ck_fail(CONVKIT_ERROR_OUT_OF_MEMORY,
                       "convkit_conv_set_weights: cannot allocate %lld floats of packed weights",
                       CK_LL(ck_cb_packed_weight_count(&e->g)));
    ck_cb_pack_weights(&e->g, p, weight, e->packed);
    return CONVKIT_SUCCESS;
}

bool ck_cb_engine_has_weights(const ck_cb_engine_t *e)
{
    return e->packed != NULL;
}

typedef struct ck_cb_call {
    const ck_cb_engine_t *e;
    const ck_conv_problem_t *p;
    const float *src, *packed, *bias, *residual;
    float *dst, *chunked;
    bool scratch_failed;
} ck_cb_call_t;

static void ck_cb_reorder_range(void *ctx, int64_t begin, int64_t end)
{
    ck_cb_call_t *c = ctx;
    ck_cb_reorder_src(&c->e->g, c->p, c->src, c->chunked, begin, end);
}

static void ck_cb_forward_range(void *ctx, int64_t begin, int64_t end)
{
    ck_cb_call_t *c = ctx;
    const int64_t floats = ck_cb_scratch_floats(&c->e->g);
    float *scratch = NULL;
    if (floats > 0) {
        scratch = ck_conv_gemm_scratch((size_t)floats * sizeof(float));
        if (scratch == NULL) {
            c->scratch_failed = true; /* reported by ck_cb_forward */
            return;
        }
    }
    c->e->kernel(&c->e->g, c->chunked != NULL ? c->chunked : c->src, c->packed, c->bias,
                 c->residual, c->dst, scratch, begin, end);
}

convkit_status_t ck_cb_forward(ck_cb_engine_t *e, const ck_conv_problem_t *p, const float *src,
                               const float *weight, const float *bias, const float *residual,
                               float *dst)
{
    const ck_cb_geom_t *g = &e->g;
    ck_cb_call_t c = {e, p, src, e->packed, bias, residual, dst, NULL, false};
    if (weight != NULL) {
        float *packed = ck_cb_buffer(&e->call_packed, ck_cb_packed_weight_count(g));
        if (packed == NULL)
            return ck_fail(CONVKIT_ERROR_OUT_OF_MEMORY,
                           "convkit_conv_forward: cannot allocate %lld floats of packed weights",
                           CK_LL(ck_cb_packed_weight_count(g)));
        ck_cb_pack_weights(g, p, weight, packed);
        c.packed = packed;
    }
    if (e->src_kind == CK_CB_SRC_REORDER && g->batch > 0) {
        c.chunked = ck_cb_buffer(&e->call_src, g->batch * g->s_n);
        if (c.chunked == NULL)
            return ck_fail(CONVKIT_ERROR_OUT_OF_MEMORY,
                           "convkit_conv_forward: cannot allocate %lld floats for the "
                           "channel-blocked copy of src",
                           CK_LL(g->batch * g->s_n));
        ck_parallel_for(g->batch * g->icc * g->copy_h, g->kc * g->copy_w, ck_cb_reorder_range, &c);
    }
    const int64_t nrb = (g->out_h + g->rows - 1) / g->rows;
    const int64_t items = g->batch * g->ocg * nrb;
    const int64_t cost = ck_mul_sat(ck_mul_sat(g->rows * g->out_w, g->nb * g->lanes),
                                    ck_mul_sat(g->in_c, g->kh * g->kw));
    ck_parallel_for(items, cost, ck_cb_forward_range, &c);
    if (c.scratch_failed)
        return ck_fail(CONVKIT_ERROR_OUT_OF_MEMORY,
                       "convkit_conv_forward: cannot allocate the per-thread scratch of %lld "
                       "floats (dst is incomplete)",
                       CK_LL(ck_cb_scratch_floats(g)));
    return CONVKIT_SUCCESS;
}
