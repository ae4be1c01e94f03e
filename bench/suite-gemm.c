/*
 * suite-gemm.c - gemm_ukernel: convkit's f32 GEMM below the operator API
 * (src/gemm), in two kinds of problem.
 *
 *   ukernel/<MRxNR>_<isa>/mc<M>   one microkernel of the list
 *       (f32-gemm.inc) alone, on packed data, for every kernel this CPU
 *       runs and the ISA cap allows (the scalar one only when it is the only
 *       one): the inner two loops of the blocked driver without any packing,
 *       a packed A block of M x KC times 4 packed B micro-panels of KC x NR
 *       (each stays in L1 while the A block streams past it) into an
 *       M x 4NR C buffer, beta 1, KC from the kernel's ck_gemm_blocking.
 *       Two sizes of A: 8 micro-panels (8 MR rows, well inside L2: the
 *       kernel's own speed), and the blocking's MC rows (the block the
 *       driver keeps in half of L2: what its inner loops see).  Each
 *       microkernel call is 2 MR NR KC flops; the % peak column is of the
 *       peak of the kernel's own ISA (the AVX2 kernel on an AVX-512 machine
 *       is quoted against the AVX2 peak).  Peer: the scalar 4x8 kernel on
 *       the same M x N x K product (its own packing of the same sizes).  One
 *       thread whatever --threads says: a microkernel is a one-core measure.
 *   sgemm/<M>x<N>x<K>   the full blocked ck_sgemm (packing included),
 *       C = A B with A, B, C dense row-major, at the sizes of ResNet-50
 *       convolutions (a 1x1 layer, 3x3 layers as im2col products) and 1024
 *       cubed, with the kernel the ISA cap selects.  Peers: oneDNN's
 *       dnnl_sgemm on the same row-major problem (onednn_any: oneDNN has no
 *       layout to choose here, so there is no onednn_nchw case), and
 *       ck_sgemm with the scalar kernel.  With --threads T > 1 every convkit
 *       case splits N (or M, when it has more micro-panels) in T slices of
 *       whole micro-panels, each thread with its own workspace, as
 *       ck_sgemm's callers do; % peak stays that of one core, as in every
 *       suite.
 * Not in the default run: it measures the library's building blocks, not
 * an operator.  About 5 s at the default --min-time.
 *
 * Linking: the GEMM internals are hidden symbols of libconvkit.so, so this
 * file (alone: the INCLUDE_DIRECTORIES in bench/CMakeLists.txt give it
 * src/) reaches them through the static library convkit_static, linked
 * after the shared library.  It therefore uses only leaf objects of the
 * archive - the kernels, the packer and the driver (sgemm.c) - and builds
 * its own kernel list from f32-gemm.inc rather than calling gemm-select.c,
 * which would pull in isa.c: a second copy of the public convkit_* ISA
 * functions and of the process ISA cap, overriding the shared library's in
 * this executable.  Every convkit_* call here goes to libconvkit.so (the
 * bench.link test checks that convkit-bench defines none of the symbols
 * libconvkit.so exports).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "convkit.h"
#include "gemm/gemm.h"
#include "report.h"
#include "suite-common.h"

#ifdef CONVKIT_BENCH_HAVE_ONEDNN
#include "peer-onednn.h"
#endif

#define SUITE "gemm_ukernel"
#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* Micro-panels of the smaller A block and of B per microkernel problem. */
#define UKERNEL_A_PANELS 8
#define UKERNEL_B_PANELS 4

/* Speed assumed for ck_sgemm with the scalar 4x8 kernel, for
 * ckb_slow_case_iterations: it measures 20-27 GFLOP/s on one core of a
 * 2.45 GHz AMD EPYC (the compiler vectorizes its tile with SSE). */
#define SCALAR_GEMM_FLOPS_ESTIMATE 16e9

/* ---- the kernel list ------------------------------------------------------------ */

/* Every kernel of f32-gemm.inc, best first, the scalar one last (see the
 * comment at the top for why not ck_gemm_kernel_at). */
static const ck_gemm_kernel_t all_kernels[] = {
#define CK_GEMM_KERNEL(isa, mr, nr, fn) {isa, mr, nr, #mr "x" #nr, fn},
#include "gemm/f32-gemm.inc"
#undef CK_GEMM_KERNEL
};

static const ck_gemm_kernel_t *scalar_kernel(void) { return &all_kernels[COUNT(all_kernels) - 1]; }

/* Orders the ISAs as the library does (NEON and AVX2 are both "one up"). */
static int isa_rank(uint32_t isa)
{
    return isa == CONVKIT_ISA_AVX512 ? 2 : isa == CONVKIT_ISA_AVX2 || isa == CONVKIT_ISA_NEON ? 1 : 0;
}

/* Whether this CPU runs kernel k and the process ISA cap allows it. */
static bool kernel_allowed(const ck_gemm_kernel_t *k)
{
    return convkit_isa_supported(k->isa) &&
           isa_rank(k->isa) <= isa_rank(convkit_get_max_isa());
}

/* The kernel the library's selection gives at the process cap: the first
 * allowed one (the list is best first, the scalar kernel always allowed). */
static const ck_gemm_kernel_t *kernel_at_cap(void)
{
    for (int i = 0; i < COUNT(all_kernels); i++)
        if (kernel_allowed(&all_kernels[i]))
            return &all_kernels[i];
    return scalar_kernel();
}

static const char *isa_name(uint32_t isa)
{
    const char *s = convkit_isa_name(isa);
    return s != NULL ? s : "?";
}

/* ---- cases ------------------------------------------------------------------------- */

typedef enum gemm_kind { KIND_UKERNEL, KIND_SGEMM, KIND_ONEDNN } gemm_kind_t;

typedef struct gemm_case {
    ckb_item_t item;
    gemm_kind_t kind;
    const ck_gemm_kernel_t *k; /* KIND_UKERNEL, KIND_SGEMM */
    int64_t M, N, K;
    int threads;               /* KIND_SGEMM: slices of the product, one per thread */
    size_t ws_bytes;           /* KIND_SGEMM: workspace per slice */
    /* setup: KIND_UKERNEL packed A (ceil(M/MR) panels of MR x K) and B
     * (ceil(N/NR) panels of K x NR); otherwise row-major A (M x K) and
     * B (K x N).  C is M x N, row-major, in every kind. */
    float *a, *b, *c;
    char *ws;                  /* KIND_SGEMM: threads x ws_bytes */
} gemm_case_t;

static int64_t round_up(int64_t x, int64_t m) { return (x + m - 1) / m * m; }
static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

/* The microkernel over every tile of the packed operands: the driver's
 * jr / ir loops for one packed A block and B block. */
static void run_ukernel(const gemm_case_t *c)
{
    const ck_f32_gemm_ukernel_fn ukernel = c->k->ukernel;
    const int64_t mr = c->k->mr, nr = c->k->nr, M = c->M, N = c->N, K = c->K;
    for (int64_t jr = 0; jr < N; jr += nr)
        for (int64_t ir = 0; ir < M; ir += mr)
            ukernel((size_t)min64(mr, M - ir), (size_t)min64(nr, N - jr), (size_t)K,
                    c->a + ir * K, c->b + jr * K, c->c + ir * N + jr, (size_t)N, 1.0f);
}

/* Slice t of T of ck_sgemm's product: whole micro-panels of N, or of M when
 * M has more of them. */
static void run_sgemm_slice(const gemm_case_t *c, int t, int T)
{
    const int64_t mr = c->k->mr, nr = c->k->nr, M = c->M, N = c->N, K = c->K;
    const bool split_n = (N + nr - 1) / nr >= (M + mr - 1) / mr;
    const int64_t len = split_n ? N : M, w = split_n ? nr : mr;
    const int64_t chunk = round_up((len + T - 1) / T, w);
    const int64_t x0 = min64(len, chunk * t), xn = min64(len - x0, chunk);
    if (xn <= 0)
        return;
    void *ws = c->ws + (size_t)t * c->ws_bytes;
    if (split_n)
        ck_sgemm(c->k, M, xn, K, c->a, K, 1, c->b + x0, N, 1, c->c + x0, N, 0.0f, ws);
    else
        ck_sgemm(c->k, xn, N, K, c->a + x0 * K, K, 1, c->b, N, 1, c->c + x0 * N, N, 0.0f, ws);
}

static void run_sgemm(const gemm_case_t *c)
{
    if (c->threads <= 1) {
        run_sgemm_slice(c, 0, 1);
        return;
    }
#ifdef _OPENMP
#pragma omp parallel num_threads(c->threads)
    run_sgemm_slice(c, omp_get_thread_num(), omp_get_num_threads());
#endif
}

static int gemm_run(ckb_item_t *it)
{
    gemm_case_t *c = (gemm_case_t *)it;
    switch (c->kind) {
    case KIND_UKERNEL:
        run_ukernel(c);
        return 0;
    case KIND_SGEMM:
        run_sgemm(c);
        return 0;
    case KIND_ONEDNN:
#ifdef CONVKIT_BENCH_HAVE_ONEDNN
        return ckb_onednn_sgemm(c->M, c->N, c->K, c->a, c->b, 0.0f, c->c, it->error,
                                sizeof it->error);
#else
        break;
#endif
    }
    snprintf(it->error, sizeof it->error, "no oneDNN in this build");
    return -1;
}

/* Floats of operand A and B as the case stores them. */
static void operand_sizes(const gemm_case_t *c, int64_t *na, int64_t *nb)
{
    if (c->kind == KIND_UKERNEL) {
        *na = round_up(c->M, c->k->mr) * c->K;
        *nb = round_up(c->N, c->k->nr) * c->K;
    } else {
        *na = c->M * c->K;
        *nb = c->K * c->N;
    }
}

static int gemm_setup(ckb_item_t *it, char *err, size_t n)
{
    gemm_case_t *c = (gemm_case_t *)it;
    int64_t na, nb;
    operand_sizes(c, &na, &nb);
    /* Random packed panels time the same as packed random matrices. */
    c->a = ckb_random_floats(na, 31);
    c->b = ckb_random_floats(nb, 32);
    c->c = ckb_zero_floats(c->M * c->N);
    if (c->kind == KIND_SGEMM) {
        c->ws_bytes = round_up((int64_t)ck_sgemm_workspace_size(c->k, NULL, c->M, c->N, c->K), 64);
        c->ws = aligned_alloc(64, (size_t)c->threads * c->ws_bytes + 64);
    }
    if (c->a == NULL || c->b == NULL || c->c == NULL || (c->kind == KIND_SGEMM && c->ws == NULL)) {
        snprintf(err, n, "out of memory for the operands");
        return -1;
    }
    /* one untimed run: first touch of C and the workspace, oneDNN's code
     * generation */
    if (gemm_run(it) != 0) {
        if (err != it->error) /* the shared case code passes it->error itself */
            snprintf(err, n, "%s", it->error);
        return -1;
    }
    return 0;
}

static void gemm_teardown(ckb_item_t *it)
{
    gemm_case_t *c = (gemm_case_t *)it;
    free(c->a);
    free(c->b);
    free(c->c);
    free(c->ws);
    c->a = c->b = c->c = NULL;
    c->ws = NULL;
}

static void gemm_destroy(ckb_item_t *it) { free(it); }

/* A case (owned by the item list), or NULL when out of memory. */
static gemm_case_t *new_case(gemm_kind_t kind, const ck_gemm_kernel_t *k, int64_t M, int64_t N,
                             int64_t K)
{
    gemm_case_t *c = calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    c->kind = kind;
    c->k = k;
    c->M = M;
    c->N = N;
    c->K = K;
    c->threads = kind == KIND_SGEMM ? convkit_get_num_threads() : 1;
    int64_t na, nb;
    operand_sizes(c, &na, &nb);
    c->item.setup = gemm_setup;
    c->item.teardown = gemm_teardown;
    c->item.run = gemm_run;
    c->item.destroy = gemm_destroy;
    c->item.bytes = (size_t)(4 * (na + nb + M * N));
    if (kind == KIND_SGEMM)
        c->item.bytes += (size_t)c->threads * ck_sgemm_workspace_size(k, NULL, M, N, K);
    ckb_item_add(&c->item);
    return c;
}

/* Registers a case of `peer` for the problem; false when out of memory. */
static bool add_case(const char *problem, const char *peer, gemm_kind_t kind,
                     const ck_gemm_kernel_t *k, int64_t M, int64_t N, int64_t K, double flops,
                     double bytes, const ckb_options_t *opts, int64_t iterations)
{
    gemm_case_t *c = new_case(kind, k, M, N, K);
    if (c == NULL)
        return false;
    ckb_register_case(SUITE, problem, peer, ckb_item_case_fn, &c->item, flops, bytes, opts,
                      iterations);
    return true;
}

/* ---- problems ------------------------------------------------------------------------ */

typedef struct sgemm_problem {
    int64_t m, n, k;
    const char *what;
} sgemm_problem_t;

/* The GEMMs of ResNet-50 convolutions (M = C_out, N = mb H_out W_out,
 * K = C_in kh kw: a 1x1 layer as it is, 3x3 layers as im2col products),
 * cheapest first (the smoke run takes the first two), then a square one. */
static const sgemm_problem_t sgemm_problems[] = {
    {64, 3136, 64, "res2 1x1, mb1"},
    {64, 3136, 576, "res2 3x3, mb1"},
    {256, 784, 2304, "res4 3x3, mb4"},
    {512, 196, 4608, "res5 3x3, mb4"},
    {1024, 1024, 1024, "square"},
};

/* Two problems per allowed kernel (the scalar kernel only when it is the
 * only one): A blocks of UKERNEL_A_PANELS micro-panels and of the
 * blocking's MC rows.  Returns the number of cases registered, -1 when out
 * of memory. */
static int register_ukernels(const ckb_options_t *opts)
{
    const ck_gemm_kernel_t *scalar = scalar_kernel();
    int registered = 0, problems = 0;
    for (int i = 0; i < COUNT(all_kernels); i++) {
        const ck_gemm_kernel_t *k = &all_kernels[i];
        if (!kernel_allowed(k) || (k == scalar && problems > 0))
            continue;
        const ck_gemm_blocking_t bl = ck_gemm_blocking(k);
        const int64_t rows[2] = {min64(UKERNEL_A_PANELS * k->mr, bl.mc), bl.mc};
        for (int r = 0; r < 2; r++) {
            if (r == 1 && rows[1] == rows[0])
                break;
            if (opts->max_cases > 0 && problems >= opts->max_cases)
                return registered;
            problems++;
            const int64_t M = rows[r], N = UKERNEL_B_PANELS * k->nr, K = bl.kc;
            const double flops = 2.0 * (double)M * (double)N * (double)K;
            char problem[64], text[160];
            snprintf(problem, sizeof problem, "ukernel/%s_%s/mc%lld", k->name, isa_name(k->isa),
                     (long long)M);
            snprintf(text, sizeof text, "M%lld N%lld K%lld packed, beta 1 (%s%lld A, %d B panels)",
                     (long long)M, (long long)N, (long long)K, r == 0 ? "" : "mc: ",
                     (long long)(M / k->mr), UKERNEL_B_PANELS);
            ckb_report_note_case(SUITE, problem, text, flops, 0.0, k->isa);
            if (!add_case(problem, CKB_PEER_CONVKIT, KIND_UKERNEL, k, M, N, K, flops, 0.0, opts,
                          0))
                return -1;
            registered++;
            if (opts->with_scalar) {
                if (!add_case(problem, CKB_PEER_SCALAR, KIND_UKERNEL, scalar, M, N, K, flops, 0.0,
                              opts, 0))
                    return -1;
                registered++;
            }
        }
    }
    return registered;
}

static int register_sgemm(const ckb_options_t *opts)
{
    const ck_gemm_kernel_t *k = kernel_at_cap();
    int registered = 0;
    for (int i = 0; i < COUNT(sgemm_problems); i++) {
        if (opts->max_cases > 0 && i >= opts->max_cases)
            break;
        const sgemm_problem_t *p = &sgemm_problems[i];
        const double flops = 2.0 * (double)p->m * (double)p->n * (double)p->k;
        const double bytes = 4.0 * (double)(p->m * p->k + p->k * p->n + p->m * p->n);
        char problem[64], text[160];
        snprintf(problem, sizeof problem, "sgemm/%lldx%lldx%lld", (long long)p->m,
                 (long long)p->n, (long long)p->k);
        snprintf(text, sizeof text, "M%lld N%lld K%lld (%s), %s %s", (long long)p->m,
                 (long long)p->n, (long long)p->k, p->what, k->name, isa_name(k->isa));
        ckb_report_note_case(SUITE, problem, text, flops, bytes, k->isa);
        if (!add_case(problem, CKB_PEER_CONVKIT, KIND_SGEMM, k, p->m, p->n, p->k, flops, bytes,
                      opts, 0))
            return -1;
        registered++;
        if (opts->with_scalar) {
            if (!add_case(problem, CKB_PEER_SCALAR, KIND_SGEMM, scalar_kernel(), p->m, p->n, p->k,
                          flops, bytes, opts,
                          ckb_slow_case_iterations(flops / SCALAR_GEMM_FLOPS_ESTIMATE, opts)))
                return -1;
            registered++;
        }
#ifdef CONVKIT_BENCH_HAVE_ONEDNN
        if (opts->with_onednn) {
            if (!add_case(problem, CKB_PEER_ONEDNN_ANY, KIND_ONEDNN, NULL, p->m, p->n, p->k, flops,
                          bytes, opts, 0))
                return -1;
            registered++;
        }
#endif
    }
    return registered;
}

static int reg_gemm(const ckb_options_t *opts)
{
    int a = register_ukernels(opts);
    int b = a < 0 ? -1 : register_sgemm(opts);
    if (a < 0 || b < 0) {
        fprintf(stderr, "convkit-bench: " SUITE ": out of memory registering cases\n");
        return -1;
    }
    return a + b;
}

const ckb_suite_t ckb_suite_gemm_ukernel = {
    SUITE,
    "f32 GEMM microkernels on packed L1/L2-resident panels (% of their ISA's peak), and "
    "the blocked SGEMM vs oneDNN's dnnl_sgemm",
    true, false, reg_gemm};
