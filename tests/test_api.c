/*
 * test_api.c - the ABI surface: version, every *_INIT macro field by field,
 * plan introspection (output dims, impl name, isa), convkit_plan_destroy(NULL),
 * the struct_size contract of every parameter struct (smaller rejected,
 * larger accepted only with a zero tail), params read-only and not
 * retained by the plan.
 */
#include <criterion/criterion.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "test_support.h"

Test(api, version_matches_macros)
{
    char want[64];
    snprintf(want, sizeof want, "%d.%d.%d", CONVKIT_VERSION_MAJOR, CONVKIT_VERSION_MINOR,
             CONVKIT_VERSION_PATCH);
    cr_assert_not_null(convkit_version());
    cr_expect_str_eq(convkit_version(), want);
    cr_expect_eq(CONVKIT_VERSION_MAJOR, 0);
    cr_expect_eq(CONVKIT_VERSION_MINOR, 1);
}

static void expect_nchw_layout(const convkit_layout_t *l, const char *what)
{
    cr_expect_eq(l->format, CONVKIT_FORMAT_NCHW, "%s.format", what);
    cr_expect_eq(l->reserved, 0u, "%s.reserved", what);
    for (int i = 0; i < 4; i++) cr_expect_eq(l->strides[i], 0, "%s.strides[%d]", what, i);
}

static void expect_zero_words(const uint64_t *w, int n, const char *what)
{
    for (int i = 0; i < n; i++) cr_expect_eq(w[i], 0u, "%s[%d]", what, i);
}

Test(api, layout_and_conv_init_macros)
{
    const convkit_layout_t l = CONVKIT_LAYOUT_NCHW_INIT;
    expect_nchw_layout(&l, "CONVKIT_LAYOUT_NCHW_INIT");
    cr_expect_eq(CONVKIT_FORMAT_NCHW, 0u);

    const convkit_conv2d_params_t c = CONVKIT_CONV2D_PARAMS_INIT;
    cr_expect_eq(c.struct_size, sizeof(convkit_conv2d_params_t));
    cr_expect_eq(c.isa, CONVKIT_ISA_DEFAULT);
    cr_expect_eq(c.batch, 1);
    cr_expect_eq(c.in_channels, 1);
    cr_expect_eq(c.in_height, 1);
    cr_expect_eq(c.in_width, 1);
    cr_expect_eq(c.out_channels, 1);
    cr_expect_eq(c.kernel_h, 1);
    cr_expect_eq(c.kernel_w, 1);
    cr_expect_eq(c.stride_h, 1);
    cr_expect_eq(c.stride_w, 1);
    cr_expect_eq(c.pad_top, 0);
    cr_expect_eq(c.pad_bottom, 0);
    cr_expect_eq(c.pad_left, 0);
    cr_expect_eq(c.pad_right, 0);
    cr_expect_eq(c.dilation_h, 1);
    cr_expect_eq(c.dilation_w, 1);
    cr_expect_eq(c.groups, 1);
    cr_expect_eq(c.bias_length, 0);
    cr_expect_eq(c.padding_mode, CONVKIT_PADDING_ZEROS);
    cr_expect_eq(c.flags, 0u);
    expect_nchw_layout(&c.src_layout, "conv2d.src_layout");
    expect_nchw_layout(&c.weight_layout, "conv2d.weight_layout");
    expect_nchw_layout(&c.dst_layout, "conv2d.dst_layout");
    cr_expect_eq(c.algorithm, CONVKIT_CONV_ALGORITHM_AUTO);
    cr_expect_eq(c.reserved32, 0u);
    expect_zero_words(c.reserved, 3, "conv2d.reserved");

    const convkit_conv1d_params_t d = CONVKIT_CONV1D_PARAMS_INIT;
    cr_expect_eq(d.struct_size, sizeof(convkit_conv1d_params_t));
    cr_expect_eq(d.isa, CONVKIT_ISA_DEFAULT);
    cr_expect_eq(d.batch, 1);
    cr_expect_eq(d.in_channels, 1);
    cr_expect_eq(d.in_length, 1);
    cr_expect_eq(d.out_channels, 1);
    cr_expect_eq(d.kernel, 1);
    cr_expect_eq(d.stride, 1);
    cr_expect_eq(d.pad_left, 0);
    cr_expect_eq(d.pad_right, 0);
    cr_expect_eq(d.dilation, 1);
    cr_expect_eq(d.groups, 1);
    cr_expect_eq(d.bias_length, 0);
    cr_expect_eq(d.padding_mode, CONVKIT_PADDING_ZEROS);
    cr_expect_eq(d.flags, 0u);
    expect_nchw_layout(&d.src_layout, "conv1d.src_layout");
    expect_nchw_layout(&d.weight_layout, "conv1d.weight_layout");
    expect_nchw_layout(&d.dst_layout, "conv1d.dst_layout");
    cr_expect_eq(d.algorithm, CONVKIT_CONV_ALGORITHM_AUTO);
    cr_expect_eq(d.reserved32, 0u);
    expect_zero_words(d.reserved, 3, "conv1d.reserved");
}

Test(api, pool_fold_pad_init_macros)
{
    const convkit_pool2d_params_t p = CONVKIT_POOL2D_PARAMS_INIT;
    cr_expect_eq(p.struct_size, sizeof(convkit_pool2d_params_t));
    cr_expect_eq(p.isa, CONVKIT_ISA_DEFAULT);
    cr_expect_eq(p.batch, 1);
    cr_expect_eq(p.channels, 1);
    cr_expect_eq(p.in_height, 1);
    cr_expect_eq(p.in_width, 1);
    cr_expect_eq(p.kernel_h, 1);
    cr_expect_eq(p.kernel_w, 1);
    cr_expect_eq(p.stride_h, 0);
    cr_expect_eq(p.stride_w, 0);
    cr_expect_eq(p.pad_h, 0);
    cr_expect_eq(p.pad_w, 0);
    cr_expect_eq(p.dilation_h, 1);
    cr_expect_eq(p.dilation_w, 1);
    cr_expect_eq(p.ceil_mode, 0u);
    cr_expect_eq(p.flags, 0u);
    expect_nchw_layout(&p.src_layout, "pool2d.src_layout");
    expect_nchw_layout(&p.dst_layout, "pool2d.dst_layout");
    expect_nchw_layout(&p.indices_layout, "pool2d.indices_layout");
    expect_zero_words(p.reserved, 4, "pool2d.reserved");

    const convkit_pool1d_params_t q = CONVKIT_POOL1D_PARAMS_INIT;
    cr_expect_eq(q.struct_size, sizeof(convkit_pool1d_params_t));
    cr_expect_eq(q.isa, CONVKIT_ISA_DEFAULT);
    cr_expect_eq(q.batch, 1);
    cr_expect_eq(q.channels, 1);
    cr_expect_eq(q.in_length, 1);
    cr_expect_eq(q.kernel, 1);
    cr_expect_eq(q.stride, 0);
    cr_expect_eq(q.pad, 0);
    cr_expect_eq(q.dilation, 1);
    cr_expect_eq(q.ceil_mode, 0u);
    cr_expect_eq(q.flags, 0u);
    expect_nchw_layout(&q.src_layout, "pool1d.src_layout");
    expect_nchw_layout(&q.dst_layout, "pool1d.dst_layout");
    expect_nchw_layout(&q.indices_layout, "pool1d.indices_layout");
    expect_zero_words(q.reserved, 4, "pool1d.reserved");

    const convkit_fold_params_t f = CONVKIT_FOLD_PARAMS_INIT;
    cr_expect_eq(f.struct_size, sizeof(convkit_fold_params_t));
    cr_expect_eq(f.isa, CONVKIT_ISA_DEFAULT);
    cr_expect_eq(f.batch, 1);
    cr_expect_eq(f.channels, 1);
    cr_expect_eq(f.height, 1);
    cr_expect_eq(f.width, 1);
    cr_expect_eq(f.kernel_h, 1);
    cr_expect_eq(f.kernel_w, 1);
    cr_expect_eq(f.dilation_h, 1);
    cr_expect_eq(f.dilation_w, 1);
    cr_expect_eq(f.pad_h, 0);
    cr_expect_eq(f.pad_w, 0);
    cr_expect_eq(f.stride_h, 1);
    cr_expect_eq(f.stride_w, 1);
    cr_expect_eq(f.col_channels, 0);
    cr_expect_eq(f.col_length, 0);
    expect_nchw_layout(&f.image_layout, "fold.image_layout");
    expect_nchw_layout(&f.column_layout, "fold.column_layout");
    expect_zero_words(f.reserved, 4, "fold.reserved");

    const convkit_pad_params_t d = CONVKIT_PAD_PARAMS_INIT;
    cr_expect_eq(d.struct_size, sizeof(convkit_pad_params_t));
    cr_expect_eq(d.isa, CONVKIT_ISA_DEFAULT);
    cr_expect_eq(d.batch, 1);
    cr_expect_eq(d.channels, 1);
    cr_expect_eq(d.height, 1);
    cr_expect_eq(d.width, 1);
    cr_expect_eq(d.pad_left, 0);
    cr_expect_eq(d.pad_right, 0);
    cr_expect_eq(d.pad_top, 0);
    cr_expect_eq(d.pad_bottom, 0);
    cr_expect_eq(d.mode, CONVKIT_PAD_CONSTANT);
    cr_expect(tk_f32_bits(d.value) == 0u, "pad.value must be +0.0f");
    expect_nchw_layout(&d.src_layout, "pad.src_layout");
    expect_nchw_layout(&d.dst_layout, "pad.dst_layout");
    expect_zero_words(d.reserved, 4, "pad.reserved");
}

static void expect_dims(convkit_plan_t *plan, int64_t a, int64_t b, int64_t c, int64_t d,
                        const char *what)
{
    int64_t dims[4] = {-1, -1, -1, -1};
    cr_assert_eq(convkit_plan_output_dims(plan, dims), CONVKIT_SUCCESS, "%s: %s", what,
                 convkit_last_error());
    cr_expect(dims[0] == a && dims[1] == b && dims[2] == c && dims[3] == d,
              "%s: output dims (%lld, %lld, %lld, %lld), want (%lld, %lld, %lld, %lld)", what,
              (long long)dims[0], (long long)dims[1], (long long)dims[2], (long long)dims[3],
              (long long)a, (long long)b, (long long)c, (long long)d);
}

static void expect_impl(convkit_plan_t *plan, const char *prefix, const char *what)
{
    const char *name = convkit_plan_impl_name(plan);
    cr_assert_not_null(name, "%s: NULL impl name", what);
    cr_expect(name[0] != '\0', "%s: empty impl name", what);
    const char *isa = convkit_isa_name(convkit_plan_isa(plan));
    cr_assert_not_null(isa, "%s: plan isa %u has no name", what, convkit_plan_isa(plan));
    cr_expect(strstr(name, isa) != NULL, "%s: impl name '%s' does not name isa '%s'", what, name,
              isa);
    if (prefix != NULL)
        cr_expect(strncmp(name, prefix, strlen(prefix)) == 0, "%s: impl name '%s' lacks '%s'",
                  what, name, prefix);
}

Test(api, init_macros_create_valid_plans)
{
    convkit_plan_t *plan = NULL;
    const convkit_conv2d_params_t c2 = CONVKIT_CONV2D_PARAMS_INIT;
    cr_assert_eq(convkit_conv2d_create(&c2, &plan), CONVKIT_SUCCESS, "%s", convkit_last_error());
    expect_dims(plan, 1, 1, 1, 1, "conv2d INIT");
    convkit_plan_destroy(plan);
    const convkit_conv1d_params_t c1 = CONVKIT_CONV1D_PARAMS_INIT;
    cr_assert_eq(convkit_conv1d_create(&c1, &plan), CONVKIT_SUCCESS, "%s", convkit_last_error());
    expect_dims(plan, 1, 1, 1, 1, "conv1d INIT");
    convkit_plan_destroy(plan);
    const convkit_pool2d_params_t p2 = CONVKIT_POOL2D_PARAMS_INIT;
    cr_assert_eq(convkit_max_pool2d_create(&p2, &plan), CONVKIT_SUCCESS, "%s", convkit_last_error());
    expect_dims(plan, 1, 1, 1, 1, "pool2d INIT");
    convkit_plan_destroy(plan);
    const convkit_pool1d_params_t p1 = CONVKIT_POOL1D_PARAMS_INIT;
    cr_assert_eq(convkit_max_pool1d_create(&p1, &plan), CONVKIT_SUCCESS, "%s", convkit_last_error());
    expect_dims(plan, 1, 1, 1, 1, "pool1d INIT");
    convkit_plan_destroy(plan);
    const convkit_fold_params_t f = CONVKIT_FOLD_PARAMS_INIT;
    cr_assert_eq(convkit_unfold_create(&f, &plan), CONVKIT_SUCCESS, "%s", convkit_last_error());
    expect_dims(plan, 1, 1, 1, 1, "unfold INIT");
    convkit_plan_destroy(plan);
    const convkit_pad_params_t d = CONVKIT_PAD_PARAMS_INIT;
    cr_assert_eq(convkit_pad_create(&d, &plan), CONVKIT_SUCCESS, "%s", convkit_last_error());
    expect_dims(plan, 1, 1, 1, 1, "pad INIT");
    convkit_plan_destroy(plan);
}

Test(api, output_dims_and_impl_names)
{
    convkit_plan_t *plan = NULL;

    convkit_conv2d_params_t c2 = CONVKIT_CONV2D_PARAMS_INIT;
    c2.batch = 2;
    c2.in_channels = 3;
    c2.in_height = 10;
    c2.in_width = 9;
    c2.out_channels = 4;
    c2.kernel_h = 3;
    c2.kernel_w = 2;
    c2.stride_h = 2;
    c2.stride_w = 3;
    c2.pad_top = 1;
    c2.pad_left = 2;
    c2.pad_right = 1;
    c2.dilation_w = 2;
    cr_assert_eq(convkit_conv2d_create(&c2, &plan), CONVKIT_SUCCESS, "%s", convkit_last_error());
    expect_dims(plan, 2, 4, 5, 4, "conv2d"); /* (10+1-3)/2+1, (9+3-2-1)/3+1 */
    expect_impl(plan, "conv2d:", "conv2d");
    convkit_plan_destroy(plan);

    convkit_conv1d_params_t c1 = CONVKIT_CONV1D_PARAMS_INIT;
    c1.batch = 2;
    c1.in_channels = 3;
    c1.in_length = 10;
    c1.out_channels = 6;
    c1.kernel = 3;
    c1.stride = 2;
    c1.pad_left = 1;
    c1.pad_right = 2;
    c1.dilation = 2;
    c1.groups = 3;
    cr_assert_eq(convkit_conv1d_create(&c1, &plan), CONVKIT_SUCCESS, "%s", convkit_last_error());
    expect_dims(plan, 2, 6, 1, 5, "conv1d"); /* (10+3-4-1)/2+1 */
    expect_impl(plan, "conv1d:", "conv1d");
    convkit_plan_destroy(plan);

    convkit_pool2d_params_t p2 = CONVKIT_POOL2D_PARAMS_INIT;
    p2.batch = 2;
    p2.channels = 3;
    p2.in_height = 10;
    p2.in_width = 9;
    p2.kernel_h = 3;
    p2.kernel_w = 2;
    p2.pad_h = 1;
    p2.pad_w = 1;
    p2.ceil_mode = 1;
    cr_assert_eq(convkit_max_pool2d_create(&p2, &plan), CONVKIT_SUCCESS, "%s", convkit_last_error());
    /* H: ceil(9/3)+1 = 4; W: ceil(9/2)+1 = 6, the last starts in the padding: 5 */
    expect_dims(plan, 2, 3, 4, 5, "max_pool2d");
    expect_impl(plan, "max_pool2d:", "max_pool2d");
    convkit_plan_destroy(plan);

    convkit_pool1d_params_t p1 = CONVKIT_POOL1D_PARAMS_INIT;
    p1.channels = 2;
    p1.in_length = 7;
    p1.kernel = 2;
    p1.stride = 2;
    p1.pad = 1;
    p1.ceil_mode = 1;
    cr_assert_eq(convkit_max_pool1d_create(&p1, &plan), CONVKIT_SUCCESS, "%s", convkit_last_error());
    expect_dims(plan, 1, 2, 1, 4, "max_pool1d"); /* ceil gives 5, the 5th is dropped */
    expect_impl(plan, NULL, "max_pool1d");
    convkit_plan_destroy(plan);

    convkit_fold_params_t f = CONVKIT_FOLD_PARAMS_INIT;
    f.batch = 2;
    f.channels = 3;
    f.height = 6;
    f.width = 5;
    f.kernel_h = 2;
    f.kernel_w = 3;
    f.pad_h = 1;
    f.stride_h = 2;
    cr_assert_eq(convkit_unfold_create(&f, &plan), CONVKIT_SUCCESS, "%s", convkit_last_error());
    expect_dims(plan, 2, 18, 1, 12, "unfold"); /* L = 4 * 3 */
    expect_impl(plan, NULL, "unfold");
    convkit_plan_destroy(plan);
    f.col_channels = 18;
    f.col_length = 12;
    cr_assert_eq(convkit_fold_create(&f, &plan), CONVKIT_SUCCESS, "%s", convkit_last_error());
    expect_dims(plan, 2, 3, 6, 5, "fold");
    expect_impl(plan, NULL, "fold");
    convkit_plan_destroy(plan);

    convkit_pad_params_t d = CONVKIT_PAD_PARAMS_INIT;
    d.batch = 2;
    d.channels = 3;
    d.height = 4;
    d.width = 5;
    d.pad_left = 1;
    d.pad_right = 2;
    d.pad_top = -1;
    d.pad_bottom = 3;
    cr_assert_eq(convkit_pad_create(&d, &plan), CONVKIT_SUCCESS, "%s", convkit_last_error());
    expect_dims(plan, 2, 3, 6, 8, "pad");
    expect_impl(plan, NULL, "pad");
    convkit_plan_destroy(plan);
}

Test(api, plan_destroy_null_is_a_no_op)
{
    convkit_plan_destroy(NULL);
    cr_expect_eq(convkit_plan_isa(NULL), 0u);
}

/* ---- struct_size ---------------------------------------------------------------- */

/* A caller's struct followed by `extra` bytes, as a newer header would lay
 * it out. */
#define EXTRA 24
typedef union big {
    unsigned char bytes[512];
    uint64_t align;
} big_t;

typedef convkit_status_t (*create_fn)(const void *params, convkit_plan_t **plan);

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
static convkit_status_t create_pad(const void *p, convkit_plan_t **pl)
{
    return convkit_pad_create(p, pl);
}

/* params: a valid struct of `size` bytes (its own struct_size is
 * rewritten here); reserved_off: offset of its reserved[] array; oldest:
 * the size of the struct's first version (the smallest accepted). */
static void check_struct_size(create_fn create, const void *params, size_t size,
                              size_t reserved_off, size_t oldest, const char *what)
{
    big_t b;
    cr_assert(size + EXTRA <= sizeof b.bytes);
    memset(b.bytes, 0, sizeof b.bytes);
    memcpy(b.bytes, params, size);
    uint32_t ss;
    convkit_plan_t *plan;

    /* exact size: fine; reference output dims */
    int64_t want[4];
    ss = (uint32_t)size;
    memcpy(b.bytes, &ss, sizeof ss);
    plan = NULL;
    cr_assert_eq(create(b.bytes, &plan), CONVKIT_SUCCESS, "%s: %s", what, convkit_last_error());
    convkit_plan_output_dims(plan, want);
    convkit_plan_destroy(plan);

    /* the first version's size: accepted, later fields read as zero (the
     * params used here leave them zero) */
    if (oldest < size) {
        ss = (uint32_t)oldest;
        memcpy(b.bytes, &ss, sizeof ss);
        plan = NULL;
        cr_assert_eq(create(b.bytes, &plan), CONVKIT_SUCCESS, "%s: struct_size %u: %s", what, ss,
                     convkit_last_error());
        int64_t got[4];
        convkit_plan_output_dims(plan, got);
        cr_expect(memcmp(got, want, sizeof got) == 0, "%s: oldest struct_size dims", what);
        convkit_plan_destroy(plan);
    }

    /* smaller than the first version */
    const size_t smaller[] = {0, 4, 8, reserved_off, oldest - 8, oldest - 1};
    for (size_t i = 0; i < sizeof smaller / sizeof smaller[0]; i++) {
        ss = (uint32_t)smaller[i];
        memcpy(b.bytes, &ss, sizeof ss);
        convkit_plan_t *sentinel = (convkit_plan_t *)(uintptr_t)0x77;
        plan = sentinel;
        const convkit_status_t st = create(b.bytes, &plan);
        cr_expect_eq(st, CONVKIT_ERROR_STRUCT_SIZE, "%s: struct_size %u gave %d", what, ss, st);
        cr_expect(strstr(convkit_last_error(), "struct_size") != NULL,
                  "%s: struct_size %u message '%s'", what, ss, convkit_last_error());
        cr_expect(plan == sentinel, "%s: plan written on failure", what);
        if (st == CONVKIT_SUCCESS) convkit_plan_destroy(plan);
    }

    /* larger with an all-zero tail: a newer caller using no new field */
    ss = (uint32_t)(size + EXTRA);
    memcpy(b.bytes, &ss, sizeof ss);
    plan = NULL;
    cr_expect_eq(create(b.bytes, &plan), CONVKIT_SUCCESS, "%s: struct_size +%d, zero tail: %s",
                 what, EXTRA, convkit_last_error());
    if (plan != NULL) {
        int64_t got[4];
        convkit_plan_output_dims(plan, got);
        cr_expect(memcmp(got, want, sizeof got) == 0, "%s: larger struct changed the output", what);
        convkit_plan_destroy(plan);
    }
    ss = (uint32_t)(size + 1);
    memcpy(b.bytes, &ss, sizeof ss);
    plan = NULL;
    cr_expect_eq(create(b.bytes, &plan), CONVKIT_SUCCESS, "%s: struct_size +1: %s", what,
                 convkit_last_error());
    convkit_plan_destroy(plan);

    /* larger with a non-zero byte in the tail: an unknown field in use */
    const size_t pos[] = {0, 7, EXTRA - 1};
    for (size_t i = 0; i < 3; i++) {
        ss = (uint32_t)(size + EXTRA);
        memcpy(b.bytes, &ss, sizeof ss);
        memset(b.bytes + size, 0, EXTRA);
        b.bytes[size + pos[i]] = 0x01;
        convkit_plan_t *sentinel = (convkit_plan_t *)(uintptr_t)0x77;
        plan = sentinel;
        const convkit_status_t st = create(b.bytes, &plan);
        cr_expect_eq(st, CONVKIT_ERROR_STRUCT_SIZE, "%s: non-zero tail byte %zu gave %d", what,
                     pos[i], st);
        cr_expect(strstr(convkit_last_error(), "struct_size") != NULL, "%s: message '%s'", what,
                  convkit_last_error());
        cr_expect(plan == sentinel, "%s: plan written on failure", what);
        if (st == CONVKIT_SUCCESS) convkit_plan_destroy(plan);
    }
    /* bytes past a larger struct_size are never read: a non-zero byte
     * beyond it does not matter */
    ss = (uint32_t)(size + 8);
    memcpy(b.bytes, &ss, sizeof ss);
    memset(b.bytes + size, 0, EXTRA);
    b.bytes[size + 8] = 0xff;
    plan = NULL;
    cr_expect_eq(create(b.bytes, &plan), CONVKIT_SUCCESS, "%s: byte past struct_size was read: %s",
                 what, convkit_last_error());
    convkit_plan_destroy(plan);
}

Test(api, struct_size_contract_for_every_params_struct)
{
    convkit_conv2d_params_t c2 = CONVKIT_CONV2D_PARAMS_INIT;
    c2.in_height = c2.in_width = 5;
    c2.kernel_h = 3;
    check_struct_size(create_conv2d, &c2, sizeof c2, offsetof(convkit_conv2d_params_t, reserved),
                      offsetof(convkit_conv2d_params_t, activation), "conv2d");
    convkit_conv1d_params_t c1 = CONVKIT_CONV1D_PARAMS_INIT;
    c1.in_length = 6;
    check_struct_size(create_conv1d, &c1, sizeof c1, offsetof(convkit_conv1d_params_t, reserved),
                      offsetof(convkit_conv1d_params_t, activation), "conv1d");
    convkit_pool2d_params_t p2 = CONVKIT_POOL2D_PARAMS_INIT;
    p2.in_height = 4;
    check_struct_size(create_pool2d, &p2, sizeof p2, offsetof(convkit_pool2d_params_t, reserved),
                      sizeof p2, "pool2d");
    convkit_pool1d_params_t p1 = CONVKIT_POOL1D_PARAMS_INIT;
    check_struct_size(create_pool1d, &p1, sizeof p1, offsetof(convkit_pool1d_params_t, reserved),
                      sizeof p1, "pool1d");
    convkit_fold_params_t f = CONVKIT_FOLD_PARAMS_INIT;
    check_struct_size(create_unfold, &f, sizeof f, offsetof(convkit_fold_params_t, reserved),
                      sizeof f, "unfold");
    convkit_pad_params_t d = CONVKIT_PAD_PARAMS_INIT;
    d.pad_left = 2;
    check_struct_size(create_pad, &d, sizeof d, offsetof(convkit_pad_params_t, reserved), sizeof d,
                      "pad");
}

/* Params are const: create never writes them, and the plan keeps its own
 * copy (changing the struct afterwards changes nothing). */
Test(api, params_are_read_only_and_not_retained)
{
    convkit_conv2d_params_t p = CONVKIT_CONV2D_PARAMS_INIT;
    p.batch = 1;
    p.in_channels = 2;
    p.in_height = 4;
    p.in_width = 4;
    p.out_channels = 2;
    p.kernel_h = p.kernel_w = 3;
    p.pad_top = p.pad_bottom = p.pad_left = p.pad_right = 1;
    convkit_conv2d_params_t copy;
    memcpy(&copy, &p, sizeof p);
    convkit_plan_t *plan = NULL;
    cr_assert_eq(convkit_conv2d_create(&p, &plan), CONVKIT_SUCCESS);
    cr_expect(memcmp(&copy, &p, sizeof p) == 0, "create modified its params");
    float x[32], w[36], y1[32], y2[32];
    for (int i = 0; i < 32; i++) x[i] = (float)(i % 5) - 2.0f;
    for (int i = 0; i < 36; i++) w[i] = (float)(i % 3) - 1.0f;
    cr_assert_eq(convkit_conv_forward(plan, x, w, NULL, y1), CONVKIT_SUCCESS);
    p.pad_top = 0;
    p.stride_h = 7;
    p.in_channels = 99;
    cr_assert_eq(convkit_conv_forward(plan, x, w, NULL, y2), CONVKIT_SUCCESS);
    cr_expect(memcmp(y1, y2, sizeof y1) == 0, "the plan depends on the params struct");
    expect_dims(plan, 1, 2, 4, 4, "conv2d after changing params");
    convkit_plan_destroy(plan);
}
