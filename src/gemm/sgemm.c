/* sgemm.c - the blocked SGEMM driver: block sizes from the cache sizes,
 * workspace sizing and the BLIS loop nest around a microkernel (see
 * gemm.h).  Portable code: the kernel is reached only through the list
 * entry's function pointer. */
#include <pthread.h>
#include <stdint.h>
#include <unistd.h>

#include "gemm/gemm.h"

/* ---- cache sizes and block sizes -------------------------------------------- */

#define CK_GEMM_ALIGN 64                 /* packed blocks start on a cache line */
#define CK_GEMM_A_MAX ((int64_t)1 << 20) /* packed A block at most 1 MiB */

static pthread_once_t ck_cache_once = PTHREAD_ONCE_INIT;
static int64_t ck_l1, ck_l2, ck_l3;

/* sysconf's cache queries are a glibc extension; elsewhere the fallbacks. */
#if defined(_SC_LEVEL1_DCACHE_SIZE) && defined(_SC_LEVEL2_CACHE_SIZE) && \
    defined(_SC_LEVEL3_CACHE_SIZE)
#define CK_SC_L1 _SC_LEVEL1_DCACHE_SIZE
#define CK_SC_L2 _SC_LEVEL2_CACHE_SIZE
#define CK_SC_L3 _SC_LEVEL3_CACHE_SIZE
#else
#define CK_SC_L1 (-1)
#define CK_SC_L2 (-1)
#define CK_SC_L3 (-1)
#endif

/* sysconf(name) clamped to [lo, hi], or the fallback if it says nothing. */
static int64_t ck_cache_query(int name, int64_t fallback, int64_t lo, int64_t hi)
{
    const long v = name >= 0 ? sysconf(name) : -1;
    if (v <= 0) return fallback;
    return v < lo ? lo : v > hi ? hi : (int64_t)v;
}

static void ck_cache_init(void)
{
    const int64_t kib = 1024, mib = 1024 * 1024;
    ck_l1 = ck_cache_query(CK_SC_L1, 32 * kib, 16 * kib, 64 * kib);
    ck_l2 = ck_cache_query(CK_SC_L2, 512 * kib, 128 * kib, 4 * mib);
    ck_l3 = ck_cache_query(CK_SC_L3, 8 * mib, 1 * mib, 64 * mib);
}

void ck_gemm_cache_sizes(int64_t *l1, int64_t *l2, int64_t *l3)
{
    pthread_once(&ck_cache_once, ck_cache_init);
    *l1 = ck_l1;
    *l2 = ck_l2;
    *l3 = ck_l3;
}

ck_gemm_blocking_t ck_gemm_blocking_for(const ck_gemm_kernel_t *k, int64_t l1, int64_t l2,
                                        int64_t l3)
{
    const int64_t f = (int64_t)sizeof(float);
    ck_gemm_blocking_t b;
    /* One B micro-panel (KC x NR) and one A micro-panel (KC x MR) in 3/4 of
     * L1, leaving room for the C tile and the next panels' lines. */
    b.kc = l1 * 3 / 4 / (f * (k->mr + k->nr)) / 32 * 32;
    if (b.kc < 64) b.kc = 64;
    /* The packed A block (MC x KC) in half of L2 (at most 1 MiB); B panels
     * stream through the other half. */
    int64_t abytes = l2 / 2;
    if (abytes > CK_GEMM_A_MAX) abytes = CK_GEMM_A_MAX;
    b.mc = abytes / (f * b.kc) / k->mr * k->mr;
    if (b.mc < k->mr) b.mc = k->mr;
    /* The packed B block (KC x NC) in half of L3 and in what the workspace
     * limit leaves after the A block and the alignment slack. */
    int64_t bbytes = l3 / 2;
    const int64_t room = (int64_t)CK_GEMM_WORKSPACE_MAX - b.mc * b.kc * f - 4 * CK_GEMM_ALIGN;
    if (bbytes > room) bbytes = room;
    b.nc = bbytes / (f * b.kc) / k->nr * k->nr;
    if (b.nc < k->nr) b.nc = k->nr;
    return b;
}

ck_gemm_blocking_t ck_gemm_blocking(const ck_gemm_kernel_t *k)
{
    int64_t l1, l2, l3;
    ck_gemm_cache_sizes(&l1, &l2, &l3);
    return ck_gemm_blocking_for(k, l1, l2, l3);
}

/* ---- workspace ----------------------------------------------------------------- */

static int64_t ck_div_up(int64_t x, int64_t m) { return (x + m - 1) / m; }
static int64_t ck_round_up(int64_t x, int64_t m) { return ck_div_up(x, m) * m; }
static int64_t ck_min64(int64_t a, int64_t b) { return a < b ? a : b; }

/* Floats of the packed A and B blocks for this problem. */
static void ck_block_floats(const ck_gemm_kernel_t *k, const ck_gemm_blocking_t *b, int64_t M,
                            int64_t N, int64_t K, int64_t *afl, int64_t *bfl)
{
    const int64_t kc = ck_min64(b->kc, K);
    *afl = kc * ck_min64(b->mc, ck_round_up(M, k->mr));
    *bfl = kc * ck_min64(b->nc, ck_round_up(N, k->nr));
}

size_t ck_sgemm_workspace_size(const ck_gemm_kernel_t *k, const ck_gemm_blocking_t *b,
                               int64_t M, int64_t N, int64_t K)
{
    ck_gemm_blocking_t def;
    if (b == NULL) {
        def = ck_gemm_blocking(k);
        b = &def;
    }
    if (M <= 0 || N <= 0 || K <= 0) return 0;
    int64_t afl, bfl;
    ck_block_floats(k, b, M, N, K, &afl, &bfl);
    /* alignment slack for the start, and between the two blocks */
    return (size_t)(ck_round_up(afl * (int64_t)sizeof(float), CK_GEMM_ALIGN) +
                    bfl * (int64_t)sizeof(float) + 2 * CK_GEMM_ALIGN);
}

/* ---- the driver ------------------------------------------------------------------ */

/* C = beta C for K == 0 (beta 0 writes zeros without reading C). */
static void ck_scale_c(int64_t M, int64_t N, float *c, int64_t ldc, float beta)
{
    for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < N; j++)
            c[i * ldc + j] = beta == 0.0f ? 0.0f : beta * c[i * ldc + j];
}

void ck_sgemm_ex(const ck_gemm_kernel_t *k, const ck_gemm_blocking_t *b, int64_t M, int64_t N,
                 int64_t K, const ck_gemm_operand_t *a, const ck_gemm_operand_t *bop, float *c,
                 int64_t ldc, float beta, void *workspace)
{
    ck_sgemm_epi(k, b, M, N, K, a, bop, c, ldc, beta, NULL, workspace);
}

void ck_sgemm_epi(const ck_gemm_kernel_t *k, const ck_gemm_blocking_t *b, int64_t M, int64_t N,
                  int64_t K, const ck_gemm_operand_t *a, const ck_gemm_operand_t *bop, float *c,
                  int64_t ldc, float beta, const ck_gemm_epilogue_t *epi, void *workspace)
{
    if (M <= 0 || N <= 0) return;
    if (K <= 0) {
        ck_scale_c(M, N, c, ldc, beta);
        if (epi != NULL) epi->fn(epi->ctx, 0, 0, M, N, c, ldc);
        return;
    }
    ck_gemm_blocking_t def;
    if (b == NULL) {
        def = ck_gemm_blocking(k);
        b = &def;
    }
    const int64_t mr = k->mr, nr = k->nr;
    /* K in equal blocks of at most KC (576 = 3 x 192, not 256 + 256 + 64),
     * so no block is left with a short, overhead-dominated reduction. */
    const int64_t kcb = ck_div_up(K, ck_div_up(K, b->kc));
    int64_t afl, bfl;
    ck_block_floats(k, b, M, N, K, &afl, &bfl);
    const uintptr_t base =
        ((uintptr_t)workspace + CK_GEMM_ALIGN - 1) & ~(uintptr_t)(CK_GEMM_ALIGN - 1);
    float *const apack = (float *)base;
    float *const bpack =
        (float *)(base + (uintptr_t)ck_round_up(afl * (int64_t)sizeof(float), CK_GEMM_ALIGN));
    const ck_f32_gemm_ukernel_fn ukernel = k->ukernel;

    for (int64_t jc = 0; jc < N; jc += b->nc) {
        const int64_t nc = ck_min64(b->nc, N - jc);
        for (int64_t pc = 0; pc < K; pc += kcb) {
            const int64_t kc = ck_min64(kcb, K - pc);
            const float beta_p = pc == 0 ? beta : 1.0f;
            const ck_gemm_epilogue_t *epi_p = pc + kc >= K ? epi : NULL; /* last K block */
            bop->pack(bop->ctx, jc, nc, pc, kc, nr, bpack);
            for (int64_t ic = 0; ic < M; ic += b->mc) {
                const int64_t mc = ck_min64(b->mc, M - ic);
                a->pack(a->ctx, ic, mc, pc, kc, mr, apack);
                for (int64_t jr = 0; jr < nc; jr += nr) {
                    const int64_t n = ck_min64(nr, nc - jr);
                    const float *bp = bpack + jr * kc;
                    float *cj = c + ic * ldc + jc + jr;
                    for (int64_t ir = 0; ir < mc; ir += mr) {
                        const int64_t m = ck_min64(mr, mc - ir);
                        ukernel((size_t)m, (size_t)n, (size_t)kc, apack + ir * kc, bp,
                                cj + ir * ldc, (size_t)ldc, beta_p);
                        if (epi_p != NULL)
                            epi_p->fn(epi_p->ctx, ic + ir, jc + jr, m, n, cj + ir * ldc, ldc);
                    }
                }
            }
        }
    }
}

void ck_sgemm(const ck_gemm_kernel_t *k, int64_t M, int64_t N, int64_t K, const float *a,
              int64_t rsa, int64_t csa, const float *b, int64_t rsb, int64_t csb, float *c,
              int64_t ldc, float beta, void *workspace)
{
    const ck_gemm_matrix_t am = {a, rsa, csa}, bm = {b, csb, rsb};
    const ck_gemm_operand_t aop = {ck_gemm_pack_matrix, &am}, bop = {ck_gemm_pack_matrix, &bm};
    ck_sgemm_ex(k, NULL, M, N, K, &aop, &bop, c, ldc, beta, workspace);
}
