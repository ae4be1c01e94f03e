/*
 * test_support.c - see test_support.h.  The references here are written
 * from the definitions in semantics.md and convkit.h, in float64, without
 * looking at (or calling) src/ref.
 */
#define _DEFAULT_SOURCE /* mmap, MAP_ANONYMOUS, sysconf (tk_guarded_floats) */
#include "test_support.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* ---- RNG ------------------------------------------------------------------- */

void tk_rng_seed(tk_rng_t *r, uint64_t seed) { r->state = seed * 0x9e3779b97f4a7c15ull + 1; }

uint64_t tk_rng_next(tk_rng_t *r)
{
    uint64_t z = (r->state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

int64_t tk_rng_range(tk_rng_t *r, int64_t lo, int64_t hi)
{
    uint64_t span = (uint64_t)(hi - lo) + 1;
    return lo + (int64_t)(tk_rng_next(r) % span);
}

float tk_rng_float(tk_rng_t *r, float lo, float hi)
{
    double u = (double)(tk_rng_next(r) >> 40) / (double)(1ull << 24); /* [0, 1) */
    return (float)(lo + (hi - lo) * u);
}

/* ---- sentinels ------------------------------------------------------------- */

uint32_t tk_f32_bits(float v)
{
    uint32_t b;
    memcpy(&b, &v, sizeof b);
    return b;
}

float tk_f32_from_bits(uint32_t bits)
{
    float v;
    memcpy(&v, &bits, sizeof v);
    return v;
}

float tk_sentinel_f32(void) { return tk_f32_from_bits(TK_SENTINEL_F32_BITS); }

bool tk_is_sentinel_f32(float v) { return tk_f32_bits(v) == TK_SENTINEL_F32_BITS; }

/* ---- tensors --------------------------------------------------------------- */

const char *tk_kind_name(tk_kind_t kind)
{
    static const char *const names[] = {"NCHW",     "NHWC",     "PADDED",
                                        "PERMUTED", "NEGATIVE", "BROADCAST"};
    return (unsigned)kind < TK_KIND_COUNT ? names[kind] : "?";
}

static tk_tensor_t tk_tensor_make(const int64_t dims[4], tk_kind_t kind, size_t elem)
{
    tk_tensor_t t;
    memset(&t, 0, sizeof t);
    int64_t e[4];
    for (int d = 0; d < 4; d++) {
        t.dims[d] = dims[d];
        e[d] = dims[d] > 0 ? dims[d] : 1;
    }
    int64_t *s = t.strides;
    t.layout.format = CONVKIT_FORMAT_STRIDED;
    switch (kind) {
    case TK_NCHW:
        s[3] = 1, s[2] = e[3], s[1] = e[2] * e[3], s[0] = e[1] * e[2] * e[3];
        t.layout.format = CONVKIT_FORMAT_NCHW;
        break;
    case TK_NHWC:
        s[1] = 1, s[3] = e[1], s[2] = e[3] * e[1], s[0] = e[2] * e[3] * e[1];
        t.layout.format = CONVKIT_FORMAT_NHWC;
        break;
    case TK_PADDED:
        s[3] = 2, s[2] = 2 * e[3] + 3, s[1] = s[2] * e[2] + 5, s[0] = s[1] * e[1] + 7;
        break;
    case TK_PERMUTED:
        s[1] = 1, s[3] = e[1] + 1, s[0] = s[3] * e[3] + 2, s[2] = s[0] * e[0] + 3;
        break;
    case TK_NEGATIVE:
        s[3] = -1, s[2] = e[3], s[1] = -(e[2] * e[3]), s[0] = e[1] * e[2] * e[3];
        break;
    case TK_BROADCAST:
        s[3] = 1, s[2] = e[3], s[1] = e[2] * e[3], s[0] = 0;
        break;
    }
    int64_t lo = 0, hi = 0; /* extreme offsets relative to the origin */
    bool empty = false;
    for (int d = 0; d < 4; d++) {
        if (dims[d] == 0) empty = true;
        int64_t ext = s[d] * (e[d] - 1);
        if (ext < 0) lo += ext;
        else hi += ext;
    }
    if (empty) lo = hi = 0;
    if (t.layout.format == CONVKIT_FORMAT_STRIDED)
        for (int d = 0; d < 4; d++) t.layout.strides[d] = s[d];
    t.kind = kind;
    t.elem = elem;
    t.origin = TK_GUARD - lo;
    t.nalloc = (hi - lo + 1) + 2 * TK_GUARD;
    t.mem = malloc((size_t)t.nalloc * elem);
    if (t.mem == NULL) abort();
    tk_fill_sentinel(&t);
    return t;
}

tk_tensor_t tk_tensor_f32(const int64_t dims[4], tk_kind_t kind)
{
    return tk_tensor_make(dims, kind, sizeof(float));
}

tk_tensor_t tk_tensor_i64(const int64_t dims[4], tk_kind_t kind)
{
    return tk_tensor_make(dims, kind, sizeof(int64_t));
}

void tk_tensor_free(tk_tensor_t *t)
{
    free(t->mem);
    t->mem = NULL;
}

int tk_writable(const tk_tensor_t *t)
{
    if (tk_numel(t) == 0) return 1;
    if (t->kind == TK_BROADCAST) return t->dims[0] > 1 ? 0 : 1;
    if (t->kind == TK_NEGATIVE) return -1;
    return 1;
}

int64_t tk_numel(const tk_tensor_t *t) { return t->dims[0] * t->dims[1] * t->dims[2] * t->dims[3]; }

int64_t tk_offset(const tk_tensor_t *t, int64_t n, int64_t c, int64_t h, int64_t w)
{
    return t->origin + n * t->strides[0] + c * t->strides[1] + h * t->strides[2] +
           w * t->strides[3];
}

float *tk_fdata(const tk_tensor_t *t) { return (float *)(void *)t->mem + t->origin; }

int64_t *tk_idata(const tk_tensor_t *t) { return (int64_t *)(void *)t->mem + t->origin; }

float tk_getf(const tk_tensor_t *t, int64_t n, int64_t c, int64_t h, int64_t w)
{
    return ((const float *)(const void *)t->mem)[tk_offset(t, n, c, h, w)];
}

void tk_setf(tk_tensor_t *t, int64_t n, int64_t c, int64_t h, int64_t w, float v)
{
    ((float *)(void *)t->mem)[tk_offset(t, n, c, h, w)] = v;
}

int64_t tk_geti(const tk_tensor_t *t, int64_t n, int64_t c, int64_t h, int64_t w)
{
    return ((const int64_t *)(const void *)t->mem)[tk_offset(t, n, c, h, w)];
}

void tk_seti(tk_tensor_t *t, int64_t n, int64_t c, int64_t h, int64_t w, int64_t v)
{
    ((int64_t *)(void *)t->mem)[tk_offset(t, n, c, h, w)] = v;
}

#define TK_FOR4(t, n, c, h, w)                                                             \
    for (int64_t n = 0; n < (t)->dims[0]; n++)                                             \
        for (int64_t c = 0; c < (t)->dims[1]; c++)                                         \
            for (int64_t h = 0; h < (t)->dims[2]; h++)                                     \
                for (int64_t w = 0; w < (t)->dims[3]; w++)

static bool tk_elem_is_sentinel(const tk_tensor_t *t, int64_t i)
{
    if (t->elem == sizeof(float)) {
        uint32_t b;
        memcpy(&b, t->mem + (size_t)i * 4, 4);
        return b == TK_SENTINEL_F32_BITS;
    }
    int64_t v;
    memcpy(&v, t->mem + (size_t)i * 8, 8);
    return v == TK_SENTINEL_I64;
}

void tk_fill_sentinel(tk_tensor_t *t)
{
    for (int64_t i = 0; i < t->nalloc; i++) {
        if (t->elem == sizeof(float)) {
            uint32_t b = TK_SENTINEL_F32_BITS;
            memcpy(t->mem + (size_t)i * 4, &b, 4);
        } else {
            int64_t v = TK_SENTINEL_I64;
            memcpy(t->mem + (size_t)i * 8, &v, 8);
        }
    }
}

void tk_fill_uniform(tk_tensor_t *t, tk_rng_t *r, float lo, float hi)
{
    TK_FOR4(t, n, c, h, w) tk_setf(t, n, c, h, w, tk_rng_float(r, lo, hi));
}

void tk_fill_ints(tk_tensor_t *t, tk_rng_t *r, int lo, int hi)
{
    TK_FOR4(t, n, c, h, w) tk_setf(t, n, c, h, w, (float)tk_rng_range(r, lo, hi));
}

void tk_fill_const(tk_tensor_t *t, float v)
{
    TK_FOR4(t, n, c, h, w) tk_setf(t, n, c, h, w, v);
}

void tk_copy_values(tk_tensor_t *dst, const tk_tensor_t *src)
{
    TK_FOR4(dst, n, c, h, w) tk_setf(dst, n, c, h, w, tk_getf(src, n, c, h, w));
}

bool tk_untouched(const tk_tensor_t *t)
{
    for (int64_t i = 0; i < t->nalloc; i++)
        if (!tk_elem_is_sentinel(t, i)) return false;
    return true;
}

bool tk_gaps_intact(const tk_tensor_t *t, char *msg, size_t len)
{
    unsigned char *in_view = calloc((size_t)t->nalloc, 1);
    if (in_view == NULL) abort();
    TK_FOR4(t, n, c, h, w) in_view[tk_offset(t, n, c, h, w)] = 1;
    bool ok = true;
    for (int64_t i = 0; i < t->nalloc && ok; i++)
        if (!in_view[i] && !tk_elem_is_sentinel(t, i)) {
            ok = false;
            snprintf(msg, len,
                     "%s tensor (%lld,%lld,%lld,%lld): element %lld of the allocation outside "
                     "the view (origin %lld) was written",
                     tk_kind_name(t->kind), (long long)t->dims[0], (long long)t->dims[1],
                     (long long)t->dims[2], (long long)t->dims[3], (long long)i,
                     (long long)t->origin);
        }
    free(in_view);
    if (ok && len > 0) msg[0] = '\0';
    return ok;
}

bool tk_bitwise_equal(const tk_tensor_t *a, const tk_tensor_t *b, char *msg, size_t len)
{
    TK_FOR4(a, n, c, h, w)
    {
        bool same;
        if (a->elem == sizeof(float))
            same = tk_f32_bits(tk_getf(a, n, c, h, w)) == tk_f32_bits(tk_getf(b, n, c, h, w));
        else
            same = tk_geti(a, n, c, h, w) == tk_geti(b, n, c, h, w);
        if (!same) {
            snprintf(msg, len, "first difference at (%lld,%lld,%lld,%lld)", (long long)n,
                     (long long)c, (long long)h, (long long)w);
            return false;
        }
    }
    if (len > 0) msg[0] = '\0';
    return true;
}

/* ---- reference results ----------------------------------------------------- */

tk_ref_t tk_ref_new(const int64_t dims[4])
{
    tk_ref_t r;
    memcpy(r.dims, dims, sizeof r.dims);
    int64_t n = dims[0] * dims[1] * dims[2] * dims[3];
    size_t cnt = (size_t)(n > 0 ? n : 1);
    r.val = calloc(cnt, sizeof(double));
    r.mag = calloc(cnt, sizeof(double));
    r.terms = calloc(cnt, sizeof(int64_t));
    r.index = calloc(cnt, sizeof(int64_t));
    if (!r.val || !r.mag || !r.terms || !r.index) abort();
    return r;
}

void tk_ref_free(tk_ref_t *r)
{
    free(r->val);
    free(r->mag);
    free(r->terms);
    free(r->index);
    r->val = r->mag = NULL;
    r->terms = r->index = NULL;
}

int64_t tk_ref_at(const tk_ref_t *r, int64_t n, int64_t c, int64_t h, int64_t w)
{
    return ((n * r->dims[1] + c) * r->dims[2] + h) * r->dims[3] + w;
}

static void tk_dims_mismatch(const tk_tensor_t *got, const tk_ref_t *ref)
{
    for (int d = 0; d < 4; d++)
        if (got->dims[d] != ref->dims[d]) {
            fprintf(stderr, "test_support: tensor/ref dims differ in dim %d (%lld vs %lld)\n", d,
                    (long long)got->dims[d], (long long)ref->dims[d]);
            abort();
        }
}

enum { TK_CMP_BOUND, TK_CMP_EXACT, TK_CMP_BITS };

static int64_t tk_compare(const tk_tensor_t *got, const tk_ref_t *ref, int how, double c,
                          char *msg, size_t len)
{
    tk_dims_mismatch(got, ref);
    int64_t bad = 0;
    if (len > 0) msg[0] = '\0';
    char first[400] = "";
    TK_FOR4(got, n, ch, h, w)
    {
        const int64_t i = tk_ref_at(ref, n, ch, h, w);
        const float g = tk_getf(got, n, ch, h, w);
        const double r = ref->val[i];
        double bound = 0.0;
        bool ok;
        if (tk_is_sentinel_f32(g)) ok = false;
        else if (isnan(r)) ok = isnan(g);
        else if (how == TK_CMP_BOUND) {
            const int64_t k = ref->terms[i] > 0 ? ref->terms[i] : 1;
            bound = c * (double)k * ldexp(1.0, -24) * ref->mag[i];
            ok = fabs((double)g - r) <= bound;
        } else if (how == TK_CMP_EXACT) ok = (double)g == r;
        else ok = tk_f32_bits(g) == tk_f32_bits((float)r);
        if (!ok) {
            if (bad == 0)
                snprintf(first, sizeof first,
                         "at (%lld,%lld,%lld,%lld) got %.9g (bits 0x%08x%s) expected %.17g "
                         "(bound %.3g, K %lld)",
                         (long long)n, (long long)ch, (long long)h, (long long)w, (double)g,
                         tk_f32_bits(g), tk_is_sentinel_f32(g) ? ", never written" : "", r, bound,
                         (long long)ref->terms[i]);
            bad++;
        }
    }
    if (bad > 0)
        snprintf(msg, len, "%lld of %lld elements wrong (%s layout); first %s", (long long)bad,
                 (long long)tk_numel(got), tk_kind_name(got->kind), first);
    return bad;
}

int64_t tk_compare_bound(const tk_tensor_t *got, const tk_ref_t *ref, double c, char *msg,
                         size_t len)
{
    return tk_compare(got, ref, TK_CMP_BOUND, c, msg, len);
}

int64_t tk_compare_exact(const tk_tensor_t *got, const tk_ref_t *ref, char *msg, size_t len)
{
    return tk_compare(got, ref, TK_CMP_EXACT, 0.0, msg, len);
}

int64_t tk_compare_bits(const tk_tensor_t *got, const tk_ref_t *ref, char *msg, size_t len)
{
    return tk_compare(got, ref, TK_CMP_BITS, 0.0, msg, len);
}

int64_t tk_compare_index(const tk_tensor_t *got, const tk_ref_t *ref, char *msg, size_t len)
{
    tk_dims_mismatch(got, ref);
    int64_t bad = 0;
    if (len > 0) msg[0] = '\0';
    char first[300] = "";
    TK_FOR4(got, n, c, h, w)
    {
        const int64_t g = tk_geti(got, n, c, h, w), r = ref->index[tk_ref_at(ref, n, c, h, w)];
        if (g != r) {
            if (bad == 0)
                snprintf(first, sizeof first, "at (%lld,%lld,%lld,%lld) got index %lld%s expected %lld",
                         (long long)n, (long long)c, (long long)h, (long long)w, (long long)g,
                         g == TK_SENTINEL_I64 ? " (never written)" : "", (long long)r);
            bad++;
        }
    }
    if (bad > 0)
        snprintf(msg, len, "%lld of %lld indices wrong (%s layout); first %s", (long long)bad,
                 (long long)tk_numel(got), tk_kind_name(got->kind), first);
    return bad;
}

/* ---- shape rules ------------------------------------------------------------ */

static int64_t tk_floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0))) q--;
    return q;
}

int64_t tk_conv_out_size(int64_t in, int64_t lo, int64_t hi, int64_t k, int64_t s, int64_t d)
{
    return tk_floor_div(in + lo + hi - d * (k - 1) - 1, s) + 1;
}

int64_t tk_pool_out_size(int64_t in, int64_t pad, int64_t k, int64_t s, int64_t d, bool ceil)
{
    if (s == 0) s = k;
    const int64_t num = in + 2 * pad - d * (k - 1) - 1;
    int64_t out = (ceil ? -tk_floor_div(-num, s) : tk_floor_div(num, s)) + 1;
    if (ceil && (out - 1) * s >= in + pad) out--;
    return out;
}

int64_t tk_pad_source(int64_t j, int64_t size, uint32_t mode)
{
    switch (mode) {
    case CONVKIT_PAD_REPLICATE: return j < 0 ? 0 : (j >= size ? size - 1 : j);
    case CONVKIT_PAD_CIRCULAR: return ((j % size) + size) % size;
    case CONVKIT_PAD_REFLECT: {
        /* Reflection has period 2 * (size - 1): fold j into one period and
         * mirror its upper half. */
        if (size == 1) return 0;
        const int64_t period = 2 * (size - 1);
        const int64_t m = ((j % period) + period) % period;
        return m < size ? m : period - m;
    }
    default: return (j >= 0 && j < size) ? j : -1;
    }
}

/* ---- convolution ------------------------------------------------------------ */

void tk_conv_out_dims(const tk_conv_cfg_t *c, int64_t *oh, int64_t *ow)
{
    *oh = tk_conv_out_size(c->h, c->pt, c->pb, c->kh, c->sh, c->dh);
    *ow = tk_conv_out_size(c->w, c->pl, c->pr, c->kw, c->sw, c->dw);
}

void tk_conv_dims(const tk_conv_cfg_t *c, int64_t src[4], int64_t weight[4], int64_t dst[4])
{
    int64_t oh, ow;
    tk_conv_out_dims(c, &oh, &ow);
    src[0] = c->n, src[1] = c->cin, src[2] = c->h, src[3] = c->w;
    weight[0] = c->cout, weight[1] = c->cin / c->groups, weight[2] = c->kh, weight[3] = c->kw;
    dst[0] = c->n, dst[1] = c->cout, dst[2] = oh, dst[3] = ow;
}

convkit_conv2d_params_t tk_conv2d_params(const tk_conv_cfg_t *c, bool has_bias)
{
    convkit_conv2d_params_t p = CONVKIT_CONV2D_PARAMS_INIT;
    p.batch = c->n;
    p.in_channels = c->cin;
    p.in_height = c->h;
    p.in_width = c->w;
    p.out_channels = c->cout;
    p.kernel_h = c->kh;
    p.kernel_w = c->kw;
    p.stride_h = c->sh;
    p.stride_w = c->sw;
    p.pad_top = c->pt;
    p.pad_bottom = c->pb;
    p.pad_left = c->pl;
    p.pad_right = c->pr;
    p.dilation_h = c->dh;
    p.dilation_w = c->dw;
    p.groups = c->groups;
    p.bias_length = has_bias ? c->cout : 0;
    p.padding_mode = c->mode;
    return p;
}

convkit_conv1d_params_t tk_conv1d_params(const tk_conv_cfg_t *c, bool has_bias)
{
    convkit_conv1d_params_t p = CONVKIT_CONV1D_PARAMS_INIT;
    p.batch = c->n;
    p.in_channels = c->cin;
    p.in_length = c->w;
    p.out_channels = c->cout;
    p.kernel = c->kw;
    p.stride = c->sw;
    p.pad_left = c->pl;
    p.pad_right = c->pr;
    p.dilation = c->dw;
    p.groups = c->groups;
    p.bias_length = has_bias ? c->cout : 0;
    p.padding_mode = c->mode;
    return p;
}

/* The explicitly padded input (F.pad with the conv's mode), float64,
 * dense (N, C_in, Hp, Wp). */
static double *tk_padded_input(const tk_conv_cfg_t *c, const tk_tensor_t *x, int64_t *hp_out,
                               int64_t *wp_out)
{
    const int64_t hp = c->h + c->pt + c->pb, wp = c->w + c->pl + c->pr;
    const int64_t count = c->n * c->cin * hp * wp;
    double *xp = calloc((size_t)(count > 0 ? count : 1), sizeof(double));
    if (xp == NULL) abort();
    for (int64_t n = 0; n < c->n; n++)
        for (int64_t ch = 0; ch < c->cin; ch++)
            for (int64_t i = 0; i < hp; i++) {
                const int64_t si = tk_pad_source(i - c->pt, c->h, c->mode);
                for (int64_t j = 0; j < wp; j++) {
                    const int64_t sj = tk_pad_source(j - c->pl, c->w, c->mode);
                    xp[((n * c->cin + ch) * hp + i) * wp + j] =
                        (si < 0 || sj < 0) ? 0.0 : (double)tk_getf(x, n, ch, si, sj);
                }
            }
    *hp_out = hp;
    *wp_out = wp;
    return xp;
}

void tk_ref_conv_forward(const tk_conv_cfg_t *c, const tk_tensor_t *x, const tk_tensor_t *w,
                         const float *bias, tk_ref_t *y)
{
    int64_t hp, wp, oh, ow;
    double *xp = tk_padded_input(c, x, &hp, &wp);
    tk_conv_out_dims(c, &oh, &ow);
    const int64_t cin_g = c->cin / c->groups, cout_g = c->cout / c->groups;
    for (int64_t n = 0; n < c->n; n++)
        for (int64_t co = 0; co < c->cout; co++) {
            const int64_t g = co / cout_g;
            for (int64_t i = 0; i < oh; i++)
                for (int64_t j = 0; j < ow; j++) {
                    double acc = 0.0, mag = 0.0;
                    int64_t terms = 0;
                    if (bias != NULL) {
                        acc = bias[co];
                        mag = fabs((double)bias[co]);
                        terms = 1;
                    }
                    for (int64_t ci = 0; ci < cin_g; ci++)
                        for (int64_t a = 0; a < c->kh; a++)
                            for (int64_t b = 0; b < c->kw; b++) {
                                const int64_t pi = i * c->sh + a * c->dh, pj = j * c->sw + b * c->dw;
                                const double xv =
                                    xp[((n * c->cin + g * cin_g + ci) * hp + pi) * wp + pj];
                                const double t = xv * (double)tk_getf(w, co, ci, a, b);
                                acc += t;
                                mag += fabs(t);
                                terms++;
                            }
                    const int64_t k = tk_ref_at(y, n, co, i, j);
                    y->val[k] = acc;
                    y->mag[k] = mag;
                    y->terms[k] = terms;
                }
        }
    free(xp);
}

void tk_ref_conv_backward_data(const tk_conv_cfg_t *c, const tk_tensor_t *gy,
                               const tk_tensor_t *w, tk_ref_t *gx)
{
    int64_t oh, ow;
    tk_conv_out_dims(c, &oh, &ow);
    const int64_t hp = c->h + c->pt + c->pb, wp = c->w + c->pl + c->pr;
    const int64_t count = c->n * c->cin * hp * wp;
    const size_t alloc = (size_t)(count > 0 ? count : 1);
    double *gp = calloc(alloc, sizeof(double)), *gm = calloc(alloc, sizeof(double));
    int64_t *gt = calloc(alloc, sizeof(int64_t));
    if (!gp || !gm || !gt) abort();
    const int64_t cin_g = c->cin / c->groups, cout_g = c->cout / c->groups;
    /* Adjoint of the zero-pad convolution: scatter every output gradient
     * into the padded image. */
    for (int64_t n = 0; n < c->n; n++)
        for (int64_t co = 0; co < c->cout; co++) {
            const int64_t g = co / cout_g;
            for (int64_t i = 0; i < oh; i++)
                for (int64_t j = 0; j < ow; j++) {
                    const double d = tk_getf(gy, n, co, i, j);
                    for (int64_t ci = 0; ci < cin_g; ci++)
                        for (int64_t a = 0; a < c->kh; a++)
                            for (int64_t b = 0; b < c->kw; b++) {
                                const int64_t pi = i * c->sh + a * c->dh, pj = j * c->sw + b * c->dw;
                                const int64_t k = ((n * c->cin + g * cin_g + ci) * hp + pi) * wp + pj;
                                const double t = d * (double)tk_getf(w, co, ci, a, b);
                                gp[k] += t;
                                gm[k] += fabs(t);
                                gt[k]++;
                            }
                }
        }
    /* Adjoint of F.pad: every padded position returns its gradient to the
     * source element it copied (nothing for zero padding). */
    for (int64_t n = 0; n < c->n; n++)
        for (int64_t ch = 0; ch < c->cin; ch++)
            for (int64_t i = 0; i < hp; i++) {
                const int64_t si = tk_pad_source(i - c->pt, c->h, c->mode);
                if (si < 0) continue;
                for (int64_t j = 0; j < wp; j++) {
                    const int64_t sj = tk_pad_source(j - c->pl, c->w, c->mode);
                    if (sj < 0) continue;
                    const int64_t k = ((n * c->cin + ch) * hp + i) * wp + j;
                    const int64_t o = tk_ref_at(gx, n, ch, si, sj);
                    gx->val[o] += gp[k];
                    gx->mag[o] += gm[k];
                    gx->terms[o] += gt[k];
                }
            }
    free(gp);
    free(gm);
    free(gt);
}

void tk_ref_conv_backward_weights(const tk_conv_cfg_t *c, const tk_tensor_t *x,
                                  const tk_tensor_t *gy, tk_ref_t *gw)
{
    int64_t hp, wp, oh, ow;
    double *xp = tk_padded_input(c, x, &hp, &wp);
    tk_conv_out_dims(c, &oh, &ow);
    const int64_t cin_g = c->cin / c->groups, cout_g = c->cout / c->groups;
    for (int64_t co = 0; co < c->cout; co++) {
        const int64_t g = co / cout_g;
        for (int64_t ci = 0; ci < cin_g; ci++)
            for (int64_t a = 0; a < c->kh; a++)
                for (int64_t b = 0; b < c->kw; b++) {
                    double acc = 0.0, mag = 0.0;
                    int64_t terms = 0;
                    for (int64_t n = 0; n < c->n; n++)
                        for (int64_t i = 0; i < oh; i++)
                            for (int64_t j = 0; j < ow; j++) {
                                const int64_t pi = i * c->sh + a * c->dh, pj = j * c->sw + b * c->dw;
                                const double t =
                                    xp[((n * c->cin + g * cin_g + ci) * hp + pi) * wp + pj] *
                                    (double)tk_getf(gy, n, co, i, j);
                                acc += t;
                                mag += fabs(t);
                                terms++;
                            }
                    const int64_t k = tk_ref_at(gw, co, ci, a, b);
                    gw->val[k] = acc;
                    gw->mag[k] = mag;
                    gw->terms[k] = terms;
                }
    }
    free(xp);
}

void tk_ref_conv_backward_bias(const tk_conv_cfg_t *c, const tk_tensor_t *gy, tk_ref_t *gb)
{
    int64_t oh, ow;
    tk_conv_out_dims(c, &oh, &ow);
    for (int64_t co = 0; co < c->cout; co++) {
        double acc = 0.0, mag = 0.0;
        int64_t terms = 0;
        for (int64_t n = 0; n < c->n; n++)
            for (int64_t i = 0; i < oh; i++)
                for (int64_t j = 0; j < ow; j++) {
                    const double t = tk_getf(gy, n, co, i, j);
                    acc += t;
                    mag += fabs(t);
                    terms++;
                }
        const int64_t k = tk_ref_at(gb, 0, co, 0, 0);
        gb->val[k] = acc;
        gb->mag[k] = mag;
        gb->terms[k] = terms;
    }
}

/* ---- max pooling ------------------------------------------------------------ */

void tk_pool_out_dims(const tk_pool_cfg_t *c, int64_t *oh, int64_t *ow)
{
    *oh = tk_pool_out_size(c->h, c->ph, c->kh, c->sh, c->dh, c->ceil);
    *ow = tk_pool_out_size(c->w, c->pw, c->kw, c->sw, c->dw, c->ceil);
}

convkit_pool2d_params_t tk_pool2d_params(const tk_pool_cfg_t *c)
{
    convkit_pool2d_params_t p = CONVKIT_POOL2D_PARAMS_INIT;
    p.batch = c->n;
    p.channels = c->c;
    p.in_height = c->h;
    p.in_width = c->w;
    p.kernel_h = c->kh;
    p.kernel_w = c->kw;
    p.stride_h = c->sh;
    p.stride_w = c->sw;
    p.pad_h = c->ph;
    p.pad_w = c->pw;
    p.dilation_h = c->dh;
    p.dilation_w = c->dw;
    p.ceil_mode = c->ceil ? 1u : 0u;
    return p;
}

convkit_pool1d_params_t tk_pool1d_params(const tk_pool_cfg_t *c)
{
    convkit_pool1d_params_t p = CONVKIT_POOL1D_PARAMS_INIT;
    p.batch = c->n;
    p.channels = c->c;
    p.in_length = c->w;
    p.kernel = c->kw;
    p.stride = c->sw;
    p.pad = c->pw;
    p.dilation = c->dw;
    p.ceil_mode = c->ceil ? 1u : 0u;
    return p;
}

void tk_ref_pool_forward(const tk_pool_cfg_t *c, const tk_tensor_t *x, tk_ref_t *y)
{
    int64_t oh, ow;
    tk_pool_out_dims(c, &oh, &ow);
    const int64_t sh = c->sh ? c->sh : c->kh, sw = c->sw ? c->sw : c->kw;
    for (int64_t n = 0; n < c->n; n++)
        for (int64_t ch = 0; ch < c->c; ch++)
            for (int64_t i = 0; i < oh; i++)
                for (int64_t j = 0; j < ow; j++) {
                    double best = -INFINITY;
                    int64_t arg = -1;
                    bool seen = false;
                    for (int64_t a = 0; a < c->kh; a++) {
                        const int64_t ih = i * sh - c->ph + a * c->dh;
                        if (ih < 0 || ih >= c->h) continue;
                        for (int64_t b = 0; b < c->kw; b++) {
                            const int64_t iw = j * sw - c->pw + b * c->dw;
                            if (iw < 0 || iw >= c->w) continue;
                            const double v = tk_getf(x, n, ch, ih, iw);
                            /* The first valid element always starts the scan
                             * (so an all -inf window reports it). */
                            if (!seen || v > best || isnan(v)) {
                                best = v;
                                arg = ih * c->w + iw;
                            }
                            seen = true;
                        }
                    }
                    const int64_t k = tk_ref_at(y, n, ch, i, j);
                    y->val[k] = best;
                    y->index[k] = arg;
                    y->terms[k] = 1;
                }
}

void tk_ref_pool_backward(const tk_pool_cfg_t *c, const tk_tensor_t *gy, const tk_tensor_t *idx,
                          tk_ref_t *gx)
{
    for (int64_t n = 0; n < gy->dims[0]; n++)
        for (int64_t ch = 0; ch < gy->dims[1]; ch++)
            for (int64_t i = 0; i < gy->dims[2]; i++)
                for (int64_t j = 0; j < gy->dims[3]; j++) {
                    const int64_t at = tk_geti(idx, n, ch, i, j);
                    if (at == -1) continue;
                    const double d = tk_getf(gy, n, ch, i, j);
                    const int64_t k = tk_ref_at(gx, n, ch, at / c->w, at % c->w);
                    gx->val[k] += d;
                    gx->mag[k] += fabs(d);
                    gx->terms[k]++;
                }
}

/* ---- unfold / fold ---------------------------------------------------------- */

void tk_fold_blocks(const tk_fold_cfg_t *c, int64_t *oh, int64_t *ow)
{
    *oh = tk_conv_out_size(c->h, c->ph, c->ph, c->kh, c->sh, c->dh);
    *ow = tk_conv_out_size(c->w, c->pw, c->pw, c->kw, c->sw, c->dw);
}

void tk_fold_dims(const tk_fold_cfg_t *c, int64_t image[4], int64_t column[4])
{
    int64_t oh, ow;
    tk_fold_blocks(c, &oh, &ow);
    image[0] = c->n, image[1] = c->c, image[2] = c->h, image[3] = c->w;
    column[0] = c->n, column[1] = c->c * c->kh * c->kw, column[2] = 1, column[3] = oh * ow;
}

convkit_fold_params_t tk_fold_params(const tk_fold_cfg_t *c, bool for_fold)
{
    convkit_fold_params_t p = CONVKIT_FOLD_PARAMS_INIT;
    p.batch = c->n;
    p.channels = c->c;
    p.height = c->h;
    p.width = c->w;
    p.kernel_h = c->kh;
    p.kernel_w = c->kw;
    p.dilation_h = c->dh;
    p.dilation_w = c->dw;
    p.pad_h = c->ph;
    p.pad_w = c->pw;
    p.stride_h = c->sh;
    p.stride_w = c->sw;
    if (for_fold) {
        int64_t oh, ow;
        tk_fold_blocks(c, &oh, &ow);
        p.col_channels = c->c * c->kh * c->kw;
        p.col_length = oh * ow;
    }
    return p;
}

/* unfold: walk the image positions each block position reads. */
void tk_ref_unfold(const tk_fold_cfg_t *c, const tk_tensor_t *image, tk_ref_t *col)
{
    int64_t oh, ow;
    tk_fold_blocks(c, &oh, &ow);
    for (int64_t n = 0; n < c->n; n++)
        for (int64_t row = 0; row < c->c * c->kh * c->kw; row++) {
            const int64_t ch = row / (c->kh * c->kw), a = row / c->kw % c->kh, b = row % c->kw;
            for (int64_t l = 0; l < oh * ow; l++) {
                const int64_t ih = (l / ow) * c->sh - c->ph + a * c->dh;
                const int64_t iw = (l % ow) * c->sw - c->pw + b * c->dw;
                const bool inside = ih >= 0 && ih < c->h && iw >= 0 && iw < c->w;
                const int64_t k = tk_ref_at(col, n, row, 0, l);
                col->val[k] = inside ? (double)tk_getf(image, n, ch, ih, iw) : 0.0;
                col->mag[k] = fabs(col->val[k]);
                col->terms[k] = 1;
            }
        }
}

void tk_ref_fold(const tk_fold_cfg_t *c, const tk_tensor_t *col, tk_ref_t *image)
{
    int64_t oh, ow;
    tk_fold_blocks(c, &oh, &ow);
    for (int64_t n = 0; n < c->n; n++)
        for (int64_t ch = 0; ch < c->c; ch++)
            for (int64_t a = 0; a < c->kh; a++)
                for (int64_t b = 0; b < c->kw; b++)
                    for (int64_t i = 0; i < oh; i++)
                        for (int64_t j = 0; j < ow; j++) {
                            const int64_t ih = i * c->sh - c->ph + a * c->dh;
                            const int64_t iw = j * c->sw - c->pw + b * c->dw;
                            if (ih < 0 || ih >= c->h || iw < 0 || iw >= c->w) continue;
                            const double v =
                                tk_getf(col, n, (ch * c->kh + a) * c->kw + b, 0, i * ow + j);
                            const int64_t k = tk_ref_at(image, n, ch, ih, iw);
                            image->val[k] += v;
                            image->mag[k] += fabs(v);
                            image->terms[k]++;
                        }
}

/* ---- pad -------------------------------------------------------------------- */

void tk_pad_out_dims(const tk_pad_cfg_t *c, int64_t *oh, int64_t *ow)
{
    *oh = c->h + c->pt + c->pb;
    *ow = c->w + c->pl + c->pr;
}

convkit_pad_params_t tk_pad_params(const tk_pad_cfg_t *c)
{
    convkit_pad_params_t p = CONVKIT_PAD_PARAMS_INIT;
    p.batch = c->n;
    p.channels = c->c;
    p.height = c->h;
    p.width = c->w;
    p.pad_left = c->pl;
    p.pad_right = c->pr;
    p.pad_top = c->pt;
    p.pad_bottom = c->pb;
    p.mode = c->mode;
    p.value = c->value;
    return p;
}

void tk_ref_pad(const tk_pad_cfg_t *c, const tk_tensor_t *x, tk_ref_t *y)
{
    int64_t oh, ow;
    tk_pad_out_dims(c, &oh, &ow);
    for (int64_t n = 0; n < c->n; n++)
        for (int64_t ch = 0; ch < c->c; ch++)
            for (int64_t i = 0; i < oh; i++) {
                const int64_t si = tk_pad_source(i - c->pt, c->h, c->mode);
                for (int64_t j = 0; j < ow; j++) {
                    const int64_t sj = tk_pad_source(j - c->pl, c->w, c->mode);
                    const int64_t k = tk_ref_at(y, n, ch, i, j);
                    y->val[k] = (si < 0 || sj < 0) ? (double)c->value
                                                   : (double)tk_getf(x, n, ch, si, sj);
                    y->terms[k] = 1;
                }
            }
}

/* ---- guard pages ------------------------------------------------------- */

tk_guarded_t tk_guarded_floats(int64_t n, bool at_end)
{
    const size_t page = (size_t)sysconf(_SC_PAGESIZE), bytes = (size_t)n * sizeof(float);
    const size_t body = (bytes + page - 1) / page * page;
    tk_guarded_t g = {NULL, body + 2 * page, NULL};
    g.map = mmap(NULL, g.len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (g.map == MAP_FAILED) {
        fprintf(stderr, "tk_guarded_floats: mmap of %zu bytes failed\n", g.len);
        abort();
    }
    char *base = g.map;
    if (mprotect(base, page, PROT_NONE) != 0 || mprotect(base + page + body, page, PROT_NONE) != 0) {
        fprintf(stderr, "tk_guarded_floats: mprotect failed\n");
        abort();
    }
    g.data = (float *)(void *)(at_end ? base + page + body - bytes : base + page);
    return g;
}

void tk_guarded_free(tk_guarded_t *g)
{
    if (g->map != NULL) munmap(g->map, g->len);
    g->map = NULL;
    g->data = NULL;
}

/* ---- describing a configuration in messages -------------------------------- */

const char *tk_conv_cfg_str(const tk_conv_cfg_t *c, char *buf, size_t len)
{
    snprintf(buf, len,
             "(n %lld cin %lld %lldx%lld cout %lld k %lldx%lld s %lld,%lld pad %lld,%lld,%lld,%lld "
             "d %lld,%lld g %lld mode %u)",
             (long long)c->n, (long long)c->cin, (long long)c->h, (long long)c->w,
             (long long)c->cout, (long long)c->kh, (long long)c->kw, (long long)c->sh,
             (long long)c->sw, (long long)c->pt, (long long)c->pb, (long long)c->pl,
             (long long)c->pr, (long long)c->dh, (long long)c->dw, (long long)c->groups, c->mode);
    return buf;
}
