/* gemm-select.c - the f32 GEMM kernel list (f32-gemm.inc), filtered once
 * (pthread_once) to the kernels this CPU runs, and selection by ISA in the
 * style of dispatch.c: best first, the scalar kernel last. */
#include <pthread.h>

#include "gemm/gemm.h"

static const ck_gemm_kernel_t ck_gemm_all[] = {
#define CK_GEMM_KERNEL(isa, mr, nr, fn) {isa, mr, nr, #mr "x" #nr, fn},
#include "gemm/f32-gemm.inc"
#undef CK_GEMM_KERNEL
};

#define CK_GEMM_ALL_COUNT ((int)(sizeof ck_gemm_all / sizeof ck_gemm_all[0]))

static const ck_gemm_kernel_t *ck_gemm_ok[CK_GEMM_ALL_COUNT];
static int ck_gemm_n;
static pthread_once_t ck_gemm_once = PTHREAD_ONCE_INIT;

static void ck_gemm_init(void)
{
    for (int i = 0; i < CK_GEMM_ALL_COUNT; i++)
        if (convkit_isa_supported(ck_gemm_all[i].isa)) ck_gemm_ok[ck_gemm_n++] = &ck_gemm_all[i];
}

const ck_gemm_kernel_t *ck_select_gemm(uint32_t isa)
{
    pthread_once(&ck_gemm_once, ck_gemm_init);
    for (int i = 0; i < ck_gemm_n; i++)
        if (ck_isa_rank(ck_gemm_ok[i]->isa) <= ck_isa_rank(isa)) return ck_gemm_ok[i];
    return &ck_gemm_all[CK_GEMM_ALL_COUNT - 1];
}

int ck_gemm_kernel_count(void)
{
    pthread_once(&ck_gemm_once, ck_gemm_init);
    return ck_gemm_n;
}

const ck_gemm_kernel_t *ck_gemm_kernel_at(int i)
{
    pthread_once(&ck_gemm_once, ck_gemm_init);
    return i >= 0 && i < ck_gemm_n ? ck_gemm_ok[i] : NULL;
}
