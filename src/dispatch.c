/* dispatch.c - per-op kernel lists, best ISA first and the scalar reference
 * last.  The lists are filtered once (pthread_once) down to the kernels the
 * CPU can run; selection then walks them for the first one a plan's ISA
 * allows. */
#include <pthread.h>

#include "epilogue.h"
#include "kernels.h"

/* The full lists, best first.  SIMD kernel sets are added above the
 * reference entry as they land. */
static const ck_conv_kernels_t *const ck_conv_all[] = {
#if defined(__x86_64__) || defined(_M_X64)
    &ck_conv_gemm_avx512_kernels,
    &ck_conv_gemm_avx2_kernels,
#endif
    &ck_conv_gemm_scalar_kernels,
    &ck_ref_conv_kernels,
};
/* Direct (depthwise) convolution sets, best first; the scalar one last. */
static const ck_conv_kernels_t *const ck_conv_direct_all[] = {
#if defined(__x86_64__) || defined(_M_X64)
    &ck_conv_direct_avx512_kernels,
    &ck_conv_direct_avx2_kernels,
#endif
    &ck_conv_direct_scalar_kernels,
};
#define CK_POOL_SET(sym) CK_INTERNAL extern const ck_pool_kernels_t sym;
#include "pool-kernels.inc"
#undef CK_POOL_SET
static const ck_pool_kernels_t *const ck_pool_all[] = {
#define CK_POOL_SET(sym) &sym,
#include "pool-kernels.inc"
#undef CK_POOL_SET
    &ck_ref_pool_kernels,
};
static const ck_epilogue_kernels_t *const ck_epilogue_all[] = {
#define CK_EPILOGUE_SET(sym) &sym,
#include "epilogue-kernels.inc"
#undef CK_EPILOGUE_SET
    &ck_ref_epilogue_kernels,
};
static const ck_fold_kernels_t *const ck_fold_all[] = {&ck_blocked_fold_kernels,
                                                        &ck_ref_fold_kernels};
#define CK_PAD_SET(sym) CK_INTERNAL extern const ck_pad_kernels_t sym;
#include "pad-kernels.inc"
#undef CK_PAD_SET
static const ck_pad_kernels_t *const ck_pad_all[] = {
#define CK_PAD_SET(sym) &sym,
#include "pad-kernels.inc"
#undef CK_PAD_SET
    &ck_ref_pad_kernels,
};

#define CK_COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* Kernels this CPU runs, in list order. */
static const ck_conv_kernels_t *ck_conv_ok[CK_COUNT(ck_conv_all)];
static const ck_conv_kernels_t *ck_conv_direct_ok[CK_COUNT(ck_conv_direct_all)];
static const ck_pool_kernels_t *ck_pool_ok[CK_COUNT(ck_pool_all)];
static const ck_fold_kernels_t *ck_fold_ok[CK_COUNT(ck_fold_all)];
static const ck_pad_kernels_t *ck_pad_ok[CK_COUNT(ck_pad_all)];
static const ck_epilogue_kernels_t *ck_epilogue_ok[CK_COUNT(ck_epilogue_all)];
static int ck_epilogue_n;
static int ck_conv_direct_n;
static int ck_conv_n, ck_pool_n, ck_fold_n, ck_pad_n;
static pthread_once_t ck_tables_once = PTHREAD_ONCE_INIT;

#define CK_FILTER(all, ok, n)                                                     \
    for (int i = 0; i < CK_COUNT(all); i++)                                       \
        if (convkit_isa_supported(all[i]->isa)) ok[(n)++] = all[i];

static void ck_tables_init(void)
{
    CK_FILTER(ck_conv_all, ck_conv_ok, ck_conv_n)
    CK_FILTER(ck_conv_direct_all, ck_conv_direct_ok, ck_conv_direct_n)
    CK_FILTER(ck_pool_all, ck_pool_ok, ck_pool_n)
    CK_FILTER(ck_fold_all, ck_fold_ok, ck_fold_n)
    CK_FILTER(ck_pad_all, ck_pad_ok, ck_pad_n)
    CK_FILTER(ck_epilogue_all, ck_epilogue_ok, ck_epilogue_n)
}

#define CK_DEFINE_SELECT(op, type)                                                 \
    const type *ck_select_##op(uint32_t isa)                                       \
    {                                                                              \
        pthread_once(&ck_tables_once, ck_tables_init);                             \
        for (int i = 0; i < ck_##op##_n; i++)                                      \
            if (ck_isa_rank(ck_##op##_ok[i]->isa) <= ck_isa_rank(isa)) return ck_##op##_ok[i]; \
        return ck_##op##_all[CK_COUNT(ck_##op##_all) - 1];                         \
    }                                                                              \
    int ck_##op##_kernel_count(void)                                               \
    {                                                                              \
        pthread_once(&ck_tables_once, ck_tables_init);                             \
        return ck_##op##_n;                                                        \
    }                                                                              \
    const type *ck_##op##_kernel_at(int i)                                         \
    {                                                                              \
        pthread_once(&ck_tables_once, ck_tables_init);                             \
        return i >= 0 && i < ck_##op##_n ? ck_##op##_ok[i] : NULL;                 \
    }

CK_DEFINE_SELECT(conv, ck_conv_kernels_t)
CK_DEFINE_SELECT(conv_direct, ck_conv_kernels_t)
CK_DEFINE_SELECT(pool, ck_pool_kernels_t)
CK_DEFINE_SELECT(fold, ck_fold_kernels_t)
CK_DEFINE_SELECT(pad, ck_pad_kernels_t)
CK_DEFINE_SELECT(epilogue, ck_epilogue_kernels_t)
