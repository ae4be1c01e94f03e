/*
 * suite-memory.c - unfold (im2col), fold (col2im) and pad on ResNet-50-sized
 * tensors.  All three are in the default run (each is a few milliseconds).
 *
 *   unfold, fold  3x3 pad 1 stride 1 on C64 56x56, C128 28x28, C256 14x14
 *                 (the 3x3 layers of ResNet-50 stages 2-4), and 1x1 stride 2
 *                 on C256 56x56 (the stride-2 projection of stage 3)
 *   pad           constant (0), reflect, replicate and circular padding of 1
 *                 and 3 on every side, on C64 112x112 and C256 56x56
 * for every minibatch of the options.  Peers: convkit, the scalar floor and
 * PyTorch 1.13 on NCHW tensors (torch: at::im2col, at::col2im, and at::pad
 * with the mode's name - F.pad's path - when built with libtorch);
 * oneDNN has no such operators.  Bytes per run (for GB/s) are the elements
 * read plus written, 4 bytes each: unfold image + columns, fold columns +
 * image, pad src + dst.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convkit.h"
#include "report.h"
#include "suite-common.h"

typedef enum mem_op { OP_UNFOLD, OP_FOLD, OP_PAD } mem_op_t;

typedef struct mem_case {
    ckb_item_t item;
    mem_op_t op;
    convkit_fold_params_t fold; /* OP_UNFOLD, OP_FOLD */
    convkit_pad_params_t pad;   /* OP_PAD */
    int64_t n_in, n_out;
    convkit_plan_t *plan;
    float *in, *out;
} mem_case_t;

static int mem_setup(ckb_item_t *it, char *err, size_t n)
{
    mem_case_t *c = (mem_case_t *)it;
    convkit_status_t st;
    const char *what;
    switch (c->op) {
    case OP_UNFOLD:
        st = convkit_unfold_create(&c->fold, &c->plan);
        what = "convkit_unfold_create";
        break;
    case OP_FOLD:
        st = convkit_fold_create(&c->fold, &c->plan);
        what = "convkit_fold_create";
        break;
    default:
        st = convkit_pad_create(&c->pad, &c->plan);
        what = "convkit_pad_create";
        break;
    }
    if (st != CONVKIT_SUCCESS) {
        snprintf(err, n, "%s: %s", what, convkit_last_error());
        c->plan = NULL;
        return -1;
    }
    c->in = ckb_random_floats(c->n_in, 21);
    c->out = ckb_zero_floats(c->n_out);
    if (c->in == NULL || c->out == NULL) {
        snprintf(err, n, "out of memory for the tensors");
        return -1;
    }
    return 0;
}

static void mem_teardown(ckb_item_t *it)
{
    mem_case_t *c = (mem_case_t *)it;
    convkit_plan_destroy(c->plan);
    free(c->in);
    free(c->out);
    c->plan = NULL;
    c->in = c->out = NULL;
}

static void mem_destroy(ckb_item_t *it) { free(it); }

/* One run; 0 or -1 with a message in c->item.error. */
static int mem_run(ckb_item_t *it)
{
    mem_case_t *c = (mem_case_t *)it;
    return ckb_item_convkit_status(it, c->op == OP_PAD
                                           ? convkit_pad_execute(c->plan, c->in, c->out)
                                           : convkit_fold_execute(c->plan, c->in, c->out));
}

/* ---- problems ------------------------------------------------------------------------ */

typedef struct window_problem {
    int64_t c, h, w, k, pad, stride;
} window_problem_t;

static const window_problem_t window_problems[] = {
    {64, 56, 56, 3, 1, 1},
    {128, 28, 28, 3, 1, 1},
    {256, 14, 14, 3, 1, 1},
    {256, 56, 56, 1, 0, 2},
};

typedef struct pad_tensor {
    int64_t c, h, w;
} pad_tensor_t;

static const pad_tensor_t pad_tensors[] = {{64, 112, 112}, {256, 56, 56}};
static const uint32_t pad_modes[] = {CONVKIT_PAD_CONSTANT, CONVKIT_PAD_REFLECT,
                                     CONVKIT_PAD_REPLICATE, CONVKIT_PAD_CIRCULAR};
static const char *const pad_mode_names[] = {"constant", "reflect", "replicate", "circular"};
static const int64_t pad_amounts[] = {1, 3};

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* Creates the case (owned by the item list) after checking convkit accepts
 * the problem with the given ISA; returns NULL with a note on stderr if not. */
static mem_case_t *new_case(const mem_case_t *proto, uint32_t isa, const char *suite,
                            const char *problem, unsigned *isa_out)
{
    mem_case_t *c = malloc(sizeof *c);
    if (c == NULL)
        return NULL;
    *c = *proto;
    c->fold.isa = isa;
    c->pad.isa = isa;
    convkit_plan_t *probe = NULL;
    convkit_status_t st = c->op == OP_UNFOLD ? convkit_unfold_create(&c->fold, &probe)
                          : c->op == OP_FOLD ? convkit_fold_create(&c->fold, &probe)
                                             : convkit_pad_create(&c->pad, &probe);
    if (st != CONVKIT_SUCCESS) {
        fprintf(stderr, "convkit-bench: %s: %s: convkit refuses it: %s; skipped\n", suite,
                problem, convkit_last_error());
        free(c);
        return NULL;
    }
    if (isa_out != NULL)
        *isa_out = convkit_plan_isa(probe);
    convkit_plan_destroy(probe);
    c->item.setup = mem_setup;
    c->item.teardown = mem_teardown;
    c->item.run = mem_run;
    c->item.destroy = mem_destroy;
    c->item.bytes = (size_t)(4 * (c->n_in + c->n_out));
    ckb_item_add(&c->item);
    return c;
}

/* Registers the convkit and scalar cases of one problem; returns the count. */
static int register_problem(const ckb_options_t *opts, const char *suite, const char *problem,
                            const char *text, const mem_case_t *proto)
{
    unsigned isa = 0;
    const double bytes = 4.0 * (double)(proto->n_in + proto->n_out);
    mem_case_t *c = new_case(proto, CONVKIT_ISA_DEFAULT, suite, problem, &isa);
    if (c == NULL)
        return 0;
    ckb_report_note_case(suite, problem, text, 0.0, bytes, isa);
    ckb_register_case(suite, problem, CKB_PEER_CONVKIT, ckb_item_case_fn, &c->item, 0.0, bytes, opts,
                      0);
    int n = 1;
    if (opts->with_scalar) {
        c = new_case(proto, CONVKIT_ISA_SCALAR, suite, problem, NULL);
        if (c != NULL) {
            ckb_register_case(suite, problem, CKB_PEER_SCALAR, ckb_item_case_fn, &c->item, 0.0, bytes,
                              opts, 0);
            n++;
        }
    }
#ifdef CONVKIT_BENCH_HAVE_TORCH
    if (opts->with_torch) {
        ckb_torch_problem_t tp;
        memset(&tp, 0, sizeof tp);
        if (proto->op == OP_PAD) {
            const convkit_pad_params_t *pp = &proto->pad;
            tp.op = CKB_TORCH_PAD;
            tp.n = pp->batch;
            tp.c = pp->channels;
            tp.h = pp->height;
            tp.w = pp->width;
            tp.pad_l = pp->pad_left;
            tp.pad_r = pp->pad_right;
            tp.pad_t = pp->pad_top;
            tp.pad_b = pp->pad_bottom;
            tp.pad_mode = (ckb_torch_pad_mode_t)pp->mode; /* same order as CONVKIT_PAD_* */
            tp.pad_value = pp->value;
        } else {
            const convkit_fold_params_t *fp = &proto->fold;
            tp.op = proto->op == OP_UNFOLD ? CKB_TORCH_UNFOLD : CKB_TORCH_FOLD;
            tp.n = fp->batch;
            tp.c = fp->channels;
            tp.h = fp->height;
            tp.w = fp->width;
            tp.kh = fp->kernel_h;
            tp.kw = fp->kernel_w;
            tp.sh = fp->stride_h;
            tp.sw = fp->stride_w;
            tp.ph = fp->pad_h;
            tp.pw = fp->pad_w;
            tp.dh = fp->dilation_h;
            tp.dw = fp->dilation_w;
        }
        int r = ckb_register_torch_case(suite, problem, CKB_PEER_TORCH, &tp, NULL, 0.0, bytes,
                                        opts);
        n += r > 0 ? r : 0;
    }
#endif
    return n;
}

static int register_window(const ckb_options_t *opts, const char *suite, mem_op_t op)
{
    int registered = 0;
    int problems = 0;
    for (int i = 0; i < COUNT(window_problems); i++) {
        if (opts->max_cases > 0 && problems >= opts->max_cases)
            break;
        problems++;
        const window_problem_t *w = &window_problems[i];
        const int64_t oh = (w->h + 2 * w->pad - w->k) / w->stride + 1;
        const int64_t ow = (w->w + 2 * w->pad - w->k) / w->stride + 1;
        const int64_t rows = w->c * w->k * w->k, length = oh * ow;
        for (int m = 0; m < 4 && opts->minibatches[m] > 0; m++) {
            const int64_t mb = opts->minibatches[m];
            mem_case_t proto;
            memset(&proto, 0, sizeof proto);
            proto.op = op;
            convkit_fold_params_t fp = CONVKIT_FOLD_PARAMS_INIT;
            fp.batch = mb;
            fp.channels = w->c;
            fp.height = w->h;
            fp.width = w->w;
            fp.kernel_h = fp.kernel_w = w->k;
            fp.pad_h = fp.pad_w = w->pad;
            fp.stride_h = fp.stride_w = w->stride;
            if (op == OP_FOLD) {
                fp.col_channels = rows;
                fp.col_length = length;
            }
            proto.fold = fp;
            const int64_t image = mb * w->c * w->h * w->w, columns = mb * rows * length;
            proto.n_in = op == OP_UNFOLD ? image : columns;
            proto.n_out = op == OP_UNFOLD ? columns : image;

            char problem[128], text[160];
            snprintf(problem, sizeof problem, "c%lld_%lldx%lld_k%lld_p%lld_s%lld/mb%lld",
                     (long long)w->c, (long long)w->h, (long long)w->w, (long long)w->k,
                     (long long)w->pad, (long long)w->stride, (long long)mb);
            if (op == OP_UNFOLD)
                snprintf(text, sizeof text, "%lldx%lldx%lld -> %lldx%lld k%lldx%lld s%lld p%lld",
                         (long long)w->c, (long long)w->h, (long long)w->w, (long long)rows,
                         (long long)length, (long long)w->k, (long long)w->k,
                         (long long)w->stride, (long long)w->pad);
            else
                snprintf(text, sizeof text, "%lldx%lld -> %lldx%lldx%lld k%lldx%lld s%lld p%lld",
                         (long long)rows, (long long)length, (long long)w->c, (long long)w->h,
                         (long long)w->w, (long long)w->k, (long long)w->k,
                         (long long)w->stride, (long long)w->pad);
            registered += register_problem(opts, suite, problem, text, &proto);
        }
    }
    return registered;
}

static int register_pad(const ckb_options_t *opts)
{
    const char *suite = "pad";
    int registered = 0;
    int problems = 0;
    for (int t = 0; t < COUNT(pad_tensors); t++) {
        for (int md = 0; md < COUNT(pad_modes); md++) {
            for (int a = 0; a < COUNT(pad_amounts); a++) {
                if (opts->max_cases > 0 && problems >= opts->max_cases)
                    return registered;
                problems++;
                const pad_tensor_t *pt = &pad_tensors[t];
                const int64_t amount = pad_amounts[a];
                for (int m = 0; m < 4 && opts->minibatches[m] > 0; m++) {
                    const int64_t mb = opts->minibatches[m];
                    mem_case_t proto;
                    memset(&proto, 0, sizeof proto);
                    proto.op = OP_PAD;
                    convkit_pad_params_t pp = CONVKIT_PAD_PARAMS_INIT;
                    pp.batch = mb;
                    pp.channels = pt->c;
                    pp.height = pt->h;
                    pp.width = pt->w;
                    pp.pad_left = pp.pad_right = pp.pad_top = pp.pad_bottom = amount;
                    pp.mode = pad_modes[md];
                    pp.value = 0.0f;
                    proto.pad = pp;
                    const int64_t oh = pt->h + 2 * amount, ow = pt->w + 2 * amount;
                    proto.n_in = mb * pt->c * pt->h * pt->w;
                    proto.n_out = mb * pt->c * oh * ow;

                    char problem[128], text[160];
                    snprintf(problem, sizeof problem, "%s%lld_c%lld_%lldx%lld/mb%lld",
                             pad_mode_names[md], (long long)amount, (long long)pt->c,
                             (long long)pt->h, (long long)pt->w, (long long)mb);
                    snprintf(text, sizeof text, "%lldx%lldx%lld %s %lld -> %lldx%lldx%lld",
                             (long long)pt->c, (long long)pt->h, (long long)pt->w,
                             pad_mode_names[md], (long long)amount, (long long)pt->c,
                             (long long)oh, (long long)ow);
                    registered += register_problem(opts, suite, problem, text, &proto);
                }
            }
        }
    }
    return registered;
}

static int reg_unfold(const ckb_options_t *o) { return register_window(o, "unfold", OP_UNFOLD); }
static int reg_fold(const ckb_options_t *o) { return register_window(o, "fold", OP_FOLD); }
static int reg_pad(const ckb_options_t *o) { return register_pad(o); }

const ckb_suite_t ckb_suite_unfold = {
    "unfold", "unfold (im2col), F.unfold layout: ResNet-50 3x3 and stride-2 1x1 inputs", false,
    true, reg_unfold};
const ckb_suite_t ckb_suite_fold = {
    "fold", "fold (col2im), F.fold layout: the unfold problems in reverse", false, true, reg_fold};
const ckb_suite_t ckb_suite_pad = {
    "pad", "F.pad constant/reflect/replicate/circular by 1 and 3 on ResNet-50 activations", false,
    true, reg_pad};
