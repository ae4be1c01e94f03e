/*
 * test_fixtures.c - convkit against golden fixtures computed by PyTorch.
 *
 * tests/fixtures/ holds one text file per case, written by
 * tests/python/gen_fixtures.py with Debian's torch (see that script for the
 * format), and a MANIFEST naming every file.  This suite reads each fixture,
 * runs the operation in every direction the fixture has expectations for,
 * three times: with all operands dense NCHW, dense NHWC, and as strided views
 * with permuted dimension order and gaps.  Outputs are pre-filled with a
 * sentinel and the gaps of strided outputs must keep it.
 *
 * Comparison:
 *   - indices exactly;
 *   - copies (max-pool values, unfold, pad) bit for bit, any NaN matching any
 *     NaN;
 *   - sums (conv, fold, max-pool backward): within the per-element bound
 *     <name>_tol stored in the fixture (4*K*2^-24*sum|x*w|, K the number of
 *     summed terms, docs/semantics.md) when the fixture has one, otherwise
 *     exactly by value (small-integer data).
 *
 * The suite fails if the MANIFEST is missing, lists fewer than
 * CK_MIN_FIXTURES files, or any listed file is missing, empty or malformed,
 * and each per-op test fails if it found no fixture for its op.
 */
#include <criterion/criterion.h>

#include <convkit.h>

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef CK_FIXTURE_DIR
#error "CK_FIXTURE_DIR must name the fixture folder (set by tests/CMakeLists.txt)"
#endif

#define CK_MIN_FIXTURES 40
#define CK_MAX_FIXTURES 256
#define CK_MAX_PARAMS 32
#define CK_MAX_ARRAYS 16
#define CK_NAME 64

/* ------------------------------------------------------------------------ */
/* Fixture files                                                             */
/* ------------------------------------------------------------------------ */

typedef struct fx_array {
    char name[CK_NAME];
    bool is_int;
    int ndim;
    int64_t dims[4];
    int64_t count;
    float *f;
    int64_t *i;
} fx_array_t;

typedef struct fixture {
    char file[CK_NAME * 2];
    char op[CK_NAME];
    int nparams;
    char pnames[CK_MAX_PARAMS][CK_NAME];
    int64_t pvalues[CK_MAX_PARAMS];
    bool has_value;
    float value;
    int narrays;
    fx_array_t arrays[CK_MAX_ARRAYS];
} fixture_t;

static void fx_free(fixture_t *fx)
{
    for (int a = 0; a < fx->narrays; a++) {
        free(fx->arrays[a].f);
        free(fx->arrays[a].i);
    }
    fx->narrays = 0;
}

static bool fx_token(FILE *f, char *tok, size_t size)
{
    char fmt[16];
    snprintf(fmt, sizeof fmt, "%%%zus", size - 1);
    return fscanf(f, fmt, tok) == 1;
}

static bool parse_i64(const char *tok, int64_t *out)
{
    char *end;
    long long v = strtoll(tok, &end, 10);
    if (end == tok || *end != '\0') return false;
    *out = (int64_t)v;
    return true;
}

static bool parse_f32(const char *tok, float *out)
{
    char *end;
    *out = strtof(tok, &end);
    return end != tok && *end == '\0';
}

/* Reads fixture `file` from CK_FIXTURE_DIR; on failure fills err. */
static bool fx_load(fixture_t *fx, const char *file, char *err, size_t errsize)
{
    memset(fx, 0, sizeof *fx);
    snprintf(fx->file, sizeof fx->file, "%s", file);
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", CK_FIXTURE_DIR, file);
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        snprintf(err, errsize, "%s: cannot open", path);
        return false;
    }
    char tok[256];
    bool ended = false, ok = true;
    while (ok && !ended && fx_token(f, tok, sizeof tok)) {
        if (tok[0] == '#') {
            int ch;
            while ((ch = fgetc(f)) != EOF && ch != '\n') {}
        } else if (strcmp(tok, "op") == 0) {
            ok = fx_token(f, fx->op, sizeof fx->op);
        } else if (strcmp(tok, "param") == 0) {
            ok = fx->nparams < CK_MAX_PARAMS &&
                 fx_token(f, fx->pnames[fx->nparams], CK_NAME) && fx_token(f, tok, sizeof tok) &&
                 parse_i64(tok, &fx->pvalues[fx->nparams]);
            fx->nparams++;
        } else if (strcmp(tok, "fparam") == 0) {
            char name[CK_NAME];
            ok = fx_token(f, name, sizeof name) && strcmp(name, "value") == 0 &&
                 fx_token(f, tok, sizeof tok) && parse_f32(tok, &fx->value);
            fx->has_value = true;
        } else if (strcmp(tok, "array") == 0) {
            if (fx->narrays >= CK_MAX_ARRAYS) {
                ok = false;
                break;
            }
            fx_array_t *a = &fx->arrays[fx->narrays++];
            int64_t nd;
            ok = fx_token(f, a->name, sizeof a->name) && fx_token(f, tok, sizeof tok);
            if (!ok) break;
            a->is_int = strcmp(tok, "i64") == 0;
            ok = (a->is_int || strcmp(tok, "f32") == 0) && fx_token(f, tok, sizeof tok) &&
                 parse_i64(tok, &nd) && nd >= 1 && nd <= 4;
            if (!ok) break;
            a->ndim = (int)nd;
            a->count = 1;
            for (int d = 0; d < 4; d++) a->dims[d] = 1;
            /* Stored dims are right-aligned into (N, C, H, W)-style 4-D dims
             * only for 4-D arrays; 1-D arrays (bias) keep dims[0]. */
            for (int d = 0; d < a->ndim && ok; d++) {
                ok = fx_token(f, tok, sizeof tok) && parse_i64(tok, &a->dims[d]) &&
                     a->dims[d] >= 0;
                if (ok) a->count *= a->dims[d];
            }
            if (!ok) break;
            size_t n = (size_t)(a->count > 0 ? a->count : 1);
            if (a->is_int)
                a->i = malloc(n * sizeof *a->i);
            else
                a->f = malloc(n * sizeof *a->f);
            ok = a->i != NULL || a->f != NULL;
            for (int64_t k = 0; k < a->count && ok; k++)
                ok = fx_token(f, tok, sizeof tok) &&
                     (a->is_int ? parse_i64(tok, &a->i[k]) : parse_f32(tok, &a->f[k]));
        } else if (strcmp(tok, "end") == 0) {
            ended = true;
        } else {
            ok = false;
        }
    }
    fclose(f);
    if (!ok || !ended || fx->op[0] == '\0') {
        snprintf(err, errsize, "%s: malformed fixture (%s)", path,
                 !ok ? "bad token or value" : !ended ? "no 'end' line" : "no 'op' line");
        fx_free(fx);
        return false;
    }
    return true;
}

static bool fx_param(const fixture_t *fx, const char *name, int64_t *out)
{
    for (int k = 0; k < fx->nparams; k++)
        if (strcmp(fx->pnames[k], name) == 0) {
            *out = fx->pvalues[k];
            return true;
        }
    return false;
}

/* A parameter the fixture must have (the test fails without it). */
static int64_t P(const fixture_t *fx, const char *name)
{
    int64_t v = 0;
    cr_assert(fx_param(fx, name, &v), "%s: missing param %s", fx->file, name);
    return v;
}

static const fx_array_t *fx_find(const fixture_t *fx, const char *name)
{
    for (int a = 0; a < fx->narrays; a++)
        if (strcmp(fx->arrays[a].name, name) == 0) return &fx->arrays[a];
    return NULL;
}

static const fx_array_t *A(const fixture_t *fx, const char *name, int ndim)
{
    const fx_array_t *a = fx_find(fx, name);
    cr_assert(a != NULL, "%s: missing array %s", fx->file, name);
    cr_assert(a->ndim == ndim, "%s: array %s has %d dims, expected %d", fx->file, name, a->ndim,
              ndim);
    return a;
}

/* The manifest: the list of fixture files. */
typedef struct manifest {
    int count;   /* the "count" line */
    int nfiles;  /* names listed */
    char files[CK_MAX_FIXTURES][CK_NAME * 2];
} manifest_t;

static manifest_t g_manifest;

static void load_manifest(void)
{
    manifest_t *m = &g_manifest;
    memset(m, 0, sizeof *m);
    m->count = -1;
    FILE *f = fopen(CK_FIXTURE_DIR "/MANIFEST", "r");
    cr_assert(f != NULL, "cannot open %s/MANIFEST: regenerate with "
                         "/usr/bin/python3 tests/python/gen_fixtures.py",
              CK_FIXTURE_DIR);
    char line[512];
    while (fgets(line, sizeof line, f) != NULL) {
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '#' || line[0] == '\0') continue;
        if (strncmp(line, "count ", 6) == 0) {
            m->count = atoi(line + 6);
            continue;
        }
        cr_assert(m->nfiles < CK_MAX_FIXTURES, "MANIFEST lists too many files");
        cr_assert(strlen(line) < sizeof m->files[0], "MANIFEST entry too long: %s", line);
        strcpy(m->files[m->nfiles++], line);
    }
    fclose(f);
    cr_assert(m->count == m->nfiles, "MANIFEST says count %d but lists %d files", m->count,
              m->nfiles);
    cr_assert(m->nfiles >= CK_MIN_FIXTURES, "only %d fixtures listed, expected at least %d",
              m->nfiles, CK_MIN_FIXTURES);
}

/* ------------------------------------------------------------------------ */
/* Operands in three layouts                                                 */
/* ------------------------------------------------------------------------ */

enum { V_NCHW, V_NHWC, V_STRIDED, V_COUNT };
static const char *const variant_name[V_COUNT] = {"nchw", "nhwc", "strided"};

#define F_SENTINEL_BITS 0xFF5A5A5Au /* a large negative finite float */
#define I_SENTINEL ((int64_t)0x5A5A5A5A5A5A5A5ALL)

typedef struct view {
    int64_t dims[4];
    int64_t strides[4];
    int64_t span; /* elements in buf */
    bool is_int;
    void *buf;
    convkit_layout_t layout;
} view_t;

/* A buffer for logical dims in layout `variant`, every element set to the
 * sentinel.  Strided: dims ordered (H, N, W, C) from outermost, the
 * innermost stride 2 and one spare element after each row of every level. */
static void view_init(view_t *v, const int64_t dims[4], int variant, bool is_int)
{
    static const int order[V_COUNT][4] = {{0, 1, 2, 3}, {0, 2, 3, 1}, {2, 0, 3, 1}};
    memset(v, 0, sizeof *v);
    memcpy(v->dims, dims, sizeof v->dims);
    v->is_int = is_int;
    /* From the innermost dim out: stride, then the span of this level
     * (plus one spare element for strided). */
    int64_t acc = variant == V_STRIDED ? 2 : 1;
    const int64_t extra = variant == V_STRIDED ? 1 : 0;
    for (int k = 3; k >= 0; k--) {
        const int d = order[variant][k];
        v->strides[d] = acc;
        acc = acc * (dims[d] > 0 ? dims[d] : 1) + extra;
    }
    v->span = acc;
    const size_t elem = is_int ? sizeof(int64_t) : sizeof(float);
    v->buf = malloc((size_t)(v->span > 0 ? v->span : 1) * elem);
    cr_assert(v->buf != NULL, "out of memory");
    for (int64_t k = 0; k < v->span; k++) {
        if (is_int) {
            ((int64_t *)v->buf)[k] = I_SENTINEL;
        } else {
            uint32_t bits = F_SENTINEL_BITS;
            memcpy((float *)v->buf + k, &bits, sizeof bits);
        }
    }
    v->layout.format = variant == V_NCHW   ? CONVKIT_FORMAT_NCHW
                       : variant == V_NHWC ? CONVKIT_FORMAT_NHWC
                                           : CONVKIT_FORMAT_STRIDED;
    v->layout.reserved = 0;
    for (int d = 0; d < 4; d++)
        v->layout.strides[d] = variant == V_STRIDED ? v->strides[d] : 0;
}

static void view_free(view_t *v)
{
    free(v->buf);
    v->buf = NULL;
}

static int64_t view_off(const view_t *v, int64_t n, int64_t c, int64_t h, int64_t w)
{
    return n * v->strides[0] + c * v->strides[1] + h * v->strides[2] + w * v->strides[3];
}

#define FOR_NCHW(dims)                                                                    \
    for (int64_t n = 0, k_ = 0; n < (dims)[0]; n++)                                       \
        for (int64_t c = 0; c < (dims)[1]; c++)                                           \
            for (int64_t h = 0; h < (dims)[2]; h++)                                       \
                for (int64_t w = 0; w < (dims)[3]; w++, k_++)

/* An input view holding fixture array a (dims (N, C, H, W)). */
static void view_from(view_t *v, const fx_array_t *a, int variant)
{
    view_init(v, a->dims, variant, a->is_int);
    FOR_NCHW(a->dims)
    {
        const int64_t o = view_off(v, n, c, h, w);
        if (a->is_int)
            ((int64_t *)v->buf)[o] = a->i[k_];
        else
            ((float *)v->buf)[o] = a->f[k_];
    }
}

typedef enum cmp_mode { CMP_BITS, CMP_VALUE, CMP_TOL } cmp_mode_t;

static bool same_bits(float a, float b)
{
    uint32_t x, y;
    memcpy(&x, &a, sizeof x);
    memcpy(&y, &b, sizeof y);
    return x == y;
}

static bool float_ok(float got, float want, const float *tol, int64_t k, cmp_mode_t mode)
{
    if (isnan(want) || isnan(got)) return isnan(want) && isnan(got);
    switch (mode) {
    case CMP_BITS: return same_bits(got, want);
    case CMP_VALUE: return got == want;
    case CMP_TOL: return fabs((double)got - (double)want) <= (double)tol[k];
    }
    return false;
}

/* Compares output view v with expected array `want` (its tolerance `tol`,
 * may be NULL) and checks that the gaps still hold the sentinel.  Reports
 * through cr_expect; returns the number of mismatches. */
static int check_view(const fixture_t *fx, int variant, const char *what, const view_t *v,
                      const fx_array_t *want, const fx_array_t *tol, cmp_mode_t mode)
{
    int bad = 0;
    for (int d = 0; d < 4; d++)
        if (v->dims[d] != want->dims[d]) {
            cr_expect(false, "%s [%s] %s: dims differ from the fixture", fx->file,
                      variant_name[variant], what);
            return 1;
        }
    if (tol != NULL) {
        cr_assert(tol->count == want->count, "%s: %s_tol has %lld elements, expected %lld",
                  fx->file, what, (long long)tol->count, (long long)want->count);
        mode = CMP_TOL;
    }
    unsigned char *seen = calloc((size_t)(v->span > 0 ? v->span : 1), 1);
    cr_assert(seen != NULL, "out of memory");
    FOR_NCHW(want->dims)
    {
        const int64_t o = view_off(v, n, c, h, w);
        seen[o] = 1;
        bool ok;
        if (v->is_int) {
            const int64_t got = ((const int64_t *)v->buf)[o];
            ok = got == want->i[k_];
            if (!ok && bad == 0)
                cr_expect(false, "%s [%s] %s[%lld,%lld,%lld,%lld] = %lld, expected %lld",
                          fx->file, variant_name[variant], what, (long long)n, (long long)c,
                          (long long)h, (long long)w, (long long)got, (long long)want->i[k_]);
        } else {
            const float got = ((const float *)v->buf)[o];
            ok = float_ok(got, want->f[k_], tol ? tol->f : NULL, k_, mode);
            if (!ok && bad == 0)
                cr_expect(false,
                          "%s [%s] %s[%lld,%lld,%lld,%lld] = %.9g, expected %.9g (tol %.3g)",
                          fx->file, variant_name[variant], what, (long long)n, (long long)c,
                          (long long)h, (long long)w, (double)got, (double)want->f[k_],
                          tol ? (double)tol->f[k_] : 0.0);
        }
        if (!ok) bad++;
    }
    int stray = 0;
    for (int64_t o = 0; o < v->span; o++) {
        if (seen[o]) continue;
        const bool kept = v->is_int ? ((const int64_t *)v->buf)[o] == I_SENTINEL
                                    : ((const uint32_t *)v->buf)[o] == F_SENTINEL_BITS;
        if (!kept) stray++;
    }
    free(seen);
    cr_expect(stray == 0, "%s [%s] %s: %d stray writes outside the output view", fx->file,
              variant_name[variant], what, stray);
    cr_expect(bad == 0, "%s [%s] %s: %d of %lld elements wrong", fx->file,
              variant_name[variant], what, bad, (long long)want->count);
    return bad + stray;
}

/* A dense 1-D float output with a guard element on each side. */
static int check_vector(const fixture_t *fx, int variant, const char *what, const float *buf,
                        const fx_array_t *want, const fx_array_t *tol, cmp_mode_t mode)
{
    int bad = 0;
    if (tol != NULL) mode = CMP_TOL;
    for (int64_t k = 0; k < want->count; k++)
        if (!float_ok(buf[k + 1], want->f[k], tol ? tol->f : NULL, k, mode)) {
            if (bad++ == 0)
                cr_expect(false, "%s [%s] %s[%lld] = %.9g, expected %.9g", fx->file,
                          variant_name[variant], what, (long long)k, (double)buf[k + 1],
                          (double)want->f[k]);
        }
    uint32_t lo, hi;
    memcpy(&lo, &buf[0], sizeof lo);
    memcpy(&hi, &buf[want->count + 1], sizeof hi);
    cr_expect(lo == F_SENTINEL_BITS && hi == F_SENTINEL_BITS,
              "%s [%s] %s: write outside the vector", fx->file, variant_name[variant], what);
    return bad;
}

static const fx_array_t *tol_of(const fixture_t *fx, const char *name)
{
    char key[CK_NAME + 8];
    snprintf(key, sizeof key, "%s_tol", name);
    return fx_find(fx, key);
}

#define CK_OK(fx, variant, call)                                                          \
    do {                                                                                  \
        convkit_status_t st_ = (call);                                                    \
        cr_assert(st_ == CONVKIT_SUCCESS, "%s [%s] %s failed: %s: %s", (fx)->file,        \
                  variant_name[variant], #call, convkit_status_string(st_),               \
                  convkit_last_error());                                                  \
    } while (0)

static void check_output_dims(const fixture_t *fx, int variant, convkit_plan_t *plan,
                              const fx_array_t *want)
{
    int64_t dims[4];
    CK_OK(fx, variant, convkit_plan_output_dims(plan, dims));
    for (int d = 0; d < 4; d++)
        cr_expect(dims[d] == want->dims[d], "%s [%s] plan output dim %d = %lld, expected %lld",
                  fx->file, variant_name[variant], d, (long long)dims[d],
                  (long long)want->dims[d]);
}

/* ------------------------------------------------------------------------ */
/* Per-op runners                                                            */
/* ------------------------------------------------------------------------ */

static void run_conv(const fixture_t *fx, int variant)
{
    const bool is1d = strcmp(fx->op, "conv1d") == 0;
    const fx_array_t *src = A(fx, "src", 4), *weight = A(fx, "weight", 4);
    const fx_array_t *gdst = A(fx, "grad_dst", 4), *dst = A(fx, "dst", 4);
    const fx_array_t *gsrc = A(fx, "grad_src", 4), *gw = A(fx, "grad_weight", 4);
    const fx_array_t *gb = A(fx, "grad_bias", 1);
    const bool has_bias = P(fx, "has_bias") != 0;
    const fx_array_t *bias = has_bias ? A(fx, "bias", 1) : NULL;

    view_t vs, vw, vgd, vdst, vgs, vgw;
    view_from(&vs, src, variant);
    view_from(&vw, weight, variant);
    view_from(&vgd, gdst, variant);
    view_init(&vdst, dst->dims, variant, false);
    view_init(&vgs, src->dims, variant, false);
    view_init(&vgw, weight->dims, variant, false);

    convkit_plan_t *plan = NULL;
    if (is1d) {
        convkit_conv1d_params_t p = CONVKIT_CONV1D_PARAMS_INIT;
        p.batch = P(fx, "batch");
        p.in_channels = P(fx, "in_channels");
        p.in_length = P(fx, "in_length");
        p.out_channels = P(fx, "out_channels");
        p.kernel = P(fx, "kernel");
        p.stride = P(fx, "stride");
        p.pad_left = P(fx, "pad_left");
        p.pad_right = P(fx, "pad_right");
        p.dilation = P(fx, "dilation");
        p.groups = P(fx, "groups");
        p.bias_length = has_bias ? p.out_channels : 0;
        p.padding_mode = (uint32_t)P(fx, "padding_mode");
        p.src_layout = vs.layout;
        p.weight_layout = vw.layout;
        p.dst_layout = vdst.layout;
        CK_OK(fx, variant, convkit_conv1d_create(&p, &plan));
    } else {
        convkit_conv2d_params_t p = CONVKIT_CONV2D_PARAMS_INIT;
        p.batch = P(fx, "batch");
        p.in_channels = P(fx, "in_channels");
        p.in_height = P(fx, "in_height");
        p.in_width = P(fx, "in_width");
        p.out_channels = P(fx, "out_channels");
        p.kernel_h = P(fx, "kernel_h");
        p.kernel_w = P(fx, "kernel_w");
        p.stride_h = P(fx, "stride_h");
        p.stride_w = P(fx, "stride_w");
        p.pad_top = P(fx, "pad_top");
        p.pad_bottom = P(fx, "pad_bottom");
        p.pad_left = P(fx, "pad_left");
        p.pad_right = P(fx, "pad_right");
        p.dilation_h = P(fx, "dilation_h");
        p.dilation_w = P(fx, "dilation_w");
        p.groups = P(fx, "groups");
        p.bias_length = has_bias ? p.out_channels : 0;
        p.padding_mode = (uint32_t)P(fx, "padding_mode");
        p.src_layout = vs.layout;
        p.weight_layout = vw.layout;
        p.dst_layout = vdst.layout;
        CK_OK(fx, variant, convkit_conv2d_create(&p, &plan));
    }
    check_output_dims(fx, variant, plan, dst);

    CK_OK(fx, variant,
          convkit_conv_forward(plan, vs.buf, vw.buf, has_bias ? bias->f : NULL, vdst.buf));
    check_view(fx, variant, "dst", &vdst, dst, tol_of(fx, "dst"), CMP_VALUE);

    CK_OK(fx, variant, convkit_conv_backward_data(plan, vgd.buf, vw.buf, vgs.buf));
    check_view(fx, variant, "grad_src", &vgs, gsrc, tol_of(fx, "grad_src"), CMP_VALUE);

    CK_OK(fx, variant, convkit_conv_backward_weights(plan, vs.buf, vgd.buf, vgw.buf));
    check_view(fx, variant, "grad_weight", &vgw, gw, tol_of(fx, "grad_weight"), CMP_VALUE);

    float *gbuf = malloc((size_t)(gb->count + 2) * sizeof *gbuf);
    cr_assert(gbuf != NULL);
    for (int64_t k = 0; k < gb->count + 2; k++) {
        uint32_t bits = F_SENTINEL_BITS;
        memcpy(&gbuf[k], &bits, sizeof bits);
    }
    CK_OK(fx, variant, convkit_conv_backward_bias(plan, vgd.buf, gbuf + 1));
    check_vector(fx, variant, "grad_bias", gbuf, gb, tol_of(fx, "grad_bias"), CMP_VALUE);

    free(gbuf);
    convkit_plan_destroy(plan);
    view_free(&vs);
    view_free(&vw);
    view_free(&vgd);
    view_free(&vdst);
    view_free(&vgs);
    view_free(&vgw);
}

static void run_pool(const fixture_t *fx, int variant)
{
    const bool is1d = strcmp(fx->op, "max_pool1d") == 0;
    const fx_array_t *src = A(fx, "src", 4), *gdst = A(fx, "grad_dst", 4);
    const fx_array_t *dst = A(fx, "dst", 4), *idx = A(fx, "indices", 4);
    const fx_array_t *gsrc = A(fx, "grad_src", 4);
    cr_assert(idx->is_int && !dst->is_int, "%s: wrong array types", fx->file);

    view_t vs, vdst, vidx, vgd, vidx_in, vgs, vdst2;
    view_from(&vs, src, variant);
    view_init(&vdst, dst->dims, variant, false);
    view_init(&vdst2, dst->dims, variant, false);
    view_init(&vidx, dst->dims, variant, true);
    view_from(&vgd, gdst, variant);
    view_from(&vidx_in, idx, variant);
    view_init(&vgs, src->dims, variant, false);

    convkit_plan_t *plan = NULL;
    if (is1d) {
        convkit_pool1d_params_t p = CONVKIT_POOL1D_PARAMS_INIT;
        p.batch = P(fx, "batch");
        p.channels = P(fx, "channels");
        p.in_length = P(fx, "in_length");
        p.kernel = P(fx, "kernel");
        p.stride = P(fx, "stride");
        p.pad = P(fx, "pad");
        p.dilation = P(fx, "dilation");
        p.ceil_mode = (uint32_t)P(fx, "ceil_mode");
        p.src_layout = vs.layout;
        p.dst_layout = vdst.layout;
        p.indices_layout = vidx.layout;
        CK_OK(fx, variant, convkit_max_pool1d_create(&p, &plan));
    } else {
        convkit_pool2d_params_t p = CONVKIT_POOL2D_PARAMS_INIT;
        p.batch = P(fx, "batch");
        p.channels = P(fx, "channels");
        p.in_height = P(fx, "in_height");
        p.in_width = P(fx, "in_width");
        p.kernel_h = P(fx, "kernel_h");
        p.kernel_w = P(fx, "kernel_w");
        p.stride_h = P(fx, "stride_h");
        p.stride_w = P(fx, "stride_w");
        p.pad_h = P(fx, "pad_h");
        p.pad_w = P(fx, "pad_w");
        p.dilation_h = P(fx, "dilation_h");
        p.dilation_w = P(fx, "dilation_w");
        p.ceil_mode = (uint32_t)P(fx, "ceil_mode");
        p.src_layout = vs.layout;
        p.dst_layout = vdst.layout;
        p.indices_layout = vidx.layout;
        CK_OK(fx, variant, convkit_max_pool2d_create(&p, &plan));
    }
    check_output_dims(fx, variant, plan, dst);

    CK_OK(fx, variant, convkit_max_pool_forward(plan, vs.buf, vdst.buf, vidx.buf));
    check_view(fx, variant, "dst", &vdst, dst, NULL, CMP_BITS);
    check_view(fx, variant, "indices", &vidx, idx, NULL, CMP_BITS);

    /* Values alone (indices NULL) must be the same. */
    CK_OK(fx, variant, convkit_max_pool_forward(plan, vs.buf, vdst2.buf, NULL));
    check_view(fx, variant, "dst (no indices)", &vdst2, dst, NULL, CMP_BITS);

    /* Backward from torch's indices. */
    CK_OK(fx, variant, convkit_max_pool_backward(plan, vgd.buf, vidx_in.buf, vgs.buf));
    check_view(fx, variant, "grad_src", &vgs, gsrc, tol_of(fx, "grad_src"), CMP_VALUE);

    convkit_plan_destroy(plan);
    view_free(&vs);
    view_free(&vdst);
    view_free(&vdst2);
    view_free(&vidx);
    view_free(&vgd);
    view_free(&vidx_in);
    view_free(&vgs);
}

static void run_fold(const fixture_t *fx, int variant)
{
    const bool is_fold = strcmp(fx->op, "fold") == 0;
    const fx_array_t *src = A(fx, "src", 4), *dst = A(fx, "dst", 4);
    view_t vs, vd;
    view_from(&vs, src, variant);
    view_init(&vd, dst->dims, variant, false);

    convkit_fold_params_t p = CONVKIT_FOLD_PARAMS_INIT;
    p.batch = P(fx, "batch");
    p.channels = P(fx, "channels");
    p.height = P(fx, "height");
    p.width = P(fx, "width");
    p.kernel_h = P(fx, "kernel_h");
    p.kernel_w = P(fx, "kernel_w");
    p.dilation_h = P(fx, "dilation_h");
    p.dilation_w = P(fx, "dilation_w");
    p.pad_h = P(fx, "pad_h");
    p.pad_w = P(fx, "pad_w");
    p.stride_h = P(fx, "stride_h");
    p.stride_w = P(fx, "stride_w");
    convkit_plan_t *plan = NULL;
    if (is_fold) {
        p.col_channels = P(fx, "col_channels");
        p.col_length = P(fx, "col_length");
        p.column_layout = vs.layout;
        p.image_layout = vd.layout;
        CK_OK(fx, variant, convkit_fold_create(&p, &plan));
    } else {
        p.image_layout = vs.layout;
        p.column_layout = vd.layout;
        CK_OK(fx, variant, convkit_unfold_create(&p, &plan));
    }
    check_output_dims(fx, variant, plan, dst);
    CK_OK(fx, variant, convkit_fold_execute(plan, vs.buf, vd.buf));
    check_view(fx, variant, "dst", &vd, dst, tol_of(fx, "dst"),
               is_fold ? CMP_VALUE : CMP_BITS);
    convkit_plan_destroy(plan);
    view_free(&vs);
    view_free(&vd);
}

static void run_pad(const fixture_t *fx, int variant)
{
    const fx_array_t *src = A(fx, "src", 4), *dst = A(fx, "dst", 4);
    cr_assert(fx->has_value, "%s: missing fparam value", fx->file);
    view_t vs, vd;
    view_from(&vs, src, variant);
    view_init(&vd, dst->dims, variant, false);
    convkit_pad_params_t p = CONVKIT_PAD_PARAMS_INIT;
    p.batch = P(fx, "batch");
    p.channels = P(fx, "channels");
    p.height = P(fx, "height");
    p.width = P(fx, "width");
    p.pad_left = P(fx, "pad_left");
    p.pad_right = P(fx, "pad_right");
    p.pad_top = P(fx, "pad_top");
    p.pad_bottom = P(fx, "pad_bottom");
    p.mode = (uint32_t)P(fx, "mode");
    p.value = fx->value;
    p.src_layout = vs.layout;
    p.dst_layout = vd.layout;
    convkit_plan_t *plan = NULL;
    CK_OK(fx, variant, convkit_pad_create(&p, &plan));
    check_output_dims(fx, variant, plan, dst);
    CK_OK(fx, variant, convkit_pad_execute(plan, vs.buf, vd.buf));
    check_view(fx, variant, "dst", &vd, dst, NULL, CMP_BITS);
    convkit_plan_destroy(plan);
    view_free(&vs);
    view_free(&vd);
}

typedef void (*runner_fn)(const fixture_t *fx, int variant);

static const struct {
    const char *op;
    runner_fn run;
} k_ops[] = {
    {"conv2d", run_conv},     {"conv1d", run_conv}, {"max_pool2d", run_pool},
    {"max_pool1d", run_pool}, {"unfold", run_fold}, {"fold", run_fold},
    {"pad", run_pad},
};
#define K_NOPS ((int)(sizeof k_ops / sizeof k_ops[0]))

/* Runs every fixture of `op` in every layout; fails if there is none. */
static void run_op(const char *op)
{
    load_manifest();
    runner_fn run = NULL;
    for (int k = 0; k < K_NOPS; k++)
        if (strcmp(k_ops[k].op, op) == 0) run = k_ops[k].run;
    cr_assert(run != NULL);
    int found = 0;
    static fixture_t fx;
    char err[1200];
    for (int i = 0; i < g_manifest.nfiles; i++) {
        cr_assert(fx_load(&fx, g_manifest.files[i], err, sizeof err), "%s", err);
        if (strcmp(fx.op, op) == 0) {
            found++;
            for (int variant = 0; variant < V_COUNT; variant++) run(&fx, variant);
        }
        fx_free(&fx);
    }
    cr_assert(found > 0, "no %s fixture in %s/MANIFEST", op, CK_FIXTURE_DIR);
    cr_log_info("%d %s fixtures x %d layouts", found, op, V_COUNT);
}

/* ------------------------------------------------------------------------ */
/* Tests                                                                     */
/* ------------------------------------------------------------------------ */

/* Every listed fixture exists, is non-empty, parses and names a known op;
 * every op has fixtures. */
Test(fixtures, manifest_complete)
{
    load_manifest();
    int per_op[K_NOPS] = {0};
    static fixture_t fx;
    char err[1200];
    for (int i = 0; i < g_manifest.nfiles; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", CK_FIXTURE_DIR, g_manifest.files[i]);
        FILE *f = fopen(path, "rb");
        cr_assert(f != NULL, "fixture %s is missing", path);
        fseek(f, 0, SEEK_END);
        const long size = ftell(f);
        fclose(f);
        cr_assert(size > 0, "fixture %s is empty", path);
        cr_assert(fx_load(&fx, g_manifest.files[i], err, sizeof err), "%s", err);
        int known = -1;
        for (int k = 0; k < K_NOPS; k++)
            if (strcmp(fx.op, k_ops[k].op) == 0) known = k;
        cr_expect(known >= 0, "%s: unknown op %s", path, fx.op);
        if (known >= 0) per_op[known]++;
        cr_expect(fx.narrays >= 2, "%s: only %d arrays", path, fx.narrays);
        fx_free(&fx);
    }
    for (int k = 0; k < K_NOPS; k++)
        cr_expect(per_op[k] > 0, "no fixture for op %s", k_ops[k].op);
}

Test(fixtures, conv2d) { run_op("conv2d"); }
Test(fixtures, conv1d) { run_op("conv1d"); }
Test(fixtures, max_pool2d) { run_op("max_pool2d"); }
Test(fixtures, max_pool1d) { run_op("max_pool1d"); }
Test(fixtures, unfold) { run_op("unfold"); }
Test(fixtures, fold) { run_op("fold"); }
Test(fixtures, pad) { run_op("pad"); }
