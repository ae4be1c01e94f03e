/*
 * test_conv_blocked.c - the channel-blocked direct convolution engine
 * (src/conv-blocked/, "direct-16:avx512" / "direct-8:avx2") and the blocked
 * layouts CONVKIT_FORMAT_NCHW16C / NCHW8C, through the public API only.
 *
 * Every forward result is checked against the float64 reference of
 * tests/support (bound c * K * 2^-24 * sum|x*w|, K the reduction length)
 * and against a GEMM plan (algorithm GEMM) of the same problem and layouts.
 * Outputs start as a NaN sentinel: blocked outputs must have every padding
 * lane (channels past C in the last block) written as 0, strided and NHWC
 * outputs must leave every gap and the guard zones around the tensor
 * untouched.  Blocked inputs keep the NaN sentinel in their padding lanes,
 * which must never be read.  The suite runs once per ISA cap; at the
 * AVX-512 and AVX2 caps it asserts that the DIRECT / blocked plans run the
 * engine, so the sweeps below reach its register tiles (NB 1..4 by every UR
 * and remainder width), its three input-pixel-step variants, every src and
 * dst kind, C_in and C_out tails, edge columns and rows without valid taps,
 * and the multi-pass reduction through the per-thread scratch.  Section 6
 * does the same for depthwise problems on blocked and NHWC-like data (the
 * chunked depthwise kernels, src/conv-direct/dwconv-chunked.inc): channel
 * tails at 8 and 16 lanes, padding-only chunks, every interior tile width
 * and remainder, edge columns, the 3x3 and the other-kernel loops, every
 * epilogue mode with and without residual, thread counts.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_support.h"

#define BOUND_C 3.0
#define Z CONVKIT_PADDING_ZEROS
#define AUTO CONVKIT_CONV_ALGORITHM_AUTO
#define GEMM CONVKIT_CONV_ALGORITHM_GEMM
#define DIRECT CONVKIT_CONV_ALGORITHM_DIRECT

/* cfg fields: n cin h w cout kh kw sh sw pt pb pl pr dh dw groups mode */
#define CFG(...) ((tk_conv_cfg_t){__VA_ARGS__})

/* Smaller sweeps under AddressSanitizer (every access is checked there). */
#if defined(__SANITIZE_ADDRESS__)
#define TK_ASAN 1
#else
#define TK_ASAN 0
#endif

/* ---- test tensors in every layout a conv accepts ------------------------ */

/* The first five are tests/support's tk_kind_t values. */
typedef enum lk {
    LK_NCHW = TK_NCHW,
    LK_NHWC = TK_NHWC,
    LK_PADDED = TK_PADDED,
    LK_PERMUTED = TK_PERMUTED,
    LK_NEGATIVE = TK_NEGATIVE,
    LK_B16,
    LK_B8,
} lk_t;

static const char *lk_name(lk_t k)
{
    return k == LK_B16 ? "NCHW16C" : k == LK_B8 ? "NCHW8C" : tk_kind_name((tk_kind_t)k);
}

static int64_t lk_block(lk_t k)
{
    return k == LK_B16 ? 16 : k == LK_B8 ? 8 : 0;
}

/* Where a tensor sits: with sentinel guard zones in the heap, or flush
 * against an inaccessible page after (G_END) or before (G_START) it. */
enum { G_NONE, G_END, G_START };

typedef struct lt {
    lk_t kind;
    int64_t dims[4];
    int64_t block, cb;  /* blocked: B and ceil(C / B) */
    int64_t strides[4]; /* not blocked */
    int64_t count;      /* floats of a blocked or guarded tensor */
    float *data;        /* what the library receives */
    tk_tensor_t t;      /* not blocked, not guarded */
    float *mem;         /* blocked, not guarded: count + 2 * TK_GUARD floats */
    tk_guarded_t g;     /* guarded */
} lt_t;

static int64_t numel4(const int64_t d[4])
{
    return d[0] * d[1] * d[2] * d[3];
}

static lt_t lt_new(const int64_t dims[4], lk_t kind, int guard)
{
    lt_t l;
    memset(&l, 0, sizeof l);
    l.kind = kind;
    memcpy(l.dims, dims, sizeof l.dims);
    l.block = lk_block(kind);
    if (l.block == 0 && guard == G_NONE) {
        l.t = tk_tensor_f32(dims, (tk_kind_t)kind);
        l.data = tk_fdata(&l.t);
        memcpy(l.strides, l.t.strides, sizeof l.strides);
        return l;
    }
    const int64_t C = dims[1], H = dims[2], W = dims[3];
    if (l.block != 0) {
        l.cb = (C + l.block - 1) / l.block;
        l.count = dims[0] * l.cb * H * W * l.block;
    } else {
        cr_assert(kind == LK_NCHW || kind == LK_NHWC, "guarded tensors are dense");
        l.count = numel4(dims);
        const int64_t nchw[4] = {C * H * W, H * W, W, 1}, nhwc[4] = {H * W * C, 1, W * C, C};
        memcpy(l.strides, kind == LK_NCHW ? nchw : nhwc, sizeof l.strides);
    }
    float *fill;
    int64_t nfill;
    if (guard != G_NONE) {
        l.g = tk_guarded_floats(l.count, guard == G_END);
        l.data = fill = l.g.data;
        nfill = l.count;
    } else {
        l.mem = malloc((size_t)(l.count + 2 * TK_GUARD) * sizeof(float));
        cr_assert_not_null(l.mem);
        fill = l.mem;
        l.data = l.mem + TK_GUARD;
        nfill = l.count + 2 * TK_GUARD;
    }
    for (int64_t i = 0; i < nfill; i++) fill[i] = tk_sentinel_f32();
    return l;
}

static void lt_free(lt_t *l)
{
    if (l->block == 0 && l->g.map == NULL) tk_tensor_free(&l->t);
    free(l->mem);
    tk_guarded_free(&l->g);
    l->data = l->mem = NULL;
}

static int64_t lt_off(const lt_t *l, int64_t n, int64_t c, int64_t h, int64_t w)
{
    if (l->block != 0)
        return (((n * l->cb + c / l->block) * l->dims[2] + h) * l->dims[3] + w) * l->block +
               c % l->block;
    return n * l->strides[0] + c * l->strides[1] + h * l->strides[2] + w * l->strides[3];
}

static float lt_get(const lt_t *l, int64_t n, int64_t c, int64_t h, int64_t w)
{
    return l->data[lt_off(l, n, c, h, w)];
}

static convkit_layout_t lt_layout(const lt_t *l)
{
    convkit_layout_t out = CONVKIT_LAYOUT_NCHW_INIT;
    if (l->kind == LK_B16) out.format = CONVKIT_FORMAT_NCHW16C;
    else if (l->kind == LK_B8) out.format = CONVKIT_FORMAT_NCHW8C;
    else if (l->g.map != NULL)
        out.format = l->kind == LK_NHWC ? CONVKIT_FORMAT_NHWC : CONVKIT_FORMAT_NCHW;
    else out = l->t.layout;
    return out;
}

/* Frees several tensors: LT_FREE(&a, &b, ...), TK_FREE(&t, &u, ...). */
static void lt_free_n(lt_t *const *l, size_t n)
{
    for (size_t i = 0; i < n; i++) lt_free(l[i]);
}

static void tk_free_n(tk_tensor_t *const *t, size_t n)
{
    for (size_t i = 0; i < n; i++) tk_tensor_free(t[i]);
}

#define LT_FREE(...)                                                                           \
    lt_free_n((lt_t *const[]){__VA_ARGS__}, sizeof((lt_t *const[]){__VA_ARGS__}) / sizeof(lt_t *))
#define TK_FREE(...)                                                                           \
    tk_free_n((tk_tensor_t *const[]){__VA_ARGS__},                                             \
              sizeof((tk_tensor_t *const[]){__VA_ARGS__}) / sizeof(tk_tensor_t *))

#define FOR4(d, n, c, h, w)                                                                    \
    for (int64_t n = 0; n < (d)[0]; n++)                                                       \
        for (int64_t c = 0; c < (d)[1]; c++)                                                   \
            for (int64_t h = 0; h < (d)[2]; h++)                                               \
                for (int64_t w = 0; w < (d)[3]; w++)

/* Logical elements := those of an NCHW master tensor (padding lanes and
 * gaps keep the sentinel). */
static void lt_load(lt_t *l, const tk_tensor_t *m)
{
    FOR4(l->dims, n, c, h, w) l->data[lt_off(l, n, c, h, w)] = tk_getf(m, n, c, h, w);
}

/* i runs over the float index of every padding lane of a blocked tensor
 * (none for other tensors). */
#define FOR_PAD_LANES(l, i)                                                                    \
    for (int64_t n_ = 0; n_ < (l)->dims[0]; n_++)                                              \
        for (int64_t p_ = 0; p_ < (l)->dims[2] * (l)->dims[3]; p_++)                           \
            for (int64_t ln_ = (l)->dims[1] - ((l)->cb - 1) * (l)->block;                      \
                 (l)->block != 0 && ln_ < (l)->block; ln_++)                                   \
                for (int64_t i = ((n_ * (l)->cb + (l)->cb - 1) * (l)->dims[2] * (l)->dims[3] + \
                                  p_) * (l)->block + ln_,                                      \
                             once_ = 0;                                                        \
                     once_ < 1; once_++)

/* Everything of an output outside its logical elements: padding lanes are
 * 0 (blocked), guard zones and gaps still hold the sentinel. */
static bool lt_outside_ok(const lt_t *l, char *msg, size_t len)
{
    msg[0] = '\0';
    if (l->block == 0 && l->g.map == NULL) return tk_gaps_intact(&l->t, msg, len);
    FOR_PAD_LANES(l, i)
    if (l->data[i] != 0.0f) {
        snprintf(msg, len, "%s padding lane at float %lld is %g (bits 0x%08x), not 0",
                 lk_name(l->kind), (long long)i, (double)l->data[i], tk_f32_bits(l->data[i]));
        return false;
    }
    if (l->mem != NULL)
        for (int64_t i = 0; i < TK_GUARD; i++)
            if (!tk_is_sentinel_f32(l->mem[i]) ||
                !tk_is_sentinel_f32(l->data[l->count + i])) {
                snprintf(msg, len, "%s guard zone written (%lld floats %s the tensor)",
                         lk_name(l->kind), (long long)i + 1,
                         tk_is_sentinel_f32(l->mem[i]) ? "after" : "before");
                return false;
            }
    return true;
}

/* Every float of the allocation still the sentinel. */
static bool lt_untouched(const lt_t *l)
{
    if (l->block == 0 && l->g.map == NULL) return tk_untouched(&l->t);
    const float *p = l->mem != NULL ? l->mem : l->data;
    const int64_t n = l->mem != NULL ? l->count + 2 * TK_GUARD : l->count;
    for (int64_t i = 0; i < n; i++)
        if (!tk_is_sentinel_f32(p[i])) return false;
    return true;
}

/* Logical elements (and padding lanes) of two same-layout tensors bitwise
 * equal. */
static bool lt_same_bits(const lt_t *a, const lt_t *b, char *msg, size_t len)
{
    FOR4(a->dims, n, c, h, w)
    if (tk_f32_bits(lt_get(a, n, c, h, w)) != tk_f32_bits(lt_get(b, n, c, h, w))) {
        snprintf(msg, len, "first difference at (%lld,%lld,%lld,%lld): %.9g vs %.9g",
                 (long long)n, (long long)c, (long long)h, (long long)w,
                 (double)lt_get(a, n, c, h, w), (double)lt_get(b, n, c, h, w));
        return false;
    }
    FOR_PAD_LANES(a, i)
    if (tk_f32_bits(a->data[i]) != tk_f32_bits(b->data[i])) {
        snprintf(msg, len, "padding lane at float %lld differs", (long long)i);
        return false;
    }
    return true;
}

/* ---- expected results ---------------------------------------------------- */

/* A dense NCHW expectation: value and allowed absolute error. */
typedef struct want {
    int64_t dims[4];
    double *val, *tol;
} want_t;

static void want_free(want_t *w)
{
    free(w->val);
    free(w->tol);
    w->val = w->tol = NULL;
}

/* A float64 reference result as an expectation with tests/support's
 * bound (frees r). */
static want_t want_from_ref(tk_ref_t *r)
{
    want_t out;
    memcpy(out.dims, r->dims, sizeof out.dims);
    const int64_t count = numel4(out.dims) > 0 ? numel4(out.dims) : 1;
    out.val = calloc((size_t)count, sizeof(double));
    out.tol = calloc((size_t)count, sizeof(double));
    cr_assert(out.val != NULL && out.tol != NULL);
    for (int64_t i = 0; i < numel4(out.dims); i++) {
        out.val[i] = r->val[i];
        out.tol[i] = BOUND_C * (double)(r->terms[i] > 0 ? r->terms[i] : 1) * ldexp(1.0, -24) *
                     r->mag[i];
    }
    tk_ref_free(r);
    return out;
}

/* act(conv(x, w) + bias) [+ res], from the float64 reference.  The bound
 * of the convolution is tests/support's; the activations widen it: RELU
 * is 1-Lipschitz, SIGMOID 1/4-Lipschitz plus a few ulps of its own
 * (convkit.h: within a few float ulps or 1e-6 absolute); the residual add
 * rounds once more. */
static want_t want_forward(const tk_conv_cfg_t *c, const tk_tensor_t *x, const tk_tensor_t *w,
                           const float *bias, uint32_t act, const tk_tensor_t *res)
{
    int64_t sd[4], wd[4], dd[4];
    tk_conv_dims(c, sd, wd, dd);
    tk_ref_t r = tk_ref_new(dd);
    tk_ref_conv_forward(c, x, w, bias, &r);
    want_t out = want_from_ref(&r);
    FOR4(out.dims, n, co, h, ow)
    {
        const int64_t i = ((n * dd[1] + co) * dd[2] + h) * dd[3] + ow;
        double v = out.val[i], tol = out.tol[i];
        if (act == CONVKIT_ACTIVATION_RELU) {
            v = v > 0.0 ? v : 0.0;
        } else if (act == CONVKIT_ACTIVATION_SIGMOID) {
            v = 1.0 / (1.0 + exp(-v));
            tol = 0.25 * tol + 4e-6 * v + 1e-6;
        }
        if (res != NULL) {
            const double rv = tk_getf(res, n, co, h, ow);
            v += rv;
            tol += ldexp(fabs(v) + fabs(rv), -23);
        }
        out.val[i] = v;
        out.tol[i] = tol;
    }
    return out;
}

static want_t want_backward_data(const tk_conv_cfg_t *c, const tk_tensor_t *gy,
                                 const tk_tensor_t *w)
{
    int64_t sd[4], wd[4], dd[4];
    tk_conv_dims(c, sd, wd, dd);
    tk_ref_t r = tk_ref_new(sd);
    tk_ref_conv_backward_data(c, gy, w, &r);
    return want_from_ref(&r);
}

/* Counts logical elements of got outside the bound: against the
 * expectation, or (other != NULL) against another result of the same
 * problem within twice the bound. */
static int64_t lt_compare(const lt_t *got, const want_t *want, const lt_t *other, char *msg,
                          size_t len)
{
    int64_t bad = 0;
    char first[300] = "";
    FOR4(got->dims, n, c, h, w)
    {
        const int64_t i = ((n * want->dims[1] + c) * want->dims[2] + h) * want->dims[3] + w;
        const float g = lt_get(got, n, c, h, w);
        const double e = other != NULL ? (double)lt_get(other, n, c, h, w) : want->val[i];
        const double tol = other != NULL ? 2.0 * want->tol[i] : want->tol[i];
        if (!(fabs((double)g - e) <= tol)) { /* NaN (sentinel) fails */
            if (bad++ == 0)
                snprintf(first, sizeof first,
                         "at (%lld,%lld,%lld,%lld) got %.9g%s expected %.9g (tol %.3g)",
                         (long long)n, (long long)c, (long long)h, (long long)w, (double)g,
                         tk_is_sentinel_f32(g) ? " (never written)" : "", e, tol);
        }
    }
    snprintf(msg, len, "%lld of %lld wrong (%s); first %s", (long long)bad,
             (long long)numel4(got->dims), lk_name(got->kind), first);
    return bad;
}

/* The output checks every forward gets. */
static void expect_out(const lt_t *got, const want_t *want, const lt_t *other, const char *what,
                       const char *ctx)
{
    char msg[500];
    cr_expect_eq(lt_compare(got, want, other, msg, sizeof msg), 0, "%s [%s]: %s", what, ctx, msg);
    cr_expect(lt_outside_ok(got, msg, sizeof msg), "%s [%s]: %s", what, ctx, msg);
}

/* ---- problems and plans -------------------------------------------------- */

/* A dense NCHW tensor of uniform values in [lo, hi). */
static tk_tensor_t random_nchw(const int64_t dims[4], uint64_t seed, float lo, float hi)
{
    tk_rng_t r;
    tk_rng_seed(&r, seed);
    tk_tensor_t t = tk_tensor_f32(dims, TK_NCHW);
    tk_fill_uniform(&t, &r, lo, hi);
    return t;
}

/* One problem: NCHW master data, bias, and the expected forward. */
typedef struct prob {
    tk_conv_cfg_t c;
    bool one_d;
    uint32_t act;
    int64_t sd[4], wd[4], dd[4];
    tk_tensor_t x, w;
    float *bias; /* NULL or cout floats */
    want_t want;
} prob_t;

static void prob_init(prob_t *p, const tk_conv_cfg_t *c, bool one_d, bool bias, uint32_t act,
                      uint64_t seed)
{
    memset(p, 0, sizeof *p);
    p->c = *c;
    p->one_d = one_d;
    p->act = act;
    tk_conv_dims(c, p->sd, p->wd, p->dd);
    char cfg[160];
    cr_assert(p->dd[2] >= 1 && p->dd[3] >= 1, "bad test configuration %s",
              tk_conv_cfg_str(c, cfg, sizeof cfg));
    p->x = random_nchw(p->sd, seed, -1.0f, 1.0f);
    p->w = random_nchw(p->wd, seed ^ 0x5555, -1.0f, 1.0f);
    tk_rng_t r;
    tk_rng_seed(&r, seed ^ 0xaaaa);
    if (bias) {
        p->bias = malloc((size_t)c->cout * sizeof(float));
        cr_assert_not_null(p->bias);
        for (int64_t i = 0; i < c->cout; i++) p->bias[i] = tk_rng_float(&r, -1.0f, 1.0f);
    }
    p->want = want_forward(c, &p->x, &p->w, p->bias, act, NULL);
}

static void prob_free(prob_t *p)
{
    TK_FREE(&p->x, &p->w);
    free(p->bias);
    want_free(&p->want);
}

/* The fields conv1d and conv2d params share, set for plan_try. */
#define PLAN_FIELDS(q)                                                                         \
    do {                                                                                       \
        (q).src_layout = ls;                                                                   \
        (q).weight_layout = lw;                                                                \
        (q).dst_layout = ld;                                                                   \
        (q).algorithm = alg;                                                                   \
        (q).activation = p->act;                                                               \
    } while (0)

static convkit_status_t plan_try(const prob_t *p, convkit_layout_t ls, convkit_layout_t lw,
                                 convkit_layout_t ld, uint32_t alg, convkit_plan_t **plan)
{
    if (p->one_d) {
        convkit_conv1d_params_t q = tk_conv1d_params(&p->c, p->bias != NULL);
        PLAN_FIELDS(q);
        return convkit_conv1d_create(&q, plan);
    }
    convkit_conv2d_params_t q = tk_conv2d_params(&p->c, p->bias != NULL);
    PLAN_FIELDS(q);
    return convkit_conv2d_create(&q, plan);
}

static convkit_plan_t *plan_make(const prob_t *p, const lt_t *x, const lt_t *y, uint32_t alg,
                                 const char *ctx)
{
    convkit_plan_t *plan = NULL;
    const convkit_status_t st = plan_try(p, lt_layout(x), p->w.layout, lt_layout(y), alg, &plan);
    cr_assert_eq(st, CONVKIT_SUCCESS, "create [%s]: %s (%s)", ctx, convkit_status_string(st),
                 convkit_last_error());
    int64_t dims[4];
    cr_assert_eq(convkit_plan_output_dims(plan, dims), CONVKIT_SUCCESS);
    for (int d = 0; d < 4; d++) cr_assert_eq(dims[d], p->dd[d], "[%s] output dim %d", ctx, d);
    return plan;
}

/* The engine's impl-name suffix at this process's cap for a dst kind
 * (NULL at the scalar cap, which has no engine). */
static const char *engine_suffix(lk_t dst)
{
    switch (convkit_get_max_isa()) {
    case CONVKIT_ISA_AVX512: return dst == LK_B8 ? ":direct-8:avx2" : ":direct-16:avx512";
    case CONVKIT_ISA_AVX2: return ":direct-8:avx2";
    default: return NULL;
    }
}

/* Lanes of the engine at this cap for a dst kind (16 at the scalar cap:
 * the sweeps then just run the reference). */
static int64_t engine_lanes(lk_t dst)
{
    const char *s = engine_suffix(dst);
    return s != NULL && strstr(s, "direct-8") != NULL ? 8 : 16;
}

static bool ends_with(const char *s, const char *suffix)
{
    const size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* Unit stride along C / W of a layout kind for tensor dims (a dim of
 * size 1 counts as unit stride, as the library treats it). */
static bool unit_c(lk_t k, const int64_t d[4])
{
    return lk_block(k) || k == LK_NHWC || k == LK_PERMUTED || d[1] == 1 ||
           (k == LK_NCHW && d[2] * d[3] == 1);
}

static bool unit_w(lk_t k, const int64_t d[4])
{
    return k == LK_NCHW || d[3] == 1 || (k == LK_NHWC && d[1] == 1);
}

typedef enum impl { IMPL_ENGINE, IMPL_GEMM, IMPL_REF, IMPL_ERROR, IMPL_DEPTHWISE } impl_t;

/* What convkit.h says a plan runs.  DIRECT: the engine for groups == 1,
 * zero padding and a dst blocked or unit stride along C or W (the
 * reference loop at the scalar cap), else INVALID_ARGUMENT.  AUTO at AVX2
 * and AVX-512: the engine for those problems when an operand is blocked,
 * both are NHWC-like, or the kernel is larger than 1x1 or strided; GEMM
 * otherwise and at the scalar cap.  Depthwise problems (groups ==
 * in_channels; with a blocked operand only when groups > 1) belong to the
 * depthwise kernels, checked by expect_depthwise_impl. */
static impl_t expected_impl(const prob_t *p, lk_t src, lk_t dst, uint32_t alg)
{
    const tk_conv_cfg_t *c = &p->c;
    const bool blocked = lk_block(src) || lk_block(dst);
    if (alg == GEMM) return IMPL_GEMM;
    if (c->groups == c->cin && (!blocked || c->groups > 1)) return IMPL_DEPTHWISE;
    const bool avx = engine_suffix(dst) != NULL;
    const bool takes = c->mode == Z && c->groups == 1 &&
                       (unit_c(dst, p->dd) || unit_w(dst, p->dd));
    if (alg == DIRECT) return !takes ? IMPL_ERROR : avx ? IMPL_ENGINE : IMPL_REF;
    if (!avx || !takes) return IMPL_GEMM;
    if (blocked || (unit_c(src, p->sd) && unit_c(dst, p->dd))) return IMPL_ENGINE;
    /* NCHW-like: only with at least 128 output pixels (convkit.h) */
    if ((c->kh * c->kw > 1 || c->sh > 1 || c->sw > 1) && p->dd[0] * p->dd[2] * p->dd[3] >= 128)
        return IMPL_ENGINE;
    return IMPL_GEMM;
}

static void expect_impl(convkit_plan_t *plan, const prob_t *p, lk_t src, lk_t dst, uint32_t alg,
                        const char *ctx)
{
    const char *name = convkit_plan_impl_name(plan);
    switch (expected_impl(p, src, dst, alg)) {
    case IMPL_ENGINE:
        cr_expect(ends_with(name, engine_suffix(dst)), "[%s] runs %s, expected *%s", ctx, name,
                  engine_suffix(dst));
        break;
    case IMPL_GEMM:
        cr_expect(strstr(name, ":gemm-") != NULL, "[%s] runs %s, expected GEMM", ctx, name);
        break;
    case IMPL_REF:
        cr_expect(ends_with(name, ":direct-ref:scalar"), "[%s] runs %s", ctx, name);
        break;
    default:
        cr_expect(strstr(name, ":direct-16:") == NULL && strstr(name, ":direct-8:") == NULL,
                  "[%s] runs %s", ctx, name);
        break;
    }
}

/* A create call the rules above reject: INVALID_ARGUMENT naming
 * `algorithm`, the plan pointer untouched. */
static void expect_algorithm_rejected(const prob_t *p, const lt_t *x, const lt_t *y, uint32_t alg,
                                      const char *ctx)
{
    convkit_plan_t *const sentinel = (convkit_plan_t *)(uintptr_t)0x77;
    convkit_plan_t *plan = sentinel;
    const convkit_status_t st = plan_try(p, lt_layout(x), p->w.layout, lt_layout(y), alg, &plan);
    cr_expect_eq(st, CONVKIT_ERROR_INVALID_ARGUMENT, "[%s] status %d (%s)", ctx, st,
                 convkit_last_error());
    cr_expect(strstr(convkit_last_error(), "algorithm") != NULL, "[%s] message '%s'", ctx,
              convkit_last_error());
    cr_expect(plan == sentinel, "[%s] plan written on failure", ctx);
    if (st == CONVKIT_SUCCESS && plan != sentinel) convkit_plan_destroy(plan);
}

static void make_ctx(char *ctx, size_t len, const prob_t *p, lk_t src, lk_t dst, uint32_t alg,
                     const char *tag)
{
    char cfg[160];
    snprintf(ctx, len, "%s %s %s src=%s dst=%s alg=%u bias=%d act=%u isa=%s", tag,
             p->one_d ? "1d" : "2d", tk_conv_cfg_str(&p->c, cfg, sizeof cfg), lk_name(src),
             lk_name(dst), alg, p->bias != NULL, p->act, convkit_isa_name(convkit_get_max_isa()));
}

/* Forward of one problem with src/dst in the given kinds: the plan of
 * `alg` (checked to run the engine) and a GEMM plan, each against the
 * reference, and against each other. */
static void run_layouts(const prob_t *p, lk_t src, lk_t dst, uint32_t alg, const char *tag)
{
    char ctx[400];
    make_ctx(ctx, sizeof ctx, p, src, dst, alg, tag);
    lt_t x = lt_new(p->sd, src, G_NONE), y = lt_new(p->dd, dst, G_NONE);
    lt_t yg = lt_new(p->dd, dst, G_NONE);
    lt_load(&x, &p->x);
    convkit_plan_t *plan = NULL;
    if (expected_impl(p, src, dst, alg) == IMPL_ERROR) {
        expect_algorithm_rejected(p, &x, &y, alg, ctx);
    } else {
        plan = plan_make(p, &x, &y, alg, ctx);
        expect_impl(plan, p, src, dst, alg, ctx);
        const convkit_status_t st =
            convkit_conv_forward(plan, x.data, tk_fdata(&p->w), p->bias, y.data);
        cr_expect_eq(st, CONVKIT_SUCCESS, "forward [%s]: %s", ctx, convkit_last_error());
        expect_out(&y, &p->want, NULL, convkit_plan_impl_name(plan), ctx);
    }
    convkit_plan_t *gemm = plan_make(p, &x, &yg, GEMM, ctx);
    expect_impl(gemm, p, src, dst, GEMM, ctx);
    const convkit_status_t st =
        convkit_conv_forward(gemm, x.data, tk_fdata(&p->w), p->bias, yg.data);
    cr_expect_eq(st, CONVKIT_SUCCESS, "GEMM forward [%s]: %s", ctx, convkit_last_error());
    expect_out(&yg, &p->want, NULL, convkit_plan_impl_name(gemm), ctx);
    char msg[500];
    if (plan != NULL)
        cr_expect_eq(lt_compare(&y, &p->want, &yg, msg, sizeof msg), 0, "vs GEMM [%s]: %s", ctx,
                     msg);
    convkit_plan_destroy(plan);
    convkit_plan_destroy(gemm);
    LT_FREE(&x, &y, &yg);
}

typedef struct combo {
    lk_t src, dst;
    uint32_t alg;
} combo_t;

/* Every combo on every configuration, bias alternating, one reference per
 * configuration. */
static void run_table(const tk_conv_cfg_t *cfgs, size_t ncfg, const combo_t *combos,
                      size_t ncombo, bool one_d, uint32_t act, uint64_t seed, const char *tag)
{
    for (size_t i = 0; i < ncfg; i++)
        for (int bias = 0; bias < 2; bias++) {
            prob_t p;
            prob_init(&p, &cfgs[i], one_d, bias, act, seed + i * 2 + (uint64_t)bias);
            for (size_t k = (size_t)bias; k < ncombo; k += 2)
                run_layouts(&p, combos[k].src, combos[k].dst, combos[k].alg, tag);
            prob_free(&p);
        }
}

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* The src/dst pairings most sweeps run (alternating with and without
 * bias): blocked both ways (16/16, 8/8, 16/8, 8/16), blocked on one side
 * only (NCHW, NHWC or gapped NHWC-like on the other), NHWC and NCHW both
 * (DIRECT: the engine reads NHWC in place and reorders NCHW). */
static const combo_t std_combos[] = {
    {LK_B16, LK_B16, AUTO},     {LK_B8, LK_B8, AUTO},      {LK_NHWC, LK_NHWC, DIRECT},
    {LK_NCHW, LK_NCHW, DIRECT}, {LK_B16, LK_B8, AUTO},     {LK_B8, LK_B16, AUTO},
    {LK_NCHW, LK_B16, DIRECT},  {LK_B8, LK_PERMUTED, AUTO}, {LK_B16, LK_NHWC, DIRECT},
    {LK_NHWC, LK_B8, AUTO},     {LK_B16, LK_NCHW, AUTO},   {LK_NCHW, LK_B8, DIRECT},
};

/* A Test running a combo list on the configurations given (the rest of
 * the arguments), with the fused activation `act`; TABLE_TEST with
 * std_combos. */
#define COMBO_TEST(name, combos, one_d, act, seed, ...)                                        \
    Test(conv_blocked, name, .timeout = 900)                                                   \
    {                                                                                          \
        const tk_conv_cfg_t cfgs[] = {__VA_ARGS__};                                            \
        run_table(cfgs, COUNT(cfgs), combos, COUNT(combos), one_d, act, seed, #name);          \
    }
#define TABLE_TEST(name, one_d, act, seed, ...)                                                \
    COMBO_TEST(name, std_combos, one_d, act, seed, __VA_ARGS__)

/* ---- 1. forward against the reference and GEMM, many shapes ------------- */

/* Interior output columns (every tap inside the input), counted directly. */
static int64_t interior_width(const tk_conv_cfg_t *c)
{
    int64_t oh, ow, n = 0;
    tk_conv_out_dims(c, &oh, &ow);
    for (int64_t o = 0; o < ow; o++) {
        const int64_t first = o * c->sw - c->pl, last = first + (c->kw - 1) * c->dw;
        n += first >= 0 && last < c->w;
    }
    return n;
}

/* The largest UR of the engine's tiles per NB (index NB - 1): the arch
 * files' CKC_UR_NB1..4 at 16 and at 8 lanes. */
static const int64_t ur_max16[4] = {28, 14, 9, 6}, ur_max8[4] = {12, 6, 4, 2};

/* Every register tile NB (1..4 vectors) x UR (every interior width up to
 * the largest UR, then two and three tiles with every remainder), in the
 * four input-pixel-step variants: blocked src of the engine's block at
 * stride 1 (step B; unpadded, and padded by one, where the rows are cut
 * into edge tiles that take in the padded columns) and stride 2 (2B), an
 * NHWC src with dilation (any step), and a first layer's NCHW src (3
 * channels, read in place) at stride 2 (step 2); dst kinds rotate.  C_out
 * spans `ocb` vectors (full or with a tail); with ocb <= 4 the engine's
 * tile model mostly takes NB = ocb, with 5..7 the output-channel groups
 * have different NB. */
Test(conv_blocked, register_tiles_every_width, .timeout = 900)
{
    const int64_t L = engine_lanes(LK_NCHW);
    const int64_t *ur_max = L == 16 ? ur_max16 : ur_max8;
    const lk_t bl = L == 16 ? LK_B16 : LK_B8;
    const lk_t dsts[] = {bl, LK_NHWC, LK_NCHW, LK_PERMUTED};
    uint64_t seed = 100;
    for (int64_t ocb = 1; ocb <= 7; ocb++) {
        const int64_t urmax = ur_max[ocb <= 4 ? ocb - 1 : 2];
        const int64_t top = TK_ASAN || ocb > 4 ? urmax + 2 : 2 * urmax + 3;
        for (int64_t width = 1; width <= top; width++)
            for (int variant = 0; variant < 5; variant++) {
                const int64_t cout = ocb * L - width % 3;
                tk_conv_cfg_t c =
                    variant == 0   ? CFG(1, 3, 3, 1, cout, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, Z)
                    : variant == 1 ? CFG(1, 3, 3, 1, cout, 3, 3, 1, 2, 1, 1, 1, 1, 1, 1, 1, Z)
                    : variant == 2 ? CFG(1, 5, 3, 1, cout, 3, 3, 1, 1, 1, 1, 2, 2, 1, 2, 1, Z)
                    : variant == 3 ? CFG(1, 3, 3, 1, cout, 3, 3, 1, 2, 1, 1, 1, 1, 1, 1, 1, Z)
                                   : CFG(1, 3, 3, 1, cout, 3, 3, 1, 1, 0, 0, 0, 0, 1, 1, 1, Z);
                while (interior_width(&c) < width) c.w++;
                cr_assert_eq(interior_width(&c), width);
                const lk_t src = variant == 2 ? LK_NHWC : variant == 3 ? LK_NCHW : bl;
                const lk_t dst = dsts[(width + variant) % 4];
                prob_t p;
                prob_init(&p, &c, false, (width + variant) % 2, CONVKIT_ACTIVATION_NONE, seed++);
                run_layouts(&p, src, dst, DIRECT, "tiles");
                prob_free(&p);
            }
    }
}

/* C_in and C_out tails, strides, dilations, asymmetric and large padding
 * (rows and columns without a valid tap), no interior column at all, 1x1,
 * 1xk and kx1 kernels, batch > 1, 1x1 inputs; each with blocked, NHWC and
 * NCHW operands (a 16-blocked dst at the AVX2 cap is filled by pairs of
 * 8-lane vectors). */
TABLE_TEST(shapes_against_reference_and_gemm, false, CONVKIT_ACTIVATION_NONE, 2000,
    CFG(2, 3, 7, 9, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, Z),
    CFG(1, 1, 6, 11, 17, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, Z),
    CFG(1, 5, 8, 8, 33, 5, 5, 1, 1, 2, 2, 2, 2, 1, 1, 1, Z),
    CFG(2, 17, 9, 10, 9, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, Z),
    CFG(1, 33, 10, 13, 31, 3, 3, 3, 3, 2, 1, 2, 0, 1, 1, 1, Z),
    CFG(1, 16, 9, 12, 16, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 1, Z),
    CFG(1, 8, 7, 9, 8, 3, 3, 1, 2, 4, 4, 4, 4, 1, 1, 1, Z),
    CFG(1, 24, 5, 6, 48, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, Z),
    CFG(1, 7, 9, 8, 65, 1, 7, 1, 1, 0, 0, 3, 3, 1, 1, 1, Z),
    CFG(1, 9, 11, 4, 15, 7, 1, 2, 1, 3, 3, 0, 0, 1, 1, 1, Z),
    CFG(1, 4, 3, 2, 20, 3, 5, 1, 1, 1, 1, 2, 2, 1, 1, 1, Z),
    CFG(3, 2, 4, 5, 1, 2, 2, 1, 1, 0, 1, 1, 0, 1, 1, 1, Z),
    CFG(1, 3, 1, 1, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, Z),
    CFG(2, 20, 6, 7, 24, 3, 3, 1, 1, 0, 0, 0, 0, 1, 1, 1, Z),
    CFG(1, 6, 12, 40, 2, 3, 3, 1, 1, 0, 2, 5, 1, 3, 1, 1, Z),
    CFG(1, 2, 5, 16, 3, 2, 4, 2, 3, 0, 3, 0, 4, 2, 2, 1, Z),
    CFG(1, 40, 4, 5, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, Z))

/* The input channels in several passes over the packed weights (128 KB
 * of them per pass), the partial sums waiting in the per-thread scratch
 * for blocks of several output rows: 3x3 with C_in 250 (a chunk tail) and
 * C_out 72 (the last output-channel group has one vector), stride 2 too,
 * and 1x1 with C_in 2050; with the src read in place (both blocks, NHWC)
 * and reordered (NCHW). */
TABLE_TEST(multi_pass_reduction, false, CONVKIT_ACTIVATION_NONE, 3000,
    CFG(1, 250, 9, TK_ASAN ? 20 : 30, 72, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, Z),
    CFG(1, 256, 7, 9, 64, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, Z),
    CFG(2, 2050, 3, 5, 40, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, Z))

/* 1x1 stride-1 unpadded problems whose src and dst rows are contiguous
 * are regrouped into rows of whole tiles, the last row shorter (widths 13,
 * 17, 11 and 7 end in a narrower tile); C_in 300 and 140 also take the
 * software prefetch (in several passes for 300, at stride 2 for 140: in
 * place for blocked and NHWC src, regrouped after the strided reorder of
 * an NCHW src); a first layer's NCHW src read in place; a 1-pixel-wide
 * plane and a 1-row one (not regrouped); the first layers of MobileNet
 * (3x3) and ResNet (7x7) at stride 2, on small planes. */
TABLE_TEST(flat_1x1_and_first_layers, false, CONVKIT_ACTIVATION_NONE, 3500,
    CFG(2, 20, 7, 13, 64, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, Z),
    CFG(1, 3, 11, 17, 40, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, Z),
    CFG(2, 300, 5, 11, 70, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, Z),
    CFG(1, 140, 9, 14, 24, 1, 1, 2, 2, 0, 0, 0, 0, 1, 1, 1, Z),
    CFG(1, 130, 6, 7, 20, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, Z),
    CFG(3, 9, 1, 23, 33, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, Z),
    CFG(1, 17, 29, 1, 18, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, Z),
    CFG(2, 3, 23, 29, 32, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, Z),
    CFG(1, 3, 19, 21, 64, 7, 7, 2, 2, 3, 3, 3, 3, 1, 1, 1, Z))

TABLE_TEST(conv1d, true, CONVKIT_ACTIVATION_NONE, 4000,
    CFG(2, 19, 1, 40, 21, 1, 5, 1, 1, 0, 0, 2, 2, 1, 1, 1, Z),
    CFG(1, 3, 1, 100, 8, 1, 3, 1, 2, 0, 0, 1, 0, 1, 2, 1, Z),
    CFG(1, 300, 1, 33, 70, 1, 3, 1, 1, 0, 0, 1, 1, 1, 1, 1, Z))

/* Fused activations: RELU and SIGMOID on every dst kind (sigmoid(0) is
 * 0.5, yet the padding lanes of a blocked dst must still be 0). */
#define ACT_CFGS                                                                               \
    CFG(2, 7, 6, 9, 21, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, Z),                                   \
        CFG(1, 18, 5, 12, 5, 3, 3, 2, 1, 2, 2, 0, 3, 1, 2, 1, Z)
TABLE_TEST(fused_relu, false, CONVKIT_ACTIVATION_RELU, 5000, ACT_CFGS)
TABLE_TEST(fused_sigmoid, false, CONVKIT_ACTIVATION_SIGMOID, 5100, ACT_CFGS)

/* ---- 2. layout round trips ------------------------------------------------ */

/* Every pairing of blocked, dense and strided src/dst (strided src with
 * negative strides or gaps, read only), each with and without bias,
 * against the reference and GEMM. */
Test(conv_blocked, layout_round_trips, .timeout = 600)
{
    const tk_conv_cfg_t cfgs[] = {
        CFG(2, 19, 5, 7, 21, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, Z),
        CFG(1, 8, 6, 11, 16, 3, 2, 2, 1, 0, 1, 1, 0, 1, 2, 1, Z),
        CFG(1, 33, 4, 4, 40, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, Z),
        /* 1x1 with rows ending in a narrower tile: regrouped only where
         * src and dst rows are both contiguous */
        CFG(1, 33, 5, 29, 64, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, Z),
        CFG(2, 20, 3, 11, 20, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, Z),
    };
    const combo_t strided[] = {
        {LK_NEGATIVE, LK_B16, AUTO},    {LK_PADDED, LK_B8, AUTO},
        {LK_PERMUTED, LK_NCHW, DIRECT}, {LK_NEGATIVE, LK_NHWC, DIRECT},
        {LK_B16, LK_PERMUTED, AUTO},    {LK_NHWC, LK_NCHW, DIRECT},
        {LK_B16, LK_B16, DIRECT},       {LK_B8, LK_NCHW, AUTO},
    };
    for (size_t shift = 0; shift < 2; shift++) {
        run_table(cfgs, COUNT(cfgs), std_combos + shift, COUNT(std_combos) - shift, false,
                  CONVKIT_ACTIVATION_NONE, 6000 + 100 * shift, "round trip");
        run_table(cfgs, COUNT(cfgs), strided + shift, COUNT(strided) - shift, false,
                  CONVKIT_ACTIVATION_NONE, 6200 + 100 * shift, "round trip");
    }
}

/* A dst with gaps along W (STRIDED, W stride 2) has neither unit stride
 * along C nor along W: DIRECT rejects it (naming `algorithm`), AUTO with a
 * blocked src runs GEMM through a dense copy.  With C_out == 1 or
 * W_out == 1 the same layout is unit stride along C or W and the engine
 * takes it. */
static const combo_t gapped_dst_combos[] = {
    {LK_PADDED, LK_PADDED, DIRECT},
    {LK_B16, LK_PADDED, AUTO},
    {LK_B8, LK_PADDED, AUTO},
    {LK_NCHW, LK_PADDED, DIRECT},
};
COMBO_TEST(strided_dst_with_gaps, gapped_dst_combos, false, CONVKIT_ACTIVATION_NONE, 6500,
           CFG(2, 19, 5, 7, 21, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, Z),
           CFG(1, 8, 6, 11, 16, 3, 2, 2, 1, 0, 1, 1, 0, 1, 2, 1, Z),
           CFG(2, 7, 5, 9, 1, 3, 3, 1, 2, 1, 1, 1, 1, 1, 1, 1, Z),
           CFG(1, 5, 6, 3, 19, 3, 3, 1, 1, 1, 1, 0, 0, 1, 1, 1, Z))

/* Problems the engine does not take (groups, depthwise, reflect padding)
 * still accept blocked src/dst: dense copies around the GEMM and depthwise
 * paths. */
Test(conv_blocked, blocked_layouts_on_other_paths, .timeout = 600)
{
    const tk_conv_cfg_t cfgs[] = {
        CFG(2, 6, 5, 7, 10, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2, Z),
        CFG(1, 16, 6, 6, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 16, Z),
        CFG(1, 5, 6, 7, 9, 3, 3, 1, 1, 1, 2, 2, 1, 1, 1, 1, CONVKIT_PADDING_REFLECT),
    };
    const lk_t kinds[][2] = {{LK_B16, LK_B16}, {LK_B8, LK_NCHW}, {LK_NHWC, LK_B8}, {LK_B16, LK_B8}};
    for (size_t i = 0; i < COUNT(cfgs); i++) {
        prob_t p;
        prob_init(&p, &cfgs[i], false, i % 2, CONVKIT_ACTIVATION_NONE, 6900 + i);
        for (size_t k = 0; k < COUNT(kinds); k++)
            for (uint32_t alg = AUTO; alg <= GEMM; alg++) {
                char ctx[400];
                make_ctx(ctx, sizeof ctx, &p, kinds[k][0], kinds[k][1], alg, "other path");
                lt_t x = lt_new(p.sd, kinds[k][0], G_NONE), y = lt_new(p.dd, kinds[k][1], G_NONE);
                lt_load(&x, &p.x);
                convkit_plan_t *plan = plan_make(&p, &x, &y, alg, ctx);
                expect_impl(plan, &p, kinds[k][0], kinds[k][1], alg, ctx);
                cr_expect_eq(convkit_conv_forward(plan, x.data, tk_fdata(&p.w), p.bias, y.data),
                             CONVKIT_SUCCESS, "[%s] %s", ctx, convkit_last_error());
                expect_out(&y, &p.want, NULL, "forward", ctx);
                convkit_plan_destroy(plan);
                LT_FREE(&x, &y);
            }
        prob_free(&p);
    }
}

/* batch 0: nothing to compute, nothing written. */
Test(conv_blocked, batch_zero)
{
    const tk_conv_cfg_t c = CFG(0, 19, 5, 6, 21, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, Z);
    const combo_t combos[] = {{LK_B16, LK_B16, AUTO}, {LK_B8, LK_B16, AUTO},
                              {LK_NCHW, LK_NCHW, DIRECT}, {LK_NHWC, LK_B8, DIRECT}};
    prob_t p;
    prob_init(&p, &c, false, true, CONVKIT_ACTIVATION_NONE, 7000);
    float dummy[64];
    for (int i = 0; i < 64; i++) dummy[i] = tk_sentinel_f32();
    for (size_t k = 0; k < COUNT(combos); k++) {
        char ctx[400];
        make_ctx(ctx, sizeof ctx, &p, combos[k].src, combos[k].dst, combos[k].alg, "batch 0");
        lt_t x = lt_new(p.sd, combos[k].src, G_NONE), y = lt_new(p.dd, combos[k].dst, G_NONE);
        convkit_plan_t *plan = plan_make(&p, &x, &y, combos[k].alg, ctx);
        expect_impl(plan, &p, combos[k].src, combos[k].dst, combos[k].alg, ctx);
        cr_expect_eq(convkit_conv_forward(plan, x.data, tk_fdata(&p.w), p.bias, dummy),
                     CONVKIT_SUCCESS, "[%s] %s", ctx, convkit_last_error());
        cr_expect_eq(convkit_conv_forward(plan, NULL, tk_fdata(&p.w), p.bias, NULL),
                     CONVKIT_SUCCESS, "[%s] NULL tensors of 0 elements: %s", ctx,
                     convkit_last_error());
        for (int i = 0; i < 64; i++) cr_expect(tk_is_sentinel_f32(dummy[i]), "[%s] wrote", ctx);
        /* backward-weights and -bias write zeros */
        float gw[19 * 21 * 9], gb[21];
        for (int i = 0; i < 19 * 21 * 9; i++) gw[i] = tk_sentinel_f32();
        for (int i = 0; i < 21; i++) gb[i] = tk_sentinel_f32();
        cr_expect_eq(convkit_conv_backward_weights(plan, dummy, dummy, gw), CONVKIT_SUCCESS);
        cr_expect_eq(convkit_conv_backward_bias(plan, dummy, gb), CONVKIT_SUCCESS);
        for (int i = 0; i < 19 * 21 * 9; i++) cr_expect(gw[i] == 0.0f, "[%s] grad_weight", ctx);
        for (int i = 0; i < 21; i++) cr_expect(gb[i] == 0.0f, "[%s] grad_bias", ctx);
        convkit_plan_destroy(plan);
        LT_FREE(&x, &y);
    }
    prob_free(&p);
}

/* 1, 2 and 3 threads give bitwise identical results for one combo of a
 * problem, which is also within the bound; impl(plan, p, src, dst, alg,
 * ctx) checks the plan's algorithm. */
typedef void (*impl_check_fn)(convkit_plan_t *plan, const prob_t *p, lk_t src, lk_t dst,
                              uint32_t alg, const char *ctx);

static void threads_case(const prob_t *p, const combo_t *cb, impl_check_fn impl, const char *tag)
{
    char ctx[400], msg[300];
    make_ctx(ctx, sizeof ctx, p, cb->src, cb->dst, cb->alg, tag);
    lt_t x = lt_new(p->sd, cb->src, G_NONE), y[3];
    lt_load(&x, &p->x);
    for (int t = 0; t < 3; t++) y[t] = lt_new(p->dd, cb->dst, G_NONE);
    convkit_plan_t *plan = plan_make(p, &x, &y[0], cb->alg, ctx);
    impl(plan, p, cb->src, cb->dst, cb->alg, ctx);
    for (int t = 0; t < 3; t++) {
        cr_assert_eq(convkit_set_num_threads(t + 1), CONVKIT_SUCCESS);
        cr_expect_eq(convkit_conv_forward(plan, x.data, tk_fdata(&p->w), p->bias, y[t].data),
                     CONVKIT_SUCCESS);
    }
    convkit_set_num_threads(0);
    expect_out(&y[0], &p->want, NULL, "1 thread", ctx);
    for (int t = 1; t < 3; t++)
        cr_expect(lt_same_bits(&y[t], &y[0], msg, sizeof msg), "[%s] %d threads vs 1: %s", ctx,
                  t + 1, msg);
    convkit_plan_destroy(plan);
    LT_FREE(&x, &y[0], &y[1], &y[2]);
}

Test(conv_blocked, thread_count_does_not_change_results, .timeout = 600)
{
    const tk_conv_cfg_t c = CFG(2, 150, 9, 23, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, Z);
    const combo_t combos[] = {{LK_B16, LK_B16, AUTO}, {LK_B8, LK_B8, AUTO},
                              {LK_NCHW, LK_NCHW, DIRECT}, {LK_NHWC, LK_NHWC, DIRECT}};
    prob_t p;
    prob_init(&p, &c, false, true, CONVKIT_ACTIVATION_NONE, 7100);
    for (size_t k = 0; k < COUNT(combos); k++) threads_case(&p, &combos[k], expect_impl, "threads");
    prob_free(&p);
}

/* ---- 3. convkit_conv_set_weights ------------------------------------------ */

static void set_weights_case(lk_t src, lk_t dst, uint32_t alg, tk_kind_t wkind, uint64_t seed)
{
    const tk_conv_cfg_t c = CFG(1, 19, 5, 9, 21, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, Z);
    prob_t p;
    prob_init(&p, &c, false, true, CONVKIT_ACTIVATION_NONE, seed);
    char ctx[400], msg[300];
    make_ctx(ctx, sizeof ctx, &p, src, dst, alg, tk_kind_name(wkind));
    /* w1 = the problem's weights, w2 new ones, both in weight layout wkind */
    tk_tensor_t w1 = tk_tensor_f32(p.wd, wkind), w2 = tk_tensor_f32(p.wd, wkind);
    tk_tensor_t w2m = random_nchw(p.wd, seed + 1, -1.0f, 1.0f);
    tk_copy_values(&w1, &p.w);
    tk_copy_values(&w2, &w2m);
    want_t want2 = want_forward(&c, &p.x, &w2m, p.bias, CONVKIT_ACTIVATION_NONE, NULL);
    /* backward-data takes the stored weights too (convkit.h): grad_dst gym */
    tk_tensor_t gym = random_nchw(p.dd, seed + 2, -1.0f, 1.0f);
    want_t wbd1 = want_backward_data(&c, &gym, &p.w), wbd2 = want_backward_data(&c, &gym, &w2m);

    lt_t x = lt_new(p.sd, src, G_NONE), y[5], gx[4], gy = lt_new(p.dd, dst, G_NONE);
    lt_load(&x, &p.x);
    lt_load(&gy, &gym);
    for (int i = 0; i < 5; i++) y[i] = lt_new(p.dd, dst, G_NONE);
    for (int i = 0; i < 4; i++) gx[i] = lt_new(p.sd, src, G_NONE);
    convkit_plan_t *plan = NULL;
    const convkit_status_t cst =
        plan_try(&p, lt_layout(&x), w1.layout, lt_layout(&y[0]), alg, &plan);
    cr_assert_eq(cst, CONVKIT_SUCCESS, "[%s] %s", ctx, convkit_last_error());
    expect_impl(plan, &p, src, dst, alg, ctx);

    /* no weights yet: NULL is refused, nothing written */
    convkit_status_t st = convkit_conv_forward(plan, x.data, NULL, p.bias, y[0].data);
    cr_expect_eq(st, CONVKIT_ERROR_NULL_POINTER, "[%s] weight NULL before set_weights: %d", ctx,
                 st);
    cr_expect(strstr(convkit_last_error(), "weight") != NULL, "[%s] message '%s'", ctx,
              convkit_last_error());
    cr_expect(lt_untouched(&y[0]), "[%s] dst written by a failing forward", ctx);
    st = convkit_conv_backward_data(plan, gy.data, NULL, gx[0].data);
    cr_expect_eq(st, CONVKIT_ERROR_NULL_POINTER, "[%s] backward_data weight NULL: %d", ctx, st);
    cr_expect(lt_untouched(&gx[0]), "[%s] grad_src written by a failing backward_data", ctx);
    st = convkit_conv_set_weights(plan, NULL);
    cr_expect_eq(st, CONVKIT_ERROR_NULL_POINTER, "[%s] set_weights(NULL): %d", ctx, st);
    cr_expect(strstr(convkit_last_error(), "weight") != NULL, "[%s] message '%s'", ctx,
              convkit_last_error());

    /* y0: explicit w1; y1: stored w1 (the caller's buffer scribbled after) */
    cr_expect_eq(convkit_conv_forward(plan, x.data, tk_fdata(&w1), p.bias, y[0].data),
                 CONVKIT_SUCCESS, "[%s] %s", ctx, convkit_last_error());
    expect_out(&y[0], &p.want, NULL, "explicit w1", ctx);
    tk_tensor_t wcopy = tk_tensor_f32(p.wd, wkind);
    tk_copy_values(&wcopy, &w1);
    cr_expect_eq(convkit_conv_set_weights(plan, tk_fdata(&wcopy)), CONVKIT_SUCCESS, "[%s] %s",
                 ctx, convkit_last_error());
    tk_fill_const(&wcopy, NAN);
    cr_expect_eq(convkit_conv_forward(plan, x.data, NULL, p.bias, y[1].data), CONVKIT_SUCCESS,
                 "[%s] %s", ctx, convkit_last_error());
    /* The engine packs the same way either way: bitwise equal.  The GEMM
     * path keeps a dense OIHW copy, so with another weight layout its
     * summation order may differ: within the bound. */
    const bool exact = expected_impl(&p, src, dst, alg) == IMPL_ENGINE || wkind == TK_NCHW;
    if (exact)
        cr_expect(lt_same_bits(&y[1], &y[0], msg, sizeof msg),
                  "[%s] stored w1 vs explicit w1: %s", ctx, msg);
    else
        cr_expect_eq(lt_compare(&y[1], &p.want, &y[0], msg, sizeof msg), 0,
                     "[%s] stored w1 vs explicit w1: %s", ctx, msg);
    expect_out(&y[1], &p.want, NULL, "stored w1", ctx);
    cr_expect_eq(convkit_conv_backward_data(plan, gy.data, tk_fdata(&w1), gx[0].data),
                 CONVKIT_SUCCESS, "[%s] %s", ctx, convkit_last_error());
    cr_expect_eq(convkit_conv_backward_data(plan, gy.data, NULL, gx[1].data), CONVKIT_SUCCESS,
                 "[%s] %s", ctx, convkit_last_error());
    expect_out(&gx[0], &wbd1, NULL, "backward_data explicit w1", ctx);
    expect_out(&gx[1], &wbd1, NULL, "backward_data stored w1", ctx);
    if (exact)
        cr_expect(lt_same_bits(&gx[1], &gx[0], msg, sizeof msg),
                  "[%s] backward_data stored vs explicit w1: %s", ctx, msg);
    /* an explicit weight still wins over the stored one */
    cr_expect_eq(convkit_conv_forward(plan, x.data, tk_fdata(&w2), p.bias, y[2].data),
                 CONVKIT_SUCCESS);
    expect_out(&y[2], &want2, NULL, "explicit w2 with w1 stored", ctx);
    /* set_weights again: the new weights are used */
    cr_expect_eq(convkit_conv_set_weights(plan, tk_fdata(&w2)), CONVKIT_SUCCESS);
    cr_expect_eq(convkit_conv_forward(plan, x.data, NULL, p.bias, y[3].data), CONVKIT_SUCCESS);
    expect_out(&y[3], &want2, NULL, "stored w2", ctx);
    cr_expect_eq(convkit_conv_backward_data(plan, gy.data, NULL, gx[2].data), CONVKIT_SUCCESS);
    expect_out(&gx[2], &wbd2, NULL, "backward_data stored w2", ctx);
    cr_expect_eq(convkit_conv_backward_data(plan, gy.data, tk_fdata(&w1), gx[3].data),
                 CONVKIT_SUCCESS);
    expect_out(&gx[3], &wbd1, NULL, "backward_data explicit w1 with w2 stored", ctx);
    if (exact)
        cr_expect(lt_same_bits(&y[3], &y[2], msg, sizeof msg),
                  "[%s] stored w2 vs explicit w2: %s", ctx, msg);
    cr_expect(!lt_same_bits(&y[3], &y[0], msg, sizeof msg), "[%s] new weights changed nothing",
              ctx);
    /* the stored weights serve the residual forward too */
    cr_expect_eq(convkit_conv_forward_residual(plan, x.data, NULL, p.bias, NULL, y[4].data),
                 CONVKIT_SUCCESS);
    cr_expect(lt_same_bits(&y[4], &y[3], msg, sizeof msg), "[%s] residual NULL: %s", ctx, msg);

    convkit_plan_destroy(plan);
    LT_FREE(&x, &gy, &y[0], &y[1], &y[2], &y[3], &y[4], &gx[0], &gx[1], &gx[2], &gx[3]);
    TK_FREE(&gym, &w1, &w2, &w2m, &wcopy);
    want_free(&wbd1);
    want_free(&wbd2);
    want_free(&want2);
    prob_free(&p);
}

Test(conv_blocked, set_weights)
{
    const combo_t combos[] = {
        {LK_B16, LK_B16, AUTO}, {LK_B8, LK_B8, AUTO},     {LK_NCHW, LK_NCHW, DIRECT},
        {LK_NHWC, LK_B16, DIRECT}, {LK_B16, LK_B8, GEMM}, {LK_NCHW, LK_NCHW, GEMM},
        {LK_NHWC, LK_NHWC, AUTO},
    };
    uint64_t seed = 8000;
    for (size_t k = 0; k < COUNT(combos); k++)
        for (int wk = 0; wk < 3; wk++) {
            const tk_kind_t wkinds[] = {TK_NCHW, TK_NHWC, TK_PADDED};
            set_weights_case(combos[k].src, combos[k].dst, combos[k].alg, wkinds[wk], seed);
            seed += 2;
        }
}

/* ---- 4. residual ------------------------------------------------------------ */

/* dst = act(conv + bias) + residual, residual a separate tensor (left
 * unchanged; its padding lanes never read) or dst itself. */
static void residual_case(const tk_conv_cfg_t *c, lk_t src, lk_t dst, uint32_t alg, uint32_t act,
                          uint64_t seed)
{
    prob_t p;
    prob_init(&p, c, false, seed % 2, act, seed);
    char ctx[400], msg[300];
    make_ctx(ctx, sizeof ctx, &p, src, dst, alg, "residual");
    tk_tensor_t rm = random_nchw(p.dd, seed + 7, -2.0f, 2.0f);
    want_t want = want_forward(c, &p.x, &p.w, p.bias, act, &rm);
    lt_t x = lt_new(p.sd, src, G_NONE), res = lt_new(p.dd, dst, G_NONE);
    lt_t res0 = lt_new(p.dd, dst, G_NONE), y = lt_new(p.dd, dst, G_NONE);
    lt_t io = lt_new(p.dd, dst, G_NONE);
    lt_load(&x, &p.x);
    lt_load(&res, &rm);
    lt_load(&res0, &rm);
    lt_load(&io, &rm);
    convkit_plan_t *plan = plan_make(&p, &x, &y, alg, ctx);
    expect_impl(plan, &p, src, dst, alg, ctx);
    cr_expect_eq(convkit_conv_forward_residual(plan, x.data, tk_fdata(&p.w), p.bias, res.data,
                                               y.data),
                 CONVKIT_SUCCESS, "[%s] %s", ctx, convkit_last_error());
    expect_out(&y, &want, NULL, "separate residual", ctx);
    cr_expect(lt_same_bits(&res, &res0, msg, sizeof msg), "[%s] residual written: %s", ctx, msg);
    cr_expect_eq(convkit_conv_forward_residual(plan, x.data, tk_fdata(&p.w), p.bias, io.data,
                                               io.data),
                 CONVKIT_SUCCESS, "[%s] %s", ctx, convkit_last_error());
    expect_out(&io, &want, NULL, "residual == dst", ctx);
    convkit_plan_destroy(plan);
    LT_FREE(&x, &res, &res0, &y, &io);
    tk_tensor_free(&rm);
    want_free(&want);
    prob_free(&p);
}

Test(conv_blocked, residual, .timeout = 600)
{
    const tk_conv_cfg_t cfgs[] = {
        CFG(2, 19, 5, 9, 21, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, Z),
        CFG(1, 260, 4, 6, 70, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, Z), /* multi-pass */
        CFG(1, 3, 7, 30, 9, 3, 3, 1, 2, 2, 0, 1, 2, 1, 1, 1, Z),
    };
    const combo_t combos[] = {
        {LK_B16, LK_B16, AUTO}, {LK_B8, LK_B8, AUTO},     {LK_B16, LK_B8, AUTO},
        {LK_NHWC, LK_NHWC, DIRECT}, {LK_NCHW, LK_NCHW, DIRECT}, {LK_B8, LK_PERMUTED, AUTO},
        {LK_B16, LK_B16, GEMM}, {LK_NHWC, LK_NCHW, GEMM},
    };
    const uint32_t acts[] = {CONVKIT_ACTIVATION_NONE, CONVKIT_ACTIVATION_RELU,
                             CONVKIT_ACTIVATION_SIGMOID};
    uint64_t seed = 9000;
    for (size_t i = 0; i < COUNT(cfgs); i++)
        for (size_t k = 0; k < COUNT(combos); k++)
            for (size_t a = 0; a < COUNT(acts); a++)
                if (i == 0 || a == (k % 3))
                    residual_case(&cfgs[i], combos[k].src, combos[k].dst, combos[k].alg, acts[a],
                                  seed++);
}

/* ---- 5. backward directions with blocked layouts ---------------------------- */

/* Backward-data, -weights and -bias of a plan with blocked (or any) src/dst
 * against the float64 reference and against the same directions of an
 * all-NCHW GEMM plan: bitwise when the plan is GEMM too (dense copies
 * around the same kernels), else within twice the bound (the engine may
 * run backward-data as the forward of the transposed problem).  grad_src's
 * padding lanes are written 0, grad_dst's are never read; the plan's fused
 * activation plays no part. */
static void backward_case(const tk_conv_cfg_t *c, lk_t src, lk_t dst, uint32_t alg, uint32_t act,
                          uint64_t seed)
{
    prob_t p;
    prob_init(&p, c, false, true, act, seed);
    char ctx[400], msg[500];
    make_ctx(ctx, sizeof ctx, &p, src, dst, alg, "backward");
    tk_tensor_t gym = random_nchw(p.dd, seed + 3, -1.0f, 1.0f);
    want_t wgx = want_backward_data(c, &gym, &p.w);
    lt_t x = lt_new(p.sd, src, G_NONE), gy = lt_new(p.dd, dst, G_NONE);
    lt_t gx = lt_new(p.sd, src, G_NONE), xn = lt_new(p.sd, LK_NCHW, G_NONE);
    lt_t gyn = lt_new(p.dd, LK_NCHW, G_NONE), gxn = lt_new(p.sd, LK_NCHW, G_NONE);
    lt_load(&x, &p.x);
    lt_load(&xn, &p.x);
    lt_load(&gy, &gym);
    lt_load(&gyn, &gym);
    convkit_plan_t *plan = plan_make(&p, &x, &gy, alg, ctx);
    expect_impl(plan, &p, src, dst, alg, ctx);
    p.act = CONVKIT_ACTIVATION_NONE;
    convkit_plan_t *dense = plan_make(&p, &xn, &gyn, GEMM, ctx);
    tk_tensor_t gw = tk_tensor_f32(p.wd, TK_NCHW), gwn = tk_tensor_f32(p.wd, TK_NCHW);
    float gb[300], gbn[300];
    cr_assert(c->cout <= 300);

    cr_expect_eq(convkit_conv_backward_data(plan, gy.data, tk_fdata(&p.w), gx.data),
                 CONVKIT_SUCCESS, "[%s] %s", ctx, convkit_last_error());
    cr_expect_eq(convkit_conv_backward_data(dense, gyn.data, tk_fdata(&p.w), gxn.data),
                 CONVKIT_SUCCESS);
    cr_expect_eq(convkit_conv_backward_weights(plan, x.data, gy.data, tk_fdata(&gw)),
                 CONVKIT_SUCCESS, "[%s] %s", ctx, convkit_last_error());
    cr_expect_eq(convkit_conv_backward_weights(dense, xn.data, gyn.data, tk_fdata(&gwn)),
                 CONVKIT_SUCCESS);
    cr_expect_eq(convkit_conv_backward_bias(plan, gy.data, gb), CONVKIT_SUCCESS, "[%s] %s", ctx,
                 convkit_last_error());
    cr_expect_eq(convkit_conv_backward_bias(dense, gyn.data, gbn), CONVKIT_SUCCESS);

    /* against the reference */
    tk_ref_t rgw = tk_ref_new(p.wd), rgb;
    const int64_t bd[4] = {1, c->cout, 1, 1};
    rgb = tk_ref_new(bd);
    tk_ref_conv_backward_weights(c, &p.x, &gym, &rgw);
    tk_ref_conv_backward_bias(c, &gym, &rgb);
    expect_out(&gx, &wgx, NULL, "backward_data", ctx);
    expect_out(&gxn, &wgx, NULL, "backward_data of the NCHW GEMM plan", ctx);
    cr_expect_eq(tk_compare_bound(&gw, &rgw, BOUND_C, msg, sizeof msg), 0,
                 "backward_weights [%s]: %s", ctx, msg);
    for (int64_t co = 0; co < c->cout; co++)
        cr_expect(fabs((double)gb[co] - rgb.val[co]) <=
                      BOUND_C * (double)rgb.terms[co] * ldexp(1.0, -24) * rgb.mag[co],
                  "backward_bias [%s]: co %lld got %.9g expected %.9g", ctx, (long long)co,
                  (double)gb[co], rgb.val[co]);
    /* against the all-NCHW GEMM plan */
    if (alg == GEMM) {
        FOR4(p.sd, n, ci, h, w)
        cr_expect_eq(tk_f32_bits(lt_get(&gx, n, ci, h, w)), tk_f32_bits(lt_get(&gxn, n, ci, h, w)),
                     "backward_data [%s] vs NCHW plan at (%lld,%lld,%lld,%lld)", ctx,
                     (long long)n, (long long)ci, (long long)h, (long long)w);
        cr_expect(tk_bitwise_equal(&gw, &gwn, msg, sizeof msg),
                  "backward_weights [%s] vs NCHW: %s", ctx, msg);
        cr_expect(memcmp(gb, gbn, (size_t)c->cout * sizeof(float)) == 0,
                  "backward_bias [%s] vs NCHW plan", ctx);
    } else {
        cr_expect_eq(lt_compare(&gx, &wgx, &gxn, msg, sizeof msg), 0,
                     "backward_data [%s] vs NCHW GEMM plan: %s", ctx, msg);
    }

    want_free(&wgx);
    tk_ref_free(&rgw);
    tk_ref_free(&rgb);
    convkit_plan_destroy(plan);
    convkit_plan_destroy(dense);
    LT_FREE(&x, &gy, &gx, &xn, &gyn, &gxn);
    TK_FREE(&gw, &gwn, &gym);
    prob_free(&p);
}

Test(conv_blocked, backward_with_blocked_layouts, .timeout = 900)
{
    const tk_conv_cfg_t cfgs[] = {
        CFG(2, 19, 6, 7, 21, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, Z),
        CFG(1, 5, 9, 8, 17, 3, 2, 2, 1, 1, 0, 0, 1, 2, 1, 1, Z),
        CFG(2, 3, 5, 5, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, Z),
        CFG(1, 33, 7, 9, 9, 3, 5, 1, 1, 2, 0, 1, 4, 1, 2, 1, Z),  /* pads 0..span */
        CFG(1, 8, 6, 6, 12, 3, 3, 1, 1, 3, 3, 3, 3, 1, 1, 1, Z),  /* pad > span */
        CFG(1, 70, 4, 5, 260, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, Z), /* multi-pass transposed */
    };
    const combo_t combos[] = {
        {LK_B16, LK_B16, AUTO},   {LK_B8, LK_B16, AUTO},     {LK_B16, LK_B8, AUTO},
        {LK_NCHW, LK_B8, AUTO},   {LK_B8, LK_NCHW, AUTO},    {LK_B16, LK_B16, GEMM},
        {LK_B8, LK_B8, DIRECT},   {LK_NHWC, LK_NHWC, DIRECT}, {LK_NCHW, LK_NCHW, DIRECT},
        {LK_PERMUTED, LK_B16, AUTO}, {LK_B16, LK_PERMUTED, AUTO}, {LK_NHWC, LK_B8, GEMM},
    };
    uint64_t seed = 10000;
    for (size_t i = 0; i < COUNT(cfgs); i++)
        for (size_t k = 0; k < COUNT(combos); k++)
            if (i < 5 || k % 3 == 0)
                backward_case(&cfgs[i], combos[k].src, combos[k].dst, combos[k].alg,
                              k % 4 == 1 ? CONVKIT_ACTIVATION_SIGMOID : CONVKIT_ACTIVATION_NONE,
                              seed++);
}

/* ---- 6. depthwise on blocked and NHWC-like data ------------------------------- */

/* The plan of a depthwise problem with multiplier 1 whose src and dst are
 * blocked or unit stride along C runs the chunked depthwise kernel: named
 * direct-dw-16 at the AVX-512 cap (direct-dw-8:avx2 when an operand is
 * nChw8c: its 8-lane kernel), direct-dw-8 at AVX2, the reference loop at
 * the scalar cap.  Other depthwise problems run the same sets (NCHW
 * kernels, through dense copies of blocked operands). */
static void expect_depthwise_impl(convkit_plan_t *plan, const prob_t *p, lk_t src, lk_t dst,
                                  uint32_t alg, const char *ctx)
{
    (void)alg; /* AUTO and DIRECT run the same kernels here */
    const char *name = convkit_plan_impl_name(plan);
    const bool chunked = p->c.cout == p->c.cin && (lk_block(src) || unit_c(src, p->sd)) &&
                         (lk_block(dst) || unit_c(dst, p->dd));
    const char *want = ":direct-ref:scalar";
    if (convkit_get_max_isa() == CONVKIT_ISA_AVX512)
        want = chunked && (src == LK_B8 || dst == LK_B8) ? ":direct-dw-8:avx2"
                                                         : ":direct-dw-16:avx512";
    else if (convkit_get_max_isa() == CONVKIT_ISA_AVX2)
        want = ":direct-dw-8:avx2";
    cr_expect(ends_with(name, want), "[%s] runs %s, expected *%s", ctx, name, want);
}

/* Forward of one depthwise problem: the plan of `alg` against the
 * reference and against a GEMM plan (run_layouts), its impl name, and the
 * same with the result through forward_residual in place. */
static void dw_case(const tk_conv_cfg_t *c, bool one_d, lk_t src, lk_t dst, uint32_t alg,
                    bool bias, uint32_t act, uint64_t seed)
{
    prob_t p;
    prob_init(&p, c, one_d, bias, act, seed);
    run_layouts(&p, src, dst, alg, "depthwise");
    char ctx[400];
    make_ctx(ctx, sizeof ctx, &p, src, dst, alg, "depthwise impl");
    lt_t x = lt_new(p.sd, src, G_NONE), y = lt_new(p.dd, dst, G_NONE);
    convkit_plan_t *plan = plan_make(&p, &x, &y, alg, ctx);
    if (c->groups > 1) expect_depthwise_impl(plan, &p, src, dst, alg, ctx);
    convkit_plan_destroy(plan);
    LT_FREE(&x, &y);
    prob_free(&p);
}

/* Every pairing of blocked (both blocks), NHWC and gapped NHWC-like src
 * and dst the chunked kernels take, plus an NCHW one on each side (dense
 * copies to the NCHW kernels). */
static const combo_t dw_combos[] = {
    {LK_B16, LK_B16, AUTO},      {LK_B8, LK_B8, AUTO},       {LK_NHWC, LK_NHWC, AUTO},
    {LK_B16, LK_NHWC, DIRECT},   {LK_NHWC, LK_B16, AUTO},    {LK_B8, LK_PERMUTED, AUTO},
    {LK_PERMUTED, LK_B8, DIRECT}, {LK_B16, LK_B8, AUTO},     {LK_B8, LK_B16, DIRECT},
    {LK_NCHW, LK_B16, AUTO},     {LK_B16, LK_NCHW, DIRECT},  {LK_PERMUTED, LK_PERMUTED, AUTO},
};

/* Channel counts reaching full chunks, the masked last chunk at 8 and 16
 * lanes, and chunks of padding lanes only (nChw16c at 8 lanes, C <= 8 in
 * the last block); widths from 1 past two interior tiles of 8 pixels with
 * every remainder; the 3x3 kernel (weights in registers) and others
 * (weights from the stack); strides, dilations, asymmetric and large
 * padding (rows and columns with no valid tap). */
Test(conv_blocked_dw, chunked_kernels_every_path, .timeout = 900)
{
    const int64_t chans[] = {1, 5, 8, 13, 16, 17, 24, 33};
    uint64_t seed = 12000;
    size_t k = 0;
    for (size_t ci = 0; ci < COUNT(chans); ci++) {
        const int64_t C = chans[ci];
        for (int64_t w = 1; w <= (TK_ASAN ? 12 : 21); w++) {
            const tk_conv_cfg_t c = CFG(1 + w % 2, C, 3 + w % 3, w, C, 3, 3, 1, 1, 1, 1, 1, 1, 1,
                                        1, C, Z);
            const combo_t *cb = &dw_combos[k++ % COUNT(dw_combos)];
            dw_case(&c, false, cb->src, cb->dst, cb->alg, w % 3 != 0, CONVKIT_ACTIVATION_NONE,
                    seed++);
        }
    }
    /* kernels, strides, dilations, paddings, at two channel counts */
    const tk_conv_cfg_t shapes[] = {
        CFG(2, 0, 7, 19, 0, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 0, Z),
        CFG(1, 0, 9, 23, 0, 3, 3, 3, 3, 0, 2, 2, 0, 1, 1, 0, Z),
        CFG(1, 0, 8, 20, 0, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 0, Z),
        CFG(1, 0, 2, 3, 0, 3, 3, 1, 1, 3, 3, 4, 4, 1, 1, 0, Z),   /* rows, columns with no tap */
        CFG(1, 0, 6, 17, 0, 5, 5, 1, 1, 2, 2, 2, 2, 1, 1, 0, Z),
        CFG(2, 0, 5, 12, 0, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 0, Z),
        CFG(1, 0, 5, 30, 0, 1, 7, 1, 2, 0, 0, 3, 3, 1, 1, 0, Z),
        CFG(1, 0, 9, 11, 0, 7, 1, 2, 1, 3, 3, 0, 0, 1, 1, 0, Z),
        CFG(1, 0, 6, 13, 0, 2, 2, 1, 1, 0, 1, 1, 0, 1, 3, 0, Z),
        CFG(1, 0, 4, 9, 0, 3, 3, 1, 1, 0, 0, 0, 0, 1, 1, 0, Z),   /* no padding */
    };
    for (size_t i = 0; i < COUNT(shapes); i++)
        for (int64_t C = 13; C <= 32; C += 19) {
            tk_conv_cfg_t c = shapes[i];
            c.cin = c.cout = c.groups = C;
            const combo_t *cb = &dw_combos[k++ % COUNT(dw_combos)];
            dw_case(&c, false, cb->src, cb->dst, cb->alg, i % 2 == 0, CONVKIT_ACTIVATION_NONE,
                    seed++);
        }
    /* conv1d (N, C, L) */
    const tk_conv_cfg_t c1 = CFG(2, 19, 1, 40, 19, 1, 5, 1, 2, 0, 0, 2, 2, 1, 2, 19, Z);
    for (size_t j = 0; j < 4; j++)
        dw_case(&c1, true, dw_combos[j].src, dw_combos[j].dst, dw_combos[j].alg, true,
                CONVKIT_ACTIVATION_NONE, seed++);
}

/* The epilogue modes of the chunked kernels (none, min/max only, any
 * activation; each with the 3x3 and the other-kernel loops and a partial
 * chunk), with and without residual, separate and in place; the same on
 * the NCHW kernels' narrow rows. */
Test(conv_blocked_dw, chunked_epilogues_and_residual, .timeout = 900)
{
    const tk_conv_cfg_t cfgs[] = {
        CFG(2, 19, 5, 11, 19, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 19, Z),
        CFG(1, 32, 4, 9, 32, 5, 3, 2, 1, 2, 2, 1, 1, 1, 1, 32, Z),
    };
    const uint32_t acts[] = {CONVKIT_ACTIVATION_NONE, CONVKIT_ACTIVATION_RELU,
                             CONVKIT_ACTIVATION_SIGMOID};
    /* NCHW: the narrow-row tiles of the NCHW kernels (rows of 1..8
     * vectors, several output rows per tile, stride 1 and 2) */
    const tk_conv_cfg_t narrow[] = {
        CFG(2, 5, 13, 28, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 5, Z),
        CFG(1, 3, 9, 14, 3, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 3, Z),
        CFG(1, 2, 11, 7, 2, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2, Z),
        CFG(1, 2, 6, 56, 2, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 2, Z),
    };
    uint64_t seed = 13000;
    for (size_t i = 0; i < COUNT(narrow); i++)
        for (size_t a = 0; a < COUNT(acts); a++) {
            residual_case(&narrow[i], LK_NCHW, LK_NCHW, AUTO, acts[a], seed++);
            dw_case(&narrow[i], false, LK_NCHW, LK_NCHW, DIRECT, a % 2 == 0, acts[a], seed++);
        }
    for (size_t i = 0; i < COUNT(cfgs); i++)
        for (size_t a = 0; a < COUNT(acts); a++)
            for (size_t k = 0; k < 6; k++) {
                const combo_t *cb = &dw_combos[(k + a) % COUNT(dw_combos)];
                if (k < 3)
                    dw_case(&cfgs[i], false, cb->src, cb->dst, cb->alg, k % 2 == 0, acts[a],
                            seed++);
                else
                    residual_case(&cfgs[i], cb->src, cb->dst, cb->alg, acts[a], seed++);
            }
}

/* 7-wide output rows of a 3x3 kernel run as one tile of 7 pixels at 16
 * lanes (pixel 0 without its first kernel column; pixel 6 without its last
 * at stride 1 and at stride 2 from 13 columns, with all of them from 14),
 * on full chunks (a 16-multiple of channels) and with a masked last chunk,
 * every epilogue mode; widths 6 and 8 around them, and 7-wide rows with
 * two padded columns on the right (not taken). */
Test(conv_blocked_dw, chunked_whole_rows, .timeout = 600)
{
    const tk_conv_cfg_t cfgs[] = {
        CFG(2, 32, 7, 7, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 32, Z),
        CFG(1, 48, 14, 14, 48, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 48, Z),
        CFG(1, 16, 13, 13, 16, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 16, Z),
        CFG(1, 21, 9, 7, 21, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 21, Z),
        CFG(1, 16, 5, 6, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 16, Z),
        CFG(1, 16, 5, 8, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 16, Z),
        /* 7 wide with 2 columns of right padding: pixel 6 lacks 2 columns,
         * not the one tile */
        CFG(1, 16, 4, 6, 16, 3, 3, 1, 1, 1, 1, 1, 2, 1, 1, 16, Z),
        CFG(1, 16, 4, 12, 16, 3, 3, 1, 2, 1, 1, 1, 2, 1, 1, 16, Z),
    };
    const uint32_t acts[] = {CONVKIT_ACTIVATION_NONE, CONVKIT_ACTIVATION_RELU,
                             CONVKIT_ACTIVATION_SIGMOID};
    /* pairings the 16-lane chunked kernel takes (and one 8-lane one) */
    const combo_t combos[] = {
        {LK_B16, LK_B16, AUTO}, {LK_NHWC, LK_B16, DIRECT}, {LK_B16, LK_PERMUTED, AUTO},
        {LK_NHWC, LK_NHWC, AUTO}, {LK_B8, LK_B8, AUTO},
    };
    uint64_t seed = 12950;
    for (size_t i = 0; i < COUNT(cfgs); i++)
        for (size_t a = 0; a < COUNT(acts); a++) {
            const combo_t *cb = &combos[(i * 3 + a) % COUNT(combos)];
            dw_case(&cfgs[i], false, cb->src, cb->dst, cb->alg, (i + a) % 2 == 0, acts[a],
                    seed++);
        }
}

/* A src of 8 MiB or more (all images): the chunked kernels then prefetch
 * the input rows of the next output row in software.  Prefetches do not
 * change results; these run that path (stride 2 and 1, blocked and NHWC
 * src, a masked last chunk) against the reference. */
Test(conv_blocked_dw, chunked_large_src_prefetch, .timeout = 900)
{
    const tk_conv_cfg_t big_s2 = CFG(2, 64, 130, 130, 64, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 64, Z);
    const tk_conv_cfg_t big_s1 = CFG(2, 40, 150, 181, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 40, Z);
    dw_case(&big_s2, false, LK_B16, LK_B16, AUTO, true, CONVKIT_ACTIVATION_NONE, 12900);
    dw_case(&big_s1, false, LK_NHWC, LK_B8, AUTO, false, CONVKIT_ACTIVATION_RELU, 12901);
}

/* 1, 2 and 3 threads give bitwise identical results on the chunked
 * kernels (items split at chunk boundaries). */
Test(conv_blocked_dw, chunked_thread_count_does_not_change_results, .timeout = 600)
{
    const tk_conv_cfg_t c = CFG(3, 40, 6, 13, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 40, Z);
    prob_t p;
    prob_init(&p, &c, false, true, CONVKIT_ACTIVATION_RELU, 14000);
    for (size_t k = 0; k < 4; k++)
        threads_case(&p, &dw_combos[k], expect_depthwise_impl, "depthwise threads");
    prob_free(&p);
}

/* ---- 7. argument errors ----------------------------------------------------- */

static const convkit_layout_t L16 = {CONVKIT_FORMAT_NCHW16C, 0, {0, 0, 0, 0}};
static const convkit_layout_t L8 = {CONVKIT_FORMAT_NCHW8C, 0, {0, 0, 0, 0}};

/* A create call that must fail with `want`, naming `needle`, leaving the
 * plan pointer alone. */
#define EXPECT_CREATE_FAILS(create, params, want, needle)                                      \
    do {                                                                                       \
        convkit_plan_t *const sentinel_ = (convkit_plan_t *)(uintptr_t)0x77;                   \
        convkit_plan_t *plan_ = sentinel_;                                                     \
        const convkit_status_t st_ = create(&(params), &plan_);                                \
        cr_expect_eq(st_, (want), "%s(%s): status %d (%s)", #create, (needle), st_,           \
                     convkit_last_error());                                                    \
        cr_expect(strstr(convkit_last_error(), (needle)) != NULL, "%s: message '%s' lacks %s",  \
                  #create, convkit_last_error(), (needle));                                    \
        cr_expect(plan_ == sentinel_, "%s(%s): plan written on failure", #create, (needle));   \
        if (plan_ != sentinel_) convkit_plan_destroy(plan_);                                   \
    } while (0)

/* `base` with one layout field set to a blocked format: INVALID_ARGUMENT
 * naming that field. */
#define EXPECT_LAYOUT_REJECTED(create, base, field, layout)                                    \
    do {                                                                                       \
        __typeof__(base) q_ = (base);                                                          \
        q_.field = (layout);                                                                   \
        EXPECT_CREATE_FAILS(create, q_, CONVKIT_ERROR_INVALID_ARGUMENT, #field);               \
    } while (0)

Test(conv_blocked, argument_errors)
{
    const tk_conv_cfg_t c = CFG(1, 8, 6, 6, 12, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, Z);
    convkit_conv2d_params_t base = tk_conv2d_params(&c, true), p;
    /* weights cannot be blocked (with blocked src/dst neither) */
    EXPECT_LAYOUT_REJECTED(convkit_conv2d_create, base, weight_layout, L16);
    p = base;
    p.src_layout = p.dst_layout = L8;
    EXPECT_LAYOUT_REJECTED(convkit_conv2d_create, p, weight_layout, L8);
    convkit_conv1d_params_t q = CONVKIT_CONV1D_PARAMS_INIT;
    q.in_channels = 4;
    q.out_channels = 4;
    q.in_length = 9;
    EXPECT_LAYOUT_REJECTED(convkit_conv1d_create, q, weight_layout, L16);
    /* a blocked layout takes no strides and no reserved bits */
    for (int d = 0; d < 4; d++) {
        p = base;
        p.src_layout = L16;
        p.src_layout.strides[d] = d == 2 ? -3 : 5;
        EXPECT_CREATE_FAILS(convkit_conv2d_create, p, CONVKIT_ERROR_INVALID_ARGUMENT,
                            "src_layout.strides");
        p = base;
        p.dst_layout = L8;
        p.dst_layout.strides[d] = 1;
        EXPECT_CREATE_FAILS(convkit_conv2d_create, p, CONVKIT_ERROR_INVALID_ARGUMENT,
                            "dst_layout.strides");
    }
    p = base;
    p.dst_layout = L8;
    p.dst_layout.reserved = 1;
    EXPECT_CREATE_FAILS(convkit_conv2d_create, p, CONVKIT_ERROR_RESERVED_NONZERO,
                        "dst_layout.reserved");
    p = base;
    p.src_layout = L16;
    p.src_layout.reserved = 0x80000000u;
    EXPECT_CREATE_FAILS(convkit_conv2d_create, p, CONVKIT_ERROR_RESERVED_NONZERO,
                        "src_layout.reserved");
    /* DIRECT needs groups == 1 or depthwise, and zero padding, blocked or not */
    for (int blocked = 0; blocked < 2; blocked++) {
        p = base;
        if (blocked) p.src_layout = p.dst_layout = L16;
        p.algorithm = DIRECT;
        p.groups = 2;
        EXPECT_CREATE_FAILS(convkit_conv2d_create, p, CONVKIT_ERROR_INVALID_ARGUMENT, "algorithm");
        p.groups = 1;
        p.padding_mode = CONVKIT_PADDING_REFLECT;
        EXPECT_CREATE_FAILS(convkit_conv2d_create, p, CONVKIT_ERROR_INVALID_ARGUMENT, "algorithm");
        p.padding_mode = CONVKIT_PADDING_ZEROS;
        p.groups = 8; /* depthwise (multiplier 2): the depthwise kernels, blocked or not */
        p.out_channels = p.bias_length = 16;
        convkit_plan_t *dw = NULL;
        cr_expect_eq(convkit_conv2d_create(&p, &dw), CONVKIT_SUCCESS, "%s", convkit_last_error());
        if (dw != NULL) {
            const char *name = convkit_plan_impl_name(dw);
            cr_expect(strstr(name, ":direct-dw-") != NULL || strstr(name, ":direct-ref:") != NULL,
                      "DIRECT depthwise (blocked %d) runs %s", blocked, name);
            convkit_plan_destroy(dw);
        }
    }
    /* set_weights and forward_residual check their plan */
    const float w1[1] = {1.0f};
    cr_expect_eq(convkit_conv_set_weights(NULL, w1), CONVKIT_ERROR_NULL_POINTER);
    cr_expect(strstr(convkit_last_error(), "plan") != NULL, "%s", convkit_last_error());
    convkit_pool2d_params_t pool1 = CONVKIT_POOL2D_PARAMS_INIT;
    pool1.kernel_h = pool1.kernel_w = 1;
    convkit_plan_t *pool_plan = NULL;
    cr_assert_eq(convkit_max_pool2d_create(&pool1, &pool_plan), CONVKIT_SUCCESS);
    cr_expect_eq(convkit_conv_set_weights(pool_plan, w1), CONVKIT_ERROR_WRONG_PLAN);
    float io[1] = {0.0f};
    cr_expect_eq(convkit_conv_forward_residual(pool_plan, io, w1, NULL, io, io),
                 CONVKIT_ERROR_WRONG_PLAN);
    cr_expect(io[0] == 0.0f);
    convkit_plan_destroy(pool_plan);
    /* other operations reject the blocked formats */
    const convkit_layout_t blocked[2] = {L16, L8};
    for (int b = 0; b < 2; b++) {
        convkit_pool2d_params_t pool = CONVKIT_POOL2D_PARAMS_INIT;
        pool.channels = 16;
        pool.in_height = pool.in_width = 8;
        pool.kernel_h = pool.kernel_w = 2;
        EXPECT_LAYOUT_REJECTED(convkit_max_pool2d_create, pool, src_layout, blocked[b]);
        EXPECT_LAYOUT_REJECTED(convkit_max_pool2d_create, pool, dst_layout, blocked[b]);
        EXPECT_LAYOUT_REJECTED(convkit_max_pool2d_create, pool, indices_layout, blocked[b]);
        convkit_pool1d_params_t pool1d = CONVKIT_POOL1D_PARAMS_INIT;
        pool1d.channels = 8;
        pool1d.in_length = 10;
        pool1d.kernel = 2;
        EXPECT_LAYOUT_REJECTED(convkit_max_pool1d_create, pool1d, src_layout, blocked[b]);
        EXPECT_LAYOUT_REJECTED(convkit_max_pool1d_create, pool1d, dst_layout, blocked[b]);
        convkit_pad_params_t pad = CONVKIT_PAD_PARAMS_INIT;
        pad.channels = 16;
        pad.height = pad.width = 4;
        pad.pad_left = 1;
        EXPECT_LAYOUT_REJECTED(convkit_pad_create, pad, src_layout, blocked[b]);
        EXPECT_LAYOUT_REJECTED(convkit_pad_create, pad, dst_layout, blocked[b]);
        convkit_fold_params_t unfold = CONVKIT_FOLD_PARAMS_INIT, fold;
        unfold.channels = 16;
        unfold.height = unfold.width = 5;
        unfold.kernel_h = unfold.kernel_w = 2;
        EXPECT_LAYOUT_REJECTED(convkit_unfold_create, unfold, image_layout, blocked[b]);
        EXPECT_LAYOUT_REJECTED(convkit_unfold_create, unfold, column_layout, blocked[b]);
        fold = unfold;
        fold.col_channels = 16 * 4;
        fold.col_length = 16;
        EXPECT_LAYOUT_REJECTED(convkit_fold_create, fold, image_layout, blocked[b]);
        EXPECT_LAYOUT_REJECTED(convkit_fold_create, fold, column_layout, blocked[b]);
    }
}

/* ---- 8. nothing read or written outside the tensors -------------------------- */

/* src, dst, residual, weight and bias each flush against an inaccessible
 * page (after it, or before it): any access outside faults.  NHWC dst
 * lanes past C_out are masked, blocked dst padding lanes are inside the
 * tensor, bias and residual tails are masked loads; the same for the
 * chunked depthwise kernels (the last two problems), whose weight loads
 * are masked gathers. */
Test(conv_blocked, guard_pages, .timeout = 600)
{
    const tk_conv_cfg_t cfgs[] = {
        CFG(1, 3, 4, 5, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, Z),
        CFG(2, 19, 3, 9, 21, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, Z),
        CFG(1, 16, 2, 3, 16, 1, 3, 1, 1, 0, 0, 2, 2, 1, 1, 1, Z),
        CFG(1, 260, 3, 4, 70, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, Z),
        CFG(1, 130, 5, 7, 20, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, Z), /* regrouped, prefetch */
        CFG(2, 19, 3, 9, 19, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 19, Z), /* depthwise */
        CFG(1, 13, 4, 6, 13, 1, 5, 1, 2, 0, 0, 2, 2, 1, 1, 13, Z), /* depthwise */
    };
    const lk_t kinds[] = {LK_B16, LK_B8, LK_NHWC, LK_NCHW};
    uint64_t seed = 11000;
    for (size_t i = 0; i < COUNT(cfgs); i++) {
        prob_t p;
        prob_init(&p, &cfgs[i], false, true, CONVKIT_ACTIVATION_NONE, seed++);
        tk_tensor_t rm = random_nchw(p.dd, seed++, -1.0f, 1.0f);
        want_t want = want_forward(&p.c, &p.x, &p.w, p.bias, CONVKIT_ACTIVATION_NONE, &rm);
        want_t wbd = want_backward_data(&p.c, &rm, &p.w); /* rm doubles as grad_dst */
        for (size_t s = 0; s < COUNT(kinds); s++)
            for (size_t d = 0; d < COUNT(kinds); d++)
                for (int g = G_END; g <= G_START; g++)
                    for (int gemm = 0; gemm < 2; gemm++) {
                        const lk_t sk = kinds[s], dk = kinds[d];
                        const uint32_t alg = gemm                              ? GEMM
                                             : lk_block(sk) || lk_block(dk) ? AUTO
                                                                            : DIRECT;
                        if (i == 3 && (s + d + (size_t)g) % 4 != 0) continue; /* big: sample */
                        /* DIRECT depthwise needs both unit stride along W or along C */
                        if (p.c.groups > 1 && !lk_block(sk) && !lk_block(dk) && sk != dk)
                            continue;
                        char ctx[400];
                        make_ctx(ctx, sizeof ctx, &p, sk, dk, alg, g == G_END ? "guard after"
                                                                               : "guard before");
                        const int other = g == G_END ? G_START : G_END;
                        lt_t x = lt_new(p.sd, sk, g), y = lt_new(p.dd, dk, other);
                        lt_t res = lt_new(p.dd, dk, g), wt = lt_new(p.wd, LK_NCHW, other);
                        const int64_t bd[4] = {1, p.c.cout, 1, 1};
                        lt_t bias = lt_new(bd, LK_NCHW, g);
                        lt_load(&x, &p.x);
                        lt_load(&res, &rm);
                        lt_load(&wt, &p.w);
                        memcpy(bias.data, p.bias, (size_t)p.c.cout * sizeof(float));
                        convkit_plan_t *plan = plan_make(&p, &x, &y, alg, ctx);
                        expect_impl(plan, &p, sk, dk, alg, ctx);
                        cr_expect_eq(convkit_conv_forward_residual(plan, x.data, wt.data,
                                                                   bias.data, res.data, y.data),
                                     CONVKIT_SUCCESS, "[%s] %s", ctx, convkit_last_error());
                        expect_out(&y, &want, NULL, "guarded", ctx);
                        /* in place, stored weights */
                        cr_expect_eq(convkit_conv_set_weights(plan, wt.data), CONVKIT_SUCCESS);
                        cr_expect_eq(convkit_conv_forward_residual(plan, x.data, NULL, bias.data,
                                                                   res.data, res.data),
                                     CONVKIT_SUCCESS, "[%s] %s", ctx, convkit_last_error());
                        expect_out(&res, &want, NULL, "guarded in place", ctx);
                        /* backward-data: grad_dst in dst's layout, grad_src in src's */
                        lt_t gy = lt_new(p.dd, dk, g), gx = lt_new(p.sd, sk, other);
                        lt_load(&gy, &rm);
                        cr_expect_eq(convkit_conv_backward_data(plan, gy.data, wt.data, gx.data),
                                     CONVKIT_SUCCESS, "[%s] %s", ctx, convkit_last_error());
                        expect_out(&gx, &wbd, NULL, "guarded backward_data", ctx);
                        LT_FREE(&gy, &gx);
                        convkit_plan_destroy(plan);
                        LT_FREE(&x, &y, &res, &wt, &bias);
                    }
        tk_tensor_free(&rm);
        want_free(&want);
        want_free(&wbd);
        prob_free(&p);
    }
}
