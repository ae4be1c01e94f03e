/* isa.c - the detected ISA, the process-wide cap (CONVKIT_MAX_ISA and the
 * setter) and the per-plan choice. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "cpu.h"

static pthread_once_t ck_isa_once = PTHREAD_ONCE_INIT;
static uint32_t ck_mask;                /* written once under ck_isa_once */
static uint32_t ck_best;                /* best detected ISA */
static _Atomic uint32_t ck_cap;         /* current process cap */

int ck_isa_rank(uint32_t isa)
{
    switch (isa) {
    case CONVKIT_ISA_SCALAR: return 0;
    case CONVKIT_ISA_AVX2: return 1;
    case CONVKIT_ISA_NEON: return 1;
    case CONVKIT_ISA_AVX512: return 2;
    default: return -1;
    }
}

static uint32_t ck_isa_from_name(const char *s)
{
    static const uint32_t all[] = {CONVKIT_ISA_SCALAR, CONVKIT_ISA_AVX2, CONVKIT_ISA_AVX512,
                                   CONVKIT_ISA_NEON};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (strcmp(s, convkit_isa_name(all[i])) == 0) return all[i];
    return 0;
}

static void ck_isa_init(void)
{
    ck_mask = ck_detect_isa_mask();
    ck_best = CONVKIT_ISA_SCALAR;
    for (uint32_t isa = CONVKIT_ISA_SCALAR; isa <= CONVKIT_ISA_NEON; isa++)
        if ((ck_mask >> isa & 1u) && ck_isa_rank(isa) > ck_isa_rank(ck_best)) ck_best = isa;
    uint32_t cap = ck_best;
    const char *env = getenv("CONVKIT_MAX_ISA");
    if (env != NULL) {
        uint32_t want = ck_isa_from_name(env);
        if (want != 0 && (ck_mask >> want & 1u)) cap = want; /* unusable values are ignored */
    }
    atomic_store(&ck_cap, cap);
}

uint32_t ck_isa_mask(void)
{
    pthread_once(&ck_isa_once, ck_isa_init);
    return ck_mask;
}

const char *convkit_isa_name(uint32_t isa)
{
    switch (isa) {
    case CONVKIT_ISA_SCALAR: return "scalar";
    case CONVKIT_ISA_AVX2: return "avx2";
    case CONVKIT_ISA_AVX512: return "avx512";
    case CONVKIT_ISA_NEON: return "neon";
    default: return NULL;
    }
}

uint32_t convkit_cpu_isa(void)
{
    pthread_once(&ck_isa_once, ck_isa_init);
    return ck_best;
}

int convkit_isa_supported(uint32_t isa)
{
    return isa <= 31 && ck_isa_rank(isa) >= 0 && (ck_isa_mask() >> isa & 1u);
}

static convkit_status_t ck_check_isa(uint32_t isa, const char *what)
{
    if (ck_isa_rank(isa) < 0)
        return ck_fail(CONVKIT_ERROR_UNSUPPORTED_ISA,
                       "%s: unknown ISA %u (expected CONVKIT_ISA_SCALAR, _AVX2, _AVX512 or _NEON)",
                       what, isa);
    if (!convkit_isa_supported(isa))
        return ck_fail(CONVKIT_ERROR_UNSUPPORTED_ISA,
                       "%s: ISA '%s' is not supported by this CPU (best: '%s')", what,
                       convkit_isa_name(isa), convkit_isa_name(convkit_cpu_isa()));
    return CONVKIT_SUCCESS;
}

convkit_status_t convkit_set_max_isa(uint32_t isa)
{
    pthread_once(&ck_isa_once, ck_isa_init);
    if (isa == CONVKIT_ISA_DEFAULT) isa = ck_best;
    convkit_status_t st = ck_check_isa(isa, "convkit_set_max_isa");
    if (st != CONVKIT_SUCCESS) return st;
    atomic_store(&ck_cap, isa);
    ck_clear_error();
    return CONVKIT_SUCCESS;
}

uint32_t convkit_get_max_isa(void)
{
    pthread_once(&ck_isa_once, ck_isa_init);
    return atomic_load(&ck_cap);
}

convkit_status_t ck_plan_isa(uint32_t requested, uint32_t *isa_out)
{
    uint32_t cap = convkit_get_max_isa();
    if (requested != CONVKIT_ISA_DEFAULT) {
        convkit_status_t st = ck_check_isa(requested, "params.isa");
        if (st != CONVKIT_SUCCESS) return st;
        if (ck_isa_rank(requested) < ck_isa_rank(cap)) cap = requested;
    }
    *isa_out = cap;
    return CONVKIT_SUCCESS;
}
