/*
 * suite-conv.c - conv2d forward, backward-data and backward-weights on
 * benchdnn shape files.
 *
 * Suites and their shapes (files under the benchdnn folder; with no folder,
 * the built-in ResNet-50 list where one is named):
 *   conv_fwd            conv/shapes_resnet_50                  (default suite)
 *   conv_fwd_mobilenet  conv/shapes_mobilenet, conv/shapes_mobilenet_dw
 *   conv_fwd_dilated    conv/shapes_dilated
 *   conv_bwd_data       all four files above, in that order
 *   conv_bwd_weights    all four files above, in that order
 * The forward is split in three so the default run stays within minutes;
 * the backward suites are not in the default run.
 *
 * Every problem (shape x minibatch) registers, on NCHW tensors, no bias:
 *   convkit      a plan at the process ISA cap
 *   scalar       a plan with params.isa = CONVKIT_ISA_SCALAR (opts->with_scalar)
 *   onednn_any   oneDNN choosing its layouts, weights reordered at setup
 *   onednn_nchw  oneDNN on nchw / oihw (goihw when grouped) tensors
 * (the oneDNN pair when built with oneDNN and opts->with_onednn),
 *   convkit_blocked  (forward suites only) convkit at the process ISA cap on
 *                its channel-blocked activations, the analogue of
 *                onednn_any: src and dst in nChw16c (CONVKIT_FORMAT_NCHW16C)
 *                when the plan's ISA is AVX-512, else nChw8c, weights packed
 *                into the plan once at setup (convkit_conv_set_weights, not
 *                timed; the timed forward passes weight NULL).  A first
 *                layer (C_in < 8, an image) keeps its src NCHW, as oneDNN's
 *                own choice of layouts does for it.  Depthwise
 *                problems with multiplier 1 run it on the same blocked
 *                layouts (the chunked depthwise kernels read them in
 *                place).  Other grouped problems (groups > 1) run it on NCHW
 *                instead, convkit's fastest layout for them (the same
 *                configuration as the convkit case plus packed weights),
 * and
 *   torch        PyTorch 1.13 on NCHW tensors, no bias: at::convolution
 *                (forward; groups, so depthwise too), at::convolution_backward
 *                with output_mask {1,0,0} (backward-data) or {0,1,0}
 *                (backward-weights) (when built with libtorch and
 *                opts->with_torch).  PyTorch pads symmetrically: it gets the
 *                top/left padding, which gives the file's output size when
 *                the bottom/right one only differs by a floor-mode tail;
 *                otherwise its case reports an error.
 * FLOPs per run are 2*mb*oc*oh*ow*(ic/g)*kh*kw in every direction; bytes are
 * src + weights + dst.
 *
 * The shape's output size and padding are used as they are, bottom/right
 * padding included.  A negative implied bottom/right padding (a floor-mode
 * tail) becomes 0 when that leaves the output size unchanged; otherwise the
 * problem is dropped with a note on stderr, as is one whose convkit output
 * size differs from the file's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convkit.h"
#include "report.h"
#include "suite-common.h"

/* C_in below this: a first layer, whose src (the image) stays NCHW in the
 * convkit_blocked case. */
#define CONV_FIRST_LAYER_C 8

#ifdef CONVKIT_BENCH_HAVE_ONEDNN
#include "peer-onednn.h"
#endif

typedef enum conv_dir { DIR_FWD, DIR_BWD_DATA, DIR_BWD_WEIGHTS } conv_dir_t;
typedef enum conv_peer {
    PEER_CONVKIT,
    PEER_CONVKIT_BLOCKED,
    PEER_SCALAR,
    PEER_ONEDNN_ANY,
    PEER_ONEDNN_NCHW
} conv_peer_t;

typedef struct conv_case {
    ckb_item_t item; /* first: the shim's user pointer is the item */
    conv_dir_t dir;
    conv_peer_t peer;
    convkit_conv2d_params_t params;
    /* convkit set-up state */
    convkit_plan_t *plan;
    float *src, *weight, *dst;
#ifdef CONVKIT_BENCH_HAVE_ONEDNN
    ckb_onednn_t *dnn;
#endif
} conv_case_t;

/* ---- case lifecycle -------------------------------------------------------------- */

/* Floats of a conv activation (n, c, h, w) in `layout`: N * ceil(C/B) * H *
 * W * B in a channel-blocked format, else N * C * H * W (the suites use
 * dense layouts only). */
static int64_t activation_floats(const convkit_layout_t *layout, int64_t n, int64_t c, int64_t h,
                                 int64_t w)
{
    const int64_t b = layout->format == CONVKIT_FORMAT_NCHW16C ? 16
                      : layout->format == CONVKIT_FORMAT_NCHW8C ? 8
                                                                 : 1;
    return n * ((c + b - 1) / b) * b * h * w;
}

static int conv_setup(ckb_item_t *it, char *err, size_t n)
{
    conv_case_t *c = (conv_case_t *)it;
#ifdef CONVKIT_BENCH_HAVE_ONEDNN
    if (c->dnn != NULL)
        return ckb_onednn_setup(c->dnn, err, n);
#endif
    const convkit_conv2d_params_t *p = &c->params;
    convkit_status_t st = convkit_conv2d_create(p, &c->plan);
    if (st != CONVKIT_SUCCESS) {
        snprintf(err, n, "convkit_conv2d_create: %s", convkit_last_error());
        c->plan = NULL;
        return -1;
    }
    int64_t od[4];
    convkit_plan_output_dims(c->plan, od);
    c->src = ckb_random_floats(
        activation_floats(&p->src_layout, p->batch, p->in_channels, p->in_height, p->in_width), 1);
    c->weight = ckb_random_floats(
        p->out_channels * (p->in_channels / p->groups) * p->kernel_h * p->kernel_w, 2);
    c->dst = ckb_random_floats(activation_floats(&p->dst_layout, od[0], od[1], od[2], od[3]), 3);
    if (c->src == NULL || c->weight == NULL || c->dst == NULL) {
        snprintf(err, n, "out of memory for the conv tensors");
        return -1;
    }
    if (c->peer == PEER_CONVKIT_BLOCKED) { /* weights packed once, as oneDNN reorders them */
        st = convkit_conv_set_weights(c->plan, c->weight);
        if (st != CONVKIT_SUCCESS) {
            snprintf(err, n, "convkit_conv_set_weights: %s", convkit_last_error());
            return -1;
        }
    }
    return 0;
}

static void conv_teardown(ckb_item_t *it)
{
    conv_case_t *c = (conv_case_t *)it;
#ifdef CONVKIT_BENCH_HAVE_ONEDNN
    if (c->dnn != NULL)
        ckb_onednn_release(c->dnn);
#endif
    convkit_plan_destroy(c->plan);
    free(c->src);
    free(c->weight);
    free(c->dst);
    c->plan = NULL;
    c->src = c->weight = c->dst = NULL;
}

static void conv_destroy(ckb_item_t *it)
{
    conv_case_t *c = (conv_case_t *)it;
#ifdef CONVKIT_BENCH_HAVE_ONEDNN
    ckb_onednn_destroy(c->dnn);
#endif
    free(c);
}

/* One run; 0 or -1 with a message in c->item.error. */
static int conv_run(ckb_item_t *it)
{
    conv_case_t *c = (conv_case_t *)it;
#ifdef CONVKIT_BENCH_HAVE_ONEDNN
    if (c->dnn != NULL)
        return ckb_onednn_run(c->dnn, c->item.error, sizeof c->item.error);
#endif
    convkit_status_t st = CONVKIT_SUCCESS;
    switch (c->dir) {
    case DIR_FWD: /* the blocked case uses the weights packed at setup */
        st = convkit_conv_forward(c->plan, c->src,
                                  c->peer == PEER_CONVKIT_BLOCKED ? NULL : c->weight, NULL, c->dst);
        break;
    case DIR_BWD_DATA:
        st = convkit_conv_backward_data(c->plan, c->dst, c->weight, c->src);
        break;
    case DIR_BWD_WEIGHTS:
        st = convkit_conv_backward_weights(c->plan, c->src, c->dst, c->weight);
        break;
    }
    return ckb_item_convkit_status(it, st);
}

/* ---- registration ---------------------------------------------------------------- */

typedef struct conv_suite_def {
    const char *name;
    conv_dir_t dir;
    const char *const *files;
    bool builtin_resnet50; /* use the built-in list when there is no shape folder */
} conv_suite_def_t;

static int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

/* Output size of one spatial dim with explicit low/high padding. */
static int64_t conv_out(int64_t in, int64_t k, int64_t stride, int64_t lo, int64_t hi, int64_t dil)
{
    return floor_div(in + lo + hi - dil * (k - 1) - 1, stride) + 1;
}

/* Makes the high paddings >= 0 without changing the output size. */
static bool fix_padding(ckb_shape_t *s)
{
    if (s->pt < 0 || s->pl < 0)
        return false;
    if (s->pb < 0)
        s->pb = 0;
    if (s->pr < 0)
        s->pr = 0;
    return conv_out(s->ih, s->kh, s->sh, s->pt, s->pb, s->dh) == s->oh &&
           conv_out(s->iw, s->kw, s->sw, s->pl, s->pr, s->dw) == s->ow;
}

static void pad_text(char *out, size_t n, const ckb_shape_t *s)
{
    if (s->pt == s->pb && s->pl == s->pr && s->pt == s->pl)
        snprintf(out, n, "p%lld", (long long)s->pt);
    else if (s->pt == s->pl && s->pb == s->pr)
        snprintf(out, n, "p%lld,%lld", (long long)s->pt, (long long)s->pb);
    else
        snprintf(out, n, "p%lld,%lld,%lld,%lld", (long long)s->pt, (long long)s->pb,
                 (long long)s->pl, (long long)s->pr);
}

/* "64x56x56 -> 64 k3x3 s1 p1" (+ " d2", " g32"); padding "pT,B" when the
 * bottom/right one differs, "pT,B,L,R" when H and W differ too. */
static void conv_shape_text(char *out, size_t n, const ckb_shape_t *s)
{
    char stride[40], pad[80], dil[40] = "", grp[32] = "";
    if (s->sh == s->sw)
        snprintf(stride, sizeof stride, "s%lld", (long long)s->sh);
    else
        snprintf(stride, sizeof stride, "s%lldx%lld", (long long)s->sh, (long long)s->sw);
    pad_text(pad, sizeof pad, s);
    if (s->dh != 1 || s->dw != 1) {
        if (s->dh == s->dw)
            snprintf(dil, sizeof dil, " d%lld", (long long)s->dh);
        else
            snprintf(dil, sizeof dil, " d%lldx%lld", (long long)s->dh, (long long)s->dw);
    }
    if (s->g > 1)
        snprintf(grp, sizeof grp, " g%lld", (long long)s->g);
    snprintf(out, n, "%lldx%lldx%lld -> %lld k%lldx%lld %s %s%s%s", (long long)s->ic,
             (long long)s->ih, (long long)s->iw, (long long)s->oc, (long long)s->kh,
             (long long)s->kw, stride, pad, dil, grp);
}

static void conv_params(const ckb_shape_t *s, uint32_t isa, convkit_conv2d_params_t *p)
{
    convkit_conv2d_params_t init = CONVKIT_CONV2D_PARAMS_INIT;
    *p = init;
    p->isa = isa;
    p->batch = s->mb;
    p->in_channels = s->ic;
    p->in_height = s->ih;
    p->in_width = s->iw;
    p->out_channels = s->oc;
    p->kernel_h = s->kh;
    p->kernel_w = s->kw;
    p->stride_h = s->sh;
    p->stride_w = s->sw;
    p->pad_top = s->pt;
    p->pad_bottom = s->pb;
    p->pad_left = s->pl;
    p->pad_right = s->pr;
    p->dilation_h = s->dh;
    p->dilation_w = s->dw;
    p->groups = s->g;
    p->bias_length = 0;
}

static conv_case_t *new_case(conv_dir_t dir, conv_peer_t peer, const convkit_conv2d_params_t *p,
                             size_t bytes)
{
    conv_case_t *c = calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    c->item.setup = conv_setup;
    c->item.teardown = conv_teardown;
    c->item.run = conv_run;
    c->item.destroy = conv_destroy;
    c->item.bytes = bytes;
    c->dir = dir;
    c->peer = peer;
    c->params = *p;
    ckb_item_add(&c->item);
    return c;
}

#ifdef CONVKIT_BENCH_HAVE_ONEDNN
static ckb_onednn_op_t onednn_op(conv_dir_t dir)
{
    return dir == DIR_FWD ? CKB_ONEDNN_CONV_FWD
           : dir == DIR_BWD_DATA ? CKB_ONEDNN_CONV_BWD_DATA
                                 : CKB_ONEDNN_CONV_BWD_WEIGHTS;
}

/* A oneDNN peer case; a problem oneDNN refuses, or sizes it disagrees on,
 * make a case that reports the error. */
static conv_case_t *new_onednn_case(conv_dir_t dir, conv_peer_t peer, const ckb_shape_t *s,
                                    const convkit_conv2d_params_t *p, const int64_t ck_dims[4])
{
    conv_case_t *c = new_case(dir, peer, p, 0);
    if (c == NULL)
        return NULL;
    char err[256];
    ckb_onednn_t *d = ckb_onednn_create(
        onednn_op(dir), peer == PEER_ONEDNN_ANY ? CKB_ONEDNN_LAYOUT_ANY : CKB_ONEDNN_LAYOUT_NCHW,
        s, err, sizeof err);
    if (d == NULL) {
        ckb_item_fail(&c->item, "%s", err);
        return c;
    }
    int64_t od[4];
    ckb_onednn_dst_dims(d, od);
    if (memcmp(od, ck_dims, sizeof od) != 0) {
        ckb_item_fail(&c->item,
                      "oneDNN output %lldx%lldx%lldx%lld differs from convkit's %lldx%lldx%lldx%lld",
                      (long long)od[0], (long long)od[1], (long long)od[2], (long long)od[3],
                      (long long)ck_dims[0], (long long)ck_dims[1], (long long)ck_dims[2],
                      (long long)ck_dims[3]);
        ckb_onednn_destroy(d);
        return c;
    }
    c->dnn = d;
    c->item.bytes = ckb_onednn_footprint(d);
    return c;
}
#endif

static int register_conv(const ckb_options_t *opts, const conv_suite_def_t *def)
{
    ckb_shape_list_t shapes;
    if (ckb_load_shapes(opts, def->files, false,
                        def->builtin_resnet50 ? ckb_shapes_builtin_resnet50_conv : NULL,
                        &shapes) != 0)
        return -1;
    if (opts->shapes_dir == NULL && !def->builtin_resnet50)
        fprintf(stderr, "convkit-bench: %s: no shape folder, nothing to register\n", def->name);

    ckb_name_set_t names = {NULL, 0, 0};
    int registered = 0;
    for (int i = 0; i < shapes.count; i++) {
        for (int m = 0; m < 4 && opts->minibatches[m] > 0; m++) {
            ckb_shape_t s = shapes.items[i];
            s.mb = opts->minibatches[m];
            if (!fix_padding(&s)) {
                fprintf(stderr,
                        "convkit-bench: %s: %s: padding (%lld,%lld,%lld,%lld) does not give the "
                        "file's output %lldx%lld; skipped\n",
                        def->name, s.name, (long long)s.pt, (long long)s.pb, (long long)s.pl,
                        (long long)s.pr, (long long)s.oh, (long long)s.ow);
                continue;
            }
            char problem[256];
            ckb_problem_name(problem, sizeof problem, &s, s.mb);
            if (ckb_name_set_add(&names, problem) != 0) {
                char alt[sizeof problem];
                for (int k = 2; k < 100; k++) {
                    snprintf(alt, sizeof alt, "%.240s#%d", problem, k);
                    if (ckb_name_set_add(&names, alt) == 0)
                        break;
                }
                memcpy(problem, alt, sizeof problem);
            }

            convkit_conv2d_params_t p;
            conv_params(&s, CONVKIT_ISA_DEFAULT, &p);
            convkit_plan_t *probe = NULL;
            convkit_status_t st = convkit_conv2d_create(&p, &probe);
            if (st != CONVKIT_SUCCESS) {
                fprintf(stderr, "convkit-bench: %s: %s: convkit refuses it: %s; skipped\n",
                        def->name, problem, convkit_last_error());
                continue;
            }
            int64_t od[4];
            convkit_plan_output_dims(probe, od);
            const unsigned isa = convkit_plan_isa(probe);
            convkit_plan_destroy(probe);
            const int64_t want[4] = {s.mb, s.oc, s.oh, s.ow};
            if (memcmp(od, want, sizeof od) != 0) {
                fprintf(stderr,
                        "convkit-bench: %s: %s: convkit's output %lldx%lldx%lldx%lld differs from "
                        "the file's %lldx%lldx%lldx%lld; skipped\n",
                        def->name, problem, (long long)od[0], (long long)od[1], (long long)od[2],
                        (long long)od[3], (long long)want[0], (long long)want[1],
                        (long long)want[2], (long long)want[3]);
                continue;
            }

            const double flops = 2.0 * (double)s.mb * (double)s.oc * (double)s.oh * (double)s.ow *
                                 (double)(s.ic / s.g) * (double)s.kh * (double)s.kw;
            const double elems = (double)s.mb * (double)s.ic * (double)s.ih * (double)s.iw +
                                 (double)s.oc * (double)(s.ic / s.g) * (double)s.kh * (double)s.kw +
                                 (double)s.mb * (double)s.oc * (double)s.oh * (double)s.ow;
            const double bytes = 4.0 * elems;
            char text[200];
            conv_shape_text(text, sizeof text, &s);
            ckb_report_note_case(def->name, problem, text, flops, bytes, isa);

            conv_case_t *c = new_case(def->dir, PEER_CONVKIT, &p, (size_t)bytes);
            if (c == NULL)
                goto oom;
            ckb_register_case(def->name, problem, CKB_PEER_CONVKIT, ckb_item_case_fn, &c->item, flops,
                              bytes, opts, 0);
            registered++;

            if (def->dir == DIR_FWD) {
                convkit_conv2d_params_t pb = p;
                /* grouped, not depthwise with multiplier 1: NCHW (top of the file) */
                if (s.g == 1 || (s.g == s.ic && s.oc == s.ic)) {
                    const uint32_t fmt = isa == CONVKIT_ISA_AVX512 ? CONVKIT_FORMAT_NCHW16C
                                                                   : CONVKIT_FORMAT_NCHW8C;
                    /* a first layer's src stays NCHW (the image) */
                    if (s.ic >= CONV_FIRST_LAYER_C || s.g > 1) pb.src_layout.format = fmt;
                    pb.dst_layout.format = fmt;
                }
                c = new_case(DIR_FWD, PEER_CONVKIT_BLOCKED, &pb, (size_t)bytes);
                if (c == NULL)
                    goto oom;
                ckb_register_case(def->name, problem, CKB_PEER_CONVKIT_BLOCKED, ckb_item_case_fn,
                                  &c->item, flops, bytes, opts, 0);
                registered++;
            }

            if (opts->with_scalar) {
                convkit_conv2d_params_t ps = p;
                ps.isa = CONVKIT_ISA_SCALAR;
                c = new_case(def->dir, PEER_SCALAR, &ps, (size_t)bytes);
                if (c == NULL)
                    goto oom;
                ckb_register_case(def->name, problem, CKB_PEER_SCALAR, ckb_item_case_fn, &c->item,
                                  flops, bytes, opts,
                                  ckb_slow_case_iterations(flops / CKB_SCALAR_FLOPS_ESTIMATE, opts));
                registered++;
            }
#ifdef CONVKIT_BENCH_HAVE_TORCH
            if (opts->with_torch) {
                ckb_torch_problem_t tp;
                memset(&tp, 0, sizeof tp);
                tp.op = def->dir == DIR_FWD        ? CKB_TORCH_CONV_FWD
                        : def->dir == DIR_BWD_DATA ? CKB_TORCH_CONV_BWD_DATA
                                                   : CKB_TORCH_CONV_BWD_WEIGHTS;
                tp.n = s.mb;
                tp.c = s.ic;
                tp.h = s.ih;
                tp.w = s.iw;
                tp.oc = s.oc;
                tp.groups = s.g;
                tp.kh = s.kh;
                tp.kw = s.kw;
                tp.sh = s.sh;
                tp.sw = s.sw;
                tp.ph = s.pt; /* symmetric: see the top of the file */
                tp.pw = s.pl;
                tp.dh = s.dh;
                tp.dw = s.dw;
                if (ckb_register_torch_case(def->name, problem, CKB_PEER_TORCH, &tp, od, flops,
                                            bytes, opts) < 0)
                    goto oom;
                registered++;
            }
#endif
#ifdef CONVKIT_BENCH_HAVE_ONEDNN
            if (opts->with_onednn) {
                const conv_peer_t peers[2] = {PEER_ONEDNN_ANY, PEER_ONEDNN_NCHW};
                const char *peer_names[2] = {CKB_PEER_ONEDNN_ANY, CKB_PEER_ONEDNN_NCHW};
                for (int k = 0; k < 2; k++) {
                    c = new_onednn_case(def->dir, peers[k], &s, &p, od);
                    if (c == NULL)
                        goto oom;
                    ckb_register_case(def->name, problem, peer_names[k], ckb_item_case_fn, &c->item,
                                      flops, bytes, opts, 0);
                    registered++;
                }
            }
#endif
        }
    }
    ckb_name_set_free(&names);
    ckb_shapes_free(&shapes);
    return registered;
oom:
    fprintf(stderr, "convkit-bench: %s: out of memory registering cases\n", def->name);
    ckb_name_set_free(&names);
    ckb_shapes_free(&shapes);
    return -1;
}

/* ---- the suites ------------------------------------------------------------------- */

static const char *const files_resnet50[] = {"conv/shapes_resnet_50", NULL};
static const char *const files_mobilenet[] = {"conv/shapes_mobilenet", "conv/shapes_mobilenet_dw",
                                              NULL};
static const char *const files_dilated[] = {"conv/shapes_dilated", NULL};
static const char *const files_all[] = {"conv/shapes_resnet_50", "conv/shapes_mobilenet",
                                        "conv/shapes_mobilenet_dw", "conv/shapes_dilated", NULL};

static const conv_suite_def_t def_fwd = {"conv_fwd", DIR_FWD, files_resnet50, true};
static const conv_suite_def_t def_fwd_mobilenet = {"conv_fwd_mobilenet", DIR_FWD, files_mobilenet,
                                                   false};
static const conv_suite_def_t def_fwd_dilated = {"conv_fwd_dilated", DIR_FWD, files_dilated, false};
static const conv_suite_def_t def_bwd_data = {"conv_bwd_data", DIR_BWD_DATA, files_all, true};
static const conv_suite_def_t def_bwd_weights = {"conv_bwd_weights", DIR_BWD_WEIGHTS, files_all,
                                                 true};

static int reg_fwd(const ckb_options_t *o) { return register_conv(o, &def_fwd); }
static int reg_fwd_mobilenet(const ckb_options_t *o) { return register_conv(o, &def_fwd_mobilenet); }
static int reg_fwd_dilated(const ckb_options_t *o) { return register_conv(o, &def_fwd_dilated); }
static int reg_bwd_data(const ckb_options_t *o) { return register_conv(o, &def_bwd_data); }
static int reg_bwd_weights(const ckb_options_t *o) { return register_conv(o, &def_bwd_weights); }

const ckb_suite_t ckb_suite_conv_fwd = {
    "conv_fwd", "conv2d forward, ResNet-50 layers (conv/shapes_resnet_50)", true, true, reg_fwd};
const ckb_suite_t ckb_suite_conv_fwd_mobilenet = {
    "conv_fwd_mobilenet",
    "conv2d forward, MobileNet layers (conv/shapes_mobilenet, conv/shapes_mobilenet_dw)", true,
    false, reg_fwd_mobilenet};
const ckb_suite_t ckb_suite_conv_fwd_dilated = {
    "conv_fwd_dilated", "conv2d forward, dilated convolutions (conv/shapes_dilated)", true, false,
    reg_fwd_dilated};
const ckb_suite_t ckb_suite_conv_bwd_data = {
    "conv_bwd_data",
    "conv2d backward-data (grad_src): ResNet-50, MobileNet, MobileNet depthwise, dilated", true,
    false, reg_bwd_data};
const ckb_suite_t ckb_suite_conv_bwd_weights = {
    "conv_bwd_weights",
    "conv2d backward-weights (grad_weight): ResNet-50, MobileNet, MobileNet depthwise, dilated",
    true, false, reg_bwd_weights};
