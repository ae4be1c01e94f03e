/*
 * test_errors.c - every bad argument of semantics.md and convkit.h, per
 * operation: the status code, a non-empty convkit_last_error() that names
 * the argument (and is fresh: each call is preceded by a different
 * failure), the plan out-pointer left alone, and for execute-time errors
 * the output buffers untouched (sentinel-checked).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "test_support.h"

#define PLAN_SENTINEL ((convkit_plan_t *)(uintptr_t)0x5eedu)
#define BIG (INT64_C(1) << 40)

static const char *status_name(convkit_status_t st)
{
    static char bufs[4][64]; /* rotating: several may appear in one message */
    static int next;
    char *buf = bufs[next++ % 4];
    const char *s = convkit_status_string(st);
    const char *colon = s != NULL ? strchr(s, ':') : NULL;
    if (colon == NULL) return s != NULL ? s : "(null)";
    snprintf(buf, 64, "%.*s", (int)(colon - s), s);
    return buf;
}

/* Leaves a known message behind so a failing call that forgot to set its
 * own message is caught. */
static const char *prime_error(void)
{
    convkit_plan_output_dims(NULL, NULL);
    return "convkit_plan_output_dims: ";
}

static void check_status(convkit_status_t st, convkit_status_t want, const char *needle,
                         const char *primer, const char *label)
{
    cr_expect_eq(st, want, "%s: got %s, want %s (message: '%s')", label, status_name(st),
                 status_name(want), convkit_last_error());
    if (want == CONVKIT_SUCCESS || st == CONVKIT_SUCCESS) return;
    const char *msg = convkit_last_error();
    cr_expect(msg != NULL && msg[0] != '\0', "%s: empty convkit_last_error()", label);
    if (msg == NULL) return;
    cr_expect(strncmp(msg, primer, strlen(primer)) != 0,
              "%s: convkit_last_error() still holds the previous message '%s'", label, msg);
    if (needle != NULL)
        cr_expect(strstr(msg, needle) != NULL, "%s: message '%s' does not mention '%s'", label, msg,
                  needle);
}

typedef convkit_status_t (*create_fn)(const void *params, convkit_plan_t **plan);

static void check_create(create_fn f, const void *params, convkit_status_t want,
                         const char *needle, const char *label)
{
    const char *primer = prime_error();
    convkit_plan_t *plan = PLAN_SENTINEL;
    convkit_status_t st = f(params, &plan);
    if (st == CONVKIT_SUCCESS && plan != PLAN_SENTINEL) convkit_plan_destroy(plan);
    check_status(st, want, needle, primer, label);
    if (want != CONVKIT_SUCCESS)
        cr_expect(plan == PLAN_SENTINEL, "%s: the plan out-pointer was written on failure", label);
}

static convkit_status_t create_conv2d(const void *p, convkit_plan_t **pl)
{
    return convkit_conv2d_create(p, pl);
}
static convkit_status_t create_conv1d(const void *p, convkit_plan_t **pl)
{
    return convkit_conv1d_create(p, pl);
}
static convkit_status_t create_pool2d(const void *p, convkit_plan_t **pl)
{
    return convkit_max_pool2d_create(p, pl);
}
static convkit_status_t create_pool1d(const void *p, convkit_plan_t **pl)
{
    return convkit_max_pool1d_create(p, pl);
}
static convkit_status_t create_unfold(const void *p, convkit_plan_t **pl)
{
    return convkit_unfold_create(p, pl);
}
static convkit_status_t create_fold(const void *p, convkit_plan_t **pl)
{
    return convkit_fold_create(p, pl);
}
static convkit_status_t create_pad(const void *p, convkit_plan_t **pl)
{
    return convkit_pad_create(p, pl);
}

/* ---- valid parameter sets ---------------------------------------------------- */

static convkit_conv2d_params_t good_conv2d(void)
{
    convkit_conv2d_params_t p = CONVKIT_CONV2D_PARAMS_INIT;
    p.batch = 2;
    p.in_channels = 4;
    p.in_height = 5;
    p.in_width = 6;
    p.out_channels = 6;
    p.kernel_h = 3;
    p.kernel_w = 2;
    p.pad_top = p.pad_bottom = p.pad_left = p.pad_right = 1;
    p.groups = 2;
    p.bias_length = 6;
    return p;
}

static convkit_conv1d_params_t good_conv1d(void)
{
    convkit_conv1d_params_t p = CONVKIT_CONV1D_PARAMS_INIT;
    p.batch = 2;
    p.in_channels = 4;
    p.in_length = 7;
    p.out_channels = 6;
    p.kernel = 3;
    p.pad_left = p.pad_right = 1;
    p.groups = 2;
    p.bias_length = 6;
    return p;
}

static convkit_pool2d_params_t good_pool2d(void)
{
    convkit_pool2d_params_t p = CONVKIT_POOL2D_PARAMS_INIT;
    p.batch = 2;
    p.channels = 3;
    p.in_height = 6;
    p.in_width = 7;
    p.kernel_h = 3;
    p.kernel_w = 2;
    p.stride_h = 2;
    p.stride_w = 1;
    p.pad_h = 1;
    p.pad_w = 1;
    return p;
}

static convkit_pool1d_params_t good_pool1d(void)
{
    convkit_pool1d_params_t p = CONVKIT_POOL1D_PARAMS_INIT;
    p.batch = 2;
    p.channels = 3;
    p.in_length = 9;
    p.kernel = 3;
    p.stride = 2;
    p.pad = 1;
    return p;
}

static convkit_fold_params_t good_unfold(void)
{
    convkit_fold_params_t p = CONVKIT_FOLD_PARAMS_INIT;
    p.batch = 2;
    p.channels = 3;
    p.height = 5;
    p.width = 4;
    p.kernel_h = 2;
    p.kernel_w = 3;
    p.pad_h = 1;
    return p;
}

static convkit_fold_params_t good_fold(void)
{
    convkit_fold_params_t p = good_unfold();
    p.col_channels = 3 * 2 * 3;
    p.col_length = 6 * 2; /* (5 + 2 - 2) + 1 = 6 rows, (4 - 3) + 1 = 2 columns */
    return p;
}

static convkit_pad_params_t good_pad(void)
{
    convkit_pad_params_t p = CONVKIT_PAD_PARAMS_INIT;
    p.batch = 2;
    p.channels = 3;
    p.height = 4;
    p.width = 5;
    p.pad_left = 1;
    p.pad_right = 2;
    p.pad_top = 2;
    p.pad_bottom = 0;
    p.mode = CONVKIT_PAD_REFLECT;
    return p;
}

/* CASE(kind, status, needle, statements...): a good parameter set of `kind`
 * changed by the statements must fail (or succeed) as stated. */
#define CASE(kind, want, needle, ...)                                                      \
    do {                                                                                   \
        __typeof__(good_##kind()) p = good_##kind();                                      \
        __VA_ARGS__;                                                                       \
        check_create(create_##kind, &p, want, needle, #kind ": " #__VA_ARGS__);           \
    } while (0)

#define INV CONVKIT_ERROR_INVALID_ARGUMENT
#define SHAPE CONVKIT_ERROR_SHAPE_MISMATCH
#define OVF CONVKIT_ERROR_OVERFLOW
#define RES CONVKIT_ERROR_RESERVED_NONZERO
#define OK CONVKIT_SUCCESS

/* A STRIDED layout whose elements collide: C and W share stride 1. */
static convkit_layout_t overlapping_layout(void)
{
    convkit_layout_t l = {CONVKIT_FORMAT_STRIDED, 0, {1000, 1, 100, 1}};
    return l;
}

static convkit_layout_t strided_layout(int64_t s0, int64_t s1, int64_t s2, int64_t s3)
{
    convkit_layout_t l = {CONVKIT_FORMAT_STRIDED, 0, {s0, s1, s2, s3}};
    return l;
}

/* ---- the good sets really are good ------------------------------------------ */

Test(errors, baseline_parameter_sets_are_valid)
{
    CASE(conv2d, OK, NULL, (void)0);
    CASE(conv1d, OK, NULL, (void)0);
    CASE(pool2d, OK, NULL, (void)0);
    CASE(pool1d, OK, NULL, (void)0);
    CASE(unfold, OK, NULL, (void)0);
    CASE(fold, OK, NULL, (void)0);
    CASE(pad, OK, NULL, (void)0);
}

/* ---- things every create function checks ----------------------------------- */

Test(errors, null_params_and_null_plan)
{
    const create_fn fns[] = {create_conv2d, create_conv1d, create_pool2d, create_pool1d,
                             create_unfold, create_fold,   create_pad};
    const char *names[] = {"conv2d", "conv1d", "pool2d", "pool1d", "unfold", "fold", "pad"};
    for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
        char label[64];
        snprintf(label, sizeof label, "%s NULL params", names[i]);
        check_create(fns[i], NULL, CONVKIT_ERROR_NULL_POINTER, "params", label);
    }
    /* NULL plan out-pointer with otherwise valid params */
    const char *primer = prime_error();
    convkit_conv2d_params_t c2 = good_conv2d();
    check_status(convkit_conv2d_create(&c2, NULL), CONVKIT_ERROR_NULL_POINTER, "plan", primer,
                 "conv2d NULL plan");
    primer = prime_error();
    convkit_conv1d_params_t c1 = good_conv1d();
    check_status(convkit_conv1d_create(&c1, NULL), CONVKIT_ERROR_NULL_POINTER, "plan", primer,
                 "conv1d NULL plan");
    primer = prime_error();
    convkit_pool2d_params_t p2 = good_pool2d();
    check_status(convkit_max_pool2d_create(&p2, NULL), CONVKIT_ERROR_NULL_POINTER, "plan", primer,
                 "pool2d NULL plan");
    primer = prime_error();
    convkit_pool1d_params_t p1 = good_pool1d();
    check_status(convkit_max_pool1d_create(&p1, NULL), CONVKIT_ERROR_NULL_POINTER, "plan", primer,
                 "pool1d NULL plan");
    primer = prime_error();
    convkit_fold_params_t u = good_unfold(), f = good_fold();
    check_status(convkit_unfold_create(&u, NULL), CONVKIT_ERROR_NULL_POINTER, "plan", primer,
                 "unfold NULL plan");
    primer = prime_error();
    check_status(convkit_fold_create(&f, NULL), CONVKIT_ERROR_NULL_POINTER, "plan", primer,
                 "fold NULL plan");
    primer = prime_error();
    convkit_pad_params_t pd = good_pad();
    check_status(convkit_pad_create(&pd, NULL), CONVKIT_ERROR_NULL_POINTER, "plan", primer,
                 "pad NULL plan");
}

Test(errors, reserved_fields_and_flags)
{
    for (int i = 0; i < 3; i++) { /* conv: reserved[3] after algorithm and reserved32 */
        CASE(conv2d, RES, "reserved", p.reserved[i] = 1);
        CASE(conv1d, RES, "reserved", p.reserved[i] = UINT64_MAX);
    }
    CASE(conv2d, RES, "reserved32", p.reserved32 = 1);
    CASE(conv1d, RES, "reserved32", p.reserved32 = 0x80000000u);
    CASE(conv2d, INV, "algorithm", p.algorithm = 3);
    CASE(conv1d, INV, "algorithm", p.algorithm = UINT32_MAX);
    for (int i = 0; i < 4; i++) {
        CASE(pool2d, RES, "reserved", p.reserved[i] = 2);
        CASE(pool1d, RES, "reserved", p.reserved[i] = 1);
        CASE(unfold, RES, "reserved", p.reserved[i] = 1);
        CASE(fold, RES, "reserved", p.reserved[i] = 1);
        CASE(pad, RES, "reserved", p.reserved[i] = 1);
    }
    CASE(conv2d, RES, "flags", p.flags = 1);
    CASE(conv2d, RES, "flags", p.flags = 0x80000000u);
    CASE(conv1d, RES, "flags", p.flags = 4);
    CASE(pool2d, RES, "flags", p.flags = 1);
    CASE(pool1d, RES, "flags", p.flags = 8);
    /* layout reserved words, per operand */
    CASE(conv2d, RES, "src_layout", p.src_layout.reserved = 1);
    CASE(conv2d, RES, "weight_layout", p.weight_layout.reserved = 1);
    CASE(conv2d, RES, "dst_layout", p.dst_layout.reserved = 1);
    CASE(conv1d, RES, "weight_layout", p.weight_layout.reserved = 7);
    CASE(pool2d, RES, "src_layout", p.src_layout.reserved = 1);
    CASE(pool2d, RES, "dst_layout", p.dst_layout.reserved = 1);
    CASE(pool2d, RES, "indices_layout", p.indices_layout.reserved = 1);
    CASE(pool1d, RES, "indices_layout", p.indices_layout.reserved = 1);
    CASE(unfold, RES, "image_layout", p.image_layout.reserved = 1);
    CASE(fold, RES, "column_layout", p.column_layout.reserved = 1);
    CASE(pad, RES, "src_layout", p.src_layout.reserved = 1);
    CASE(pad, RES, "dst_layout", p.dst_layout.reserved = 1);
}

Test(errors, bad_layout_format_and_dense_strides)
{
    CASE(conv2d, INV, "src_layout", p.src_layout.format = 5);
    CASE(conv2d, INV, "weight_layout", p.weight_layout.format = CONVKIT_FORMAT_NCHW16C);
    CASE(conv2d, INV, "weight_layout", p.weight_layout.format = 99);
    CASE(conv2d, INV, "dst_layout", p.dst_layout.format = UINT32_MAX);
    CASE(conv1d, INV, "src_layout", p.src_layout.format = 5);
    CASE(pool2d, INV, "indices_layout", p.indices_layout.format = 3);
    CASE(pool1d, INV, "dst_layout", p.dst_layout.format = 3);
    CASE(unfold, INV, "column_layout", p.column_layout.format = 3);
    CASE(fold, INV, "image_layout", p.image_layout.format = 3);
    CASE(pad, INV, "src_layout", p.src_layout.format = 3);
    /* NCHW / NHWC with stray strides */
    CASE(conv2d, INV, "src_layout", p.src_layout.strides[2] = 5);
    CASE(pool2d, INV, "dst_layout", p.dst_layout.format = CONVKIT_FORMAT_NHWC;
         p.dst_layout.strides[0] = 1);
    CASE(pad, INV, "dst_layout", p.dst_layout.strides[3] = 1);
}

Test(errors, overlapping_output_layouts)
{
    const convkit_layout_t ov = overlapping_layout();
    CASE(unfold, INV, "column_layout", p.column_layout = ov);
    CASE(fold, INV, "image_layout", p.image_layout = ov);
    CASE(pad, INV, "dst_layout", p.dst_layout = ov);
    /* inputs may repeat or walk backwards */
    CASE(unfold, OK, NULL, p.image_layout = strided_layout(0, 20, 4, 1));
    CASE(fold, OK, NULL, p.column_layout = strided_layout(0, 1, 0, -18));
    CASE(pad, OK, NULL, p.src_layout = strided_layout(20, 0, -5, 1));
    /* a dense, valid STRIDED description of NCHW is of course fine */
    CASE(pad, OK, NULL, p.dst_layout = strided_layout(3 * 6 * 8, 6 * 8, 8, 1));
}

Test(errors, overflowing_sizes)
{
    CASE(conv2d, OVF, NULL, p.batch = BIG; p.in_channels = INT64_C(1) << 30; p.groups = 1;
         p.out_channels = 1; p.bias_length = 0);
    /* int64 fits but the byte count does not */
    CASE(conv2d, OVF, NULL, p.batch = INT64_C(1) << 31; p.in_channels = INT64_C(1) << 31;
         p.in_height = 1; p.in_width = 1; p.kernel_h = p.kernel_w = 1; p.groups = 1;
         p.pad_top = p.pad_bottom = p.pad_left = p.pad_right = 0);
    CASE(conv2d, OVF, NULL, p.out_channels = BIG * 4; p.groups = 1; p.bias_length = 0;
         p.kernel_h = 1 << 20; p.in_height = 1 << 20; p.pad_top = p.pad_bottom = 0);
    CASE(conv2d, OVF, NULL, p.pad_bottom = INT64_MAX);
    CASE(conv2d, OVF, NULL, p.dilation_h = INT64_MAX / 2 + 1); /* 2 * dil overflows */
    CASE(conv2d, OVF, NULL, p.src_layout = strided_layout(INT64_C(1) << 62, 1, 1, 1));
    CASE(conv2d, OVF, NULL, p.dst_layout = strided_layout(INT64_MAX, 1, 1, 1));
    CASE(conv1d, OVF, NULL, p.batch = BIG; p.in_channels = BIG; p.groups = 1);
    CASE(conv1d, OVF, NULL, p.pad_right = INT64_MAX);
    CASE(pool2d, OVF, NULL, p.batch = BIG; p.channels = INT64_C(1) << 30);
    CASE(pool2d, OVF, NULL, p.kernel_w = 3; p.dilation_w = INT64_MAX / 2 + 1);
    CASE(pool1d, OVF, NULL, p.batch = BIG; p.channels = BIG);
    CASE(unfold, OVF, NULL, p.batch = BIG; p.channels = INT64_C(1) << 30);
    CASE(fold, OVF, NULL, p.batch = BIG; p.channels = INT64_C(1) << 30;
         p.col_channels = (INT64_C(1) << 30) * 6);
    CASE(pad, OVF, NULL, p.batch = BIG; p.channels = BIG);
    CASE(pad, OVF, NULL, p.mode = CONVKIT_PAD_CONSTANT; p.pad_right = INT64_MAX);
    CASE(pad, OVF, NULL, p.mode = CONVKIT_PAD_REPLICATE; p.pad_bottom = INT64_MAX - 2);
}

/* Conv layouts describe an operand that one direction reads and another
 * writes (src/grad_src, weight/grad_weight, dst/grad_dst).  A self-
 * overlapping layout is either rejected when the plan is created, or
 * accepted there and then rejected by exactly the execute calls that would
 * write through it (the others run), with the buffer untouched. */
static void conv_overlap_case(int which, convkit_layout_t bad, bool one_d)
{
    static const char *const names[3] = {"src_layout", "weight_layout", "dst_layout"};
    char label[96];
    snprintf(label, sizeof label, "%s %s overlapping", one_d ? "conv1d" : "conv2d", names[which]);
    convkit_plan_t *plan = PLAN_SENTINEL;
    const char *primer = prime_error();
    convkit_status_t st;
    if (one_d) {
        convkit_conv1d_params_t p = good_conv1d();
        p.bias_length = 0;
        convkit_layout_t *l[3] = {&p.src_layout, &p.weight_layout, &p.dst_layout};
        *l[which] = bad;
        st = convkit_conv1d_create(&p, &plan);
    } else {
        convkit_conv2d_params_t p = good_conv2d();
        p.bias_length = 0;
        convkit_layout_t *l[3] = {&p.src_layout, &p.weight_layout, &p.dst_layout};
        *l[which] = bad;
        st = convkit_conv2d_create(&p, &plan);
    }
    if (st != CONVKIT_SUCCESS) {
        check_status(st, INV, names[which], primer, label);
        cr_expect(plan == PLAN_SENTINEL, "%s: plan written on failure", label);
        return;
    }
    /* Accepted at create: big flat buffers serve every operand. */
    const int64_t dims[4] = {1, 1, 1, 8192};
    tk_tensor_t in = tk_tensor_f32(dims, TK_NCHW), out = tk_tensor_f32(dims, TK_NCHW);
    tk_fill_const(&in, 1.0f);
    const float *a = tk_fdata(&in);
    float *o = tk_fdata(&out);
    const convkit_status_t want_fwd = which == 2 ? INV : CONVKIT_SUCCESS;
    const convkit_status_t want_bd = which == 0 ? INV : CONVKIT_SUCCESS;
    const convkit_status_t want_bw = which == 1 ? INV : CONVKIT_SUCCESS;
    char l2[128];
    snprintf(l2, sizeof l2, "%s: forward", label);
    primer = prime_error();
    check_status(convkit_conv_forward(plan, a, a, NULL, o), want_fwd, names[which], primer, l2);
    if (want_fwd != CONVKIT_SUCCESS) cr_expect(tk_untouched(&out), "%s wrote dst", l2);
    tk_fill_sentinel(&out);
    snprintf(l2, sizeof l2, "%s: backward_data", label);
    primer = prime_error();
    check_status(convkit_conv_backward_data(plan, a, a, o), want_bd, names[which], primer, l2);
    if (want_bd != CONVKIT_SUCCESS) cr_expect(tk_untouched(&out), "%s wrote grad_src", l2);
    tk_fill_sentinel(&out);
    snprintf(l2, sizeof l2, "%s: backward_weights", label);
    primer = prime_error();
    check_status(convkit_conv_backward_weights(plan, a, a, o), want_bw, names[which], primer, l2);
    if (want_bw != CONVKIT_SUCCESS) cr_expect(tk_untouched(&out), "%s wrote grad_weight", l2);
    snprintf(l2, sizeof l2, "%s: backward_bias", label);
    cr_expect_eq(convkit_conv_backward_bias(plan, a, o), CONVKIT_SUCCESS, "%s: %s", l2,
                 convkit_last_error());
    convkit_plan_destroy(plan);
    tk_tensor_free(&in);
    tk_tensor_free(&out);
}

Test(errors, conv_overlapping_layouts)
{
    const convkit_layout_t ov = overlapping_layout();                 /* C and W collide */
    const convkit_layout_t zero_n = strided_layout(0, 100, 10, 1);    /* batch 2 on one address */
    for (int which = 0; which < 3; which++) {
        conv_overlap_case(which, ov, false);
        conv_overlap_case(which, ov, true);
        if (which != 1) conv_overlap_case(which, zero_n, false); /* weight has no batch dim */
    }
}

/* Pool layouts are dual-role too: src/grad_src, dst/grad_dst and the
 * indices (written by forward, read by backward). */
static void pool_overlap_case(int which, convkit_layout_t bad, bool one_d)
{
    static const char *const names[3] = {"src_layout", "dst_layout", "indices_layout"};
    char label[96];
    snprintf(label, sizeof label, "%s %s overlapping", one_d ? "pool1d" : "pool2d", names[which]);
    convkit_plan_t *plan = PLAN_SENTINEL;
    const char *primer = prime_error();
    convkit_status_t st;
    if (one_d) {
        convkit_pool1d_params_t p = good_pool1d();
        convkit_layout_t *l[3] = {&p.src_layout, &p.dst_layout, &p.indices_layout};
        *l[which] = bad;
        st = convkit_max_pool1d_create(&p, &plan);
    } else {
        convkit_pool2d_params_t p = good_pool2d();
        convkit_layout_t *l[3] = {&p.src_layout, &p.dst_layout, &p.indices_layout};
        *l[which] = bad;
        st = convkit_max_pool2d_create(&p, &plan);
    }
    if (st != CONVKIT_SUCCESS) {
        check_status(st, INV, names[which], primer, label);
        cr_expect(plan == PLAN_SENTINEL, "%s: plan written on failure", label);
        return;
    }
    const int64_t dims[4] = {1, 1, 1, 8192};
    tk_tensor_t in = tk_tensor_f32(dims, TK_NCHW), out = tk_tensor_f32(dims, TK_NCHW);
    tk_tensor_t idx = tk_tensor_i64(dims, TK_NCHW), idx_in = tk_tensor_i64(dims, TK_NCHW);
    tk_fill_const(&in, 1.0f);
    for (int64_t i = 0; i < 8192; i++) tk_idata(&idx_in)[i] = 0;
    char l2[128];
    /* forward with indices writes dst and indices */
    snprintf(l2, sizeof l2, "%s: forward", label);
    primer = prime_error();
    const convkit_status_t want_f = which == 0 ? CONVKIT_SUCCESS : INV;
    check_status(convkit_max_pool_forward(plan, tk_fdata(&in), tk_fdata(&out), tk_idata(&idx)),
                 want_f, names[which], primer, l2);
    if (want_f != CONVKIT_SUCCESS)
        cr_expect(tk_untouched(&out) && tk_untouched(&idx), "%s wrote an output", l2);
    /* forward without indices writes dst only */
    tk_fill_sentinel(&out);
    snprintf(l2, sizeof l2, "%s: forward without indices", label);
    primer = prime_error();
    const convkit_status_t want_f0 = which == 1 ? INV : CONVKIT_SUCCESS;
    check_status(convkit_max_pool_forward(plan, tk_fdata(&in), tk_fdata(&out), NULL), want_f0,
                 names[which], primer, l2);
    if (want_f0 != CONVKIT_SUCCESS) cr_expect(tk_untouched(&out), "%s wrote dst", l2);
    /* backward writes grad_src, reads grad_dst and the indices */
    tk_fill_sentinel(&out);
    snprintf(l2, sizeof l2, "%s: backward", label);
    primer = prime_error();
    const convkit_status_t want_b = which == 0 ? INV : CONVKIT_SUCCESS;
    check_status(convkit_max_pool_backward(plan, tk_fdata(&in), tk_idata(&idx_in), tk_fdata(&out)),
                 want_b, names[which], primer, l2);
    if (want_b != CONVKIT_SUCCESS) cr_expect(tk_untouched(&out), "%s wrote grad_src", l2);
    convkit_plan_destroy(plan);
    tk_tensor_free(&in);
    tk_tensor_free(&out);
    tk_tensor_free(&idx);
    tk_tensor_free(&idx_in);
}

Test(errors, pool_overlapping_layouts)
{
    const convkit_layout_t ov = overlapping_layout();
    const convkit_layout_t zero_c = strided_layout(1000, 0, 100, 1); /* 3 channels, one address */
    for (int which = 0; which < 3; which++) {
        pool_overlap_case(which, ov, false);
        pool_overlap_case(which, ov, true);
        pool_overlap_case(which, zero_c, false);
    }
}

/* ---- convolution ------------------------------------------------------------- */

Test(errors, conv2d_ranges)
{
    CASE(conv2d, INV, "batch", p.batch = -1);
    CASE(conv2d, INV, "in_channels", p.in_channels = 0);
    CASE(conv2d, INV, "in_height", p.in_height = 0);
    CASE(conv2d, INV, "in_width", p.in_width = -3);
    CASE(conv2d, INV, "out_channels", p.out_channels = 0);
    CASE(conv2d, INV, "kernel_h", p.kernel_h = 0);
    CASE(conv2d, INV, "kernel_w", p.kernel_w = -1);
    CASE(conv2d, INV, "stride_h", p.stride_h = 0);
    CASE(conv2d, INV, "stride_h", p.stride_h = -2);
    CASE(conv2d, INV, "stride_w", p.stride_w = 0);
    CASE(conv2d, INV, "dilation_h", p.dilation_h = 0);
    CASE(conv2d, INV, "dilation_w", p.dilation_w = -1);
    CASE(conv2d, INV, "pad_top", p.pad_top = -1);
    CASE(conv2d, INV, "pad_bottom", p.pad_bottom = -1);
    CASE(conv2d, INV, "pad_left", p.pad_left = -1);
    CASE(conv2d, INV, "pad_right", p.pad_right = INT64_MIN);
    CASE(conv2d, INV, "groups", p.groups = 0);
    CASE(conv2d, INV, "groups", p.groups = -2);
    CASE(conv2d, INV, "padding_mode", p.padding_mode = 4);
    CASE(conv2d, INV, "padding_mode", p.padding_mode = UINT32_MAX);
}

Test(errors, conv2d_shapes)
{
    CASE(conv2d, SHAPE, "in_channels", p.groups = 3; p.out_channels = 6); /* 4 % 3 */
    CASE(conv2d, SHAPE, "out_channels", p.out_channels = 5; p.bias_length = 5); /* 5 % 2 */
    CASE(conv2d, SHAPE, "bias_length", p.bias_length = 5);
    CASE(conv2d, SHAPE, "bias_length", p.bias_length = 7);
    CASE(conv2d, SHAPE, "bias_length", p.bias_length = 1);
    {
        /* a negative bias length is wrong either way */
        convkit_conv2d_params_t p = good_conv2d();
        p.bias_length = -6;
        convkit_plan_t *plan = PLAN_SENTINEL;
        convkit_status_t st = convkit_conv2d_create(&p, &plan);
        cr_expect(st == SHAPE || st == INV, "bias_length -6: %s", status_name(st));
        cr_expect(strstr(convkit_last_error(), "bias_length") != NULL, "%s", convkit_last_error());
        cr_expect(plan == PLAN_SENTINEL);
    }
    /* the dilated kernel must fit the padded input */
    CASE(conv2d, INV, "kernel", p.kernel_h = 8);                    /* 8 > 5 + 2 */
    CASE(conv2d, INV, "kernel", p.kernel_w = 3; p.dilation_w = 4); /* 9 > 8 */
    CASE(conv2d, OK, NULL, p.kernel_h = 7);                          /* exactly fits */
    /* padding-mode limits: reflect pad < size, circular pad <= size */
    CASE(conv2d, INV, "pad_top", p.padding_mode = CONVKIT_PADDING_REFLECT; p.pad_top = 5);
    CASE(conv2d, INV, "pad_right", p.padding_mode = CONVKIT_PADDING_REFLECT; p.pad_right = 6);
    CASE(conv2d, OK, NULL, p.padding_mode = CONVKIT_PADDING_REFLECT; p.pad_right = 5; p.pad_top = 4);
    CASE(conv2d, INV, "pad_bottom", p.padding_mode = CONVKIT_PADDING_CIRCULAR; p.pad_bottom = 6);
    CASE(conv2d, INV, "pad_left", p.padding_mode = CONVKIT_PADDING_CIRCULAR; p.pad_left = 7);
    CASE(conv2d, OK, NULL, p.padding_mode = CONVKIT_PADDING_CIRCULAR; p.pad_left = 6; p.pad_bottom = 5);
    CASE(conv2d, OK, NULL, p.padding_mode = CONVKIT_PADDING_REPLICATE; p.pad_left = 60);
}

Test(errors, conv1d_arguments)
{
    CASE(conv1d, INV, "batch", p.batch = -1);
    CASE(conv1d, INV, "in_channels", p.in_channels = 0);
    CASE(conv1d, INV, "in_length", p.in_length = 0);
    CASE(conv1d, INV, "out_channels", p.out_channels = -6);
    CASE(conv1d, INV, "kernel", p.kernel = 0);
    CASE(conv1d, INV, "stride", p.stride = 0);
    CASE(conv1d, INV, "dilation", p.dilation = 0);
    CASE(conv1d, INV, "pad_left", p.pad_left = -1);
    CASE(conv1d, INV, "pad_right", p.pad_right = -1);
    CASE(conv1d, INV, "groups", p.groups = 0);
    CASE(conv1d, SHAPE, "groups", p.groups = 4);        /* out_channels 6 % 4 */
    CASE(conv1d, SHAPE, "bias_length", p.bias_length = 3);
    CASE(conv1d, INV, "padding_mode", p.padding_mode = 9);
    CASE(conv1d, INV, "kernel", p.kernel = 10);         /* 10 > 7 + 2 */
    CASE(conv1d, INV, "pad_left", p.padding_mode = CONVKIT_PADDING_REFLECT; p.pad_left = 7);
    CASE(conv1d, INV, "pad_right", p.padding_mode = CONVKIT_PADDING_CIRCULAR; p.pad_right = 8);
}

/* ---- pooling ------------------------------------------------------------------ */

Test(errors, pool2d_arguments)
{
    CASE(pool2d, INV, "batch", p.batch = -1);
    CASE(pool2d, INV, "channels", p.channels = 0);
    CASE(pool2d, INV, "in_height", p.in_height = 0);
    CASE(pool2d, INV, "in_width", p.in_width = -1);
    CASE(pool2d, INV, "kernel_h", p.kernel_h = 0);
    CASE(pool2d, INV, "kernel_w", p.kernel_w = -4);
    CASE(pool2d, INV, "stride_h", p.stride_h = -1);
    CASE(pool2d, INV, "stride_w", p.stride_w = -1);
    CASE(pool2d, OK, NULL, p.stride_h = 0; p.stride_w = 0);
    CASE(pool2d, INV, "dilation_h", p.dilation_h = 0);
    CASE(pool2d, INV, "dilation_w", p.dilation_w = -1);
    CASE(pool2d, INV, "pad_h", p.pad_h = -1);
    CASE(pool2d, INV, "pad_w", p.pad_w = -1);
    CASE(pool2d, INV, "ceil_mode", p.ceil_mode = 2);
    /* pad <= (dilation * (kernel - 1) + 1) / 2 */
    CASE(pool2d, INV, "pad_h", p.pad_h = 2);                     /* kernel 3: max 1 */
    CASE(pool2d, INV, "pad_w", p.pad_w = 2);                     /* kernel 2: max 1 */
    CASE(pool2d, OK, NULL, p.pad_h = 2; p.dilation_h = 2);       /* effective 5: max 2 */
    CASE(pool2d, INV, "pad_h", p.pad_h = 3; p.dilation_h = 2);
    CASE(pool2d, OK, NULL, p.pad_w = 2; p.kernel_w = 2; p.dilation_w = 3); /* effective 4 */
    CASE(pool2d, INV, "pad_w", p.kernel_w = 1; p.pad_w = 1);      /* effective 1: max 0 */
    /* the window must fit: kernel larger than the padded input */
    CASE(pool2d, INV, NULL, p.kernel_h = 9);
    CASE(pool2d, INV, NULL, p.kernel_w = 4; p.dilation_w = 3; p.pad_w = 0);
}

Test(errors, pool1d_arguments)
{
    CASE(pool1d, INV, "batch", p.batch = -5);
    CASE(pool1d, INV, "channels", p.channels = 0);
    CASE(pool1d, INV, "in_length", p.in_length = 0);
    CASE(pool1d, INV, "kernel", p.kernel = 0);
    CASE(pool1d, INV, "stride", p.stride = -1);
    CASE(pool1d, INV, "dilation", p.dilation = 0);
    CASE(pool1d, INV, "pad", p.pad = -1);
    CASE(pool1d, INV, "pad", p.pad = 2);
    CASE(pool1d, INV, "ceil_mode", p.ceil_mode = 7);
    CASE(pool1d, INV, NULL, p.kernel = 12);
}

/* ---- unfold / fold ---------------------------------------------------------- */

Test(errors, unfold_fold_arguments)
{
    CASE(unfold, INV, "batch", p.batch = -1);
    CASE(unfold, INV, "channels", p.channels = 0);
    CASE(unfold, INV, "height", p.height = 0);
    CASE(unfold, INV, "width", p.width = 0);
    CASE(unfold, INV, "kernel_h", p.kernel_h = 0);
    CASE(unfold, INV, "kernel_w", p.kernel_w = -1);
    CASE(unfold, INV, "dilation_h", p.dilation_h = 0);
    CASE(unfold, INV, "dilation_w", p.dilation_w = 0);
    CASE(unfold, INV, "pad_h", p.pad_h = -1);
    CASE(unfold, INV, "pad_w", p.pad_w = -1);
    CASE(unfold, INV, "stride_h", p.stride_h = 0);
    CASE(unfold, INV, "stride_w", p.stride_w = -1);
    CASE(unfold, INV, NULL, p.kernel_w = 5);
    CASE(fold, INV, "stride_h", p.stride_h = 0);
    CASE(fold, INV, "channels", p.channels = -3);
    CASE(fold, INV, NULL, p.kernel_h = 8; p.col_channels = 3 * 8 * 3);
    CASE(fold, SHAPE, "col_channels", p.col_channels = 17);
    CASE(fold, SHAPE, "col_channels", p.col_channels = 0);
    CASE(fold, SHAPE, "col_length", p.col_length = 13);
    CASE(fold, SHAPE, "col_length", p.col_length = 0);
}

/* ---- pad ---------------------------------------------------------------------- */

Test(errors, pad_arguments)
{
    CASE(pad, INV, "mode", p.mode = 4);
    CASE(pad, INV, "batch", p.batch = -1);
    CASE(pad, INV, "channels", p.channels = 0);
    CASE(pad, INV, "height", p.height = 0);
    CASE(pad, INV, "width", p.width = -2);
    CASE(pad, INV, "pad_left", p.pad_left = 5);                /* reflect: < 5 */
    CASE(pad, INV, "pad_top", p.pad_top = 4);                  /* reflect: < 4 */
    CASE(pad, INV, "pad_right", p.pad_right = -1);
    CASE(pad, INV, "pad_left", p.mode = CONVKIT_PAD_CIRCULAR; p.pad_left = 6);
    CASE(pad, INV, "pad_bottom", p.mode = CONVKIT_PAD_CIRCULAR; p.pad_bottom = 5);
    CASE(pad, INV, "pad_top", p.mode = CONVKIT_PAD_REPLICATE; p.pad_top = -1);
    CASE(pad, OK, NULL, p.mode = CONVKIT_PAD_CONSTANT; p.pad_left = -2; p.pad_top = -3);
    CASE(pad, INV, NULL, p.mode = CONVKIT_PAD_CONSTANT; p.pad_left = -3; p.pad_right = -2);
}

/* ---- ISA requests -------------------------------------------------------------- */

#if defined(__x86_64__) || defined(__i386__)
#define FOREIGN_ISA CONVKIT_ISA_NEON
#else
#define FOREIGN_ISA CONVKIT_ISA_AVX2
#endif

Test(errors, plan_isa_field)
{
    const uint32_t unusable[] = {5, 99, UINT32_MAX, FOREIGN_ISA};
    for (size_t i = 0; i < sizeof unusable / sizeof unusable[0]; i++) {
        const uint32_t isa = unusable[i];
        CASE(conv2d, CONVKIT_ERROR_UNSUPPORTED_ISA, "isa", p.isa = isa);
        CASE(conv1d, CONVKIT_ERROR_UNSUPPORTED_ISA, "isa", p.isa = isa);
        CASE(pool2d, CONVKIT_ERROR_UNSUPPORTED_ISA, "isa", p.isa = isa);
        CASE(pool1d, CONVKIT_ERROR_UNSUPPORTED_ISA, "isa", p.isa = isa);
        CASE(unfold, CONVKIT_ERROR_UNSUPPORTED_ISA, "isa", p.isa = isa);
        CASE(fold, CONVKIT_ERROR_UNSUPPORTED_ISA, "isa", p.isa = isa);
        CASE(pad, CONVKIT_ERROR_UNSUPPORTED_ISA, "isa", p.isa = isa);
    }
    const uint32_t all[] = {CONVKIT_ISA_SCALAR, CONVKIT_ISA_AVX2, CONVKIT_ISA_AVX512,
                            CONVKIT_ISA_NEON};
    for (size_t i = 0; i < 4; i++) {
        const uint32_t isa = all[i];
        const convkit_status_t want =
            convkit_isa_supported(isa) ? CONVKIT_SUCCESS : CONVKIT_ERROR_UNSUPPORTED_ISA;
        CASE(conv2d, want, "isa", p.isa = isa);
        CASE(pool2d, want, "isa", p.isa = isa);
        CASE(fold, want, "isa", p.isa = isa);
        CASE(pad, want, "isa", p.isa = isa);
    }
}

Test(errors, set_max_isa_rejects_unusable_isas)
{
    const uint32_t before = convkit_get_max_isa();
    const uint32_t unusable[] = {5, 42, UINT32_MAX, FOREIGN_ISA};
    for (size_t i = 0; i < sizeof unusable / sizeof unusable[0]; i++) {
        const char *primer = prime_error();
        char label[64];
        snprintf(label, sizeof label, "convkit_set_max_isa(%u)", unusable[i]);
        check_status(convkit_set_max_isa(unusable[i]), CONVKIT_ERROR_UNSUPPORTED_ISA, NULL, primer,
                     label);
        cr_expect_eq(convkit_get_max_isa(), before, "%s changed the cap", label);
    }
    if (!convkit_isa_supported(CONVKIT_ISA_AVX512)) {
        const char *primer = prime_error();
        check_status(convkit_set_max_isa(CONVKIT_ISA_AVX512), CONVKIT_ERROR_UNSUPPORTED_ISA,
                     "avx512", primer, "convkit_set_max_isa(AVX512) on a CPU without it");
        cr_expect_eq(convkit_get_max_isa(), before);
    }
}

/* ---- execute-time errors ------------------------------------------------------- */

/* A conv plan and valid buffers for it. */
typedef struct conv_fixture {
    convkit_plan_t *plan;
    tk_tensor_t x, w, y, gx, gw;
    float bias[6], gb[6];
} conv_fixture_t;

static void conv_fixture_init(conv_fixture_t *f, bool bias)
{
    convkit_conv2d_params_t p = good_conv2d();
    p.bias_length = bias ? 6 : 0;
    cr_assert_eq(convkit_conv2d_create(&p, &f->plan), CONVKIT_SUCCESS, "%s", convkit_last_error());
    int64_t od[4];
    convkit_plan_output_dims(f->plan, od);
    const int64_t sd[4] = {2, 4, 5, 6}, wd[4] = {6, 2, 3, 2};
    tk_rng_t r;
    tk_rng_seed(&r, 1);
    f->x = tk_tensor_f32(sd, TK_NCHW);
    f->w = tk_tensor_f32(wd, TK_NCHW);
    f->y = tk_tensor_f32(od, TK_NCHW);
    f->gx = tk_tensor_f32(sd, TK_NCHW);
    f->gw = tk_tensor_f32(wd, TK_NCHW);
    tk_fill_uniform(&f->x, &r, -1, 1);
    tk_fill_uniform(&f->w, &r, -1, 1);
    for (int i = 0; i < 6; i++) {
        f->bias[i] = 0.5f;
        f->gb[i] = tk_sentinel_f32();
    }
}

static void conv_fixture_fini(conv_fixture_t *f)
{
    convkit_plan_destroy(f->plan);
    tk_tensor_free(&f->x);
    tk_tensor_free(&f->w);
    tk_tensor_free(&f->y);
    tk_tensor_free(&f->gx);
    tk_tensor_free(&f->gw);
}

static bool gb_untouched(const conv_fixture_t *f)
{
    for (int i = 0; i < 6; i++)
        if (!tk_is_sentinel_f32(f->gb[i])) return false;
    return true;
}

#define EXEC(call, want, needle, ...)                                                      \
    do {                                                                                   \
        const char *primer_ = prime_error();                                               \
        check_status(call, want, needle, primer_, #call);                                  \
        cr_expect(__VA_ARGS__, "%s: an output buffer was written on failure", #call);      \
    } while (0)

Test(errors, conv_execute_null_pointers)
{
    conv_fixture_t f;
    conv_fixture_init(&f, true);
    float *x = tk_fdata(&f.x), *w = tk_fdata(&f.w), *y = tk_fdata(&f.y);
    float *gx = tk_fdata(&f.gx), *gw = tk_fdata(&f.gw);
    const float *gy = x; /* any readable buffer: never read on failure */
    const convkit_status_t NUL = CONVKIT_ERROR_NULL_POINTER;
    EXEC(convkit_conv_forward(NULL, x, w, f.bias, y), NUL, "plan", tk_untouched(&f.y));
    EXEC(convkit_conv_forward(f.plan, NULL, w, f.bias, y), NUL, "src", tk_untouched(&f.y));
    EXEC(convkit_conv_forward(f.plan, x, NULL, f.bias, y), NUL, "weight", tk_untouched(&f.y));
    EXEC(convkit_conv_forward(f.plan, x, w, NULL, y), NUL, "bias", tk_untouched(&f.y));
    EXEC(convkit_conv_forward(f.plan, x, w, f.bias, NULL), NUL, "dst", true);
    EXEC(convkit_conv_backward_data(NULL, gy, w, gx), NUL, "plan", tk_untouched(&f.gx));
    EXEC(convkit_conv_backward_data(f.plan, NULL, w, gx), NUL, "grad_dst", tk_untouched(&f.gx));
    EXEC(convkit_conv_backward_data(f.plan, gy, NULL, gx), NUL, "weight", tk_untouched(&f.gx));
    EXEC(convkit_conv_backward_data(f.plan, gy, w, NULL), NUL, "grad_src", true);
    EXEC(convkit_conv_backward_weights(NULL, x, gy, gw), NUL, "plan", tk_untouched(&f.gw));
    EXEC(convkit_conv_backward_weights(f.plan, NULL, gy, gw), NUL, "src", tk_untouched(&f.gw));
    EXEC(convkit_conv_backward_weights(f.plan, x, NULL, gw), NUL, "grad_dst", tk_untouched(&f.gw));
    EXEC(convkit_conv_backward_weights(f.plan, x, gy, NULL), NUL, "grad_weight", true);
    EXEC(convkit_conv_backward_bias(NULL, gy, f.gb), NUL, "plan", gb_untouched(&f));
    EXEC(convkit_conv_backward_bias(f.plan, NULL, f.gb), NUL, "grad_dst", gb_untouched(&f));
    EXEC(convkit_conv_backward_bias(f.plan, gy, NULL), NUL, "grad_bias", true);
    conv_fixture_fini(&f);
}

Test(errors, conv_forward_bias_without_bias_length)
{
    conv_fixture_t f;
    conv_fixture_init(&f, false);
    EXEC(convkit_conv_forward(f.plan, tk_fdata(&f.x), tk_fdata(&f.w), f.bias, tk_fdata(&f.y)),
         CONVKIT_ERROR_INVALID_ARGUMENT, "bias", tk_untouched(&f.y));
    /* and without a bias it runs */
    cr_expect_eq(convkit_conv_forward(f.plan, tk_fdata(&f.x), tk_fdata(&f.w), NULL, tk_fdata(&f.y)),
                 CONVKIT_SUCCESS, "%s", convkit_last_error());
    conv_fixture_fini(&f);
}

/* One plan of every kind, to hand to the wrong execute functions. */
typedef struct plans {
    convkit_plan_t *conv, *pool, *unfold, *fold, *pad;
} plans_t;

static plans_t make_plans(void)
{
    plans_t p;
    convkit_conv2d_params_t c = good_conv2d();
    convkit_pool2d_params_t m = good_pool2d();
    convkit_fold_params_t u = good_unfold(), f = good_fold();
    convkit_pad_params_t d = good_pad();
    cr_assert_eq(convkit_conv2d_create(&c, &p.conv), CONVKIT_SUCCESS);
    cr_assert_eq(convkit_max_pool2d_create(&m, &p.pool), CONVKIT_SUCCESS);
    cr_assert_eq(convkit_unfold_create(&u, &p.unfold), CONVKIT_SUCCESS);
    cr_assert_eq(convkit_fold_create(&f, &p.fold), CONVKIT_SUCCESS);
    cr_assert_eq(convkit_pad_create(&d, &p.pad), CONVKIT_SUCCESS);
    return p;
}

static void free_plans(plans_t *p)
{
    convkit_plan_destroy(p->conv);
    convkit_plan_destroy(p->pool);
    convkit_plan_destroy(p->unfold);
    convkit_plan_destroy(p->fold);
    convkit_plan_destroy(p->pad);
}

Test(errors, wrong_plan_kind)
{
    plans_t p = make_plans();
    /* buffers large enough for any of the good shapes, sentinel-filled */
    const int64_t dims[4] = {1, 1, 1, 4096};
    tk_tensor_t in = tk_tensor_f32(dims, TK_NCHW), out = tk_tensor_f32(dims, TK_NCHW);
    tk_tensor_t idx = tk_tensor_i64(dims, TK_NCHW), out2 = tk_tensor_f32(dims, TK_NCHW);
    tk_fill_const(&in, 1.0f);
    for (int64_t i = 0; i < 4096; i++) tk_idata(&idx)[i] = 0;
    float *a = tk_fdata(&in), *o = tk_fdata(&out);
    int64_t *ix = tk_idata(&idx);
    const convkit_status_t WP = CONVKIT_ERROR_WRONG_PLAN;
    convkit_plan_t *not_conv[] = {p.pool, p.unfold, p.fold, p.pad};
    for (int i = 0; i < 4; i++) {
        convkit_plan_t *q = not_conv[i];
        EXEC(convkit_conv_forward(q, a, a, NULL, o), WP, "plan", tk_untouched(&out));
        EXEC(convkit_conv_backward_data(q, a, a, o), WP, "plan", tk_untouched(&out));
        EXEC(convkit_conv_backward_weights(q, a, a, o), WP, "plan", tk_untouched(&out));
        EXEC(convkit_conv_backward_bias(q, a, o), WP, "plan", tk_untouched(&out));
    }
    convkit_plan_t *not_pool[] = {p.conv, p.unfold, p.fold, p.pad};
    for (int i = 0; i < 4; i++) {
        convkit_plan_t *q = not_pool[i];
        tk_tensor_t idx_out = tk_tensor_i64(dims, TK_NCHW);
        EXEC(convkit_max_pool_forward(q, a, o, tk_idata(&idx_out)), WP, "plan",
             tk_untouched(&out) && tk_untouched(&idx_out));
        EXEC(convkit_max_pool_backward(q, a, ix, o), WP, "plan", tk_untouched(&out));
        tk_tensor_free(&idx_out);
    }
    convkit_plan_t *not_fold[] = {p.conv, p.pool, p.pad};
    for (int i = 0; i < 3; i++)
        EXEC(convkit_fold_execute(not_fold[i], a, o), WP, "plan", tk_untouched(&out));
    convkit_plan_t *not_pad[] = {p.conv, p.pool, p.unfold, p.fold};
    for (int i = 0; i < 4; i++)
        EXEC(convkit_pad_execute(not_pad[i], a, o), WP, "plan", tk_untouched(&out));
    /* the right plans do run on the same buffers */
    cr_expect_eq(convkit_fold_execute(p.unfold, a, o), CONVKIT_SUCCESS, "%s", convkit_last_error());
    cr_expect_eq(convkit_fold_execute(p.fold, a, tk_fdata(&out2)), CONVKIT_SUCCESS, "%s",
                 convkit_last_error());
    free_plans(&p);
    tk_tensor_free(&in);
    tk_tensor_free(&out);
    tk_tensor_free(&out2);
    tk_tensor_free(&idx);
}

Test(errors, pool_fold_pad_execute_null_pointers)
{
    plans_t p = make_plans();
    const int64_t dims[4] = {1, 1, 1, 4096};
    tk_tensor_t in = tk_tensor_f32(dims, TK_NCHW), out = tk_tensor_f32(dims, TK_NCHW);
    tk_tensor_t idx = tk_tensor_i64(dims, TK_NCHW), idx_in = tk_tensor_i64(dims, TK_NCHW);
    tk_fill_const(&in, 1.0f);
    for (int64_t i = 0; i < 4096; i++) tk_idata(&idx_in)[i] = 0;
    float *a = tk_fdata(&in), *o = tk_fdata(&out);
    const convkit_status_t NUL = CONVKIT_ERROR_NULL_POINTER;
    EXEC(convkit_max_pool_forward(NULL, a, o, tk_idata(&idx)), NUL, "plan",
         tk_untouched(&out) && tk_untouched(&idx));
    EXEC(convkit_max_pool_forward(p.pool, NULL, o, tk_idata(&idx)), NUL, "src",
         tk_untouched(&out) && tk_untouched(&idx));
    EXEC(convkit_max_pool_forward(p.pool, a, NULL, tk_idata(&idx)), NUL, "dst", tk_untouched(&idx));
    EXEC(convkit_max_pool_backward(NULL, a, tk_idata(&idx_in), o), NUL, "plan", tk_untouched(&out));
    EXEC(convkit_max_pool_backward(p.pool, NULL, tk_idata(&idx_in), o), NUL, "grad_dst",
         tk_untouched(&out));
    EXEC(convkit_max_pool_backward(p.pool, a, NULL, o), NUL, "indices", tk_untouched(&out));
    EXEC(convkit_max_pool_backward(p.pool, a, tk_idata(&idx_in), NULL), NUL, "grad_src", true);
    EXEC(convkit_fold_execute(NULL, a, o), NUL, "plan", tk_untouched(&out));
    EXEC(convkit_fold_execute(p.unfold, NULL, o), NUL, "src", tk_untouched(&out));
    EXEC(convkit_fold_execute(p.unfold, a, NULL), NUL, "dst", true);
    EXEC(convkit_fold_execute(p.fold, NULL, o), NUL, "src", tk_untouched(&out));
    EXEC(convkit_fold_execute(p.fold, a, NULL), NUL, "dst", true);
    EXEC(convkit_pad_execute(NULL, a, o), NUL, "plan", tk_untouched(&out));
    EXEC(convkit_pad_execute(p.pad, NULL, o), NUL, "src", tk_untouched(&out));
    EXEC(convkit_pad_execute(p.pad, a, NULL), NUL, "dst", true);
    /* pool backward: indices outside the plane, grad_src untouched */
    for (int64_t i = 0; i < 4096; i++) tk_idata(&idx_in)[i] = 3; /* plane is 6 * 7 */
    tk_idata(&idx_in)[5] = 42;
    EXEC(convkit_max_pool_backward(p.pool, a, tk_idata(&idx_in), o),
         CONVKIT_ERROR_INDEX_OUT_OF_RANGE, "indices", tk_untouched(&out));
    tk_idata(&idx_in)[5] = -7;
    EXEC(convkit_max_pool_backward(p.pool, a, tk_idata(&idx_in), o),
         CONVKIT_ERROR_INDEX_OUT_OF_RANGE, "indices", tk_untouched(&out));
    tk_idata(&idx_in)[5] = 41;
    cr_expect_eq(convkit_max_pool_backward(p.pool, a, tk_idata(&idx_in), o), CONVKIT_SUCCESS, "%s",
                 convkit_last_error());
    free_plans(&p);
    tk_tensor_free(&in);
    tk_tensor_free(&out);
    tk_tensor_free(&idx);
    tk_tensor_free(&idx_in);
}

Test(errors, plan_output_dims_null_arguments)
{
    plans_t p = make_plans();
    int64_t dims[4] = {-7, -7, -7, -7};
    const char *primer = "convkit_set_max_isa";
    convkit_set_max_isa(12345);
    check_status(convkit_plan_output_dims(NULL, dims), CONVKIT_ERROR_NULL_POINTER, "plan", primer,
                 "convkit_plan_output_dims(NULL, dims)");
    for (int i = 0; i < 4; i++) cr_expect_eq(dims[i], -7, "dims written on failure");
    convkit_set_max_isa(12345);
    check_status(convkit_plan_output_dims(p.conv, NULL), CONVKIT_ERROR_NULL_POINTER, "dims",
                 primer, "convkit_plan_output_dims(plan, NULL)");
    free_plans(&p);
}

Test(errors, status_strings)
{
    static const struct {
        convkit_status_t st;
        const char *name;
    } codes[] = {
        {CONVKIT_SUCCESS, "CONVKIT_SUCCESS"},
        {CONVKIT_ERROR_INVALID_ARGUMENT, "CONVKIT_ERROR_INVALID_ARGUMENT"},
        {CONVKIT_ERROR_NULL_POINTER, "CONVKIT_ERROR_NULL_POINTER"},
        {CONVKIT_ERROR_SHAPE_MISMATCH, "CONVKIT_ERROR_SHAPE_MISMATCH"},
        {CONVKIT_ERROR_UNSUPPORTED_ISA, "CONVKIT_ERROR_UNSUPPORTED_ISA"},
        {CONVKIT_ERROR_OUT_OF_MEMORY, "CONVKIT_ERROR_OUT_OF_MEMORY"},
        {CONVKIT_ERROR_OVERFLOW, "CONVKIT_ERROR_OVERFLOW"},
        {CONVKIT_ERROR_INDEX_OUT_OF_RANGE, "CONVKIT_ERROR_INDEX_OUT_OF_RANGE"},
        {CONVKIT_ERROR_WRONG_PLAN, "CONVKIT_ERROR_WRONG_PLAN"},
        {CONVKIT_ERROR_STRUCT_SIZE, "CONVKIT_ERROR_STRUCT_SIZE"},
        {CONVKIT_ERROR_RESERVED_NONZERO, "CONVKIT_ERROR_RESERVED_NONZERO"},
    };
    /* fixed values, never renumbered */
    for (int i = 0; i < 11; i++) cr_expect_eq((int)codes[i].st, i, "%s != %d", codes[i].name, i);
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        const char *s = convkit_status_string(codes[i].st);
        cr_assert_not_null(s, "%s: NULL string", codes[i].name);
        const size_t n = strlen(codes[i].name);
        cr_expect(strncmp(s, codes[i].name, n) == 0 && (s[n] == ':' || s[n] == '\0'),
                  "status %d: '%s' does not start with %s", (int)codes[i].st, s, codes[i].name);
        cr_expect(strlen(s) > n + 2, "status %d: no description in '%s'", (int)codes[i].st, s);
        for (size_t j = 0; j < i; j++)
            cr_expect(strcmp(s, convkit_status_string(codes[j].st)) != 0, "%s and %s share '%s'",
                      codes[i].name, codes[j].name, s);
    }
    const convkit_status_t unknown[] = {(convkit_status_t)11, (convkit_status_t)999,
                                        (convkit_status_t)-1};
    for (int i = 0; i < 3; i++) {
        const char *s = convkit_status_string(unknown[i]);
        cr_assert_not_null(s, "unknown status %d: NULL", (int)unknown[i]);
        cr_expect(strstr(s, "unknown") != NULL, "unknown status %d: '%s'", (int)unknown[i], s);
    }
}

Test(errors, last_error_is_empty_before_any_failure)
{
    const char *msg = convkit_last_error();
    cr_assert_not_null(msg);
    cr_expect_str_empty(msg, "fresh thread: '%s'", msg);
}
