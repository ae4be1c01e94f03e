/*
 * peer-onednn.c - oneDNN 2.x (C API) as a benchmark peer; see peer-onednn.h.
 *
 * Conventions used here:
 *   - oneDNN's dilation is 0-based (0 = dense kernel): shape dilation - 1.
 *   - Padding is passed as padding_l = (top, left) and padding_r = (bottom,
 *     right), so asymmetric (ceil-mode-like) padding is reproduced exactly.
 *   - Convolution forward uses prop_kind forward_inference (what a user
 *     timing inference would pick, and what convkit's forward computes: no
 *     saved state).  The backward primitives need a forward primitive
 *     descriptor as a hint; that one is forward_training.  No bias anywhere,
 *     as in the convkit cases.
 *   - The algorithm is dnnl_convolution_auto: oneDNN chooses (direct on
 *     this kind of CPU).
 *   - Max pooling uses pooling_v2 (the one with dilation) and prop_kind
 *     forward_training, so the forward writes its workspace: the argmax of
 *     each window, oneDNN's analogue of int64 indices (it stores a small
 *     in-window offset, not a plane index).  Its "own layout" is nChw8c
 *     (nChw16c with AVX-512): on plain NCHW oneDNN 2.6 runs a simple loop
 *     (simple_nchw) that is several times slower on an AVX2 machine.
 *     Dilated pooling falls back to oneDNN's reference code in any layout;
 *     the benchmark shows that as it is.
 *   - The scratchpad is user-managed: allocated by setup with the tensors,
 *     so no allocation happens inside the timed call.
 */
#include "peer-onednn.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dnnl.h>
#include <dnnl_debug.h>

#define MAX_ARGS 6

struct ckb_onednn {
    ckb_onednn_op_t op;
    ckb_onednn_layout_t layout;
    ckb_shape_t shape;
    dnnl_primitive_desc_t fwd_pd; /* the forward problem (the hint for backward ops) */
    dnnl_primitive_desc_t pd;     /* the timed one; == fwd_pd for forward ops */
    char impl[160];
    int64_t dst_dims[4];
    size_t footprint;

    /* setup stage */
    bool ready;
    dnnl_primitive_t prim;
    int nargs;
    dnnl_exec_arg_t args[MAX_ARGS]; /* memories owned here */
};

/* ---- engine and stream ------------------------------------------------------ */

static dnnl_engine_t g_engine;
static dnnl_stream_t g_stream;

void ckb_onednn_shutdown(void)
{
    if (g_stream != NULL)
        dnnl_stream_destroy(g_stream);
    if (g_engine != NULL)
        dnnl_engine_destroy(g_engine);
    g_stream = NULL;
    g_engine = NULL;
}

static void set_err(char *err, size_t n, const char *fmt, ...)
{
    if (err == NULL || n == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, n, fmt, ap);
    va_end(ap);
}

/* Returns 0 on success; on a failing call writes "oneDNN <what>: <status>". */
static int check(dnnl_status_t st, const char *what, char *err, size_t n)
{
    if (st == dnnl_success)
        return 0;
    set_err(err, n, "oneDNN %s: %s", what, dnnl_status2str(st));
    return -1;
}

static int ensure_engine(char *err, size_t n)
{
    if (g_engine != NULL)
        return 0;
    if (check(dnnl_engine_create(&g_engine, dnnl_cpu, 0), "engine_create", err, n) != 0) {
        g_engine = NULL;
        return -1;
    }
    if (check(dnnl_stream_create(&g_stream, g_engine, dnnl_stream_default_flags),
              "stream_create", err, n) != 0) {
        dnnl_engine_destroy(g_engine);
        g_engine = NULL;
        g_stream = NULL;
        return -1;
    }
    return 0;
}

/* ---- small helpers ------------------------------------------------------------ */

static bool is_conv(ckb_onednn_op_t op)
{
    return op == CKB_ONEDNN_CONV_FWD || op == CKB_ONEDNN_CONV_BWD_DATA ||
           op == CKB_ONEDNN_CONV_BWD_WEIGHTS;
}

static const char *op_name(ckb_onednn_op_t op)
{
    switch (op) {
    case CKB_ONEDNN_CONV_FWD: return "convolution forward";
    case CKB_ONEDNN_CONV_BWD_DATA: return "convolution backward-data";
    case CKB_ONEDNN_CONV_BWD_WEIGHTS: return "convolution backward-weights";
    case CKB_ONEDNN_POOL_FWD: return "max pooling forward";
    case CKB_ONEDNN_POOL_BWD: return "max pooling backward";
    }
    return "?";
}

/* A plain (row-major in logical dim order) tag for 4-D or 5-D tensors. */
static dnnl_format_tag_t plain_tag(int ndims)
{
    return ndims == 5 ? dnnl_abcde : dnnl_abcd;
}

/* Uniform pseudo-random floats in [-1, 1), xorshift32. */
static void fill_random(float *p, size_t n, uint32_t seed)
{
    uint32_t x = seed * 2654435761u + 0x9e3779b9u;
    if (x == 0)
        x = 1;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        p[i] = (float)(x >> 8) * (2.0f / 16777216.0f) - 1.0f;
    }
}

static const dnnl_memory_desc_t *arg_md(const_dnnl_primitive_desc_t pd, int arg)
{
    return dnnl_primitive_desc_query_md(pd, dnnl_query_exec_arg_md, arg);
}

static size_t md_size(const dnnl_memory_desc_t *md)
{
    return md == NULL ? 0 : dnnl_memory_desc_get_size(md);
}

static dnnl_status_t user_scratchpad_attr(dnnl_primitive_attr_t *attr)
{
    dnnl_status_t st = dnnl_primitive_attr_create(attr);
    if (st != dnnl_success)
        return st;
    st = dnnl_primitive_attr_set_scratchpad_mode(*attr, dnnl_scratchpad_mode_user);
    if (st != dnnl_success) {
        dnnl_primitive_attr_destroy(*attr);
        *attr = NULL;
    }
    return st;
}

/* ---- descriptors ----------------------------------------------------------------- */

static int build_conv(ckb_onednn_t *p, char *err, size_t n)
{
    const ckb_shape_t *s = &p->shape;
    const dnnl_format_tag_t any = dnnl_format_tag_any;
    const bool grouped = s->g > 1;
    dnnl_dims_t src_dims = {s->mb, s->ic, s->ih, s->iw};
    dnnl_dims_t dst_dims = {s->mb, s->oc, s->oh, s->ow};
    dnnl_dims_t w_dims = {0};
    int w_nd;
    if (grouped) {
        w_nd = 5;
        w_dims[0] = s->g;
        w_dims[1] = s->oc / s->g;
        w_dims[2] = s->ic / s->g;
        w_dims[3] = s->kh;
        w_dims[4] = s->kw;
    } else {
        w_nd = 4;
        w_dims[0] = s->oc;
        w_dims[1] = s->ic;
        w_dims[2] = s->kh;
        w_dims[3] = s->kw;
    }
    const bool plain = p->layout == CKB_ONEDNN_LAYOUT_NCHW;
    dnnl_memory_desc_t src_md, w_md, dst_md;
    if (check(dnnl_memory_desc_init_by_tag(&src_md, 4, src_dims, dnnl_f32, plain ? dnnl_nchw : any),
              "memory_desc_init (src)", err, n) != 0 ||
        check(dnnl_memory_desc_init_by_tag(&w_md, w_nd, w_dims, dnnl_f32,
                                           plain ? (grouped ? dnnl_goihw : dnnl_oihw) : any),
              "memory_desc_init (weights)", err, n) != 0 ||
        check(dnnl_memory_desc_init_by_tag(&dst_md, 4, dst_dims, dnnl_f32, plain ? dnnl_nchw : any),
              "memory_desc_init (dst)", err, n) != 0)
        return -1;

    dnnl_dims_t strides = {s->sh, s->sw};
    dnnl_dims_t dilates = {s->dh - 1, s->dw - 1}; /* oneDNN: 0 = dense */
    dnnl_dims_t pad_l = {s->pt, s->pl};
    dnnl_dims_t pad_r = {s->pb, s->pr};

    dnnl_primitive_attr_t attr = NULL;
    if (check(user_scratchpad_attr(&attr), "primitive_attr", err, n) != 0)
        return -1;
    int rc = -1;

    /* forward_inference when the forward itself is timed; forward_training
     * for the hint of a backward primitive. */
    dnnl_convolution_desc_t fd;
    const dnnl_prop_kind_t prop =
        p->op == CKB_ONEDNN_CONV_FWD ? dnnl_forward_inference : dnnl_forward_training;
    if (check(dnnl_dilated_convolution_forward_desc_init(&fd, prop, dnnl_convolution_auto, &src_md,
                                                         &w_md, NULL, &dst_md, strides, dilates,
                                                         pad_l, pad_r),
              "convolution forward descriptor", err, n) != 0)
        goto out;
    if (check(dnnl_primitive_desc_create(&p->fwd_pd, &fd, attr, g_engine, NULL),
              "convolution forward primitive descriptor", err, n) != 0) {
        p->fwd_pd = NULL;
        goto out;
    }
    if (p->op == CKB_ONEDNN_CONV_FWD) {
        p->pd = p->fwd_pd;
    } else {
        dnnl_convolution_desc_t bd;
        if (p->op == CKB_ONEDNN_CONV_BWD_DATA) {
            if (check(dnnl_dilated_convolution_backward_data_desc_init(
                          &bd, dnnl_convolution_auto, &src_md, &w_md, &dst_md, strides, dilates,
                          pad_l, pad_r),
                      "convolution backward-data descriptor", err, n) != 0)
                goto out;
        } else {
            if (check(dnnl_dilated_convolution_backward_weights_desc_init(
                          &bd, dnnl_convolution_auto, &src_md, &w_md, NULL, &dst_md, strides,
                          dilates, pad_l, pad_r),
                      "convolution backward-weights descriptor", err, n) != 0)
                goto out;
        }
        if (check(dnnl_primitive_desc_create(&p->pd, &bd, attr, g_engine, p->fwd_pd),
                  p->op == CKB_ONEDNN_CONV_BWD_DATA
                      ? "convolution backward-data primitive descriptor"
                      : "convolution backward-weights primitive descriptor",
                  err, n) != 0) {
            p->pd = NULL;
            goto out;
        }
    }
    rc = 0;
out:
    dnnl_primitive_attr_destroy(attr);
    return rc;
}

/* nChw16c where oneDNN runs AVX-512 code, else nChw8c. */
static dnnl_format_tag_t pool_blocked_tag(void)
{
    const dnnl_cpu_isa_t isa = dnnl_get_effective_cpu_isa();
    return ((unsigned)isa & (unsigned)dnnl_cpu_isa_avx512_core) == (unsigned)dnnl_cpu_isa_avx512_core
               ? dnnl_nChw16c
               : dnnl_nChw8c;
}

static int build_pool(ckb_onednn_t *p, char *err, size_t n)
{
    const ckb_shape_t *s = &p->shape;
    /* Pooling takes the source layout it is given (no format_tag_any for
     * its source), so "its own layout" is chosen here: the channel-blocked
     * one its jit kernels use (and its 'any' convolutions produce). */
    const dnnl_format_tag_t tag =
        p->layout == CKB_ONEDNN_LAYOUT_NCHW ? dnnl_nchw : pool_blocked_tag();
    dnnl_dims_t src_dims = {s->mb, s->ic, s->ih, s->iw};
    dnnl_dims_t dst_dims = {s->mb, s->ic, s->oh, s->ow};
    dnnl_memory_desc_t src_md, dst_md;
    if (check(dnnl_memory_desc_init_by_tag(&src_md, 4, src_dims, dnnl_f32, tag),
              "memory_desc_init (src)", err, n) != 0 ||
        check(dnnl_memory_desc_init_by_tag(&dst_md, 4, dst_dims, dnnl_f32, tag),
              "memory_desc_init (dst)", err, n) != 0)
        return -1;
    dnnl_dims_t strides = {s->sh, s->sw};
    dnnl_dims_t kernel = {s->kh, s->kw};
    dnnl_dims_t dilation = {s->dh - 1, s->dw - 1};
    dnnl_dims_t pad_l = {s->pt, s->pl};
    dnnl_dims_t pad_r = {s->pb, s->pr};

    dnnl_primitive_attr_t attr = NULL;
    if (check(user_scratchpad_attr(&attr), "primitive_attr", err, n) != 0)
        return -1;
    int rc = -1;
    dnnl_pooling_v2_desc_t fd;
    if (check(dnnl_pooling_v2_forward_desc_init(&fd, dnnl_forward_training, dnnl_pooling_max,
                                                &src_md, &dst_md, strides, kernel, dilation,
                                                pad_l, pad_r),
              "pooling forward descriptor", err, n) != 0)
        goto out;
    if (check(dnnl_primitive_desc_create(&p->fwd_pd, &fd, attr, g_engine, NULL),
              "pooling forward primitive descriptor", err, n) != 0) {
        p->fwd_pd = NULL;
        goto out;
    }
    if (p->op == CKB_ONEDNN_POOL_FWD) {
        p->pd = p->fwd_pd;
    } else {
        dnnl_pooling_v2_desc_t bd;
        if (check(dnnl_pooling_v2_backward_desc_init(&bd, dnnl_pooling_max, &src_md, &dst_md,
                                                     strides, kernel, dilation, pad_l, pad_r),
                  "pooling backward descriptor", err, n) != 0)
            goto out;
        if (check(dnnl_primitive_desc_create(&p->pd, &bd, attr, g_engine, p->fwd_pd),
                  "pooling backward primitive descriptor", err, n) != 0) {
            p->pd = NULL;
            goto out;
        }
    }
    rc = 0;
out:
    dnnl_primitive_attr_destroy(attr);
    return rc;
}

/* ---- public: create / query ------------------------------------------------------ */

/* The arguments of the timed primitive: inputs first, then outputs. */
typedef struct arg_spec {
    int arg;
    bool input;
} arg_spec_t;

static int arg_specs(ckb_onednn_op_t op, arg_spec_t out[MAX_ARGS])
{
    switch (op) {
    case CKB_ONEDNN_CONV_FWD:
        out[0] = (arg_spec_t){DNNL_ARG_SRC, true};
        out[1] = (arg_spec_t){DNNL_ARG_WEIGHTS, true};
        out[2] = (arg_spec_t){DNNL_ARG_DST, false};
        return 3;
    case CKB_ONEDNN_CONV_BWD_DATA:
        out[0] = (arg_spec_t){DNNL_ARG_DIFF_DST, true};
        out[1] = (arg_spec_t){DNNL_ARG_WEIGHTS, true};
        out[2] = (arg_spec_t){DNNL_ARG_DIFF_SRC, false};
        return 3;
    case CKB_ONEDNN_CONV_BWD_WEIGHTS:
        out[0] = (arg_spec_t){DNNL_ARG_SRC, true};
        out[1] = (arg_spec_t){DNNL_ARG_DIFF_DST, true};
        out[2] = (arg_spec_t){DNNL_ARG_DIFF_WEIGHTS, false};
        return 3;
    case CKB_ONEDNN_POOL_FWD:
        out[0] = (arg_spec_t){DNNL_ARG_SRC, true};
        out[1] = (arg_spec_t){DNNL_ARG_DST, false};
        out[2] = (arg_spec_t){DNNL_ARG_WORKSPACE, false};
        return 3;
    case CKB_ONEDNN_POOL_BWD:
        /* the workspace is an input here, written by a forward run at setup */
        out[0] = (arg_spec_t){DNNL_ARG_DIFF_DST, true};
        out[1] = (arg_spec_t){DNNL_ARG_WORKSPACE, false};
        out[2] = (arg_spec_t){DNNL_ARG_DIFF_SRC, false};
        return 3;
    }
    return 0;
}

ckb_onednn_t *ckb_onednn_create(ckb_onednn_op_t op, ckb_onednn_layout_t layout,
                                const ckb_shape_t *shape, char *err, size_t err_size)
{
    if (shape->pt < 0 || shape->pb < 0 || shape->pl < 0 || shape->pr < 0) {
        set_err(err, err_size, "oneDNN peer: negative padding (%lld,%lld,%lld,%lld)",
                (long long)shape->pt, (long long)shape->pb, (long long)shape->pl,
                (long long)shape->pr);
        return NULL;
    }
    if (ensure_engine(err, err_size) != 0)
        return NULL;
    ckb_onednn_t *p = calloc(1, sizeof *p);
    if (p == NULL) {
        set_err(err, err_size, "oneDNN peer: out of memory");
        return NULL;
    }
    p->op = op;
    p->layout = layout;
    p->shape = *shape;
    if ((is_conv(op) ? build_conv(p, err, err_size) : build_pool(p, err, err_size)) != 0) {
        ckb_onednn_destroy(p);
        return NULL;
    }

    const dnnl_memory_desc_t *dst = dnnl_primitive_desc_query_md(p->fwd_pd, dnnl_query_dst_md, 0);
    if (dst == NULL || dst->ndims != 4) {
        set_err(err, err_size, "oneDNN %s: no 4-D destination", op_name(op));
        ckb_onednn_destroy(p);
        return NULL;
    }
    for (int i = 0; i < 4; i++)
        p->dst_dims[i] = dst->dims[i];

    const char *impl = NULL;
    if (dnnl_primitive_desc_query(p->pd, dnnl_query_impl_info_str, 0, &impl) != dnnl_success ||
        impl == NULL)
        impl = "?";
    snprintf(p->impl, sizeof p->impl, "%s", impl);

    arg_spec_t specs[MAX_ARGS];
    int ns = arg_specs(op, specs);
    size_t bytes = md_size(dnnl_primitive_desc_query_md(p->pd, dnnl_query_scratchpad_md, 0));
    for (int i = 0; i < ns; i++) {
        const dnnl_memory_desc_t *md = arg_md(p->pd, specs[i].arg);
        bytes += 2 * md_size(md); /* an input may also have a plain user copy */
    }
    p->footprint = bytes;
    return p;
}

void ckb_onednn_dst_dims(const ckb_onednn_t *p, int64_t dims[4])
{
    for (int i = 0; i < 4; i++)
        dims[i] = p->dst_dims[i];
}

const char *ckb_onednn_impl(const ckb_onednn_t *p) { return p->impl; }

size_t ckb_onednn_footprint(const ckb_onednn_t *p) { return p->footprint; }

/* ---- setup ------------------------------------------------------------------------ */

/* A memory in layout `md` holding random data: filled in a plain layout of
 * the same dims, then reordered into `md` when that differs. */
static int random_memory(const dnnl_memory_desc_t *md, uint32_t seed, dnnl_memory_t *out,
                         char *err, size_t n)
{
    *out = NULL;
    dnnl_memory_desc_t user_md;
    if (check(dnnl_memory_desc_init_by_tag(&user_md, md->ndims, md->dims, dnnl_f32,
                                           plain_tag(md->ndims)),
              "memory_desc_init (user)", err, n) != 0)
        return -1;
    dnnl_memory_t user = NULL;
    if (check(dnnl_memory_create(&user, &user_md, g_engine, DNNL_MEMORY_ALLOCATE),
              "memory_create (user)", err, n) != 0)
        return -1;
    void *h = NULL;
    if (check(dnnl_memory_get_data_handle(user, &h), "memory_get_data_handle", err, n) != 0) {
        dnnl_memory_destroy(user);
        return -1;
    }
    fill_random(h, dnnl_memory_desc_get_size(&user_md) / sizeof(float), seed);
    if (dnnl_memory_desc_equal(&user_md, md)) {
        *out = user;
        return 0;
    }

    int rc = -1;
    dnnl_memory_t mem = NULL;
    dnnl_primitive_desc_t rpd = NULL;
    dnnl_primitive_t reorder = NULL;
    if (check(dnnl_memory_create(&mem, md, g_engine, DNNL_MEMORY_ALLOCATE), "memory_create", err,
              n) != 0) {
        mem = NULL;
        goto out;
    }
    if (check(dnnl_reorder_primitive_desc_create(&rpd, &user_md, g_engine, md, g_engine, NULL),
              "reorder primitive descriptor", err, n) != 0) {
        rpd = NULL;
        goto out;
    }
    if (check(dnnl_primitive_create(&reorder, rpd), "reorder primitive", err, n) != 0) {
        reorder = NULL;
        goto out;
    }
    dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, user}, {DNNL_ARG_TO, mem}};
    if (check(dnnl_primitive_execute(reorder, g_stream, 2, args), "reorder", err, n) != 0 ||
        check(dnnl_stream_wait(g_stream), "stream_wait", err, n) != 0)
        goto out;
    rc = 0;
out:
    if (reorder != NULL)
        dnnl_primitive_destroy(reorder);
    if (rpd != NULL)
        dnnl_primitive_desc_destroy(rpd);
    dnnl_memory_destroy(user);
    if (rc == 0)
        *out = mem;
    else if (mem != NULL)
        dnnl_memory_destroy(mem);
    return rc;
}

/* A memory in layout `md`, zero-filled (so its pages exist before timing). */
static int zero_memory(const dnnl_memory_desc_t *md, dnnl_memory_t *out, char *err, size_t n)
{
    *out = NULL;
    dnnl_memory_t mem = NULL;
    if (check(dnnl_memory_create(&mem, md, g_engine, DNNL_MEMORY_ALLOCATE), "memory_create", err,
              n) != 0)
        return -1;
    void *h = NULL;
    if (check(dnnl_memory_get_data_handle(mem, &h), "memory_get_data_handle", err, n) != 0) {
        dnnl_memory_destroy(mem);
        return -1;
    }
    size_t size = dnnl_memory_desc_get_size(md);
    if (h != NULL && size > 0)
        memset(h, 0, size);
    *out = mem;
    return 0;
}

/* Runs the pooling forward once on random data to produce the workspace the
 * backward primitive reads. */
static int fill_pool_workspace(ckb_onednn_t *p, dnnl_memory_t ws, char *err, size_t n)
{
    int rc = -1;
    dnnl_primitive_t fwd = NULL;
    dnnl_memory_t src = NULL, dst = NULL, scratch = NULL;
    if (check(dnnl_primitive_create(&fwd, p->fwd_pd), "pooling forward primitive", err, n) != 0) {
        fwd = NULL;
        goto out;
    }
    if (random_memory(arg_md(p->fwd_pd, DNNL_ARG_SRC), 7u, &src, err, n) != 0 ||
        zero_memory(arg_md(p->fwd_pd, DNNL_ARG_DST), &dst, err, n) != 0)
        goto out;
    dnnl_exec_arg_t args[4] = {
        {DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}, {DNNL_ARG_WORKSPACE, ws}, {0, NULL}};
    int nargs = 3;
    const dnnl_memory_desc_t *sp = dnnl_primitive_desc_query_md(p->fwd_pd, dnnl_query_scratchpad_md, 0);
    if (md_size(sp) > 0) {
        if (zero_memory(sp, &scratch, err, n) != 0)
            goto out;
        args[nargs++] = (dnnl_exec_arg_t){DNNL_ARG_SCRATCHPAD, scratch};
    }
    if (check(dnnl_primitive_execute(fwd, g_stream, nargs, args), "pooling forward", err, n) != 0 ||
        check(dnnl_stream_wait(g_stream), "stream_wait", err, n) != 0)
        goto out;
    rc = 0;
out:
    if (fwd != NULL)
        dnnl_primitive_destroy(fwd);
    if (src != NULL)
        dnnl_memory_destroy(src);
    if (dst != NULL)
        dnnl_memory_destroy(dst);
    if (scratch != NULL)
        dnnl_memory_destroy(scratch);
    return rc;
}

int ckb_onednn_setup(ckb_onednn_t *p, char *err, size_t err_size)
{
    if (p->ready)
        return 0;
    if (check(dnnl_primitive_create(&p->prim, p->pd), "primitive_create", err, err_size) != 0) {
        p->prim = NULL;
        return -1;
    }
    arg_spec_t specs[MAX_ARGS];
    int ns = arg_specs(p->op, specs);
    p->nargs = 0;
    for (int i = 0; i < ns; i++) {
        const dnnl_memory_desc_t *md = arg_md(p->pd, specs[i].arg);
        if (md == NULL || md_size(md) == 0)
            continue; /* not used by this implementation */
        dnnl_memory_t mem = NULL;
        int rc = specs[i].input ? random_memory(md, 1000u + (uint32_t)i, &mem, err, err_size)
                                : zero_memory(md, &mem, err, err_size);
        if (rc == 0 && p->op == CKB_ONEDNN_POOL_BWD && specs[i].arg == DNNL_ARG_WORKSPACE)
            rc = fill_pool_workspace(p, mem, err, err_size);
        if (rc != 0) {
            if (mem != NULL)
                dnnl_memory_destroy(mem);
            ckb_onednn_release(p);
            return -1;
        }
        p->args[p->nargs++] = (dnnl_exec_arg_t){specs[i].arg, mem};
    }
    const dnnl_memory_desc_t *sp = dnnl_primitive_desc_query_md(p->pd, dnnl_query_scratchpad_md, 0);
    if (md_size(sp) > 0) {
        dnnl_memory_t mem = NULL;
        if (zero_memory(sp, &mem, err, err_size) != 0) {
            ckb_onednn_release(p);
            return -1;
        }
        p->args[p->nargs++] = (dnnl_exec_arg_t){DNNL_ARG_SCRATCHPAD, mem};
    }
    p->ready = true;
    /* one untimed run: first-execution costs (lazy initialisation, first
     * touch of the scratchpad) stay out of the measurement */
    if (ckb_onednn_run(p, err, err_size) != 0) {
        ckb_onednn_release(p);
        return -1;
    }
    return 0;
}

int ckb_onednn_run(ckb_onednn_t *p, char *err, size_t err_size)
{
    if (!p->ready) {
        set_err(err, err_size, "oneDNN %s: run before setup", op_name(p->op));
        return -1;
    }
    if (check(dnnl_primitive_execute(p->prim, g_stream, p->nargs, p->args), op_name(p->op), err,
              err_size) != 0)
        return -1;
    return check(dnnl_stream_wait(g_stream), "stream_wait", err, err_size);
}

void ckb_onednn_release(ckb_onednn_t *p)
{
    if (p == NULL)
        return;
    for (int i = 0; i < p->nargs; i++)
        if (p->args[i].memory != NULL)
            dnnl_memory_destroy(p->args[i].memory);
    p->nargs = 0;
    if (p->prim != NULL)
        dnnl_primitive_destroy(p->prim);
    p->prim = NULL;
    p->ready = false;
}

void ckb_onednn_destroy(ckb_onednn_t *p)
{
    if (p == NULL)
        return;
    ckb_onednn_release(p);
    if (p->pd != NULL && p->pd != p->fwd_pd)
        dnnl_primitive_desc_destroy(p->pd);
    if (p->fwd_pd != NULL)
        dnnl_primitive_desc_destroy(p->fwd_pd);
    free(p);
}

/* ---- sgemm ------------------------------------------------------------------------ */

int ckb_onednn_sgemm(int64_t M, int64_t N, int64_t K, const float *a, const float *b, float beta,
                     float *c, char *err, size_t err_size)
{
    return check(dnnl_sgemm('N', 'N', M, N, K, 1.0f, a, K, b, N, beta, c, N), "sgemm", err,
                 err_size);
}
