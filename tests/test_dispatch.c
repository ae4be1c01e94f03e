/*
 * test_dispatch.c - ISA detection and dispatch.
 *   - The x86 detector fed synthetic cpuid / XCR0 values through a fake
 *     probe (OS support for YMM/ZMM state, missing feature bits, low max
 *     leaf, xgetbv never executed without OSXSAVE).
 *   - The detected ISA, the process cap (CONVKIT_MAX_ISA, the setter, the
 *     DEFAULT reset) and the per-plan isa field.
 *   - The kernel tables: only supported ISAs, best first, the scalar
 *     reference last; and every kernel set of every table is called
 *     directly over its item range and compared with the float64
 *     references, so SIMD kernels added to a table are tested here
 *     automatically on every machine that can run them.
 */
#include "pool-avx512-emulated.h" /* first: it keeps the real <immintrin.h> out */

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu.h"
#include "kernels.h"
#include "test_support.h"
#include "kernel-views.h"

#define BIT(isa) (1u << (isa))

/* ---- the detector on synthetic registers --------------------------------------- */

#if defined(__x86_64__)

#define L1_FMA (1u << 12)
#define L1_OSXSAVE (1u << 27)
#define L1_AVX (1u << 28)
#define L7_AVX2 (1u << 5)
#define L7_AVX512F (1u << 16)
#define L7_AVX512DQ (1u << 17)
#define L7_AVX512BW (1u << 30)
#define L7_AVX512VL (1u << 31)
#define L7_ALL_AVX512 (L7_AVX512F | L7_AVX512DQ | L7_AVX512BW | L7_AVX512VL)

static struct {
    uint32_t max_leaf;
    uint32_t l1_ecx, l7_ebx;
    uint64_t xcr0;
    int xgetbv_calls;
} fake;

static void fake_cpuid(uint32_t leaf, uint32_t subleaf, ck_cpuid_regs_t *out)
{
    memset(out, 0, sizeof *out);
    if (leaf == 0) {
        out->eax = fake.max_leaf;
        out->ebx = 0x756e6547; /* "GenuineIntel" */
        out->edx = 0x49656e69;
        out->ecx = 0x6c65746e;
    } else if (leaf == 1) {
        out->ecx = fake.l1_ecx;
    } else if (leaf == 7 && subleaf == 0) {
        /* Like real CPUs, answer even above the max leaf (with data the
         * detector must not trust). */
        out->ebx = fake.l7_ebx;
    }
}

static uint64_t fake_xgetbv0(void)
{
    fake.xgetbv_calls++;
    return fake.xcr0;
}

static const ck_cpu_probe_t fake_probe = {fake_cpuid, fake_xgetbv0};

static uint32_t detect(uint32_t max_leaf, uint32_t l1_ecx, uint32_t l7_ebx, uint64_t xcr0)
{
    fake.max_leaf = max_leaf;
    fake.l1_ecx = l1_ecx;
    fake.l7_ebx = l7_ebx;
    fake.xcr0 = xcr0;
    fake.xgetbv_calls = 0;
    return ck_x86_isa_mask(&fake_probe);
}

#define ALL_L1 (L1_FMA | L1_OSXSAVE | L1_AVX)
#define ALL_L7 (L7_AVX2 | L7_ALL_AVX512)
#define S BIT(CONVKIT_ISA_SCALAR)
#define A2 BIT(CONVKIT_ISA_AVX2)
#define A5 BIT(CONVKIT_ISA_AVX512)

Test(detect, everything_supported)
{
    cr_expect_eq(detect(0xd, ALL_L1, ALL_L7, 0xe7), S | A2 | A5, "mask 0x%x",
                 detect(0xd, ALL_L1, ALL_L7, 0xe7));
    cr_expect_eq(fake.xgetbv_calls, 1);
    /* extra XCR0 state (AMX tiles, PKRU) changes nothing */
    cr_expect_eq(detect(0x20, ALL_L1 | 0x1, ALL_L7 | 0x1, 0x602e7), S | A2 | A5);
}

Test(detect, avx2_without_os_ymm_state_is_scalar)
{
    cr_expect_eq(detect(0xd, ALL_L1, ALL_L7, 0x3), S);
    cr_expect_eq(detect(0xd, ALL_L1, ALL_L7, 0x5), S); /* YMM without SSE state */
    cr_expect_eq(detect(0xd, ALL_L1, L7_AVX2, 0x1), S);
    cr_expect_eq(detect(0xd, ALL_L1, ALL_L7, 0x0), S);
}

Test(detect, no_osxsave_is_scalar_and_never_runs_xgetbv)
{
    cr_expect_eq(detect(0xd, L1_FMA | L1_AVX, ALL_L7, 0xe7), S);
    cr_expect_eq(fake.xgetbv_calls, 0, "xgetbv executed without OSXSAVE (would fault)");
    cr_expect_eq(detect(0x1, 0, 0, 0xe7), S);
    cr_expect_eq(fake.xgetbv_calls, 0);
}

Test(detect, avx512_bits_without_os_zmm_state_is_avx2)
{
    cr_expect_eq(detect(0xd, ALL_L1, ALL_L7, 0x7), S | A2);
    cr_expect_eq(detect(0xd, ALL_L1, ALL_L7, 0x27), S | A2); /* opmask only */
    cr_expect_eq(detect(0xd, ALL_L1, ALL_L7, 0x67), S | A2); /* no ZMM16-31 */
    cr_expect_eq(detect(0xd, ALL_L1, ALL_L7, 0xc7), S | A2); /* no opmask */
    cr_expect_eq(detect(0xd, ALL_L1, ALL_L7, 0xe1), S);      /* ZMM but no YMM/SSE */
}

Test(detect, avx512_needs_f_bw_vl_dq)
{
    cr_expect_eq(detect(0xd, ALL_L1, L7_AVX2 | L7_AVX512F, 0xe7), S | A2, "F only");
    cr_expect_eq(detect(0xd, ALL_L1, L7_AVX2 | L7_AVX512F | L7_AVX512DQ, 0xe7), S | A2, "no BW/VL");
    cr_expect_eq(detect(0xd, ALL_L1, ALL_L7 & ~L7_AVX512BW, 0xe7), S | A2, "no BW");
    cr_expect_eq(detect(0xd, ALL_L1, ALL_L7 & ~L7_AVX512VL, 0xe7), S | A2, "no VL");
    cr_expect_eq(detect(0xd, ALL_L1, ALL_L7 & ~L7_AVX512DQ, 0xe7), S | A2, "no DQ");
    cr_expect_eq(detect(0xd, ALL_L1, ALL_L7 & ~L7_AVX512F, 0xe7), S | A2, "no F");
}

Test(detect, avx512_without_avx2_conditions_is_scalar)
{
    /* AVX-512 implies the AVX2 conditions; without AVX2/FMA/AVX nothing. */
    cr_expect_eq(detect(0xd, ALL_L1, ALL_L7 & ~L7_AVX2, 0xe7), S);
    cr_expect_eq(detect(0xd, ALL_L1 & ~L1_FMA, ALL_L7, 0xe7), S);
    cr_expect_eq(detect(0xd, ALL_L1 & ~L1_AVX, ALL_L7, 0xe7), S);
}

Test(detect, avx2_needs_avx_and_fma)
{
    cr_expect_eq(detect(0xd, L1_OSXSAVE | L1_AVX, L7_AVX2, 0x7), S, "no FMA");
    cr_expect_eq(detect(0xd, L1_OSXSAVE | L1_FMA, L7_AVX2, 0x7), S, "no AVX");
    cr_expect_eq(detect(0xd, ALL_L1, 0, 0x7), S, "no AVX2");
    cr_expect_eq(detect(0xd, ALL_L1, L7_AVX2, 0x7), S | A2, "all AVX2 conditions");
}

Test(detect, max_leaf_below_7_means_no_avx2)
{
    cr_expect_eq(detect(6, ALL_L1, ALL_L7, 0xe7), S);
    cr_expect_eq(detect(1, ALL_L1, ALL_L7, 0xe7), S);
    cr_expect_eq(detect(0, ALL_L1, ALL_L7, 0xe7), S);
    cr_expect_eq(fake.xgetbv_calls, 0, "max leaf 0: leaf 1 is not even valid");
}

Test(detect, never_reports_neon_and_always_scalar)
{
    for (uint32_t l1 = 0; l1 < 8; l1++)
        for (uint32_t l7 = 0; l7 < 4; l7++) {
            const uint32_t e = (l1 & 1 ? L1_FMA : 0) | (l1 & 2 ? L1_OSXSAVE : 0) | (l1 & 4 ? L1_AVX : 0);
            const uint32_t b = (l7 & 1 ? L7_AVX2 : 0) | (l7 & 2 ? L7_ALL_AVX512 : 0);
            const uint32_t m = detect(7, e, b, 0xe7);
            cr_expect(m & S, "scalar missing (0x%x)", m);
            cr_expect(!(m & BIT(CONVKIT_ISA_NEON)), "NEON on x86 (0x%x)", m);
            cr_expect(!(m & A5) || (m & A2), "AVX512 without AVX2 (0x%x)", m);
        }
}

Test(detect, native_probe_agrees_with_library_state)
{
    const ck_cpu_probe_t *probe = ck_native_cpu_probe();
    cr_assert_not_null(probe);
    cr_expect_eq(ck_x86_isa_mask(probe), ck_isa_mask());
    cr_expect_eq(ck_detect_isa_mask(), ck_isa_mask());
}

#endif /* __x86_64__ */

/* ---- detected ISA, cap, per-plan field ------------------------------------------- */

static const uint32_t all_isas[] = {CONVKIT_ISA_SCALAR, CONVKIT_ISA_AVX2, CONVKIT_ISA_AVX512,
                                    CONVKIT_ISA_NEON};

Test(isa, names_and_support_queries)
{
    cr_expect_str_eq(convkit_isa_name(CONVKIT_ISA_SCALAR), "scalar");
    cr_expect_str_eq(convkit_isa_name(CONVKIT_ISA_AVX2), "avx2");
    cr_expect_str_eq(convkit_isa_name(CONVKIT_ISA_AVX512), "avx512");
    cr_expect_str_eq(convkit_isa_name(CONVKIT_ISA_NEON), "neon");
    cr_expect_null(convkit_isa_name(CONVKIT_ISA_DEFAULT));
    cr_expect_null(convkit_isa_name(5));
    cr_expect_null(convkit_isa_name(UINT32_MAX));
    cr_expect_eq(convkit_isa_supported(CONVKIT_ISA_SCALAR), 1);
    cr_expect_eq(convkit_isa_supported(CONVKIT_ISA_DEFAULT), 0);
    cr_expect_eq(convkit_isa_supported(5), 0);
    cr_expect_eq(convkit_isa_supported(32), 0);
    cr_expect_eq(convkit_isa_supported(UINT32_MAX), 0);
    const uint32_t mask = ck_isa_mask();
    for (size_t i = 0; i < 4; i++)
        cr_expect_eq(convkit_isa_supported(all_isas[i]), (int)(mask >> all_isas[i] & 1u),
                     "isa %s", convkit_isa_name(all_isas[i]));
#if defined(__x86_64__)
    cr_expect_eq(convkit_isa_supported(CONVKIT_ISA_NEON), 0);
#elif defined(__aarch64__)
    cr_expect_eq(convkit_isa_supported(CONVKIT_ISA_NEON), 1);
    cr_expect_eq(convkit_isa_supported(CONVKIT_ISA_AVX2), 0);
#endif
}

Test(isa, cpu_isa_is_the_best_of_the_mask)
{
    const uint32_t mask = ck_isa_mask();
    uint32_t best = CONVKIT_ISA_SCALAR;
    for (size_t i = 0; i < 4; i++)
        if ((mask >> all_isas[i] & 1u) && ck_isa_rank(all_isas[i]) > ck_isa_rank(best))
            best = all_isas[i];
    cr_expect_eq(convkit_cpu_isa(), best, "cpu isa %s, best of mask 0x%x is %s",
                 convkit_isa_name(convkit_cpu_isa()), mask, convkit_isa_name(best));
    cr_expect(convkit_isa_supported(convkit_cpu_isa()));
}

/* The cap starts as CONVKIT_MAX_ISA if that names a supported ISA, else the
 * detected one (each Criterion test runs in a fresh process). */
Test(isa, initial_cap_follows_environment)
{
    const char *env = getenv("CONVKIT_MAX_ISA");
    uint32_t want = convkit_cpu_isa();
    if (env != NULL)
        for (size_t i = 0; i < 4; i++)
            if (strcmp(env, convkit_isa_name(all_isas[i])) == 0 &&
                convkit_isa_supported(all_isas[i]))
                want = all_isas[i];
    cr_expect_eq(convkit_get_max_isa(), want, "CONVKIT_MAX_ISA=%s: cap %s, want %s",
                 env ? env : "(unset)", convkit_isa_name(convkit_get_max_isa()),
                 convkit_isa_name(want));
}

static convkit_plan_t *small_conv_plan(uint32_t isa)
{
    convkit_conv2d_params_t p = CONVKIT_CONV2D_PARAMS_INIT;
    p.in_channels = 2;
    p.in_height = p.in_width = 4;
    p.out_channels = 3;
    p.kernel_h = p.kernel_w = 3;
    p.isa = isa;
    convkit_plan_t *plan = NULL;
    cr_assert_eq(convkit_conv2d_create(&p, &plan), CONVKIT_SUCCESS, "isa %u: %s", isa,
                 convkit_last_error());
    return plan;
}

static void check_plan_isa(convkit_plan_t *plan, uint32_t limit, const char *what)
{
    const uint32_t got = convkit_plan_isa(plan);
    cr_expect(convkit_isa_supported(got), "%s: plan isa %u unsupported", what, got);
    cr_expect(ck_isa_rank(got) <= ck_isa_rank(limit), "%s: plan isa %s above the limit %s", what,
              convkit_isa_name(got), convkit_isa_name(limit));
    const char *name = convkit_plan_impl_name(plan);
    cr_assert_not_null(name);
    cr_expect(convkit_isa_name(got) != NULL && strstr(name, convkit_isa_name(got)) != NULL,
              "%s: impl name '%s' does not name the plan's isa '%s'", what, name,
              convkit_isa_name(got));
}

Test(isa, set_max_isa_round_trip_and_default_reset)
{
    for (size_t i = 0; i < 4; i++) {
        const uint32_t isa = all_isas[i];
        if (!convkit_isa_supported(isa)) continue;
        cr_assert_eq(convkit_set_max_isa(isa), CONVKIT_SUCCESS, "%s: %s", convkit_isa_name(isa),
                     convkit_last_error());
        cr_expect_eq(convkit_get_max_isa(), isa);
        convkit_plan_t *plan = small_conv_plan(CONVKIT_ISA_DEFAULT);
        check_plan_isa(plan, isa, convkit_isa_name(isa));
        convkit_plan_destroy(plan);
    }
    cr_assert_eq(convkit_set_max_isa(CONVKIT_ISA_SCALAR), CONVKIT_SUCCESS);
    convkit_plan_t *plan = small_conv_plan(CONVKIT_ISA_DEFAULT);
    cr_expect_eq(convkit_plan_isa(plan), CONVKIT_ISA_SCALAR);
    convkit_plan_destroy(plan);
    cr_assert_eq(convkit_set_max_isa(CONVKIT_ISA_DEFAULT), CONVKIT_SUCCESS);
    cr_expect_eq(convkit_get_max_isa(), convkit_cpu_isa(), "DEFAULT must reset to the detected ISA");
}

Test(isa, plan_field_caps_the_plan)
{
    const uint32_t cap = convkit_get_max_isa();
    for (size_t i = 0; i < 4; i++) {
        const uint32_t isa = all_isas[i];
        if (!convkit_isa_supported(isa)) continue;
        convkit_plan_t *plan = small_conv_plan(isa);
        const uint32_t limit = ck_isa_rank(isa) < ck_isa_rank(cap) ? isa : cap;
        check_plan_isa(plan, limit, convkit_isa_name(isa));
        convkit_plan_destroy(plan);
    }
    convkit_plan_t *plan = small_conv_plan(CONVKIT_ISA_SCALAR);
    cr_expect_eq(convkit_plan_isa(plan), CONVKIT_ISA_SCALAR);
    const char *name = convkit_plan_impl_name(plan);
    const size_t n = strlen(name);
    cr_expect(n > 7 && strcmp(name + n - 7, ":scalar") == 0, "impl name '%s'", name);
    cr_expect(strncmp(name, "conv2d:", 7) == 0, "impl name '%s'", name);
    convkit_plan_destroy(plan);
    /* A plan never exceeds the process cap even when it asks for more. */
    cr_assert_eq(convkit_set_max_isa(CONVKIT_ISA_SCALAR), CONVKIT_SUCCESS);
    plan = small_conv_plan(convkit_cpu_isa());
    cr_expect_eq(convkit_plan_isa(plan), CONVKIT_ISA_SCALAR);
    convkit_plan_destroy(plan);
    cr_expect_eq(convkit_plan_isa(NULL), 0u);
}

Test(isa, every_op_honours_the_plan_field)
{
    for (size_t i = 0; i < 4; i++) {
        const uint32_t isa = all_isas[i];
        if (!convkit_isa_supported(isa)) continue;
        const uint32_t cap = convkit_get_max_isa();
        const uint32_t limit = ck_isa_rank(isa) < ck_isa_rank(cap) ? isa : cap;
        convkit_plan_t *plan = NULL;
        convkit_pool2d_params_t pp = CONVKIT_POOL2D_PARAMS_INIT;
        pp.isa = isa;
        cr_assert_eq(convkit_max_pool2d_create(&pp, &plan), CONVKIT_SUCCESS);
        check_plan_isa(plan, limit, "max_pool2d");
        convkit_plan_destroy(plan);
        convkit_pool1d_params_t p1 = CONVKIT_POOL1D_PARAMS_INIT;
        p1.isa = isa;
        cr_assert_eq(convkit_max_pool1d_create(&p1, &plan), CONVKIT_SUCCESS);
        check_plan_isa(plan, limit, "max_pool1d");
        convkit_plan_destroy(plan);
        convkit_conv1d_params_t c1 = CONVKIT_CONV1D_PARAMS_INIT;
        c1.isa = isa;
        cr_assert_eq(convkit_conv1d_create(&c1, &plan), CONVKIT_SUCCESS);
        check_plan_isa(plan, limit, "conv1d");
        convkit_plan_destroy(plan);
        convkit_fold_params_t f = CONVKIT_FOLD_PARAMS_INIT;
        f.isa = isa;
        cr_assert_eq(convkit_unfold_create(&f, &plan), CONVKIT_SUCCESS);
        check_plan_isa(plan, limit, "unfold");
        convkit_plan_destroy(plan);
        f.col_channels = f.col_length = 1;
        cr_assert_eq(convkit_fold_create(&f, &plan), CONVKIT_SUCCESS);
        check_plan_isa(plan, limit, "fold");
        convkit_plan_destroy(plan);
        convkit_pad_params_t d = CONVKIT_PAD_PARAMS_INIT;
        d.isa = isa;
        cr_assert_eq(convkit_pad_create(&d, &plan), CONVKIT_SUCCESS);
        check_plan_isa(plan, limit, "pad");
        convkit_plan_destroy(plan);
    }
}

/* ---- the kernel tables ------------------------------------------------------------ */

#define CHECK_TABLE(op, ref)                                                                  \
    do {                                                                                      \
        const int n = ck_##op##_kernel_count();                                               \
        cr_assert(n >= 1, #op ": empty table");                                               \
        for (int i = 0; i < n; i++) {                                                         \
            const __typeof__(ck_##op##_kernel_at(0)) k = ck_##op##_kernel_at(i);             \
            cr_assert_not_null(k, #op "[%d] NULL", i);                                        \
            cr_expect(convkit_isa_supported(k->isa), #op "[%d] (%s) has unsupported isa %u", i, \
                      k->name, k->isa);                                                       \
            cr_expect(k->name != NULL && k->name[0] != '\0', #op "[%d] unnamed", i);          \
            if (i > 0)                                                                        \
                cr_expect(ck_isa_rank(k->isa) <= ck_isa_rank(ck_##op##_kernel_at(i - 1)->isa), \
                          #op ": entry %d ranks above entry %d (best first)", i, i - 1);      \
        }                                                                                     \
        cr_expect(ck_##op##_kernel_at(n - 1) == &ref, #op ": the last entry is not the reference"); \
        cr_expect_eq(ref.isa, CONVKIT_ISA_SCALAR);                                            \
        cr_expect_null(ck_##op##_kernel_at(n));                                               \
        cr_expect_null(ck_##op##_kernel_at(-1));                                              \
        cr_expect_eq(ck_select_##op(CONVKIT_ISA_SCALAR)->isa, CONVKIT_ISA_SCALAR,            \
                     #op ": scalar must select a scalar kernel set");                        \
        for (size_t j = 0; j < 4; j++) {                                                      \
            if (!convkit_isa_supported(all_isas[j])) continue;                                \
            const __typeof__(ck_##op##_kernel_at(0)) s = ck_select_##op(all_isas[j]);        \
            cr_assert_not_null(s);                                                            \
            cr_expect(ck_isa_rank(s->isa) <= ck_isa_rank(all_isas[j]),                        \
                      #op ": select(%s) gave %s", convkit_isa_name(all_isas[j]),             \
                      convkit_isa_name(s->isa));                                              \
            /* the best allowed: no earlier entry within the limit */                         \
            for (int i = 0; i < n && ck_##op##_kernel_at(i) != s; i++)                        \
                cr_expect(ck_isa_rank(ck_##op##_kernel_at(i)->isa) > ck_isa_rank(all_isas[j]), \
                          #op ": select(%s) skipped entry %d", convkit_isa_name(all_isas[j]), i); \
        }                                                                                     \
    } while (0)

Test(tables, contents_and_selection)
{
    CHECK_TABLE(conv, ck_ref_conv_kernels);
    CHECK_TABLE(pool, ck_ref_pool_kernels);
    CHECK_TABLE(fold, ck_ref_fold_kernels);
    CHECK_TABLE(pad, ck_ref_pad_kernels);
    cr_expect(ck_ref_conv_kernels.forward && ck_ref_conv_kernels.backward_data &&
              ck_ref_conv_kernels.backward_weights && ck_ref_conv_kernels.backward_bias);
    cr_expect(ck_ref_pool_kernels.forward && ck_ref_pool_kernels.backward);
    cr_expect(ck_ref_fold_kernels.unfold && ck_ref_fold_kernels.fold);
    cr_expect(ck_ref_pad_kernels.pad);
}

/* ---- every kernel set against the references ------------------------------------- */

static void to_ck(ck_tensor_t *dst, const tk_tensor_t *src)
{
    memcpy(dst->dims, src->dims, sizeof dst->dims);
    memcpy(dst->strides, src->strides, sizeof dst->strides);
}

static void expect_ok(int64_t bad, const char *msg, const char *kname, const char *what,
                      const char *layout)
{
    cr_expect_eq(bad, 0, "kernel set '%s' %s [%s]: %s", kname, what, layout, msg);
}

/* fields: n cin h w cout kh kw sh sw pt pb pl pr dh dw groups mode */
static const tk_conv_cfg_t conv_cfgs[] = {
    {2, 5, 6, 19, 9, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, CONVKIT_PADDING_ZEROS},
    {1, 4, 7, 9, 6, 3, 2, 2, 1, 2, 0, 1, 1, 1, 2, 2, CONVKIT_PADDING_REFLECT},
    {2, 3, 5, 17, 6, 3, 3, 1, 2, 1, 2, 3, 0, 2, 1, 3, CONVKIT_PADDING_CIRCULAR},
    {1, 17, 3, 5, 18, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, CONVKIT_PADDING_ZEROS},
    {1, 2, 4, 33, 3, 1, 5, 1, 1, 0, 0, 2, 2, 1, 1, 1, CONVKIT_PADDING_REPLICATE},
};

static const tk_kind_t conv_kinds[][3] = {
    {TK_NCHW, TK_NCHW, TK_NCHW}, {TK_NHWC, TK_NHWC, TK_NHWC}, {TK_PADDED, TK_PERMUTED, TK_PADDED}};

/* Random data within the error bound, or small integers exactly. */
static int64_t conv_compare(const tk_tensor_t *got, const tk_ref_t *ref, bool ints, char *msg,
                            size_t len)
{
    return ints ? tk_compare_exact(got, ref, msg, len) : tk_compare_bound(got, ref, 3.0, msg, len);
}

static void conv_kernel_case(const ck_conv_kernels_t *k, const tk_conv_cfg_t *c,
                             const tk_kind_t kinds[3], bool ints, uint64_t seed)
{
    char lay[64];
    snprintf(lay, sizeof lay, "%s/%s/%s mode %u %s", tk_kind_name(kinds[0]),
             tk_kind_name(kinds[1]), tk_kind_name(kinds[2]), c->mode, ints ? "ints" : "random");
    int64_t sd[4], wd[4], dd[4];
    tk_conv_dims(c, sd, wd, dd);
    tk_rng_t r;
    tk_rng_seed(&r, seed);
    tk_tensor_t x = tk_tensor_f32(sd, kinds[0]), w = tk_tensor_f32(wd, kinds[1]);
    tk_tensor_t gy = tk_tensor_f32(dd, kinds[2]);
    float bias[128]; /* out_channels <= 128 in every config */
    if (ints) {
        tk_fill_ints(&x, &r, -3, 3);
        tk_fill_ints(&w, &r, -3, 3);
        tk_fill_ints(&gy, &r, -3, 3);
        for (int i = 0; i < 128; i++) bias[i] = (float)tk_rng_range(&r, -3, 3);
    } else {
        tk_fill_uniform(&x, &r, -1, 1);
        tk_fill_uniform(&w, &r, -1, 1);
        tk_fill_uniform(&gy, &r, -1, 1);
        for (int i = 0; i < 128; i++) bias[i] = tk_rng_float(&r, -1, 1);
    }

    ck_conv_problem_t p = {
        .batch = c->n, .in_channels = c->cin, .in_h = c->h, .in_w = c->w,
        .out_channels = c->cout, .out_h = dd[2], .out_w = dd[3], .kernel_h = c->kh,
        .kernel_w = c->kw, .stride_h = c->sh, .stride_w = c->sw, .pad_top = c->pt,
        .pad_bottom = c->pb, .pad_left = c->pl, .pad_right = c->pr, .dilation_h = c->dh,
        .dilation_w = c->dw, .groups = c->groups, .padding_mode = c->mode,
    };
    to_ck(&p.src, &x);
    to_ck(&p.weight, &w);
    to_ck(&p.dst, &gy);
    char msg[600];

    /* forward: full range, and the same range in two calls (bitwise equal) */
    tk_tensor_t y = tk_tensor_f32(dd, kinds[2]), y2 = tk_tensor_f32(dd, kinds[2]);
    const int64_t items = c->n * c->cout;
    k->forward(&p, tk_fdata(&x), tk_fdata(&w), bias, NULL, tk_fdata(&y), 0, items);
    k->forward(&p, tk_fdata(&x), tk_fdata(&w), bias, NULL, tk_fdata(&y2), 0, items / 2);
    k->forward(&p, tk_fdata(&x), tk_fdata(&w), bias, NULL, tk_fdata(&y2), items / 2, items);
    tk_ref_t ry = tk_ref_new(dd);
    tk_ref_conv_forward(c, &x, &w, bias, &ry);
    expect_ok(conv_compare(&y, &ry, ints, msg, sizeof msg), msg, k->name, "forward", lay);
    cr_expect(tk_gaps_intact(&y, msg, sizeof msg), "'%s' forward: %s", k->name, msg);
    cr_expect(tk_bitwise_equal(&y, &y2, msg, sizeof msg), "'%s' forward split: %s", k->name, msg);
    /* without bias */
    tk_tensor_t yn = tk_tensor_f32(dd, kinds[2]);
    k->forward(&p, tk_fdata(&x), tk_fdata(&w), NULL, NULL, tk_fdata(&yn), 0, items);
    tk_ref_t ryn = tk_ref_new(dd);
    tk_ref_conv_forward(c, &x, &w, NULL, &ryn);
    expect_ok(conv_compare(&yn, &ryn, ints, msg, sizeof msg), msg, k->name, "forward no bias",
              lay);

    /* backward data */
    tk_tensor_t gx = tk_tensor_f32(sd, kinds[0]), gx2 = tk_tensor_f32(sd, kinds[0]);
    const int64_t bitems = c->n * c->cin;
    k->backward_data(&p, tk_fdata(&gy), tk_fdata(&w), tk_fdata(&gx), 0, bitems);
    k->backward_data(&p, tk_fdata(&gy), tk_fdata(&w), tk_fdata(&gx2), 0, 1);
    k->backward_data(&p, tk_fdata(&gy), tk_fdata(&w), tk_fdata(&gx2), 1, bitems);
    tk_ref_t rgx = tk_ref_new(sd);
    tk_ref_conv_backward_data(c, &gy, &w, &rgx);
    expect_ok(conv_compare(&gx, &rgx, ints, msg, sizeof msg), msg, k->name, "backward_data", lay);
    cr_expect(tk_gaps_intact(&gx, msg, sizeof msg), "'%s' backward_data: %s", k->name, msg);
    cr_expect(tk_bitwise_equal(&gx, &gx2, msg, sizeof msg), "'%s' backward_data split: %s",
              k->name, msg);

    /* backward weights */
    tk_tensor_t gw = tk_tensor_f32(wd, kinds[1]), gw2 = tk_tensor_f32(wd, kinds[1]);
    k->backward_weights(&p, tk_fdata(&x), tk_fdata(&gy), tk_fdata(&gw), 0, c->cout);
    k->backward_weights(&p, tk_fdata(&x), tk_fdata(&gy), tk_fdata(&gw2), 0, c->cout - 1);
    k->backward_weights(&p, tk_fdata(&x), tk_fdata(&gy), tk_fdata(&gw2), c->cout - 1, c->cout);
    tk_ref_t rgw = tk_ref_new(wd);
    tk_ref_conv_backward_weights(c, &x, &gy, &rgw);
    expect_ok(conv_compare(&gw, &rgw, ints, msg, sizeof msg), msg, k->name, "backward_weights",
              lay);
    cr_expect(tk_gaps_intact(&gw, msg, sizeof msg), "'%s' backward_weights: %s", k->name, msg);
    cr_expect(tk_bitwise_equal(&gw, &gw2, msg, sizeof msg), "'%s' backward_weights split: %s",
              k->name, msg);

    /* backward bias */
    float gb[128 + 2];
    for (int i = 0; i < 130; i++) gb[i] = tk_sentinel_f32();
    k->backward_bias(&p, tk_fdata(&gy), gb + 1, 0, c->cout);
    const int64_t bd[4] = {1, c->cout, 1, 1};
    tk_ref_t rgb = tk_ref_new(bd);
    tk_ref_conv_backward_bias(c, &gy, &rgb);
    for (int64_t co = 0; co < c->cout; co++) {
        const double bound =
            ints ? 0.0 : 3.0 * (double)rgb.terms[co] * ldexp(1.0, -24) * rgb.mag[co];
        cr_expect(fabs((double)gb[1 + co] - rgb.val[co]) <= bound,
                  "'%s' backward_bias co %lld: got %.9g want %.17g", k->name, (long long)co,
                  (double)gb[1 + co], rgb.val[co]);
    }
    cr_expect(tk_is_sentinel_f32(gb[0]) && tk_is_sentinel_f32(gb[1 + c->cout]),
              "'%s' backward_bias wrote outside grad_bias", k->name);

    tk_ref_free(&ry);
    tk_ref_free(&ryn);
    tk_ref_free(&rgx);
    tk_ref_free(&rgw);
    tk_ref_free(&rgb);
    tk_tensor_t *all[] = {&x, &w, &gy, &y, &y2, &yn, &gx, &gx2, &gw, &gw2};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) tk_tensor_free(all[i]);
}

Test(kernels, every_conv_kernel_set_matches_reference)
{
    for (int i = 0; i < ck_conv_kernel_count(); i++)
        for (size_t c = 0; c < sizeof conv_cfgs / sizeof conv_cfgs[0]; c++)
            for (size_t l = 0; l < sizeof conv_kinds / sizeof conv_kinds[0]; l++)
                for (int ints = 0; ints < 2; ints++)
                    conv_kernel_case(ck_conv_kernel_at(i), &conv_cfgs[c], conv_kinds[l], ints,
                                     (uint64_t)(i * 1000 + c * 100 + l * 10 + ints));
}

/* Shapes past the GEMM path's blocking edges (fields as conv_cfgs): K
 * beyond one KC block with M and N tails of every tile; a 1x1 stride-2
 * layer; taps per channel above the backward-data tap block (23x23);
 * depthwise with multiplier and dilation; M (pixels, channels-last) beyond
 * MC and pixels beyond the backward-data pixel block; N beyond NC; a
 * grouped 1x1 stride-1 layer (backward-data without a column block). */
static const tk_conv_cfg_t gemm_edge_cfgs[] = {
    {2, 64, 15, 17, 70, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, CONVKIT_PADDING_ZEROS},
    {1, 300, 9, 11, 100, 1, 1, 2, 2, 0, 0, 0, 0, 1, 1, 1, CONVKIT_PADDING_ZEROS},
    {1, 2, 30, 29, 5, 23, 23, 1, 1, 2, 1, 0, 3, 1, 1, 1, CONVKIT_PADDING_ZEROS},
    {2, 24, 13, 14, 48, 3, 3, 1, 2, 2, 2, 2, 2, 2, 2, 24, CONVKIT_PADDING_REFLECT},
    {1, 20, 32, 40, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, CONVKIT_PADDING_REPLICATE},
    {1, 3, 64, 70, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, CONVKIT_PADDING_CIRCULAR},
    {2, 40, 7, 9, 60, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 2, CONVKIT_PADDING_ZEROS},
};

Test(kernels, gemm_sets_on_blocking_edges, .timeout = 600)
{
    for (int i = 0; i < ck_conv_kernel_count(); i++) {
        const ck_conv_kernels_t *k = ck_conv_kernel_at(i);
        if (strncmp(k->name, "gemm", 4) != 0) continue;
        for (size_t c = 0; c < sizeof gemm_edge_cfgs / sizeof gemm_edge_cfgs[0]; c++)
            for (size_t l = 0; l < sizeof conv_kinds / sizeof conv_kinds[0]; l++)
                conv_kernel_case(k, &gemm_edge_cfgs[c], conv_kinds[l], false,
                                 (uint64_t)(7000 + i * 100 + c * 10 + l));
    }
}

/* fields: n c h w kh kw sh sw ph pw dh dw ceil */
static const tk_pool_cfg_t pool_cfgs[] = {
    {2, 3, 7, 19, 3, 3, 2, 2, 1, 1, 1, 1, true},
    {1, 17, 5, 6, 2, 2, 2, 2, 0, 0, 1, 1, false},
    {1, 2, 4, 9, 2, 2, 1, 1, 2, 2, 3, 3, false}, /* windows without valid elements */
    {2, 2, 6, 33, 1, 5, 1, 3, 0, 2, 1, 1, true},
};

/* The data of a pool case: 0 uniform floats, 1 integers in [-1, 1] (ties),
 * 2 those with NaN, -inf, -0 and +0 mixed in, 3 all -inf, 4 signed zeros
 * with a quarter NaNs of distinct payloads (several NaNs per window; the
 * value's bits say which NaN won). */
enum { POOL_DATA_KINDS = 5 };

static float pool_datum(tk_rng_t *r, int data)
{
    const int64_t u = tk_rng_range(r, 0, 15);
    switch (data) {
    case 0: return tk_rng_float(r, -3, 3);
    case 1: return (float)tk_rng_range(r, -1, 1);
    case 2: {
        const float v = (float)tk_rng_range(r, -1, 1);
        return u == 0 ? NAN : u == 1 ? -INFINITY : u == 2 ? -0.0f : u == 3 ? 0.0f : v;
    }
    case 3: return -INFINITY;
    default:
        if (u < 4) { /* any payload but the output sentinel's (TK_SENTINEL_F32_BITS) */
            const uint32_t b = 0x7fc00000u | (uint32_t)tk_rng_range(r, 1, 0xffff);
            return tk_f32_from_bits(b == TK_SENTINEL_F32_BITS ? b ^ 1u : b);
        }
        return u < 10 ? -0.0f : 0.0f;
    }
}

/* A tensor in `kind`; with row_gap > 0 (TK_NCHW only) its rows are
 * row_gap elements longer than the view, which keeps the logical width. */
static tk_tensor_t pool_tensor(const int64_t dims[4], tk_kind_t kind, int64_t row_gap, bool i64)
{
    int64_t d[4] = {dims[0], dims[1], dims[2], dims[3] + row_gap};
    tk_tensor_t t = i64 ? tk_tensor_i64(d, kind) : tk_tensor_f32(d, kind);
    t.dims[3] = dims[3];
    return t;
}

/* Layouts of one pool case: src/grad_src, dst/grad_dst, indices. */
typedef struct pool_layout {
    tk_kind_t x, y, idx;
    int64_t row_gap; /* extra row length of x, y and idx (TK_NCHW) */
} pool_layout_t;

/* One kernel set on one problem: forward with and without indices over
 * the whole item range, and in three uneven ranges (bitwise equal), against
 * the float64 reference and bitwise against the scalar reference kernels
 * (NaN payloads included); backward with the reference indices, whole and
 * split, and with random in-plane indices.  Sentinel-filled gaps catch
 * stray writes. */
static void pool_kernel_case(const ck_pool_kernels_t *k, const tk_pool_cfg_t *c,
                             pool_layout_t lk, int data, uint64_t seed)
{
    int64_t oh, ow;
    tk_pool_out_dims(c, &oh, &ow);
    const int64_t sd[4] = {c->n, c->c, c->h, c->w}, dd[4] = {c->n, c->c, oh, ow};
    const int64_t gap = lk.row_gap;
    tk_rng_t r;
    tk_rng_seed(&r, seed);
    tk_tensor_t x = pool_tensor(sd, lk.x, gap, false), y = pool_tensor(dd, lk.y, gap, false);
    tk_tensor_t y2 = pool_tensor(dd, lk.y, gap, false), y3 = pool_tensor(dd, lk.y, gap, false);
    tk_tensor_t yr = pool_tensor(dd, lk.y, gap, false), idx = pool_tensor(dd, lk.idx, gap, true);
    tk_tensor_t idx3 = pool_tensor(dd, lk.idx, gap, true), idxr = pool_tensor(dd, lk.idx, gap, true);
    tk_tensor_t gy = pool_tensor(dd, lk.y, gap, false), gx = pool_tensor(sd, lk.x, gap, false);
    tk_tensor_t gx2 = pool_tensor(sd, lk.x, gap, false);
    for (int64_t n = 0; n < sd[0]; n++)
        for (int64_t ch = 0; ch < sd[1]; ch++)
            for (int64_t h = 0; h < sd[2]; h++)
                for (int64_t w = 0; w < sd[3]; w++) tk_setf(&x, n, ch, h, w, pool_datum(&r, data));
    tk_fill_ints(&gy, &r, -3, 3);
    ck_pool_problem_t p = {
        .batch = c->n, .channels = c->c, .in_h = c->h, .in_w = c->w, .out_h = oh, .out_w = ow,
        .kernel_h = c->kh, .kernel_w = c->kw, .stride_h = c->sh ? c->sh : c->kh,
        .stride_w = c->sw ? c->sw : c->kw, .pad_h = c->ph, .pad_w = c->pw, .dilation_h = c->dh,
        .dilation_w = c->dw,
    };
    to_ck(&p.src, &x);
    to_ck(&p.dst, &y);
    to_ck(&p.indices, &idx);
    const int64_t items = c->n * c->c, cut1 = items / 3, cut2 = items - items / 3;
    k->forward(&p, tk_fdata(&x), tk_fdata(&y), tk_idata(&idx), 0, items);
    k->forward(&p, tk_fdata(&x), tk_fdata(&y2), NULL, 0, items);
    k->forward(&p, tk_fdata(&x), tk_fdata(&y3), tk_idata(&idx3), 0, cut1);
    k->forward(&p, tk_fdata(&x), tk_fdata(&y3), tk_idata(&idx3), cut1, cut2);
    k->forward(&p, tk_fdata(&x), tk_fdata(&y3), tk_idata(&idx3), cut2, items);
    ck_ref_pool_kernels.forward(&p, tk_fdata(&x), tk_fdata(&yr), tk_idata(&idxr), 0, items);
    tk_ref_t ry = tk_ref_new(dd);
    tk_ref_pool_forward(c, &x, &ry);
    char msg[600], lay[96];
    snprintf(lay, sizeof lay, "%s/%s/%s gap %lld data %d, %lldx%lld k%lldx%lld s%lldx%lld "
             "p%lldx%lld d%lldx%lld%s", tk_kind_name(lk.x), tk_kind_name(lk.y),
             tk_kind_name(lk.idx), (long long)gap, data, (long long)c->h, (long long)c->w,
             (long long)c->kh, (long long)c->kw, (long long)p.stride_h, (long long)p.stride_w,
             (long long)c->ph, (long long)c->pw, (long long)c->dh, (long long)c->dw,
             c->ceil ? " ceil" : "");
    expect_ok(tk_compare_bits(&y, &ry, msg, sizeof msg), msg, k->name, "pool forward", lay);
    expect_ok(tk_compare_index(&idx, &ry, msg, sizeof msg), msg, k->name, "pool indices", lay);
    expect_ok(tk_compare_bits(&y2, &ry, msg, sizeof msg), msg, k->name, "pool forward (no indices)",
              lay);
    cr_expect(tk_bitwise_equal(&y, &yr, msg, sizeof msg), "'%s' [%s] vs ref kernels: %s", k->name,
              lay, msg);
    cr_expect(tk_bitwise_equal(&y2, &yr, msg, sizeof msg), "'%s' [%s] no indices vs ref: %s",
              k->name, lay, msg);
    cr_expect(tk_bitwise_equal(&y3, &y, msg, sizeof msg), "'%s' [%s] forward split: %s", k->name,
              lay, msg);
    cr_expect(tk_bitwise_equal(&idx3, &idx, msg, sizeof msg), "'%s' [%s] indices split: %s",
              k->name, lay, msg);
    tk_tensor_t *outs[] = {&y, &y2, &y3, &idx, &idx3};
    for (size_t i = 0; i < sizeof outs / sizeof outs[0]; i++)
        cr_expect(tk_gaps_intact(outs[i], msg, sizeof msg), "'%s' [%s]: %s", k->name, lay, msg);
    /* backward with the reference indices */
    for (int64_t n = 0; n < dd[0]; n++)
        for (int64_t ch = 0; ch < dd[1]; ch++)
            for (int64_t i = 0; i < dd[2]; i++)
                for (int64_t j = 0; j < dd[3]; j++)
                    tk_seti(&idx, n, ch, i, j, ry.index[tk_ref_at(&ry, n, ch, i, j)]);
    k->backward(&p, tk_fdata(&gy), tk_idata(&idx), tk_fdata(&gx), 0, items);
    k->backward(&p, tk_fdata(&gy), tk_idata(&idx), tk_fdata(&gx2), 0, cut1);
    k->backward(&p, tk_fdata(&gy), tk_idata(&idx), tk_fdata(&gx2), cut1, cut2);
    k->backward(&p, tk_fdata(&gy), tk_idata(&idx), tk_fdata(&gx2), cut2, items);
    tk_ref_t rgx = tk_ref_new(sd);
    tk_ref_pool_backward(c, &gy, &idx, &rgx);
    expect_ok(tk_compare_exact(&gx, &rgx, msg, sizeof msg), msg, k->name, "pool backward", lay);
    cr_expect(tk_gaps_intact(&gx, msg, sizeof msg), "'%s' [%s]: %s", k->name, lay, msg);
    cr_expect(tk_bitwise_equal(&gx2, &gx, msg, sizeof msg), "'%s' [%s] backward split: %s",
              k->name, lay, msg);
    /* backward with arbitrary in-plane indices (and -1): any row, also
     * below the window, may receive a gradient */
    for (int64_t n = 0; n < dd[0]; n++)
        for (int64_t ch = 0; ch < dd[1]; ch++)
            for (int64_t i = 0; i < dd[2]; i++)
                for (int64_t j = 0; j < dd[3]; j++)
                    tk_seti(&idx, n, ch, i, j, tk_rng_range(&r, -1, c->h * c->w - 1));
    k->backward(&p, tk_fdata(&gy), tk_idata(&idx), tk_fdata(&gx), 0, items);
    tk_ref_t rgx2 = tk_ref_new(sd);
    tk_ref_pool_backward(c, &gy, &idx, &rgx2);
    expect_ok(tk_compare_exact(&gx, &rgx2, msg, sizeof msg), msg, k->name,
              "pool backward (any indices)", lay);
    tk_ref_free(&ry);
    tk_ref_free(&rgx);
    tk_ref_free(&rgx2);
    tk_tensor_t *all[] = {&x, &y, &y2, &y3, &yr, &idx, &idx3, &idxr, &gy, &gx, &gx2};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) tk_tensor_free(all[i]);
}

Test(kernels, every_pool_kernel_set_matches_reference)
{
    const tk_kind_t kinds[] = {TK_NCHW, TK_NHWC, TK_PADDED};
    for (int i = 0; i < ck_pool_kernel_count(); i++)
        for (size_t c = 0; c < sizeof pool_cfgs / sizeof pool_cfgs[0]; c++)
            for (size_t l = 0; l < 3; l++)
                for (int data = 0; data < 3; data++)
                    pool_kernel_case(ck_pool_kernel_at(i), &pool_cfgs[c],
                                     (pool_layout_t){kinds[l], kinds[l], kinds[l], 0}, data,
                                     (uint64_t)(i * 1000 + c * 100 + l * 10 + data));
}

/* Lanes of a SIMD pool set's vectors (its tails are 1 .. 2*lanes+1). */
static int64_t pool_lanes(const ck_pool_kernels_t *k)
{
    return k->isa == CONVKIT_ISA_AVX512 ? 16 : 8;
}

/* Window rules for the tail sweeps, the same along h and w: kernel,
 * stride, pad, dilation, ceil_mode.  Strides 1, 2, 3 and dilations 1, 2,
 * 3, with and without padding; the last rows give windows with no valid
 * element on narrow inputs. */
static const int64_t pool_rules[][5] = {
    {1, 1, 0, 1, 0}, {2, 1, 1, 1, 0}, {3, 1, 1, 1, 1}, {3, 2, 1, 1, 0}, {3, 2, 0, 1, 1},
    {2, 2, 0, 1, 0}, {5, 2, 2, 1, 1}, {1, 2, 0, 1, 0}, {3, 3, 1, 1, 1}, {2, 3, 0, 1, 0},
    {3, 1, 2, 2, 0}, {3, 2, 2, 2, 1}, {2, 2, 1, 3, 1}, {2, 3, 1, 3, 0}, {3, 3, 3, 3, 1},
    {4, 1, 4, 3, 0},
};

#if defined(__x86_64__)
/* The SIMD sets without the channel-block tile (maxpool-chblock.inc): in no
 * dispatch list, here so that the row kernels meet small planes too. */
extern const ck_pool_kernels_t ck_pool_avx2_rows_kernels, ck_pool_avx512_rows_kernels;
#endif

/* The SIMD pool sets to test: those this CPU runs, and the AVX-512 set's
 * logic through pool-avx512-emulated.h where it does not; each also
 * without its channel-block tile. */
static int simd_pool_sets(const ck_pool_kernels_t *sets[8])
{
    int n = 0;
    for (int i = 0; i < ck_pool_kernel_count() && n < 4; i++)
        if (ck_pool_kernel_at(i)->isa != CONVKIT_ISA_SCALAR) sets[n++] = ck_pool_kernel_at(i);
#if defined(__x86_64__)
    if (convkit_isa_supported(CONVKIT_ISA_AVX512)) sets[n++] = &ck_pool_avx512_rows_kernels;
    if (convkit_isa_supported(CONVKIT_ISA_AVX2)) sets[n++] = &ck_pool_avx2_rows_kernels;
#endif
#ifdef CK_POOL_AVX512_EMULATED
    if (!convkit_isa_supported(CONVKIT_ISA_AVX512)) {
        sets[n++] = &ck_pool_avx512_emulated;
        sets[n++] = &ck_pool_avx512_rows_emulated;
    }
#endif
    return n;
}

/* The output widths a set's sweeps cover: 1 .. 2L+1, then past 4L (the
 * NCHW sets run 4 vectors side by side, then 1 to 3 more). */
static int64_t pool_width_target(int64_t lanes, int64_t i)
{
    const int64_t wider[] = {3 * lanes,     4 * lanes - 1, 4 * lanes,     4 * lanes + 1,
                             5 * lanes + 3, 6 * lanes + 2, 7 * lanes + 1, 8 * lanes + 2};
    if (i < 2 * lanes + 1) return i + 1;
    return i - (2 * lanes + 1) < (int64_t)(sizeof wider / sizeof wider[0])
               ? wider[i - (2 * lanes + 1)]
               : 0; /* the end */
}

/* A problem with `target` outputs along w under window rule u (the
 * narrowest input that has them), N = 2, C = 2; every third one 1-D
 * (h = kh = 1), else a few rows under the same rule.  False if no width
 * gives exactly `target` outputs. */
static bool pool_width_cfg(const int64_t u[5], int64_t target, int64_t lanes, tk_pool_cfg_t *c)
{
    int64_t w = 1;
    while (w < 40 * lanes && tk_pool_out_size(w, u[2], u[0], u[1], u[3], u[4]) < target) w++;
    if (tk_pool_out_size(w, u[2], u[0], u[1], u[3], u[4]) != target) return false;
    *c = (tk_pool_cfg_t){2, 2, 1, w, 1, u[0], 1, u[1], 0, u[2], 1, u[3], u[4] != 0};
    if (target % 3 != 0) {
        c->kh = u[0], c->sh = u[1], c->ph = u[2], c->dh = u[3];
        c->h = 1 + target % 5;
        while (tk_pool_out_size(c->h, c->ph, c->kh, c->sh, c->dh, c->ceil) < 1) c->h++;
    }
    return true;
}

/* Every SIMD pool set (simd_pool_sets) on the output widths of
 * pool_width_target under every window rule of pool_rules (NCHW dense and
 * with longer rows, NHWC, and an NCHW src with a channels-last strided
 * dst, which the sets hand to the reference), and on channel counts
 * 1 .. 2*lanes+1 for NCHW (the channel-block tile), NHWC, a channels-last
 * strided view and NHWC with strided indices (reference again), and on
 * small NCHW planes; each with every kind of data. */
Test(kernels, simd_pool_sets_on_tails, .timeout = 600)
{
    const pool_layout_t wide[] = {
        {TK_NCHW, TK_NCHW, TK_NCHW, 0}, {TK_NCHW, TK_NCHW, TK_NCHW, 3},
        {TK_NHWC, TK_NHWC, TK_NHWC, 0}, {TK_NCHW, TK_PERMUTED, TK_NCHW, 0},
    };
    const pool_layout_t deep[] = {{TK_NCHW, TK_NCHW, TK_NCHW, 0}, /* channel-block tile */
                                  {TK_NHWC, TK_NHWC, TK_NHWC, 0},
                                  {TK_PERMUTED, TK_PERMUTED, TK_PERMUTED, 0},
                                  {TK_NHWC, TK_NHWC, TK_PADDED, 0}};
    const ck_pool_kernels_t *sets[8];
    const int n_sets = simd_pool_sets(sets);
    for (int i = 0; i < n_sets; i++) {
        const ck_pool_kernels_t *k = sets[i];
        const int64_t lanes = pool_lanes(k);
        uint64_t seed = 50000u + (uint64_t)i * 100000u;
        for (size_t q = 0; q < sizeof pool_rules / sizeof pool_rules[0]; q++) {
            const int64_t *u = pool_rules[q];
            tk_pool_cfg_t c;
            for (int64_t t = 0; pool_width_target(lanes, t) > 0; t++) {
                if (!pool_width_cfg(u, pool_width_target(lanes, t), lanes, &c)) continue;
                for (size_t l = 0; l < sizeof wide / sizeof wide[0]; l++)
                    for (int data = 0; data < POOL_DATA_KINDS; data++)
                        pool_kernel_case(k, &c, wide[l], data, seed++);
            }
            /* channel tails: a small image, channels 1 .. 2*lanes+1 */
            for (int64_t ch = 1; ch <= 2 * lanes + 1; ch++) {
                c = (tk_pool_cfg_t){2,    ch,   4 + (int64_t)q % 3, 5 + (int64_t)q % 4, u[0],
                                    u[0], u[1], u[1],               u[2],               u[2],
                                    u[3], u[3], u[4] != 0};
                int64_t oh, ow;
                tk_pool_out_dims(&c, &oh, &ow);
                if (oh < 1 || ow < 1) continue;
                for (size_t l = 0; l < sizeof deep / sizeof deep[0]; l++)
                    pool_kernel_case(k, &c, deep[l], (int)((ch + (int64_t)l) % POOL_DATA_KINDS),
                                     seed++);
            }
            /* small planes (the NCHW channel-block tile, maxpool-chblock.inc):
             * sizes 1 .. 40 along w and h, past the tile's limits at the
             * large end; L + 3 channels (a full block and a remainder; the
             * split ranges of pool_kernel_case cut blocks elsewhere) or 1 ..
             * L - 1; dense NCHW, and with longer rows (the row kernels) */
            for (int64_t w = 1; w <= 40; w++) {
                const int64_t h = w % 2 ? w : 1 + (w * 7 + (int64_t)q) % 40;
                const int64_t ch = w % 3 == 0 ? lanes + 3 : 1 + (w + (int64_t)q) % (lanes - 1);
                c = (tk_pool_cfg_t){1 + w % 2, ch,   h,    w,    u[0], u[0],     u[1],
                                    u[1],      u[2], u[2], u[3], u[3], u[4] != 0};
                int64_t oh, ow;
                tk_pool_out_dims(&c, &oh, &ow);
                if (oh < 1 || ow < 1) continue;
                const pool_layout_t lay = {TK_NCHW, TK_NCHW, TK_NCHW, w % 5 == 0 ? 2 : 0};
                pool_kernel_case(k, &c, lay, (int)((w + (int64_t)q) % POOL_DATA_KINDS), seed++);
            }
        }
    }
    if (n_sets == 0) cr_skip_test("no SIMD pool kernel set runs on this CPU");
}

/* The SIMD sets' loads and stores stay inside the tensors: src (forward)
 * and grad_src (backward) sit flush against an inaccessible page, after
 * and before them, so one element too far is a crash (AddressSanitizer
 * does not see masked vector loads).  Every window rule and output width
 * of the tail sweep, dense NCHW and NHWC, results bitwise as the
 * reference kernels'. */
Test(kernels, simd_pool_sets_touch_nothing_outside_the_tensors, .timeout = 600)
{
    const ck_pool_kernels_t *sets[8];
    const int n_sets = simd_pool_sets(sets);
    tk_rng_t r;
    tk_rng_seed(&r, 777);
    for (int i = 0; i < n_sets; i++) {
        const ck_pool_kernels_t *k = sets[i];
        const int64_t lanes = pool_lanes(k);
        for (size_t q = 0; q < sizeof pool_rules / sizeof pool_rules[0]; q++)
            for (int64_t t = 0; pool_width_target(lanes, t) > 0; t++) {
                tk_pool_cfg_t c;
                if (!pool_width_cfg(pool_rules[q], pool_width_target(lanes, t), lanes, &c))
                    continue;
                int64_t oh, ow;
                tk_pool_out_dims(&c, &oh, &ow);
                const int64_t sd[4] = {c.n, c.c, c.h, c.w}, dd[4] = {c.n, c.c, oh, ow};
                const int64_t ns = c.n * c.c * c.h * c.w, nd = c.n * c.c * oh * ow;
                for (int layout = 0; layout < 4; layout++) {
                    const bool nhwc = layout & 1, at_end = layout & 2;
                    ck_pool_problem_t p = {
                        .batch = c.n, .channels = c.c, .in_h = c.h, .in_w = c.w, .out_h = oh,
                        .out_w = ow, .kernel_h = c.kh, .kernel_w = c.kw, .stride_h = c.sh,
                        .stride_w = c.sw, .pad_h = c.ph, .pad_w = c.pw, .dilation_h = c.dh,
                        .dilation_w = c.dw,
                    };
                    tk_dense_view(&p.src, sd, nhwc);
                    tk_dense_view(&p.dst, dd, nhwc);
                    tk_dense_view(&p.indices, dd, nhwc);
                    tk_guarded_t x = tk_guarded_floats(ns, at_end);
                    tk_guarded_t gx = tk_guarded_floats(ns, !at_end);
                    for (int64_t e = 0; e < ns; e++) x.data[e] = pool_datum(&r, (int)(e % 3));
                    float *y = malloc((size_t)nd * 2 * sizeof(float)), *gy = y + nd;
                    int64_t *idx = malloc((size_t)nd * 2 * sizeof(int64_t)), *idx_ref = idx + nd;
                    float *gx_ref = malloc((size_t)ns * sizeof(float));
                    cr_assert(y != NULL && idx != NULL && gx_ref != NULL);
                    ck_ref_pool_kernels.forward(&p, x.data, gy, idx_ref, 0, c.n * c.c);
                    k->forward(&p, x.data, y, idx, 0, c.n * c.c);
                    bool same = memcmp(y, gy, (size_t)nd * sizeof(float)) == 0 &&
                                memcmp(idx, idx_ref, (size_t)nd * sizeof(int64_t)) == 0;
                    for (int64_t e = 0; e < nd; e++) gy[e] = (float)tk_rng_range(&r, -3, 3);
                    ck_ref_pool_kernels.backward(&p, gy, idx_ref, gx_ref, 0, c.n * c.c);
                    k->backward(&p, gy, idx_ref, gx.data, 0, c.n * c.c);
                    same = same && memcmp(gx.data, gx_ref, (size_t)ns * sizeof(float)) == 0;
                    cr_expect(same, "'%s' %s %lldx%lld k%lld s%lld p%lld d%lld%s: differs from "
                              "the reference kernels", k->name, nhwc ? "NHWC" : "NCHW",
                              (long long)c.h, (long long)c.w, (long long)c.kw, (long long)c.sw,
                              (long long)c.pw, (long long)c.dw, c.ceil ? " ceil" : "");
                    tk_guarded_free(&x);
                    tk_guarded_free(&gx);
                    free(y);
                    free(idx);
                    free(gx_ref);
                }
            }
    }
    if (n_sets == 0) cr_skip_test("no SIMD pool kernel set runs on this CPU");
}

/* fields: n c h w kh kw dh dw ph pw sh sw */
static const tk_fold_cfg_t fold_cfgs[] = {
    {2, 3, 6, 19, 3, 3, 1, 1, 1, 1, 1, 1},
    {1, 5, 7, 9, 2, 3, 2, 1, 1, 2, 2, 3},
    {1, 2, 5, 33, 1, 1, 1, 1, 0, 0, 2, 2},
};

Test(kernels, every_fold_kernel_set_matches_reference)
{
    const tk_kind_t kinds[][2] = {{TK_NCHW, TK_NCHW}, {TK_NHWC, TK_NHWC}, {TK_PADDED, TK_PERMUTED}};
    for (int i = 0; i < ck_fold_kernel_count(); i++) {
        const ck_fold_kernels_t *k = ck_fold_kernel_at(i);
        for (size_t c = 0; c < sizeof fold_cfgs / sizeof fold_cfgs[0]; c++)
            for (size_t l = 0; l < 3; l++) {
                const tk_fold_cfg_t *f = &fold_cfgs[c];
                int64_t id[4], cd[4], oh, ow;
                tk_fold_dims(f, id, cd);
                tk_fold_blocks(f, &oh, &ow);
                tk_rng_t r;
                tk_rng_seed(&r, (uint64_t)(i * 100 + c * 10 + l));
                tk_tensor_t img = tk_tensor_f32(id, kinds[l][0]), col = tk_tensor_f32(cd, kinds[l][1]);
                tk_tensor_t img2 = tk_tensor_f32(id, kinds[l][0]);
                tk_fill_uniform(&img, &r, -2, 2);
                ck_fold_problem_t p = {
                    .batch = f->n, .channels = f->c, .height = f->h, .width = f->w,
                    .kernel_h = f->kh, .kernel_w = f->kw, .dilation_h = f->dh,
                    .dilation_w = f->dw, .pad_h = f->ph, .pad_w = f->pw, .stride_h = f->sh,
                    .stride_w = f->sw, .out_h = oh, .out_w = ow,
                };
                to_ck(&p.image, &img);
                to_ck(&p.column, &col);
                k->unfold(&p, tk_fdata(&img), tk_fdata(&col), 0, f->n * f->c);
                tk_ref_t rc = tk_ref_new(cd);
                tk_ref_unfold(f, &img, &rc);
                char msg[600];
                expect_ok(tk_compare_bits(&col, &rc, msg, sizeof msg), msg, k->name, "unfold",
                          tk_kind_name(kinds[l][0]));
                cr_expect(tk_gaps_intact(&col, msg, sizeof msg), "'%s': %s", k->name, msg);
                tk_fill_ints(&col, &r, -4, 4);
                k->fold(&p, tk_fdata(&col), tk_fdata(&img2), 0, f->n * f->c);
                tk_ref_t ri = tk_ref_new(id);
                tk_ref_fold(f, &col, &ri);
                expect_ok(tk_compare_exact(&img2, &ri, msg, sizeof msg), msg, k->name, "fold",
                          tk_kind_name(kinds[l][0]));
                cr_expect(tk_gaps_intact(&img2, msg, sizeof msg), "'%s': %s", k->name, msg);
                tk_ref_free(&rc);
                tk_ref_free(&ri);
                tk_tensor_free(&img);
                tk_tensor_free(&img2);
                tk_tensor_free(&col);
            }
    }
}

Test(kernels, every_pad_kernel_set_matches_reference)
{
    /* fields: n c h w pl pr pt pb mode value */
    const tk_pad_cfg_t cfgs[] = {
        {2, 3, 5, 19, 3, 4, 2, 1, CONVKIT_PAD_CONSTANT, -1.5f},
        {1, 2, 6, 17, -2, 5, 1, -3, CONVKIT_PAD_CONSTANT, 2.0f},
        {2, 2, 5, 19, 4, 18, 4, 0, CONVKIT_PAD_REFLECT, 0.0f},
        {1, 3, 4, 33, 9, 1, 3, 3, CONVKIT_PAD_REPLICATE, 0.0f},
        {1, 2, 3, 17, 17, 16, 3, 2, CONVKIT_PAD_CIRCULAR, 0.0f},
    };
    const tk_kind_t kinds[][2] = {{TK_NCHW, TK_NCHW}, {TK_NHWC, TK_NHWC}, {TK_NEGATIVE, TK_PADDED}};
    for (int i = 0; i < ck_pad_kernel_count(); i++) {
        const ck_pad_kernels_t *k = ck_pad_kernel_at(i);
        for (size_t c = 0; c < sizeof cfgs / sizeof cfgs[0]; c++)
            for (size_t l = 0; l < 3; l++) {
                const tk_pad_cfg_t *f = &cfgs[c];
                int64_t oh, ow;
                tk_pad_out_dims(f, &oh, &ow);
                const int64_t sd[4] = {f->n, f->c, f->h, f->w}, dd[4] = {f->n, f->c, oh, ow};
                tk_rng_t r;
                tk_rng_seed(&r, (uint64_t)(i * 100 + c * 10 + l));
                tk_tensor_t x = tk_tensor_f32(sd, kinds[l][0]), y = tk_tensor_f32(dd, kinds[l][1]);
                tk_fill_uniform(&x, &r, -2, 2);
                ck_pad_problem_t p = {
                    .batch = f->n, .channels = f->c, .in_h = f->h, .in_w = f->w, .out_h = oh,
                    .out_w = ow, .pad_left = f->pl, .pad_right = f->pr, .pad_top = f->pt,
                    .pad_bottom = f->pb, .mode = f->mode, .value = f->value,
                };
                to_ck(&p.src, &x);
                to_ck(&p.dst, &y);
                k->pad(&p, tk_fdata(&x), tk_fdata(&y), 0, f->n * f->c);
                tk_ref_t ry = tk_ref_new(dd);
                tk_ref_pad(f, &x, &ry);
                char msg[600];
                expect_ok(tk_compare_bits(&y, &ry, msg, sizeof msg), msg, k->name, "pad",
                          tk_kind_name(kinds[l][0]));
                cr_expect(tk_gaps_intact(&y, msg, sizeof msg), "'%s': %s", k->name, msg);
                tk_ref_free(&ry);
                tk_tensor_free(&x);
                tk_tensor_free(&y);
            }
    }
}
