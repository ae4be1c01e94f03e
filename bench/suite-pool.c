/*
 * suite-pool.c - max_pool2d forward (values and int64 indices) and backward
 * on benchdnn pool shape files.
 *
 *   pool_fwd   pool/shapes_resnet_50 and pool/shapes_googlenet_v1 (default suite)
 *   pool_bwd   the same                                               (default suite)
 * (the built-in ResNet-50 pool list when there is no shape folder).
 *
 * The files list every pooling layer of the networks, average ones too; this
 * benchmark keeps the max pools: a shape whose name contains "avg" or
 * "ave_pool" is left out (resnet_50:ave_pool5, googlenet_v1:avg_pool5/7x7_s1).
 * Each kept shape is followed, after the whole list, by the same shape with
 * dilation 2 ("<name>@d2"): same padding and rounding mode, output size
 * recomputed; dropped when the dilated window does not fit.
 *
 * benchdnn writes PyTorch's ceil_mode as an implied bottom/right padding
 * larger than the top/left one.  convkit takes PyTorch's parameters, so
 * each shape maps to pad = top/left padding and the ceil_mode (0, else 1)
 * that reproduces the file's output size; a shape neither reproduces is
 * dropped with a note on stderr, and convkit's planned output size is
 * checked against the file's.  oneDNN gets the file's padding as it is
 * (padding_l = top/left, padding_r = the implied bottom/right, a negative
 * one raised to 0, which leaves the output size unchanged).
 *
 * Peers: convkit and scalar on NCHW tensors, and oneDNN max pooling
 * (forward_training, so it writes its argmax workspace: 1-byte in-window
 * offsets where convkit writes int64 plane indices) twice, as for conv:
 *   onednn_any   in oneDNN's own layout, channel-blocked nChw8c (nChw16c
 *                with AVX-512), the one its jit pooling kernels take;
 *   onednn_nchw  on plain NCHW tensors, where oneDNN 2.6 on AVX2 runs a
 *                plain loop (simple_nchw) several times slower.
 * Both fall back to oneDNN's reference code for the dilated shapes.  Then
 * three more peers, so the table answers "NHWC or NCHW?" and "how far
 * ahead of PyTorch?":
 *   convkit_nhwc convkit at the ISA cap with src, dst and indices (and the
 *                gradients) in NHWC (channels-last); x convkit_nhwc =
 *                NHWC time / NCHW time, at most 1 when NHWC is as fast;
 *   torch        PyTorch 1.13 at::max_pool2d_with_indices (forward) and
 *                at::max_pool2d_with_indices_backward (backward, indices
 *                from one untimed forward) on NCHW tensors, int64 indices;
 *   torch_nhwc   the same on channels-last tensors.
 * (torch* when built with libtorch and opts->with_torch.)
 * Bytes per run (for GB/s): forward src + dst + indices (8 bytes each);
 * backward grad_dst + indices + grad_src.  The same figure serves every peer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convkit.h"
#include "report.h"
#include "suite-common.h"

#ifdef CONVKIT_BENCH_HAVE_ONEDNN
#include "peer-onednn.h"
#endif

typedef struct pool_case {
    ckb_item_t item;
    bool backward;
    convkit_pool2d_params_t params;
    convkit_plan_t *plan;
    float *src, *dst; /* backward: grad_src, grad_dst */
    int64_t *indices;
#ifdef CONVKIT_BENCH_HAVE_ONEDNN
    ckb_onednn_t *dnn;
#endif
} pool_case_t;

/* ---- case lifecycle -------------------------------------------------------------- */

static int pool_setup(ckb_item_t *it, char *err, size_t n)
{
    pool_case_t *c = (pool_case_t *)it;
#ifdef CONVKIT_BENCH_HAVE_ONEDNN
    if (c->dnn != NULL)
        return ckb_onednn_setup(c->dnn, err, n);
#endif
    const convkit_pool2d_params_t *p = &c->params;
    if (convkit_max_pool2d_create(p, &c->plan) != CONVKIT_SUCCESS) {
        snprintf(err, n, "convkit_max_pool2d_create: %s", convkit_last_error());
        c->plan = NULL;
        return -1;
    }
    int64_t od[4];
    convkit_plan_output_dims(c->plan, od);
    const int64_t n_out = od[0] * od[1] * od[2] * od[3];
    c->src = ckb_random_floats(p->batch * p->channels * p->in_height * p->in_width, 11);
    c->dst = ckb_random_floats(n_out, 12);
    c->indices = ckb_zero_i64(n_out);
    if (c->src == NULL || c->dst == NULL || c->indices == NULL) {
        snprintf(err, n, "out of memory for the pooling tensors");
        return -1;
    }
    if (c->backward) {
        /* indices from a forward run; its maxima serve as grad_dst */
        convkit_status_t st = convkit_max_pool_forward(c->plan, c->src, c->dst, c->indices);
        if (st != CONVKIT_SUCCESS) {
            snprintf(err, n, "convkit forward (for the indices): %s: %s",
                     convkit_status_string(st), convkit_last_error());
            return -1;
        }
    }
    return 0;
}

static void pool_teardown(ckb_item_t *it)
{
    pool_case_t *c = (pool_case_t *)it;
#ifdef CONVKIT_BENCH_HAVE_ONEDNN
    if (c->dnn != NULL)
        ckb_onednn_release(c->dnn);
#endif
    convkit_plan_destroy(c->plan);
    free(c->src);
    free(c->dst);
    free(c->indices);
    c->plan = NULL;
    c->src = c->dst = NULL;
    c->indices = NULL;
}

static void pool_destroy(ckb_item_t *it)
{
    pool_case_t *c = (pool_case_t *)it;
#ifdef CONVKIT_BENCH_HAVE_ONEDNN
    ckb_onednn_destroy(c->dnn);
#endif
    free(c);
}

/* One run; 0 or -1 with a message in c->item.error. */
static int pool_run(ckb_item_t *it)
{
    pool_case_t *c = (pool_case_t *)it;
#ifdef CONVKIT_BENCH_HAVE_ONEDNN
    if (c->dnn != NULL)
        return ckb_onednn_run(c->dnn, c->item.error, sizeof c->item.error);
#endif
    convkit_status_t st =
        c->backward ? convkit_max_pool_backward(c->plan, c->dst, c->indices, c->src)
                    : convkit_max_pool_forward(c->plan, c->src, c->dst, c->indices);
    return ckb_item_convkit_status(it, st);
}

/* ---- shapes ------------------------------------------------------------------------ */

/* A pool shape with the convkit parameters that reproduce it. */
typedef struct pool_problem {
    ckb_shape_t s;       /* oneDNN's view: explicit low/high padding (high >= 0) */
    uint32_t ceil_mode;  /* convkit's view: pad = (s.pt, s.pl) and this */
} pool_problem_t;

static int64_t div_floor(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

/* PyTorch's pooling output size. */
static int64_t pool_out(int64_t in, int64_t k, int64_t stride, int64_t pad, int64_t dil,
                        bool ceil_mode)
{
    int64_t num = in + 2 * pad - dil * (k - 1) - 1 + (ceil_mode ? stride - 1 : 0);
    int64_t out = div_floor(num, stride) + 1;
    if (ceil_mode && (out - 1) * stride >= in + pad)
        out--;
    return out;
}

static bool is_max_pool(const ckb_shape_t *s)
{
    return strstr(s->name, "avg") == NULL && strstr(s->name, "ave_pool") == NULL;
}

/* Implied high padding for the output size, raised to 0 if negative. */
static int64_t high_pad(int64_t in, int64_t out, int64_t k, int64_t stride, int64_t lo,
                        int64_t dil)
{
    int64_t hi = (out - 1) * stride - in + dil * (k - 1) + 1 - lo;
    return hi > 0 ? hi : 0;
}

static bool map_pool(const ckb_shape_t *s, uint32_t *ceil_mode)
{
    if (s->pt < 0 || s->pl < 0)
        return false;
    for (uint32_t cm = 0; cm <= 1; cm++) {
        if (pool_out(s->ih, s->kh, s->sh, s->pt, s->dh, cm) == s->oh &&
            pool_out(s->iw, s->kw, s->sw, s->pl, s->dw, cm) == s->ow) {
            *ceil_mode = cm;
            return true;
        }
    }
    return false;
}

/* The shape with dilation 2, or false when it does not fit. */
static bool dilate2(const pool_problem_t *base, pool_problem_t *out)
{
    *out = *base;
    ckb_shape_t *s = &out->s;
    char name[sizeof s->name];
    snprintf(name, sizeof name, "%s", base->s.name);
    char *star = strrchr(name, '*');
    if (star != NULL && star[1] != '\0' && strspn(star + 1, "0123456789") == strlen(star + 1))
        *star = '\0';
    snprintf(s->name, sizeof s->name, "%.88s@d2", name);
    s->dh = s->dw = 2;
    /* convkit (like PyTorch) needs pad <= half the dilated window */
    if (2 * s->pt > s->dh * (s->kh - 1) + 1 || 2 * s->pl > s->dw * (s->kw - 1) + 1)
        return false;
    s->oh = pool_out(s->ih, s->kh, s->sh, s->pt, s->dh, out->ceil_mode);
    s->ow = pool_out(s->iw, s->kw, s->sw, s->pl, s->dw, out->ceil_mode);
    if (s->oh < 1 || s->ow < 1)
        return false;
    s->pb = high_pad(s->ih, s->oh, s->kh, s->sh, s->pt, s->dh);
    s->pr = high_pad(s->iw, s->ow, s->kw, s->sw, s->pl, s->dw);
    return true;
}

/* Kept max-pool shapes, then their dilation-2 variants. */
static int pool_problems(const ckb_options_t *opts, pool_problem_t **out, int *count)
{
    static const char *const files[] = {"pool/shapes_resnet_50", "pool/shapes_googlenet_v1", NULL};
    ckb_shape_list_t shapes;
    if (ckb_load_shapes(opts, files, true, ckb_shapes_builtin_resnet50_pool, &shapes) != 0)
        return -1;
    pool_problem_t *list = calloc((size_t)(2 * shapes.count + 1), sizeof *list);
    if (list == NULL) {
        ckb_shapes_free(&shapes);
        return -1;
    }
    int n = 0;
    for (int i = 0; i < shapes.count; i++) {
        const ckb_shape_t *s = &shapes.items[i];
        if (!is_max_pool(s))
            continue;
        pool_problem_t pp;
        pp.s = *s;
        if (!map_pool(s, &pp.ceil_mode)) {
            fprintf(stderr,
                    "convkit-bench: pool: %s: no PyTorch padding/ceil_mode gives the file's "
                    "output %lldx%lld; skipped\n",
                    s->name, (long long)s->oh, (long long)s->ow);
            continue;
        }
        pp.s.pb = high_pad(s->ih, s->oh, s->kh, s->sh, s->pt, s->dh);
        pp.s.pr = high_pad(s->iw, s->ow, s->kw, s->sw, s->pl, s->dw);
        list[n++] = pp;
    }
    const int base = n;
    for (int i = 0; i < base; i++) {
        if (list[i].s.dh != 1 || list[i].s.dw != 1)
            continue; /* already dilated */
        if (dilate2(&list[i], &list[n]))
            n++;
        else
            fprintf(stderr, "convkit-bench: pool: %s with dilation 2 does not fit; skipped\n",
                    list[i].s.name);
    }
    ckb_shapes_free(&shapes);
    *out = list;
    *count = n;
    return 0;
}

/* ---- registration ---------------------------------------------------------------- */

static void pool_params(const pool_problem_t *pp, int64_t mb, uint32_t isa,
                        convkit_pool2d_params_t *p)
{
    convkit_pool2d_params_t init = CONVKIT_POOL2D_PARAMS_INIT;
    *p = init;
    p->isa = isa;
    p->batch = mb;
    p->channels = pp->s.ic;
    p->in_height = pp->s.ih;
    p->in_width = pp->s.iw;
    p->kernel_h = pp->s.kh;
    p->kernel_w = pp->s.kw;
    p->stride_h = pp->s.sh;
    p->stride_w = pp->s.sw;
    p->pad_h = pp->s.pt;
    p->pad_w = pp->s.pl;
    p->dilation_h = pp->s.dh;
    p->dilation_w = pp->s.dw;
    p->ceil_mode = pp->ceil_mode;
}

/* "64x112x112 -> 56x56 k3x3 s2 p0 ceil d2" (convkit's parameters). */
static void pool_shape_text(char *out, size_t n, const pool_problem_t *pp)
{
    const ckb_shape_t *s = &pp->s;
    char stride[40], pad[40], dil[40] = "";
    if (s->sh == s->sw)
        snprintf(stride, sizeof stride, "s%lld", (long long)s->sh);
    else
        snprintf(stride, sizeof stride, "s%lldx%lld", (long long)s->sh, (long long)s->sw);
    if (s->pt == s->pl)
        snprintf(pad, sizeof pad, "p%lld", (long long)s->pt);
    else
        snprintf(pad, sizeof pad, "p%lldx%lld", (long long)s->pt, (long long)s->pl);
    if (s->dh != 1 || s->dw != 1) {
        if (s->dh == s->dw)
            snprintf(dil, sizeof dil, " d%lld", (long long)s->dh);
        else
            snprintf(dil, sizeof dil, " d%lldx%lld", (long long)s->dh, (long long)s->dw);
    }
    snprintf(out, n, "%lldx%lldx%lld -> %lldx%lld k%lldx%lld %s %s%s%s", (long long)s->ic,
             (long long)s->ih, (long long)s->iw, (long long)s->oh, (long long)s->ow,
             (long long)s->kh, (long long)s->kw, stride, pad, pp->ceil_mode ? " ceil" : "", dil);
}

static pool_case_t *new_case(bool backward, const convkit_pool2d_params_t *p, size_t bytes)
{
    pool_case_t *c = calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    c->item.setup = pool_setup;
    c->item.teardown = pool_teardown;
    c->item.run = pool_run;
    c->item.destroy = pool_destroy;
    c->item.bytes = bytes;
    c->backward = backward;
    c->params = *p;
    ckb_item_add(&c->item);
    return c;
}

static int register_pool(const ckb_options_t *opts, const char *suite, bool backward)
{
    pool_problem_t *problems = NULL;
    int count = 0;
    if (pool_problems(opts, &problems, &count) != 0)
        return -1;
    ckb_name_set_t names = {NULL, 0, 0};
    int registered = 0;
    for (int i = 0; i < count; i++) {
        for (int m = 0; m < 4 && opts->minibatches[m] > 0; m++) {
            const int64_t mb = opts->minibatches[m];
            pool_problem_t pp = problems[i];
            pp.s.mb = mb;
            char problem[256];
            ckb_problem_name(problem, sizeof problem, &pp.s, mb);
            if (ckb_name_set_add(&names, problem) != 0) {
                fprintf(stderr, "convkit-bench: %s: duplicate problem %s; skipped\n", suite,
                        problem);
                continue;
            }

            convkit_pool2d_params_t p;
            pool_params(&pp, mb, CONVKIT_ISA_DEFAULT, &p);
            convkit_plan_t *probe = NULL;
            if (convkit_max_pool2d_create(&p, &probe) != CONVKIT_SUCCESS) {
                fprintf(stderr, "convkit-bench: %s: %s: convkit refuses it: %s; skipped\n", suite,
                        problem, convkit_last_error());
                continue;
            }
            int64_t od[4];
            convkit_plan_output_dims(probe, od);
            const unsigned isa = convkit_plan_isa(probe);
            convkit_plan_destroy(probe);
            const int64_t want[4] = {mb, pp.s.ic, pp.s.oh, pp.s.ow};
            if (memcmp(od, want, sizeof od) != 0) {
                fprintf(stderr,
                        "convkit-bench: %s: %s: convkit's output %lldx%lld differs from the "
                        "shape's %lldx%lld; skipped\n",
                        suite, problem, (long long)od[2], (long long)od[3], (long long)want[2],
                        (long long)want[3]);
                continue;
            }

            const double n_in = (double)mb * (double)pp.s.ic * (double)pp.s.ih * (double)pp.s.iw;
            const double n_out = (double)mb * (double)pp.s.ic * (double)pp.s.oh * (double)pp.s.ow;
            const double bytes = 4.0 * n_in + 4.0 * n_out + 8.0 * n_out;
            char text[200];
            pool_shape_text(text, sizeof text, &pp);
            ckb_report_note_case(suite, problem, text, 0.0, bytes, isa);

            pool_case_t *c = new_case(backward, &p, (size_t)bytes);
            if (c == NULL)
                goto oom;
            ckb_register_case(suite, problem, CKB_PEER_CONVKIT, ckb_item_case_fn, &c->item, 0.0, bytes,
                              opts, 0);
            registered++;

            if (opts->with_scalar) {
                convkit_pool2d_params_t ps = p;
                ps.isa = CONVKIT_ISA_SCALAR;
                c = new_case(backward, &ps, (size_t)bytes);
                if (c == NULL)
                    goto oom;
                ckb_register_case(suite, problem, CKB_PEER_SCALAR, ckb_item_case_fn, &c->item, 0.0,
                                  bytes, opts, 0);
                registered++;
            }
            {
                /* convkit on NHWC: the same plan with channels-last operands */
                convkit_pool2d_params_t pn = p;
                pn.src_layout.format = CONVKIT_FORMAT_NHWC;
                pn.dst_layout.format = CONVKIT_FORMAT_NHWC;
                pn.indices_layout.format = CONVKIT_FORMAT_NHWC;
                c = new_case(backward, &pn, (size_t)bytes);
                if (c == NULL)
                    goto oom;
                ckb_register_case(suite, problem, CKB_PEER_CONVKIT_NHWC, ckb_item_case_fn,
                                  &c->item, 0.0, bytes, opts, 0);
                registered++;
            }
#ifdef CONVKIT_BENCH_HAVE_TORCH
            if (opts->with_torch) {
                ckb_torch_problem_t tp;
                memset(&tp, 0, sizeof tp);
                tp.op = backward ? CKB_TORCH_POOL_BWD : CKB_TORCH_POOL_FWD;
                tp.n = mb;
                tp.c = pp.s.ic;
                tp.h = pp.s.ih;
                tp.w = pp.s.iw;
                tp.kh = pp.s.kh;
                tp.kw = pp.s.kw;
                tp.sh = pp.s.sh;
                tp.sw = pp.s.sw;
                tp.ph = pp.s.pt;
                tp.pw = pp.s.pl;
                tp.dh = pp.s.dh;
                tp.dw = pp.s.dw;
                tp.ceil_mode = pp.ceil_mode != 0;
                for (int k = 0; k < 2; k++) {
                    tp.channels_last = k == 1;
                    if (ckb_register_torch_case(suite, problem,
                                                k ? CKB_PEER_TORCH_NHWC : CKB_PEER_TORCH, &tp, od,
                                                0.0, bytes, opts) < 0)
                        goto oom;
                    registered++;
                }
            }
#endif
#ifdef CONVKIT_BENCH_HAVE_ONEDNN
            if (opts->with_onednn) {
                const ckb_onednn_layout_t layouts[2] = {CKB_ONEDNN_LAYOUT_ANY,
                                                        CKB_ONEDNN_LAYOUT_NCHW};
                const char *peer_names[2] = {CKB_PEER_ONEDNN_ANY, CKB_PEER_ONEDNN_NCHW};
                for (int k = 0; k < 2; k++) {
                    c = new_case(backward, &p, 0);
                    if (c == NULL)
                        goto oom;
                    char err[256];
                    ckb_onednn_t *d =
                        ckb_onednn_create(backward ? CKB_ONEDNN_POOL_BWD : CKB_ONEDNN_POOL_FWD,
                                          layouts[k], &pp.s, err, sizeof err);
                    if (d == NULL) {
                        ckb_item_fail(&c->item, "%s", err);
                    } else {
                        int64_t dd[4];
                        ckb_onednn_dst_dims(d, dd);
                        if (memcmp(dd, od, sizeof dd) != 0) {
                            ckb_item_fail(&c->item,
                                          "oneDNN output %lldx%lld differs from convkit's %lldx%lld",
                                          (long long)dd[2], (long long)dd[3], (long long)od[2],
                                          (long long)od[3]);
                            ckb_onednn_destroy(d);
                        } else {
                            c->dnn = d;
                            c->item.bytes = ckb_onednn_footprint(d);
                        }
                    }
                    ckb_register_case(suite, problem, peer_names[k], ckb_item_case_fn, &c->item, 0.0,
                                      bytes, opts, 0);
                    registered++;
                }
            }
#endif
        }
    }
    ckb_name_set_free(&names);
    free(problems);
    return registered;
oom:
    fprintf(stderr, "convkit-bench: %s: out of memory registering cases\n", suite);
    ckb_name_set_free(&names);
    free(problems);
    return -1;
}

static int reg_pool_fwd(const ckb_options_t *o) { return register_pool(o, "pool_fwd", false); }
static int reg_pool_bwd(const ckb_options_t *o) { return register_pool(o, "pool_bwd", true); }

const ckb_suite_t ckb_suite_pool_fwd = {
    "pool_fwd",
    "max_pool2d forward with int64 indices: ResNet-50 and GoogLeNet v1 max pools, and dilation 2",
    false, true, reg_pool_fwd};
const ckb_suite_t ckb_suite_pool_bwd = {
    "pool_bwd", "max_pool2d backward from int64 indices: the pool_fwd problems", false, true,
    reg_pool_bwd};
