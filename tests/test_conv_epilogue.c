/*
 * test_conv_epilogue.c - the fused forward epilogue of convolution,
 * dst = act(conv(src, weight) + bias) [+ residual] (convkit.h,
 * CONVKIT_ACTIVATION_*, convkit_conv_forward_residual), against float64:
 *
 *  - activation accuracy: the activations of the row-kernel set the ISA
 *    cap selects (SLEEF's functions on AVX2 / AVX-512, libm's at the scalar
 *    cap) on every 1000th float of [-20, 20] against the exact value,
 *    within the bounds documented in convkit.h (the measured maxima are
 *    printed);
 *  - the row kernels of every set this CPU runs (epilogue.h): rows of
 *    1 .. 2L+1 floats (L = 16) and longer, channels-first (one bias) and
 *    channels-last (a bias per element), with and without bias, residual
 *    none / separate / == dst, acc == dst, with NaN, +-inf, large +-x,
 *    -0.0 and subnormals mixed into random data; rows flush against
 *    inaccessible pages (masked tails must not touch them); RELU, CLAMP
 *    and NONE bitwise equal to the scalar reference (-0.0 and NaN pass);
 *  - the public API, conv2d and conv1d: every activation (CLAMP twice, as
 *    relu6 too), with and without bias, residual none / separate / == dst,
 *    on layouts NCHW, NHWC, NCHW with row gaps, channels-last strided and
 *    a strided dst with neither unit stride (the reference fallback); the
 *    GEMM algorithm on general shapes (groups, stride, dilation, padding
 *    modes, 1x1, a reduction longer than a GEMM K block) and the DIRECT
 *    algorithm (and GEMM) on depthwise ones (3x3, multipliers, strides,
 *    dilation, a kernel too wide for the vector edges); channel and pixel
 *    counts 1 .. 2L+1 and beyond; special values through an identity
 *    depthwise convolution; in place on problems large enough for several
 *    scratch blocks (bitwise equal to a separate residual); thread counts
 *    1 and 2 bitwise equal; backward ignoring the activation;
 *    convkit_conv_forward_residual(NULL) == convkit_conv_forward;
 *  - argument errors: activation out of range, CLAMP with alpha > beta or
 *    NaN, alpha / beta set for another activation, reserved_tail; a 0.1
 *    caller's shorter struct (struct_size = offsetof(activation)) still
 *    creates a plan, with no activation;
 *  - the in-place GEMM scratch stays within CK_GEMM_WORKSPACE_MAX.
 *
 * Tolerance of a convolution output: the conv bound of the other suites
 * (cb = 3 K 2^-24 sum|terms|) moved through the activation (times its
 * Lipschitz constant), plus the activation's documented bound at the
 * result, plus the rounding of the residual add (2^-24 |result|).
 */
#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conv-gemm/conv-gemm.h"
#include "epilogue.h"
#include "kernels.h"
#include "test_support.h"
#include "kernel-views.h"

#define BOUND_C 3.0
#define L 16 /* the widest vector: tails 1 .. 2L+1 */

/* ---- the activations in float64 and their documented bounds -------------- */

typedef struct act_case {
    const char *name;
    uint32_t act;
    float alpha, beta;
    double lip; /* Lipschitz constant: an error e in x moves act(x) by <= lip e */
} act_case_t;

static const act_case_t ACTS[] = {
    {"none", CONVKIT_ACTIVATION_NONE, 0.0f, 0.0f, 1.0},
    {"relu", CONVKIT_ACTIVATION_RELU, 0.0f, 0.0f, 1.0},
    {"clamp(-0.5,0.75)", CONVKIT_ACTIVATION_CLAMP, -0.5f, 0.75f, 1.0},
    {"relu6", CONVKIT_ACTIVATION_CLAMP, 0.0f, 6.0f, 1.0},
    {"sigmoid", CONVKIT_ACTIVATION_SIGMOID, 0.0f, 0.0f, 0.25},
    {"tanh", CONVKIT_ACTIVATION_TANH, 0.0f, 0.0f, 1.0},
    {"silu", CONVKIT_ACTIVATION_SILU, 0.0f, 0.0f, 1.1},
    {"gelu_tanh", CONVKIT_ACTIVATION_GELU_TANH, 0.0f, 0.0f, 1.13},
    {"gelu_erf", CONVKIT_ACTIVATION_GELU_ERF, 0.0f, 0.0f, 1.13},
};
#define N_ACTS ((int)(sizeof ACTS / sizeof ACTS[0]))

#define SQRT_2_OVER_PI 0.79788456080286535588
#define SQRT1_2 0.70710678118654752440

/* The exact activation (float64; GELU in forms without cancellation;
 * compared numerically, so the sign of a zero is not checked here). */
static double act_exact(const act_case_t *a, double x)
{
    if (isnan(x)) return x; /* every activation propagates NaN */
    switch (a->act) {
    case CONVKIT_ACTIVATION_RELU: return fmax(x, 0.0);
    case CONVKIT_ACTIVATION_CLAMP: return fmin(fmax(x, a->alpha), a->beta);
    case CONVKIT_ACTIVATION_SIGMOID: return 1.0 / (1.0 + exp(-x));
    case CONVKIT_ACTIVATION_TANH: return tanh(x);
    case CONVKIT_ACTIVATION_SILU: return x / (1.0 + exp(-x));
    case CONVKIT_ACTIVATION_GELU_TANH: /* 0.5 x (1 + tanh z) = x / (1 + exp(-2z)) */
        return x / (1.0 + exp(-2.0 * SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)));
    case CONVKIT_ACTIVATION_GELU_ERF: return 0.5 * x * erfc(-x * SQRT1_2);
    default: return x;
    }
}

static bool act_is_exact(uint32_t act)
{
    return act == CONVKIT_ACTIVATION_NONE || act == CONVKIT_ACTIVATION_RELU ||
           act == CONVKIT_ACTIVATION_CLAMP;
}

static bool act_is_gelu(uint32_t act)
{
    return act == CONVKIT_ACTIVATION_GELU_TANH || act == CONVKIT_ACTIVATION_GELU_ERF;
}

/* The float spacing at |v| (2^-149 below FLT_MIN). */
static double f32_ulp(double v)
{
    v = fabs(v);
    return v >= FLT_MIN ? ldexp(1.0, ilogb(v) - 23) : ldexp(1.0, -149);
}

/* The bounds documented in convkit.h (the accuracy sentence of the
 * activation comment), in ulps of the exact value; `libm`: the scalar
 * code's (glibc's tanhf is the only looser function). */
static double act_ulps(uint32_t act, bool libm)
{
    switch (act) {
    case CONVKIT_ACTIVATION_SIGMOID:
    case CONVKIT_ACTIVATION_SILU: return 2.5;
    case CONVKIT_ACTIVATION_TANH: return libm ? 2.5 : 1.0;
    case CONVKIT_ACTIVATION_GELU_TANH:
    case CONVKIT_ACTIVATION_GELU_ERF: return 2.0;
    default: return 0.0;
    }
}

/* The documented bound of act at x with exact value fx:
 *   U ulp(fx) for x >= 0 and every non-GELU activation,
 *   2^-23 |x| for GELU at x < 0 (1 + tanh / 1 + erf cancels in float),
 *   plus 2^-120 absolute for the transcendental ones (results that small
 *   may be 0 or subnormal: exp(-x) overflows for x < -88.7, which flushes
 *   SILU's x / (1 + exp(-x)) of up to 2.6e-37, as in PyTorch);
 *   0 for NONE, RELU, CLAMP (exact). */
#define ACT_ABS_FLOOR ldexp(1.0, -120)
static double act_bound(uint32_t act, double x, double fx, bool libm)
{
    if (act_is_exact(act)) return 0.0;
    if (act_is_gelu(act) && x < 0.0) return ldexp(fabs(x), -23) + ACT_ABS_FLOOR;
    return act_ulps(act, libm) * f32_ulp(fx) + ACT_ABS_FLOOR;
}

static ck_conv_epilogue_t epi_of(const act_case_t *a)
{
    return (ck_conv_epilogue_t){a->act, a->alpha, a->beta};
}

/* ---- activation accuracy: every 1000th float of [-20, 20] ------------------ */

Test(activation, accuracy_sweep_within_documented_bounds, .timeout = 300)
{
    const uint32_t cap = convkit_get_max_isa();
    const ck_epilogue_kernels_t *set = ck_select_epilogue(cap);
    const bool libm = set->isa == CONVKIT_ISA_SCALAR;
    uint32_t top;
    const float twenty = 20.0f;
    memcpy(&top, &twenty, sizeof top);
    const size_t cnt = 2 * ((size_t)top / 1000 + 1);
    float *xs = malloc(cnt * sizeof *xs), *ys = malloc(cnt * sizeof *ys);
    cr_assert(xs != NULL && ys != NULL);
    size_t k = 0;
    for (uint32_t b = 0; b <= top; b += 1000) {
        xs[k++] = tk_f32_from_bits(b);
        xs[k++] = tk_f32_from_bits(b | 0x80000000u);
    }
    cr_assert_eq(k, cnt);
    for (int ai = 0; ai < N_ACTS; ai++) {
        const act_case_t *a = &ACTS[ai];
        if (act_is_exact(a->act)) continue;
        const ck_conv_epilogue_t e = epi_of(a);
        set->rows_cf(&e, 1, cnt, xs, cnt, NULL, NULL, ys, cnt);
        double max_ulp = 0.0, max_neg = 0.0; /* neg: GELU at x < 0, in 2^-24 |x| */
        float worst = 0.0f;
        size_t bad = 0;
        for (size_t i = 0; i < cnt; i++) {
            const double x = xs[i], fx = act_exact(a, x), err = fabs((double)ys[i] - fx);
            if (!(err <= act_bound(a->act, x, fx, libm))) {
                if (bad++ == 0)
                    cr_log_error("%s %s: x %.9g got %.9g exact %.17g (bound %.3g)", set->name,
                                 a->name, x, (double)ys[i], fx,
                                 act_bound(a->act, x, fx, libm));
            }
            if (act_is_gelu(a->act) && x < 0.0) {
                if (err / ldexp(-x, -24) > max_neg) max_neg = err / ldexp(-x, -24);
            } else if (err / f32_ulp(fx) > max_ulp) {
                max_ulp = err / f32_ulp(fx);
                worst = xs[i];
            }
        }
        fprintf(stderr,
                "activation accuracy (%s, %zu points): %-9s max %.3f ulp (at x = %.9g, bound "
                "%.1f)",
                set->name, cnt, a->name, max_ulp, (double)worst, act_ulps(a->act, libm));
        if (act_is_gelu(a->act))
            fprintf(stderr, "; x < 0: max %.3f x 2^-24 |x| (bound 2)", max_neg);
        fprintf(stderr, "\n");
        cr_expect_eq(bad, 0, "%s %s: %zu of %zu points outside the documented bound", set->name,
                     a->name, bad, cnt);
    }
    free(xs);
    free(ys);
}

Test(activation, scalar_reference_special_values)
{
    const ck_conv_epilogue_t relu = {CONVKIT_ACTIVATION_RELU, 0.0f, 0.0f};
    const ck_conv_epilogue_t relu6 = {CONVKIT_ACTIVATION_CLAMP, 0.0f, 6.0f};
    const ck_conv_epilogue_t cneg = {CONVKIT_ACTIVATION_CLAMP, -0.0f, 6.0f};
    /* torch.relu(-0.) and torch.clamp(-0., 0, 6) are -0.; clamp(x, -0., ..) of a
     * negative x is -0.; NaN passes */
    cr_expect_eq(tk_f32_bits(ck_ref_activation(-0.0f, &relu)), 0x80000000u);
    cr_expect_eq(tk_f32_bits(ck_ref_activation(-3.0f, &relu)), 0u);
    cr_expect_eq(tk_f32_bits(ck_ref_activation(-0.0f, &relu6)), 0x80000000u);
    cr_expect_eq(tk_f32_bits(ck_ref_activation(-3.0f, &cneg)), 0x80000000u);
    cr_expect(isnan(ck_ref_activation(NAN, &relu)) && isnan(ck_ref_activation(NAN, &relu6)));
    cr_expect_eq(ck_ref_activation(INFINITY, &relu6), 6.0f);
    const ck_conv_epilogue_t sig = {CONVKIT_ACTIVATION_SIGMOID, 0, 0},
                             th = {CONVKIT_ACTIVATION_TANH, 0, 0},
                             si = {CONVKIT_ACTIVATION_SILU, 0, 0},
                             gt = {CONVKIT_ACTIVATION_GELU_TANH, 0, 0},
                             ge = {CONVKIT_ACTIVATION_GELU_ERF, 0, 0};
    /* f(-inf), f(+inf), f(-100), f(100) as PyTorch 1.13 gives them
     * (silu(-inf) = gelu(-inf) = NaN) */
    const struct {
        const ck_conv_epilogue_t *e;
        float at_ninf, at_inf, at_m100, at_100;
    } ends[] = {
        {&sig, 0.0f, 1.0f, 0.0f, 1.0f},  {&th, -1.0f, 1.0f, -1.0f, 1.0f},
        {&si, NAN, INFINITY, -0.0f, 100.0f}, {&gt, NAN, INFINITY, -0.0f, 100.0f},
        {&ge, NAN, INFINITY, -0.0f, 100.0f},
    };
    for (size_t i = 0; i < sizeof ends / sizeof ends[0]; i++) {
        const float x[4] = {-INFINITY, INFINITY, -100.0f, 100.0f};
        const float want[4] = {ends[i].at_ninf, ends[i].at_inf, ends[i].at_m100, ends[i].at_100};
        for (int k = 0; k < 4; k++) {
            const float got = ck_ref_activation(x[k], ends[i].e);
            cr_expect(isnan(want[k]) ? isnan(got) : got == want[k],
                      "activation %u at %g: got %g, want %g", ends[i].e->activation,
                      (double)x[k], (double)got, (double)want[k]);
        }
    }
    cr_expect(ck_ref_activation(-1e30f, &gt) == 0.0f && ck_ref_activation(1e30f, &gt) == 1e30f);
    for (int ai = 0; ai < N_ACTS; ai++) {
        const ck_conv_epilogue_t e = epi_of(&ACTS[ai]);
        cr_expect(isnan(ck_ref_activation(NAN, &e)), "%s(NaN) is not NaN", ACTS[ai].name);
    }
}

/* ---- the row kernels ------------------------------------------------------- */

/* Values mixed into the rows' random data. */
static const float SPECIALS[] = {NAN,    INFINITY, -INFINITY, -0.0f,  0.0f,   100.0f,
                                 -100.0f, 1e30f,   -1e30f,    20.0f,  -20.0f, 88.5f,
                                 -88.5f,  1e-40f,  -1e-40f,   9.0f,   -9.0f,  -5.0f};
#define N_SPECIALS ((int)(sizeof SPECIALS / sizeof SPECIALS[0]))

enum { ROW_RES_NONE, ROW_RES_SEPARATE, ROW_RES_IS_DST, ROW_ACC_IS_DST, ROW_MODES };

/* One row call, checked element by element; returns the failures. */
static int row_case(const ck_epilogue_kernels_t *set, const act_case_t *a, bool cl, size_t n,
                    bool has_bias, int mode, const float *accv, const float *biasv,
                    const float *resv, tk_guarded_t *acc, tk_guarded_t *bias, tk_guarded_t *res,
                    tk_guarded_t *dst)
{
    const ck_conv_epilogue_t e = epi_of(a);
    const bool libm = set->isa == CONVKIT_ISA_SCALAR;
    memcpy(acc->data, accv, n * sizeof(float));
    memcpy(res->data, resv, n * sizeof(float));
    memcpy(bias->data, biasv, (cl ? n : 1) * sizeof(float));
    for (size_t j = 0; j < n; j++) dst->data[j] = tk_sentinel_f32();
    const float *accp = acc->data, *resp = NULL;
    if (mode == ROW_RES_SEPARATE) resp = res->data;
    if (mode == ROW_RES_IS_DST) {
        memcpy(dst->data, resv, n * sizeof(float));
        resp = dst->data;
    }
    if (mode == ROW_ACC_IS_DST) {
        memcpy(dst->data, accv, n * sizeof(float));
        accp = dst->data;
        resp = res->data;
    }
    (cl ? set->rows_cl : set->rows_cf)(&e, 1, n, accp, n, has_bias ? bias->data : NULL, resp,
                                       dst->data, n);
    int bad = 0;
    for (size_t j = 0; j < n; j++) {
        const float s = has_bias ? accv[j] + biasv[cl ? j : 0] : accv[j];
        const bool hr = mode != ROW_RES_NONE;
        const double r = hr ? resv[j] : 0.0;
        const double fx = act_exact(a, s), want = fx + r;
        const float got = dst->data[j];
        bool ok;
        if (act_is_exact(a->act)) {
            /* bitwise the scalar reference: signed zeros and NaN pass */
            float ref = ck_ref_activation(s, &e);
            if (hr) ref += resv[j];
            ok = tk_f32_bits(got) == tk_f32_bits(ref) || (isnan(got) && isnan(ref));
        } else if (isnan(want)) {
            ok = isnan(got);
        } else if (isinf(want)) {
            ok = (double)got == want;
        } else {
            const double ab = act_bound(a->act, s, fx, libm);
            const double tol = ab + (hr ? ldexp(fabs(fx) + ab + fabs(r), -24) : 0.0);
            ok = fabs((double)got - want) <= tol;
        }
        if (!ok && bad++ == 0)
            cr_log_error("set %s %s %s n %zu bias %d mode %d: [%zu] acc %.9g -> got %.9g "
                         "(0x%08x), want %.17g",
                         set->name, a->name, cl ? "channels-last" : "channels-first", n,
                         has_bias, mode, j, (double)accv[j], (double)got, tk_f32_bits(got), want);
    }
    return bad;
}

Test(epilogue_rows, every_set_every_tail_against_float64, .timeout = 300)
{
    static const size_t lengths[] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13,
                                     14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26,
                                     27, 28, 29, 30, 31, 32, 33, 47, 64, 100};
    tk_rng_t rng;
    tk_rng_seed(&rng, 77);
    cr_assert(ck_epilogue_kernel_count() >= 1);
    for (size_t li = 0; li < sizeof lengths / sizeof lengths[0]; li++) {
        const size_t n = lengths[li];
        /* flush against an inaccessible page at the end, or (odd n) at the start */
        const bool at_end = n % 2 == 0;
        tk_guarded_t acc = tk_guarded_floats((int64_t)n, at_end);
        tk_guarded_t dst = tk_guarded_floats((int64_t)n, at_end);
        tk_guarded_t res = tk_guarded_floats((int64_t)n, !at_end);
        tk_guarded_t bias = tk_guarded_floats((int64_t)n, at_end);
        float accv[100], resv[100], biasv[100];
        for (size_t j = 0; j < n; j++) {
            accv[j] = tk_rng_float(&rng, -8.0f, 8.0f);
            resv[j] = tk_rng_float(&rng, -2.0f, 2.0f);
            biasv[j] = tk_rng_float(&rng, -1.0f, 1.0f);
            if (j % 3 == 1) accv[j] = SPECIALS[(j / 3 + li) % N_SPECIALS];
        }
        if (n > 5) resv[5] = NAN;
        for (int s = 0; s < ck_epilogue_kernel_count(); s++) {
            const ck_epilogue_kernels_t *set = ck_epilogue_kernel_at(s);
            for (int ai = 0; ai < N_ACTS; ai++)
                for (int cl = 0; cl < 2; cl++)
                    for (int hb = 0; hb < 2; hb++)
                        for (int mode = 0; mode < ROW_MODES; mode++) {
                            const int bad = row_case(set, &ACTS[ai], cl, n, hb, mode, accv,
                                                     biasv, resv, &acc, &bias, &res, &dst);
                            cr_expect_eq(bad, 0,
                                         "set %s %s %s n %zu bias %d mode %d: %d wrong",
                                         set->name, ACTS[ai].name,
                                         cl ? "channels-last" : "channels-first", n, hb, mode,
                                         bad);
                        }
        }
        tk_guarded_free(&acc);
        tk_guarded_free(&dst);
        tk_guarded_free(&res);
        tk_guarded_free(&bias);
    }
}

/* Several rows per call (a GEMM tile): acc, dst and residual rows at their
 * strides, bias per row (channels-first) or per column (channels-last);
 * bitwise the rows done one call each, and nothing between rows written. */
Test(epilogue_rows, several_rows_at_their_strides)
{
    enum { M = 3, MAXN = 33, LDA = MAXN + 3, LDD = MAXN + 7 };
    static const size_t widths[] = {1, 5, 16, 17, 33};
    tk_rng_t rng;
    tk_rng_seed(&rng, 78);
    float acc[M * LDA], res[M * LDD], bias[MAXN], want[M * LDD], got[M * LDD];
    for (int i = 0; i < M * LDA; i++) acc[i] = tk_rng_float(&rng, -6.0f, 6.0f);
    for (int i = 0; i < M * LDD; i++) res[i] = tk_rng_float(&rng, -1.0f, 1.0f);
    for (int i = 0; i < MAXN; i++) bias[i] = tk_rng_float(&rng, -1.0f, 1.0f);
    for (int s = 0; s < ck_epilogue_kernel_count(); s++) {
        const ck_epilogue_kernels_t *set = ck_epilogue_kernel_at(s);
        for (int ai = 0; ai < N_ACTS; ai++)
            for (int cl = 0; cl < 2; cl++)
                for (size_t wi = 0; wi < sizeof widths / sizeof widths[0]; wi++)
                    for (int inplace = 0; inplace < 2; inplace++) {
                        const size_t n = widths[wi];
                        const ck_conv_epilogue_t e = epi_of(&ACTS[ai]);
                        const ck_f32_epilogue_fn f = cl ? set->rows_cl : set->rows_cf;
                        for (int i = 0; i < M * LDD; i++)
                            got[i] = want[i] = inplace ? res[i] : tk_sentinel_f32();
                        /* residual == dst (in place) or a separate buffer */
                        for (size_t i = 0; i < M; i++)
                            f(&e, 1, n, acc + i * LDA, LDA, cl ? bias : bias + i,
                              inplace ? want + i * LDD : res + i * LDD, want + i * LDD, LDD);
                        f(&e, M, n, acc, LDA, bias, inplace ? got : res, got, LDD);
                        cr_expect(memcmp(got, want, sizeof got) == 0,
                                  "set %s %s %s n %zu in place %d: %d rows in one call differ "
                                  "from one call per row",
                                  set->name, ACTS[ai].name, cl ? "channels-last" : "channels-first",
                                  n, inplace, M);
                    }
    }
}

Test(epilogue_rows, selection_follows_the_isa)
{
    const ck_epilogue_kernels_t *s = ck_select_epilogue(CONVKIT_ISA_SCALAR);
    cr_expect_eq(s->isa, CONVKIT_ISA_SCALAR);
    for (int i = 0; i < ck_epilogue_kernel_count(); i++) {
        const ck_epilogue_kernels_t *k = ck_epilogue_kernel_at(i);
        cr_expect(convkit_isa_supported(k->isa), "set %s listed but not runnable", k->name);
        cr_expect_eq(ck_select_epilogue(k->isa), k, "select(%s) is not set %s",
                     convkit_isa_name(k->isa), k->name);
    }
}

/* ---- convolutions through the public API ------------------------------------ */

/* Operand layouts of a problem: src and dst (and the residual) of kind
 * `act` with rows `gap` elements longer than the view, the weight of kind
 * `weight`. */
typedef enum { LAY_NCHW, LAY_NHWC, LAY_ROWGAP, LAY_PERMUTED, LAY_PADDED, LAY_COUNT } layout_t;

static const struct {
    const char *name;
    tk_kind_t act, weight;
    int64_t gap;
} LAYS[LAY_COUNT] = {
    {"nchw", TK_NCHW, TK_NCHW, 0},         /* dense NCHW, OIHW weight */
    {"nhwc", TK_NHWC, TK_NHWC, 0},         /* dense NHWC, OHWI weight */
    {"rowgap", TK_NCHW, TK_NCHW, 3},       /* NCHW with gaps after rows */
    {"permuted", TK_PERMUTED, TK_NHWC, 0}, /* channels unit stride, gaps */
    {"padded", TK_PADDED, TK_NCHW, 0},     /* W stride 2: dst has neither
                                            * unit stride (the reference) */
};

static tk_tensor_t lay_tensor(const int64_t d[4], layout_t l, bool weight)
{
    const int64_t gap = weight ? 0 : LAYS[l].gap;
    const int64_t dd[4] = {d[0], d[1], d[2], d[3] + gap};
    tk_tensor_t t = tk_tensor_f32(dd, weight ? LAYS[l].weight : LAYS[l].act);
    t.dims[3] = d[3];
    if (gap > 0) { /* a view of the first d[3] columns: strided */
        t.layout.format = CONVKIT_FORMAT_STRIDED;
        memcpy(t.layout.strides, t.strides, sizeof t.layout.strides);
    }
    return t;
}

enum { RES_NONE, RES_SEPARATE, RES_IN_PLACE, RES_MODES };
static const char *const RES_NAMES[] = {"no residual", "residual", "residual == dst"};

/* One problem with its data and float64 conv(src, weight) + bias. */
typedef struct problem {
    tk_conv_cfg_t c;
    bool one_d;
    layout_t lay;
    int64_t dd[4];
    tk_tensor_t x, w, r; /* r: residual values, dst's layout */
    float *bias; /* cout values */
    bool has_bias;
    tk_ref_t ref;
} problem_t;

/* Data: src in [-2, 2], weights in [-2, 2] / sqrt(taps) (sums of a few
 * units, where the activations bend), bias in [-1, 1], residual in [-1, 1]. */
static void problem_init(problem_t *pb, const tk_conv_cfg_t *c, bool one_d, layout_t lay,
                         bool has_bias, uint64_t seed)
{
    memset(pb, 0, sizeof *pb);
    pb->c = *c;
    pb->one_d = one_d;
    pb->lay = lay;
    pb->has_bias = has_bias;
    int64_t sd[4], wd[4];
    tk_conv_dims(c, sd, wd, pb->dd);
    tk_rng_t rng;
    tk_rng_seed(&rng, seed);
    pb->x = lay_tensor(sd, lay, false);
    pb->w = lay_tensor(wd, lay, true);
    pb->r = lay_tensor(pb->dd, lay, false);
    const float ws = 2.0f / sqrtf((float)(wd[1] * wd[2] * wd[3]));
    tk_fill_uniform(&pb->x, &rng, -2.0f, 2.0f);
    tk_fill_uniform(&pb->w, &rng, -ws, ws);
    tk_fill_uniform(&pb->r, &rng, -1.0f, 1.0f);
    pb->bias = malloc((size_t)c->cout * sizeof(float));
    cr_assert_not_null(pb->bias);
    for (int64_t i = 0; i < c->cout; i++) pb->bias[i] = tk_rng_float(&rng, -1.0f, 1.0f);
    pb->ref = tk_ref_new(pb->dd);
    tk_ref_conv_forward(c, &pb->x, &pb->w, has_bias ? pb->bias : NULL, &pb->ref);
}

static void problem_free(problem_t *pb)
{
    tk_tensor_free(&pb->x);
    tk_tensor_free(&pb->w);
    tk_tensor_free(&pb->r);
    tk_ref_free(&pb->ref);
    free(pb->bias);
}

/* The epilogue fields of a create call (and, if v01, a 0.1 caller's
 * struct_size, which ends before them). */
typedef struct epi_fields {
    uint32_t act;
    float alpha, beta;
    uint32_t tail;
    bool v01;
} epi_fields_t;

/* Fills the fields the two params structs share under the same names. */
#define FILL_PARAMS(p, lay, algorithm, f, type)                                               \
    do {                                                                                      \
        if ((lay) != NULL) {                                                                  \
            (p).src_layout = (lay)[0];                                                        \
            (p).weight_layout = (lay)[1];                                                     \
            (p).dst_layout = (lay)[2];                                                        \
        }                                                                                     \
        (p).algorithm = (algorithm);                                                          \
        (p).activation = (f)->act;                                                            \
        (p).activation_alpha = (f)->alpha;                                                    \
        (p).activation_beta = (f)->beta;                                                      \
        (p).reserved_tail = (f)->tail;                                                        \
        if ((f)->v01) (p).struct_size = (uint32_t)offsetof(type, activation);                 \
    } while (0)

/* convkit_conv1d_create / convkit_conv2d_create of configuration c (layouts
 * src, weight, dst; NULL: NCHW) with the epilogue fields f. */
static convkit_status_t create_conv(const tk_conv_cfg_t *c, bool one_d, bool bias,
                                    const convkit_layout_t *lay, uint32_t algorithm,
                                    const epi_fields_t *f, convkit_plan_t **plan)
{
    *plan = NULL;
    convkit_status_t st;
    if (one_d) {
        convkit_conv1d_params_t p = tk_conv1d_params(c, bias);
        FILL_PARAMS(p, lay, algorithm, f, convkit_conv1d_params_t);
        st = convkit_conv1d_create(&p, plan);
    } else {
        convkit_conv2d_params_t p = tk_conv2d_params(c, bias);
        FILL_PARAMS(p, lay, algorithm, f, convkit_conv2d_params_t);
        st = convkit_conv2d_create(&p, plan);
    }
    cr_expect((st == CONVKIT_SUCCESS) == (*plan != NULL), "plan %p with status %d",
              (void *)*plan, st);
    return st;
}

/* The plan of a problem with an activation and algorithm (must succeed). */
static convkit_plan_t *make_plan(const problem_t *pb, const act_case_t *a, uint32_t algorithm)
{
    const convkit_layout_t lay[3] = {pb->x.layout, pb->w.layout, pb->r.layout};
    const epi_fields_t f = {a->act, a->alpha, a->beta, 0, false};
    convkit_plan_t *plan;
    const convkit_status_t st =
        create_conv(&pb->c, pb->one_d, pb->has_bias, lay, algorithm, &f, &plan);
    cr_assert_eq(st, CONVKIT_SUCCESS, "create (%s, algorithm %u, %s): %s", a->name, algorithm,
                 LAYS[pb->lay].name, convkit_last_error());
    return plan;
}

/* Runs forward with residual mode rm into a fresh dst (sentinel-filled);
 * the caller frees *y. */
static void run_forward(const problem_t *pb, convkit_plan_t *plan, int rm, tk_tensor_t *y)
{
    *y = lay_tensor(pb->dd, pb->lay, false);
    if (rm == RES_IN_PLACE) tk_copy_values(y, &pb->r);
    const float *res = rm == RES_SEPARATE ? tk_fdata(&pb->r) : rm == RES_IN_PLACE ? tk_fdata(y)
                                                                                : NULL;
    const convkit_status_t st = convkit_conv_forward_residual(
        plan, tk_fdata(&pb->x), tk_fdata(&pb->w), pb->has_bias ? pb->bias : NULL, res,
        tk_fdata(y));
    cr_assert_eq(st, CONVKIT_SUCCESS, "forward_residual: %s", convkit_last_error());
}

/* y against act(ref) [+ residual]; returns the failures and describes the
 * first in msg. */
static int64_t check_output(const problem_t *pb, const tk_tensor_t *y, const act_case_t *a,
                            bool with_res, char *msg, size_t len)
{
    int64_t bad = 0;
    msg[0] = '\0';
    for (int64_t n = 0; n < y->dims[0]; n++)
        for (int64_t c = 0; c < y->dims[1]; c++)
            for (int64_t h = 0; h < y->dims[2]; h++)
                for (int64_t w = 0; w < y->dims[3]; w++) {
                    const int64_t i = tk_ref_at(&pb->ref, n, c, h, w);
                    const double v = pb->ref.val[i];
                    const int64_t k = pb->ref.terms[i] > 0 ? pb->ref.terms[i] : 1;
                    /* an infinite sum is exact (no rounding to bound) */
                    const double cb = isfinite(v) ? BOUND_C * (double)k * ldexp(pb->ref.mag[i], -24)
                                                  : 0.0;
                    const double fx = act_exact(a, v);
                    const double r = with_res ? tk_getf(&pb->r, n, c, h, w) : 0.0;
                    const double want = fx + r;
                    const float got = tk_getf(y, n, c, h, w);
                    const double moved = a->lip * cb;
                    const double ab =
                        act_bound(a->act, fabs(v) + cb, fabs(fx) + moved, false) +
                        (act_is_gelu(a->act) && v < 0.0 ? ldexp(cb, -22) : 0.0);
                    const double tol = moved + ab + ldexp(fabs(fx) + moved + ab + fabs(r), -24);
                    bool ok;
                    if (tk_is_sentinel_f32(got)) ok = false;
                    else if (isnan(want)) ok = isnan(got);
                    else if (isinf(want)) ok = (double)got == want;
                    else ok = fabs((double)got - want) <= tol;
                    if (!ok && bad++ == 0)
                        snprintf(msg, len,
                                 "at (%lld,%lld,%lld,%lld) got %.9g%s, want %.17g (conv %.17g, "
                                 "tol %.3g)",
                                 (long long)n, (long long)c, (long long)h, (long long)w,
                                 (double)got, tk_is_sentinel_f32(got) ? " (never written)" : "",
                                 want, v, tol);
                }
    return bad;
}

#define CFG_FMT                                                                                \
    "n%lld c%lld->%lld %lldx%lld k%lldx%lld s%lld,%lld p%lld,%lld,%lld,%lld d%lld,%lld g%lld m%u"
#define CFG_ARGS(c)                                                                            \
    (long long)(c)->n, (long long)(c)->cin, (long long)(c)->cout, (long long)(c)->h,          \
        (long long)(c)->w, (long long)(c)->kh, (long long)(c)->kw, (long long)(c)->sh,        \
        (long long)(c)->sw, (long long)(c)->pt, (long long)(c)->pb, (long long)(c)->pl,       \
        (long long)(c)->pr, (long long)(c)->dh, (long long)(c)->dw, (long long)(c)->groups,   \
        (c)->mode

/* Every activation (acts[0 .. n_acts)), residual mode (every one, or
 * only rm_only >= 0) for one problem and algorithm. */
static void sweep_problem(const problem_t *pb, uint32_t algorithm, int rm_only)
{
    char msg[600], gaps[300];
    for (int ai = 0; ai < N_ACTS; ai++) {
        const act_case_t *a = &ACTS[ai];
        convkit_plan_t *plan = make_plan(pb, a, algorithm);
        if (algorithm == CONVKIT_CONV_ALGORITHM_DIRECT)
            cr_expect(strstr(convkit_plan_impl_name(plan), "direct") != NULL,
                      "DIRECT plan runs %s", convkit_plan_impl_name(plan));
        for (int rm = 0; rm < RES_MODES; rm++) {
            if (rm_only >= 0 && rm != rm_only) continue;
            tk_tensor_t y;
            run_forward(pb, plan, rm, &y);
            const int64_t bad = check_output(pb, &y, a, rm != RES_NONE, msg, sizeof msg);
            cr_expect_eq(bad, 0, "%s " CFG_FMT " %s %s, %s, bias %d, %s: %lld of %lld wrong: %s",
                         pb->one_d ? "conv1d" : "conv2d", CFG_ARGS(&pb->c),
                         LAYS[pb->lay].name, convkit_plan_impl_name(plan), a->name,
                         pb->has_bias, RES_NAMES[rm], (long long)bad, (long long)tk_numel(&y),
                         msg);
            cr_expect(tk_gaps_intact(&y, gaps, sizeof gaps), "%s %s %s: %s",
                      convkit_plan_impl_name(plan), a->name, RES_NAMES[rm], gaps);
            tk_tensor_free(&y);
        }
        convkit_plan_destroy(plan);
    }
}

/* cfg fields: n cin h w cout kh kw sh sw pt pb pl pr dh dw groups mode */
#define CFG(...) ((tk_conv_cfg_t){__VA_ARGS__})

/* The general problems: GEMM ones (any shape), and depthwise ones for
 * DIRECT (each also run with GEMM for one residual mode). */
static const struct conv_case {
    tk_conv_cfg_t c;
    bool one_d;
    uint32_t algorithm;
} CONV_CASES[] = {
#define G CONVKIT_CONV_ALGORITHM_GEMM
#define D CONVKIT_CONV_ALGORITHM_DIRECT
    {CFG(2, 3, 6, 7, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, CONVKIT_PADDING_ZEROS), false, G},
    {CFG(1, 4, 7, 8, 6, 3, 2, 2, 1, 1, 0, 2, 1, 1, 2, 2, CONVKIT_PADDING_REFLECT), false, G},
    {CFG(1, 5, 4, 5, 7, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, CONVKIT_PADDING_ZEROS), false, G},
    /* 900 taps: more than one K block of every GEMM kernel, so an epilogue
     * on a partial sum would show */
    {CFG(1, 100, 5, 6, 20, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, CONVKIT_PADDING_ZEROS), false, G},
    {CFG(2, 6, 5, 5, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 6, CONVKIT_PADDING_REPLICATE), false, G},
    {CFG(2, 3, 1, 11, 4, 1, 3, 1, 2, 0, 0, 1, 2, 1, 1, 1, CONVKIT_PADDING_ZEROS), true, G},
    {CFG(1, 4, 1, 9, 4, 1, 3, 1, 1, 0, 0, 1, 1, 1, 1, 4, CONVKIT_PADDING_CIRCULAR), true, G},
    {CFG(2, 5, 6, 9, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 5, CONVKIT_PADDING_ZEROS), false, D},
    {CFG(1, 4, 7, 11, 8, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 4, CONVKIT_PADDING_ZEROS), false, D},
    {CFG(1, 3, 8, 13, 3, 5, 5, 1, 3, 2, 2, 2, 2, 1, 1, 3, CONVKIT_PADDING_ZEROS), false, D},
    {CFG(1, 3, 6, 20, 3, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 3, CONVKIT_PADDING_ZEROS), false, D},
    /* more channels than one NHWC block (4 vectors) per thread */
    {CFG(1, 140, 3, 4, 140, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 140, CONVKIT_PADDING_ZEROS), false, D},
    /* kernel 19: more edge vectors than the row plan holds (scalar edges) */
    {CFG(1, 2, 1, 40, 2, 1, 19, 1, 1, 0, 0, 9, 9, 1, 1, 2, CONVKIT_PADDING_ZEROS), true, D},
    {CFG(2, 6, 1, 37, 12, 1, 3, 1, 1, 0, 0, 1, 1, 1, 1, 6, CONVKIT_PADDING_ZEROS), true, D},
#undef G
#undef D
};

/* Every case of CONV_CASES with `algorithm` on every layout of lays (the
 * direct ones: those src and dst layouts the direct kernels take), with
 * and without bias: every activation and residual mode. */
static void sweep_cases(uint32_t algorithm, uint64_t seed)
{
    const layout_t lays[] = {LAY_NCHW, LAY_NHWC, LAY_ROWGAP, LAY_PERMUTED, LAY_PADDED};
    const int nlays = algorithm == CONVKIT_CONV_ALGORITHM_DIRECT ? 4 : 5;
    for (size_t i = 0; i < sizeof CONV_CASES / sizeof CONV_CASES[0]; i++) {
        if (CONV_CASES[i].algorithm != algorithm) continue;
        for (int l = 0; l < nlays; l++)
            for (int b = 0; b < 2; b++) {
                problem_t pb;
                problem_init(&pb, &CONV_CASES[i].c, CONV_CASES[i].one_d, lays[l], b, seed++);
                sweep_problem(&pb, algorithm, -1);
                if (algorithm == CONVKIT_CONV_ALGORITHM_DIRECT)
                    sweep_problem(&pb, CONVKIT_CONV_ALGORITHM_GEMM, (int)(seed % RES_MODES));
                problem_free(&pb);
            }
    }
}

Test(epilogue_conv, gemm_every_activation_layout_bias_residual, .timeout = 600)
{
    sweep_cases(CONVKIT_CONV_ALGORITHM_GEMM, 100);
}

Test(epilogue_conv, direct_depthwise_every_activation, .timeout = 600)
{
    sweep_cases(CONVKIT_CONV_ALGORITHM_DIRECT, 200);
}

/* Channel counts 1 .. 2L+1 (NHWC rows: channels-last GEMM rows, the
 * direct kernels' channel blocks) and pixel counts 1 .. 2L+1 and beyond
 * (NCHW rows: channels-first GEMM rows, the direct kernels' output
 * rows). */
Test(epilogue_conv, every_channel_and_pixel_tail, .timeout = 600)
{
    uint64_t seed = 300;
    for (int64_t c = 1; c <= 2 * L + 1; c++) {
        const int rm = (int)(c % RES_MODES);
        problem_t pb;
        const tk_conv_cfg_t dw =
            CFG(1, c, 3, 4, c, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, c, CONVKIT_PADDING_ZEROS);
        problem_init(&pb, &dw, false, LAY_NHWC, c % 2 == 1, seed++);
        sweep_problem(&pb, CONVKIT_CONV_ALGORITHM_DIRECT, rm);
        sweep_problem(&pb, CONVKIT_CONV_ALGORITHM_GEMM, rm);
        problem_free(&pb);
        const tk_conv_cfg_t pw =
            CFG(1, 2, 3, 5, c, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, CONVKIT_PADDING_ZEROS);
        for (int lay = LAY_NCHW; lay <= LAY_NHWC; lay++) {
            problem_init(&pb, &pw, false, (layout_t)lay, c % 2 == 0, seed++);
            sweep_problem(&pb, CONVKIT_CONV_ALGORITHM_GEMM, rm);
            problem_free(&pb);
        }
    }
    static const int64_t widths[] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13,
                                     14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26,
                                     27, 28, 29, 30, 31, 32, 33, 47, 70, 100};
    for (size_t i = 0; i < sizeof widths / sizeof widths[0]; i++) {
        const int64_t w = widths[i];
        const int rm = (int)(w % RES_MODES);
        problem_t pb;
        const tk_conv_cfg_t dw =
            CFG(1, 2, 2, w, 2, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2, CONVKIT_PADDING_ZEROS);
        problem_init(&pb, &dw, false, LAY_NCHW, w % 2 == 1, seed++);
        sweep_problem(&pb, CONVKIT_CONV_ALGORITHM_DIRECT, rm);
        sweep_problem(&pb, CONVKIT_CONV_ALGORITHM_GEMM, rm);
        problem_free(&pb);
        const tk_conv_cfg_t pw =
            CFG(1, 2, 1, w, 3, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, CONVKIT_PADDING_ZEROS);
        problem_init(&pb, &pw, true, LAY_NCHW, w % 2 == 0, seed++);
        sweep_problem(&pb, CONVKIT_CONV_ALGORITHM_GEMM, rm);
        problem_free(&pb);
    }
}

/* An identity depthwise convolution (1x1, weights 1) passes src through
 * exactly, so the activations see NaN, +-inf and large values. */
Test(epilogue_conv, special_values_through_an_identity_convolution, .timeout = 300)
{
    const tk_conv_cfg_t c =
        CFG(1, 37, 1, 19, 37, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 37, CONVKIT_PADDING_ZEROS);
    const uint32_t algos[] = {CONVKIT_CONV_ALGORITHM_GEMM, CONVKIT_CONV_ALGORITHM_DIRECT};
    uint64_t seed = 400;
    for (int lay = LAY_NCHW; lay <= LAY_NHWC; lay++)
        for (int b = 0; b < 2; b++) {
            problem_t pb;
            problem_init(&pb, &c, false, (layout_t)lay, b, seed++);
            tk_rng_t rng;
            tk_rng_seed(&rng, seed);
            int k = 0;
            for (int64_t ch = 0; ch < c.cin; ch++)
                for (int64_t w = 0; w < c.w; w++) {
                    tk_setf(&pb.x, 0, ch, 0, w,
                            k % 2 ? SPECIALS[(k / 2) % N_SPECIALS] : tk_rng_float(&rng, -12, 12));
                    k++;
                }
            tk_fill_const(&pb.w, 1.0f);
            tk_ref_conv_forward(&c, &pb.x, &pb.w, b ? pb.bias : NULL, &pb.ref);
            for (size_t a = 0; a < sizeof algos / sizeof algos[0]; a++)
                sweep_problem(&pb, algos[a], -1);
            problem_free(&pb);
        }
}

/* Residual == dst on problems with several in-place scratch blocks (and
 * more output channels per group than one block holds): bitwise the result
 * with a separate residual, and correct; thread counts 1 and 2 agree
 * bitwise. */
Test(epilogue_conv, in_place_blocks_and_threads_bitwise, .timeout = 600)
{
#define G CONVKIT_CONV_ALGORITHM_GEMM
#define D CONVKIT_CONV_ALGORITHM_DIRECT
#define Z CONVKIT_PADDING_ZEROS
    const struct {
        tk_conv_cfg_t c;
        bool one_d;
        layout_t lay;
        uint32_t algo;
    } cases[] = {
        {CFG(1, 4, 64, 64, 40, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, Z), false, LAY_NCHW, G},
        {CFG(1, 4, 64, 64, 40, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, Z), false, LAY_NHWC, G},
        {CFG(1, 3, 40, 50, 24, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, Z), false, LAY_PERMUTED, G},
        {CFG(1, 1, 1, 2, 70000, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, Z), true, LAY_NCHW, G},
        {CFG(2, 16, 30, 45, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 16, Z), false, LAY_NCHW, D},
        {CFG(2, 40, 12, 13, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 40, Z), false, LAY_NHWC, D},
    };
#undef G
#undef D
#undef Z
    const act_case_t *acts[] = {&ACTS[5], &ACTS[8], &ACTS[1]}; /* tanh, gelu_erf, relu */
    char msg[600], why[300];
    uint64_t seed = 500;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        problem_t pb;
        problem_init(&pb, &cases[i].c, cases[i].one_d, cases[i].lay, i % 2 == 0, seed++);
        for (size_t ai = 0; ai < sizeof acts / sizeof acts[0]; ai++) {
            convkit_plan_t *plan = make_plan(&pb, acts[ai], cases[i].algo);
            tk_tensor_t ys, yi, yt;
            cr_assert_eq(convkit_set_num_threads(2), CONVKIT_SUCCESS);
            run_forward(&pb, plan, RES_SEPARATE, &ys);
            run_forward(&pb, plan, RES_IN_PLACE, &yi);
            cr_assert_eq(convkit_set_num_threads(1), CONVKIT_SUCCESS);
            run_forward(&pb, plan, RES_IN_PLACE, &yt);
            convkit_set_num_threads(0);
            const char *impl = convkit_plan_impl_name(plan);
            cr_expect(tk_bitwise_equal(&ys, &yi, why, sizeof why),
                      "case %zu %s %s: in place differs from a separate residual: %s", i, impl,
                      acts[ai]->name, why);
            cr_expect(tk_bitwise_equal(&yi, &yt, why, sizeof why),
                      "case %zu %s %s: 1 and 2 threads differ: %s", i, impl, acts[ai]->name, why);
            const int64_t bad = check_output(&pb, &yi, acts[ai], true, msg, sizeof msg);
            cr_expect_eq(bad, 0, "case %zu %s %s in place: %lld wrong: %s", i, impl,
                         acts[ai]->name, (long long)bad, msg);
            tk_tensor_free(&ys);
            tk_tensor_free(&yi);
            tk_tensor_free(&yt);
            convkit_plan_destroy(plan);
        }
        problem_free(&pb);
    }
}

/* The activation is forward's only: backward results are bitwise those of
 * a plan without it; forward_residual with NULL is forward. */
Test(epilogue_conv, backward_ignores_activation_and_null_residual_is_forward)
{
    const tk_conv_cfg_t c =
        CFG(2, 4, 6, 7, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2, CONVKIT_PADDING_ZEROS);
    const uint32_t algos[] = {CONVKIT_CONV_ALGORITHM_GEMM, CONVKIT_CONV_ALGORITHM_AUTO};
    char why[300];
    for (int lay = LAY_NCHW; lay <= LAY_NHWC; lay++) {
        problem_t pb;
        problem_init(&pb, &c, false, (layout_t)lay, true, 600 + lay);
        for (size_t al = 0; al < sizeof algos / sizeof algos[0]; al++) {
            /* backward of a plan without activation (k 0) and with GELU (k 1) */
            convkit_plan_t *plans[2] = {make_plan(&pb, &ACTS[0], algos[al]),
                                        make_plan(&pb, &ACTS[7], algos[al])};
            int64_t sd[4], wd[4];
            tk_conv_dims(&c, sd, wd, pb.dd);
            tk_tensor_t g[2], gw[2];
            float gb[2][8];
            for (int k = 0; k < 2; k++) {
                g[k] = lay_tensor(sd, pb.lay, false);
                gw[k] = lay_tensor(wd, pb.lay, true);
                cr_assert_eq(convkit_conv_backward_data(plans[k], tk_fdata(&pb.r),
                                                        tk_fdata(&pb.w), tk_fdata(&g[k])),
                             CONVKIT_SUCCESS);
                cr_assert_eq(convkit_conv_backward_weights(plans[k], tk_fdata(&pb.x),
                                                           tk_fdata(&pb.r), tk_fdata(&gw[k])),
                             CONVKIT_SUCCESS);
                cr_assert_eq(convkit_conv_backward_bias(plans[k], tk_fdata(&pb.r), gb[k]),
                             CONVKIT_SUCCESS);
            }
            cr_expect(tk_bitwise_equal(&g[0], &g[1], why, sizeof why), "backward_data: %s", why);
            cr_expect(tk_bitwise_equal(&gw[0], &gw[1], why, sizeof why), "backward_weights: %s",
                      why);
            cr_expect(memcmp(gb[0], gb[1], sizeof(float) * (size_t)c.cout) == 0, "backward_bias");
            /* forward_residual(NULL) == forward, bitwise */
            tk_tensor_t y0 = lay_tensor(pb.dd, pb.lay, false), y1;
            cr_assert_eq(convkit_conv_forward(plans[1], tk_fdata(&pb.x), tk_fdata(&pb.w),
                                              pb.bias, tk_fdata(&y0)),
                         CONVKIT_SUCCESS);
            run_forward(&pb, plans[1], RES_NONE, &y1);
            cr_expect(tk_bitwise_equal(&y0, &y1, why, sizeof why), "forward vs residual NULL: %s",
                      why);
            for (int k = 0; k < 2; k++) {
                tk_tensor_free(&g[k]);
                tk_tensor_free(&gw[k]);
                convkit_plan_destroy(plans[k]);
            }
            tk_tensor_free(&y0);
            tk_tensor_free(&y1);
        }
        problem_free(&pb);
    }
}

/* ---- argument errors and the 0.1 struct ------------------------------------- */

/* The status of creating a small conv2d (d 0) or conv1d (d 1) plan with
 * these epilogue fields. */
static convkit_status_t create_small(int d, uint32_t act, float alpha, float beta, uint32_t tail)
{
    const tk_conv_cfg_t c2 = CFG(1, 2, 4, 4, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0);
    const tk_conv_cfg_t c1 = CFG(1, 2, 1, 9, 3, 1, 3, 1, 1, 0, 0, 1, 1, 1, 1, 1, 0);
    const epi_fields_t f = {act, alpha, beta, tail, false};
    convkit_plan_t *plan;
    const convkit_status_t st = create_conv(d ? &c1 : &c2, d == 1, true, NULL, 0, &f, &plan);
    convkit_plan_destroy(plan);
    return st;
}

Test(epilogue_errors, invalid_activation_fields)
{
    /* what, activation, alpha, beta, reserved_tail, expected status, the
     * word the message must name (NULL: success) */
    static const struct {
        const char *what;
        uint32_t act;
        float alpha, beta;
        uint32_t tail;
        convkit_status_t want;
        const char *word;
    } cases[] = {
        {"NONE", CONVKIT_ACTIVATION_NONE, 0.0f, 0.0f, 0, CONVKIT_SUCCESS, NULL},
        {"RELU", CONVKIT_ACTIVATION_RELU, 0.0f, 0.0f, 0, CONVKIT_SUCCESS, NULL},
        {"CLAMP -1..1", CONVKIT_ACTIVATION_CLAMP, -1.0f, 1.0f, 0, CONVKIT_SUCCESS, NULL},
        {"CLAMP alpha == beta", CONVKIT_ACTIVATION_CLAMP, 2.0f, 2.0f, 0, CONVKIT_SUCCESS, NULL},
        {"CLAMP -inf..inf", CONVKIT_ACTIVATION_CLAMP, -INFINITY, INFINITY, 0, CONVKIT_SUCCESS,
         NULL},
        {"SIGMOID", CONVKIT_ACTIVATION_SIGMOID, 0.0f, 0.0f, 0, CONVKIT_SUCCESS, NULL},
        {"TANH", CONVKIT_ACTIVATION_TANH, 0.0f, 0.0f, 0, CONVKIT_SUCCESS, NULL},
        {"SILU", CONVKIT_ACTIVATION_SILU, 0.0f, 0.0f, 0, CONVKIT_SUCCESS, NULL},
        {"GELU_TANH", CONVKIT_ACTIVATION_GELU_TANH, 0.0f, 0.0f, 0, CONVKIT_SUCCESS, NULL},
        {"GELU_ERF", CONVKIT_ACTIVATION_GELU_ERF, 0.0f, 0.0f, 0, CONVKIT_SUCCESS, NULL},
        {"activation 8", 8, 0.0f, 0.0f, 0, CONVKIT_ERROR_INVALID_ARGUMENT, "activation"},
        {"activation 2^32-1", 0xffffffffu, 0.0f, 0.0f, 0, CONVKIT_ERROR_INVALID_ARGUMENT,
         "activation"},
        {"CLAMP alpha > beta", CONVKIT_ACTIVATION_CLAMP, 1.0f, 0.5f, 0,
         CONVKIT_ERROR_INVALID_ARGUMENT, "activation_alpha"},
        {"CLAMP alpha NaN", CONVKIT_ACTIVATION_CLAMP, NAN, 1.0f, 0,
         CONVKIT_ERROR_INVALID_ARGUMENT, "activation_alpha"},
        {"CLAMP beta NaN", CONVKIT_ACTIVATION_CLAMP, 0.0f, NAN, 0,
         CONVKIT_ERROR_INVALID_ARGUMENT, "activation_beta"},
        {"RELU with alpha", CONVKIT_ACTIVATION_RELU, 0.5f, 0.0f, 0,
         CONVKIT_ERROR_INVALID_ARGUMENT, "activation_alpha"},
        {"NONE with beta", CONVKIT_ACTIVATION_NONE, 0.0f, 6.0f, 0,
         CONVKIT_ERROR_INVALID_ARGUMENT, "activation_beta"},
        {"GELU with NaN alpha", CONVKIT_ACTIVATION_GELU_ERF, NAN, 0.0f, 0,
         CONVKIT_ERROR_INVALID_ARGUMENT, "activation_alpha"},
        {"reserved_tail 1", CONVKIT_ACTIVATION_RELU, 0.0f, 0.0f, 1,
         CONVKIT_ERROR_RESERVED_NONZERO, "reserved_tail"},
    };
    for (int d = 0; d < 2; d++)
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            const convkit_status_t st =
                create_small(d, cases[i].act, cases[i].alpha, cases[i].beta, cases[i].tail);
            cr_expect_eq(st, cases[i].want, "%s %s: status %d, expected %d (%s)",
                         d ? "conv1d" : "conv2d", cases[i].what, st, cases[i].want,
                         convkit_last_error());
            if (cases[i].word != NULL)
                cr_expect(strstr(convkit_last_error(), cases[i].word) != NULL,
                          "%s %s: message '%s' does not name %s", d ? "conv1d" : "conv2d",
                          cases[i].what, convkit_last_error(), cases[i].word);
        }
}

/* A 0.1 caller's struct ends before `activation`: whatever follows in
 * memory is not read, and the plan has no activation. */
Test(epilogue_errors, struct_of_version_0_1_has_no_activation)
{
    const tk_conv_cfg_t c = CFG(1, 2, 4, 5, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0);
    char msg[600];
    for (int d = 0; d < 2; d++) {
        const tk_conv_cfg_t c1 = CFG(1, 2, 1, 9, 3, 1, 3, 1, 1, 0, 0, 1, 1, 1, 1, 1, 0);
        problem_t pb;
        problem_init(&pb, d ? &c1 : &c, d == 1, LAY_NCHW, true, 700 + d);
        /* fields past struct_size hold garbage: never read */
        const epi_fields_t f = {99, NAN, NAN, 7, true};
        convkit_plan_t *plan;
        const convkit_status_t st =
            create_conv(d ? &c1 : &c, d == 1, true, NULL, 0, &f, &plan);
        cr_assert_eq(st, CONVKIT_SUCCESS, "%s 0.1 struct: %s", d ? "conv1d" : "conv2d",
                     convkit_last_error());
        tk_tensor_t y;
        run_forward(&pb, plan, RES_NONE, &y);
        const int64_t bad = check_output(&pb, &y, &ACTS[0], false, msg, sizeof msg);
        cr_expect_eq(bad, 0, "%s 0.1 struct: not a plain convolution: %s", d ? "conv1d" : "conv2d",
                     msg);
        tk_tensor_free(&y);
        convkit_plan_destroy(plan);
        problem_free(&pb);
    }
}

/* ---- scratch -------------------------------------------------------------------- */

Test(epilogue_gemm, in_place_scratch_within_limit)
{
    /* n cin h w cout k groups: ordinary layers, huge planes, huge channel
     * counts, huge kernels, depthwise */
    static const int64_t shapes[][7] = {
        {1, 64, 56, 56, 64, 3, 1},      {8, 2048, 7, 7, 512, 1, 1},
        {1, 3, 4000, 6000, 64, 7, 1},   {1, 1, 1, 5000000, 1, 1, 1},
        {1, 100000, 3, 3, 100000, 3, 1}, {1, 16, 600, 600, 16, 300, 1},
        {2, 4096, 100, 100, 4096, 3, 4096}, {1, 64, 1, 1000000, 128, 1, 1},
    };
    for (int ki = 0; ki < ck_gemm_kernel_count(); ki++) {
        const ck_gemm_kernel_t *k = ck_gemm_kernel_at(ki);
        for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
            for (int nhwc = 0; nhwc < 2; nhwc++) {
                const int64_t *s = shapes[i];
                ck_conv_problem_t p = {
                    .batch = s[0], .in_channels = s[1], .in_h = s[2], .in_w = s[3],
                    .out_channels = s[4], .out_h = s[2], .out_w = s[3], .kernel_h = s[5],
                    .kernel_w = s[5], .stride_h = 1, .stride_w = 1, .dilation_h = 1,
                    .dilation_w = 1, .groups = s[6],
                };
                const int64_t sd[4] = {s[0], s[1], s[2], s[3]};
                const int64_t dd[4] = {s[0], s[4], s[2], s[3]};
                const int64_t wd[4] = {s[4], s[1] / s[6], s[5], s[5]};
                tk_dense_view(&p.src, sd, nhwc);
                tk_dense_view(&p.weight, wd, nhwc);
                tk_dense_view(&p.dst, dd, nhwc);
                const size_t f = ck_conv_gemm_forward_inplace_scratch(k, &p);
                cr_expect(f > 0 && f <= CK_GEMM_WORKSPACE_MAX,
                          "%s shape %zu %s: in-place forward scratch %zu bytes (limit %zu)",
                          k->name, i, nhwc ? "NHWC" : "NCHW", f, (size_t)CK_GEMM_WORKSPACE_MAX);
            }
    }
}
