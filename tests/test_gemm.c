/*
 * test_gemm.c - the f32 GEMM machinery of src/gemm/:
 *   - every microkernel of f32-gemm.inc that this CPU runs against the
 *     scalar tile (ck_ref_f32_gemm_tile) on every edge tile m in 1..MR,
 *     n in 1..NR and every kc in 1..2*max(MR, NR)+1, beta 0 / 1 / -0.5,
 *     random data within the error bound and small integers exactly, with
 *     C pre-filled with a sentinel around the tile (no stray writes, and
 *     with beta 0 the tile itself holds NaN sentinels that must not be
 *     read), and with PROT_NONE pages right after the packed panels and
 *     after C's last element (over-reads that masks would hide fault);
 *     kernels whose ISA the CPU lacks are skipped, saying so;
 *   - the strided packer against its definition on each code path;
 *   - the blocked driver ck_sgemm against a naive float64 GEMM on every
 *     remainder of M, N and K in 1..2*tile+1 (a sparse cross product),
 *     with row-major, transposed, gapped and negative-stride operands,
 *     shapes spanning several KC/MC/NC blocks (default and tiny block
 *     sizes), a packing callback standing in for im2col, K == 0, and row
 *     splits that must give bitwise the same result;
 *   - block sizes (also for other machines' cache sizes), workspace bounds
 *     and kernel selection.
 * Bound: |got - exact| <= 2 (K + 1) 2^-24 (sum_k |a b| + |beta c|).
 */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "conv-gemm/conv-gemm.h"
#include "gemm/gemm.h"
#include "test_support.h"

/* The list as the dispatcher sees it, including kernels the CPU lacks. */
static const ck_gemm_kernel_t list[] = {
#define CK_GEMM_KERNEL(isa, mr, nr, fn) {isa, mr, nr, #fn, fn},
#include "gemm/f32-gemm.inc"
#undef CK_GEMM_KERNEL
};
#define LIST_COUNT ((int)(sizeof list / sizeof list[0]))

static const double U = 0x1p-24;

/* Skips the test (with the reason in the report) if the CPU lacks the ISA. */
static void require_isa(const ck_gemm_kernel_t *k)
{
    if (!convkit_isa_supported(k->isa))
        cr_skip_test("%s needs ISA '%s', which this CPU lacks: not run here", k->name,
                     convkit_isa_name(k->isa));
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    cr_assert_not_null(p);
    return p;
}

static float rand_val(tk_rng_t *r, bool ints)
{
    return ints ? (float)tk_rng_range(r, -4, 4) : tk_rng_float(r, -1.0f, 1.0f);
}

/* ---- C buffers with a sentinel frame ------------------------------------------ */

/* A rows x cols C block inside a larger allocation: ldc = cols + 5, one
 * guard row above and below, 2 columns before, TK_GUARD elements at both
 * ends; everything starts as the sentinel. */
typedef struct cbuf {
    float *mem, *c;
    int64_t rows, cols, ldc, n;
} cbuf_t;

static cbuf_t cbuf_new(int64_t rows, int64_t cols)
{
    cbuf_t b = {.rows = rows, .cols = cols, .ldc = cols + 5};
    b.n = 2 * TK_GUARD + (rows + 2) * b.ldc;
    b.mem = xmalloc((size_t)b.n * sizeof(float));
    for (int64_t i = 0; i < b.n; i++) b.mem[i] = tk_sentinel_f32();
    b.c = b.mem + TK_GUARD + b.ldc + 2;
    return b;
}

static bool cbuf_inside(const cbuf_t *b, int64_t idx, int64_t m, int64_t n)
{
    const int64_t off = idx - (b->c - b->mem);
    if (off < 0) return false;
    const int64_t i = off / b->ldc, j = off % b->ldc;
    return i < m && j < n;
}

/* Every element outside the m x n tile still holds the sentinel. */
static bool cbuf_frame_intact(const cbuf_t *b, int64_t m, int64_t n, char *msg, size_t len)
{
    for (int64_t i = 0; i < b->n; i++)
        if (!cbuf_inside(b, i, m, n) && !tk_is_sentinel_f32(b->mem[i])) {
            const int64_t off = i - (b->c - b->mem);
            snprintf(msg, len, "stray write at offset %lld from C (row %lld, ldc %lld): %g",
                     (long long)off, (long long)(off >= 0 ? off / b->ldc : -1),
                     (long long)b->ldc, (double)b->mem[i]);
            return false;
        }
    return true;
}

/* ---- microkernels against the scalar tile ------------------------------------ */

static int kernel_ids[LIST_COUNT];

ParameterizedTestParameters(ukernel, matches_scalar_tile)
{
    for (int i = 0; i < LIST_COUNT; i++) kernel_ids[i] = i;
    return cr_make_param_array(int, kernel_ids, LIST_COUNT);
}

/* One call of kernel k on an m x n tile with kc steps; returns failures. */
static int ukernel_case(const ck_gemm_kernel_t *k, int64_t m, int64_t n, int64_t kc, float beta,
                        bool ints, bool misalign, tk_rng_t *r, float *apan, float *bpan,
                        float *c0, cbuf_t *got, cbuf_t *want)
{
    const int64_t mr = k->mr, nr = k->nr;
    /* packed panels, zero past m / n as the contract says; optionally at
     * an odd float offset (kernels must not assume alignment) */
    float *a = apan + misalign, *b = bpan + misalign;
    for (int64_t p = 0; p < kc; p++) {
        for (int64_t i = 0; i < mr; i++) a[p * mr + i] = i < m ? rand_val(r, ints) : 0.0f;
        for (int64_t j = 0; j < nr; j++) b[p * nr + j] = j < n ? rand_val(r, ints) : 0.0f;
    }
    for (int64_t i = 0; i < got->n; i++) got->mem[i] = want->mem[i] = tk_sentinel_f32();
    if (beta != 0.0f)
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++)
                got->c[i * got->ldc + j] = want->c[i * want->ldc + j] = c0[i * n + j] =
                    rand_val(r, ints);
    /* beta == 0: the tile holds NaN sentinels, which must not be read */

    k->ukernel((size_t)m, (size_t)n, (size_t)kc, a, b, got->c, (size_t)got->ldc, beta);
    ck_ref_f32_gemm_tile((size_t)mr, (size_t)nr, (size_t)m, (size_t)n, (size_t)kc, a, b, want->c,
                         (size_t)want->ldc, beta);

    char msg[300];
    int bad = 0;
    if (!cbuf_frame_intact(got, m, n, msg, sizeof msg)) {
        cr_expect(false, "%s m=%lld n=%lld kc=%lld beta=%g: %s", k->name, (long long)m,
                  (long long)n, (long long)kc, (double)beta, msg);
        bad++;
    }
    for (int64_t i = 0; i < m && bad < 4; i++)
        for (int64_t j = 0; j < n; j++) {
            const float g = got->c[i * got->ldc + j], w = want->c[i * want->ldc + j];
            double mag = beta != 0.0f ? fabs((double)beta * c0[i * n + j]) : 0.0;
            for (int64_t p = 0; p < kc; p++) mag += fabs((double)a[p * mr + i] * b[p * nr + j]);
            const double tol = ints ? 0.0 : 2.0 * 2.0 * (double)(kc + 1) * U * mag;
            if (!(fabs((double)g - (double)w) <= tol)) {
                cr_expect(false,
                          "%s m=%lld n=%lld kc=%lld beta=%g %s: C[%lld][%lld] = %.9g, scalar "
                          "tile %.9g (tol %.3g)%s",
                          k->name, (long long)m, (long long)n, (long long)kc, (double)beta,
                          ints ? "ints" : "random", (long long)i, (long long)j, (double)g,
                          (double)w, tol, tk_is_sentinel_f32(g) ? " (never written)" : "");
                bad++;
                break;
            }
        }
    return bad;
}

ParameterizedTest(int *idx, ukernel, matches_scalar_tile)
{
    const ck_gemm_kernel_t *k = &list[*idx];
    require_isa(k);
    const int64_t mr = k->mr, nr = k->nr;
    const int64_t kmax = 2 * (mr > nr ? mr : nr) + 1;
    float *apan = xmalloc((size_t)(kmax * mr + 1) * sizeof(float));
    float *bpan = xmalloc((size_t)(kmax * nr + 1) * sizeof(float));
    float *c0 = xmalloc((size_t)(mr * nr) * sizeof(float));
    cbuf_t got = cbuf_new(mr, nr), want = cbuf_new(mr, nr);
    tk_rng_t r;
    tk_rng_seed(&r, 0x6e33u + (uint64_t)*idx);
    static const float betas[] = {0.0f, 1.0f, -0.5f};
    int bad = 0;
    long calls = 0;
    for (int64_t kc = 1; kc <= kmax && bad < 8; kc++)
        for (int64_t m = 1; m <= mr; m++)
            for (int64_t n = 1; n <= nr; n++) {
                /* beta 0 and 1 everywhere, -0.5 on a third of the tiles */
                for (int bi = 0; bi < 3; bi++) {
                    if (bi == 2 && (m + n + kc) % 3 != 0) continue;
                    const bool mis = (m + n + kc + bi) % 2 == 1;
                    for (int ints = 0; ints < 2; ints++, calls++)
                        bad += ukernel_case(k, m, n, kc, betas[bi], ints, mis, &r, apan, bpan,
                                            c0, &got, &want);
                }
            }
    cr_log_info("%s (%lldx%lld): %ld calls, %d failures", k->name, (long long)mr, (long long)nr,
                calls, bad);
    free(apan);
    free(bpan);
    free(c0);
    free(got.mem);
    free(want.mem);
}

ParameterizedTestParameters(ukernel, no_access_past_the_tile)
{
    for (int i = 0; i < LIST_COUNT; i++) kernel_ids[i] = i;
    return cr_make_param_array(int, kernel_ids, LIST_COUNT);
}

/* Reads past the tile do not change values (masked lanes are discarded),
 * so they are caught with a PROT_NONE page right after the last element of
 * C (m-1, n-1), and right after the packed panels: any over-read faults. */
ParameterizedTest(int *idx, ukernel, no_access_past_the_tile)
{
    const ck_gemm_kernel_t *k = &list[*idx];
    require_isa(k);
    const size_t page = (size_t)sysconf(_SC_PAGESIZE);
    const int64_t mr = k->mr, nr = k->nr, kc = 3, ldc = nr + 3;
    const size_t span = (size_t)(mr * ldc + kc * (mr + nr)) * sizeof(float);
    const size_t len = (span + page - 1) / page * page + page;
    unsigned char *mem =
        mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    cr_assert(mem != MAP_FAILED);
    cr_assert_eq(mprotect(mem + len - page, page, PROT_NONE), 0);
    float *const end = (float *)(void *)(mem + len - page);
    tk_rng_t r;
    tk_rng_seed(&r, 3);
    float *const start = (float *)(void *)mem;
    for (int64_t m = 1; m <= mr; m++)
        for (int64_t n = 1; n <= nr; n++)
            for (int beta_i = 0; beta_i < 2; beta_i++) {
                /* 1: the panels end at the guard page, C at the start */
                float *b = end - kc * nr, *a = b - kc * mr;
                for (int64_t i = 0; i < kc * nr; i++) b[i] = rand_val(&r, true);
                for (int64_t i = 0; i < kc * mr; i++) a[i] = rand_val(&r, true);
                k->ukernel((size_t)m, (size_t)n, (size_t)kc, a, b, start, (size_t)ldc,
                           (float)beta_i);
                /* 2: the panels at the start, C's element (m-1, n-1) last */
                a = start;
                b = a + kc * mr;
                for (int64_t i = 0; i < kc * (mr + nr); i++) a[i] = rand_val(&r, true);
                k->ukernel((size_t)m, (size_t)n, (size_t)kc, a, b, end - (m - 1) * ldc - n,
                           (size_t)ldc, (float)beta_i);
            }
    munmap(mem, len);
}

/* The scalar tile itself against float64 sums on small integers (where
 * both are exact), so the oracle is checked too. */
Test(ukernel, scalar_tile_is_exact_on_integers)
{
    tk_rng_t r;
    tk_rng_seed(&r, 99);
    enum { MR = 5, NR = 7, KC = 23 };
    float a[KC * MR], b[KC * NR];
    for (int i = 0; i < KC * MR; i++) a[i] = rand_val(&r, true);
    for (int i = 0; i < KC * NR; i++) b[i] = rand_val(&r, true);
    for (int beta_i = 0; beta_i < 2; beta_i++) {
        float c[MR][NR + 1], c0[MR][NR + 1];
        for (int i = 0; i < MR; i++)
            for (int j = 0; j <= NR; j++) c[i][j] = c0[i][j] = rand_val(&r, true);
        ck_ref_f32_gemm_tile(MR, NR, MR, NR, KC, a, b, &c[0][0], NR + 1, (float)beta_i);
        for (int i = 0; i < MR; i++) {
            for (int j = 0; j < NR; j++) {
                double s = beta_i * (double)c0[i][j];
                for (int p = 0; p < KC; p++) s += (double)a[p * MR + i] * b[p * NR + j];
                cr_expect_eq((double)c[i][j], s, "beta %d C[%d][%d] = %g, want %g", beta_i, i,
                             j, (double)c[i][j], s);
            }
            cr_expect_eq(c[i][NR], c0[i][NR], "column past n written");
        }
    }
}

/* ---- packing ----------------------------------------------------------------- */

Test(pack, strided_matrix_matches_definition)
{
    tk_rng_t r;
    tk_rng_seed(&r, 7);
    enum { X = 71, KK = 19 };
    float src[X * KK * 3];
    for (int i = 0; i < X * KK * 3; i++) src[i] = (float)(i + 1);
    /* element (x, k) at data[x*sx + k*sk]: x-contiguous, k-contiguous,
     * neither (gapped), negative */
    const struct { int64_t sx, sk, origin; } cases[] = {
        {1, X, 0}, {KK, 1, 0}, {3 * KK, 2, 0}, {-1, -X, X * KK - 1}, {2, 0, 0}};
    for (size_t t = 0; t < sizeof cases / sizeof cases[0]; t++) {
        const ck_gemm_matrix_t mat = {src + cases[t].origin, cases[t].sx, cases[t].sk};
        /* the widths with a constant-width copy, and others */
        static const int64_t widths[] = {1, 4, 5, 6, 8, 14, 16, 24, 32};
        for (size_t wi = 0; wi < sizeof widths / sizeof widths[0]; wi++)
            for (int rep = 0; rep < 4; rep++) {
                const int64_t w = widths[wi];
                const int64_t x0 = tk_rng_range(&r, 0, 5), k0 = tk_rng_range(&r, 0, 5);
                const int64_t xn = rep == 0 ? X - x0 : tk_rng_range(&r, 1, X - x0);
                const int64_t kn = tk_rng_range(&r, 1, KK - k0);
                const int64_t panels = (xn + w - 1) / w, total = panels * w * kn;
                float *dst = xmalloc((size_t)(total + 8) * sizeof(float));
                for (int64_t i = 0; i < total + 8; i++) dst[i] = tk_sentinel_f32();
                ck_gemm_pack_matrix(&mat, x0, xn, k0, kn, w, dst);
                for (int64_t p = 0; p < panels; p++)
                    for (int64_t k = 0; k < kn; k++)
                        for (int64_t i = 0; i < w; i++) {
                            const int64_t x = p * w + i;
                            const float want =
                                x < xn ? mat.data[(x0 + x) * mat.sx + (k0 + k) * mat.sk] : 0.0f;
                            const float got = dst[p * w * kn + k * w + i];
                            cr_expect(tk_f32_bits(got) == tk_f32_bits(want),
                                      "case %zu w=%lld x0=%lld xn=%lld k0=%lld kn=%lld: panel "
                                      "%lld k %lld slot %lld = %g, want %g",
                                      t, (long long)w, (long long)x0, (long long)xn,
                                      (long long)k0, (long long)kn, (long long)p, (long long)k,
                                      (long long)i, (double)got, (double)want);
                        }
                for (int64_t i = total; i < total + 8; i++)
                    cr_expect(tk_is_sentinel_f32(dst[i]), "case %zu: write past the panels", t);
                free(dst);
            }
    }
}

/* ---- the driver against float64 ----------------------------------------------- */

/* An input matrix rows x cols in one of several layouts. */
typedef enum { L_ROW, L_COL, L_GAPS, L_NEG, L_COUNT } layout_t;
static const char *const layout_names[] = {"row-major", "transposed", "gapped", "negative"};

typedef struct mat {
    float *mem, *data;
    int64_t rows, cols, rs, cs;
} mat_t;

static mat_t mat_new(int64_t rows, int64_t cols, layout_t l, tk_rng_t *r, bool ints)
{
    mat_t m = {.rows = rows, .cols = cols};
    int64_t n = rows * cols, origin = 0;
    switch (l) {
    case L_ROW: m.rs = cols; m.cs = 1; break;
    case L_COL: m.rs = 1; m.cs = rows; break;
    case L_GAPS: m.rs = 2 * (cols + 3); m.cs = 2; n = rows * m.rs; break;
    default: m.rs = -cols; m.cs = -1; origin = n - 1; break;
    }
    m.mem = xmalloc((size_t)n * sizeof(float));
    for (int64_t i = 0; i < n; i++) m.mem[i] = tk_sentinel_f32(); /* gaps */
    m.data = m.mem + origin;
    for (int64_t i = 0; i < rows; i++)
        for (int64_t j = 0; j < cols; j++) m.data[i * m.rs + j * m.cs] = rand_val(r, ints);
    return m;
}

static float mat_at(const mat_t *m, int64_t i, int64_t j) { return m->data[i * m->rs + j * m->cs]; }

/* Checks C (got, with c0 the values before the call) against float64
 * A B + beta c0: exactly on integer data, else within the bound. */
static int check_gemm(const char *what, const mat_t *a, const mat_t *b, const cbuf_t *got,
                      const float *c0, float beta, bool ints)
{
    const int64_t M = a->rows, K = a->cols, N = b->cols;
    char msg[300];
    if (!cbuf_frame_intact(got, M, N, msg, sizeof msg)) {
        cr_expect(false, "%s: %s", what, msg);
        return 1;
    }
    for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < N; j++) {
            double s = 0.0, mag = 0.0;
            if (beta != 0.0f) {
                s = (double)beta * c0[i * N + j];
                mag = fabs(s);
            }
            for (int64_t p = 0; p < K; p++) {
                const double t = (double)mat_at(a, i, p) * mat_at(b, p, j);
                s += t;
                mag += fabs(t);
            }
            const float g = got->c[i * got->ldc + j];
            const double tol = ints ? 0.0 : 2.0 * (double)(K + 1) * U * mag;
            if (!(fabs((double)g - s) <= tol)) {
                cr_expect(false, "%s: C[%lld][%lld] = %.9g, want %.9g (tol %.3g)%s", what,
                          (long long)i, (long long)j, (double)g, s, tol,
                          tk_is_sentinel_f32(g) ? " (never written)" : "");
                return 1;
            }
        }
    return 0;
}

/* C buffer for M x N: sentinel frame, and the tile set to random c0 (beta
 * != 0) or left as NaN sentinels (beta == 0: must not be read). */
static cbuf_t c_setup(int64_t M, int64_t N, float beta, bool ints, tk_rng_t *r, float **c0)
{
    cbuf_t c = cbuf_new(M, N);
    *c0 = xmalloc((size_t)(M * N) * sizeof(float));
    for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < N; j++) {
            const float v = beta != 0.0f ? rand_val(r, ints) : tk_sentinel_f32();
            c.c[i * c.ldc + j] = (*c0)[i * N + j] = v;
        }
    return c;
}

/* One ck_sgemm_ex run with strided operands; returns failures. */
static int sgemm_case(const ck_gemm_kernel_t *k, const ck_gemm_blocking_t *blk, int64_t M,
                      int64_t N, int64_t K, layout_t la, layout_t lb, float beta, bool ints,
                      tk_rng_t *r)
{
    mat_t a = mat_new(M, K, la, r, ints), b = mat_new(K, N, lb, r, ints);
    float *c0;
    cbuf_t c = c_setup(M, N, beta, ints, r, &c0);
    const size_t ws = ck_sgemm_workspace_size(k, blk, M, N, K);
    void *work = xmalloc(ws); /* exactly the size: ASan catches overruns */
    const ck_gemm_matrix_t am = {a.data, a.rs, a.cs}, bm = {b.data, b.cs, b.rs};
    const ck_gemm_operand_t aop = {ck_gemm_pack_matrix, &am}, bop = {ck_gemm_pack_matrix, &bm};
    ck_sgemm_ex(k, blk, M, N, K, &aop, &bop, c.c, c.ldc, beta, work);
    char what[200];
    snprintf(what, sizeof what, "%s M=%lld N=%lld K=%lld A %s B %s beta=%g %s%s", k->name,
             (long long)M, (long long)N, (long long)K, layout_names[la], layout_names[lb],
             (double)beta, ints ? "ints" : "random", blk ? " (small blocks)" : "");
    const int bad = check_gemm(what, &a, &b, &c, c0, beta, ints);
    free(work);
    free(a.mem);
    free(b.mem);
    free(c.mem);
    free(c0);
    return bad;
}

ParameterizedTestParameters(sgemm, every_remainder)
{
    for (int i = 0; i < LIST_COUNT; i++) kernel_ids[i] = i;
    return cr_make_param_array(int, kernel_ids, LIST_COUNT);
}

/* Every M in 1..2MR+1, every N in 1..2NR+1, every K in 1..2*max+1; the
 * other two dimensions, the layouts, beta and the data kind rotate. */
ParameterizedTest(int *idx, sgemm, every_remainder)
{
    const ck_gemm_kernel_t *k = &list[*idx];
    require_isa(k);
    const int64_t mr = k->mr, nr = k->nr, tmax = 2 * (mr > nr ? mr : nr) + 1;
    tk_rng_t r;
    tk_rng_seed(&r, 0x5e11u + (uint64_t)*idx);
    int bad = 0, runs = 0;
    for (int dim = 0; dim < 3; dim++) {
        const int64_t hi = dim == 0 ? 2 * mr + 1 : dim == 1 ? 2 * nr + 1 : tmax;
        for (int64_t v = 1; v <= hi && bad < 8; v++) {
            const int64_t s = v + 7 * dim;
            const int64_t M = dim == 0 ? v : 1 + (s * 5) % (2 * mr + 1);
            const int64_t N = dim == 1 ? v : 1 + (s * 7) % (2 * nr + 1);
            const int64_t K = dim == 2 ? v : 1 + (s * 11) % tmax;
            const layout_t la = (layout_t)(s % L_COUNT);
            const layout_t lb = (layout_t)((s / L_COUNT + dim) % L_COUNT);
            for (int beta_i = 0; beta_i < 2; beta_i++, runs += 2) {
                bad += sgemm_case(k, NULL, M, N, K, la, lb, (float)beta_i, true, &r);
                bad += sgemm_case(k, NULL, M, N, K, la, lb, (float)beta_i, false, &r);
            }
        }
    }
    cr_log_info("%s: %d driver runs, %d failures", k->name, runs, bad);
}

ParameterizedTestParameters(sgemm, several_blocks)
{
    for (int i = 0; i < LIST_COUNT; i++) kernel_ids[i] = i;
    return cr_make_param_array(int, kernel_ids, LIST_COUNT);
}

/* Shapes crossing KC, MC and NC block boundaries: tiny block sizes on
 * modest shapes (every operand layout), and the default block sizes on
 * shapes just past one KC/MC/NC block. */
ParameterizedTest(int *idx, sgemm, several_blocks)
{
    const ck_gemm_kernel_t *k = &list[*idx];
    require_isa(k);
    const int64_t mr = k->mr, nr = k->nr;
    tk_rng_t r;
    tk_rng_seed(&r, 0xb10c + (uint64_t)*idx);
    const ck_gemm_blocking_t tiny = {.kc = 9, .mc = 2 * mr, .nc = 2 * nr};
    for (int la = 0; la < L_COUNT; la++)
        for (int lb = 0; lb < L_COUNT; lb++) {
            const bool ints = (la + lb) % 2 == 0;
            sgemm_case(k, &tiny, 5 * mr + 3, 5 * nr + 5, 4 * tiny.kc + 2, (layout_t)la,
                       (layout_t)lb, (float)(lb % 2), ints, &r);
        }
    const ck_gemm_blocking_t d = ck_gemm_blocking(k);
    /* past NC and KC with few rows; past MC and KC with few columns */
    sgemm_case(k, NULL, mr + 1, d.nc + nr + 3, d.kc + 5, L_ROW, L_ROW, 1.0f, false, &r);
    sgemm_case(k, NULL, 2 * d.mc + 1, nr + 3, 2 * d.kc + 1, L_COL, L_GAPS, 0.0f, true, &r);
    sgemm_case(k, NULL, d.mc + mr + 1, 2 * nr + 1, d.kc + 1, L_ROW, L_COL, 0.0f, false, &r);
}

/* The result of a row or column block does not depend on where the
 * caller splits M and N (the property threading relies on). */
Test(sgemm, splits_are_bitwise_identical)
{
    const int n = ck_gemm_kernel_count();
    for (int ki = 0; ki < n; ki++) {
        const ck_gemm_kernel_t *k = ck_gemm_kernel_at(ki);
        tk_rng_t r;
        tk_rng_seed(&r, 31 + (uint64_t)ki);
        const int64_t M = 3 * k->mr + 2, N = 3 * k->nr + 3, K = 300;
        mat_t a = mat_new(M, K, L_ROW, &r, false), b = mat_new(K, N, L_ROW, &r, false);
        float *whole = xmalloc((size_t)(M * N) * sizeof(float));
        float *split = xmalloc((size_t)(M * N) * sizeof(float));
        void *work = xmalloc(ck_sgemm_workspace_size(k, NULL, M, N, K));
        ck_sgemm(k, M, N, K, a.data, a.rs, a.cs, b.data, b.rs, b.cs, whole, N, 0.0f, work);
        const int64_t ms = k->mr + 1, ns = k->nr - 3; /* not tile multiples */
        const int64_t rows[3] = {0, ms, M}, cols[3] = {0, ns, N};
        for (int bi = 0; bi < 2; bi++)
            for (int bj = 0; bj < 2; bj++) {
                const int64_t m0 = rows[bi], mm = rows[bi + 1] - m0;
                const int64_t n0 = cols[bj], nn = cols[bj + 1] - n0;
                ck_sgemm(k, mm, nn, K, a.data + m0 * a.rs, a.rs, a.cs, b.data + n0 * b.cs, b.rs,
                         b.cs, split + m0 * N + n0, N, 0.0f, work);
            }
        cr_expect(memcmp(whole, split, (size_t)(M * N) * sizeof(float)) == 0,
                  "%s: split result differs from the whole", k->name);
        free(work);
        free(whole);
        free(split);
        free(a.mem);
        free(b.mem);
    }
}

/* K == 0: C = beta C, and beta 0 writes zeros without reading C. */
Test(sgemm, empty_reduction_scales_c)
{
    const ck_gemm_kernel_t *k = ck_select_gemm(convkit_get_max_isa());
    tk_rng_t r;
    tk_rng_seed(&r, 5);
    for (int beta_i = 0; beta_i < 3; beta_i++) {
        const float beta = beta_i == 2 ? -2.0f : (float)beta_i;
        float *c0;
        cbuf_t c = c_setup(3, 5, beta, true, &r, &c0);
        ck_sgemm(k, 3, 5, 0, NULL, 0, 0, NULL, 0, 0, c.c, c.ldc, beta, NULL);
        char msg[300];
        cr_expect(cbuf_frame_intact(&c, 3, 5, msg, sizeof msg), "%s", msg);
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 5; j++) {
                const float want = beta == 0.0f ? 0.0f : beta * c0[i * 5 + j];
                cr_expect_eq(c.c[i * c.ldc + j], want, "beta %g C[%d][%d]", (double)beta, i, j);
            }
        /* M or N zero: nothing happens */
        ck_sgemm(k, 0, 5, 4, NULL, 0, 0, NULL, 0, 0, c.c, c.ldc, 0.0f, NULL);
        ck_sgemm(k, 3, 0, 4, NULL, 0, 0, NULL, 0, 0, c.c, c.ldc, 0.0f, NULL);
        free(c.mem);
        free(c0);
    }
}

/* A packing callback that computes B(k, n) on the fly, as im2col will:
 * the driver must reach B only through the hook. */
typedef struct gen_ctx {
    int64_t calls;
} gen_ctx_t;

static float gen_b(int64_t k, int64_t n) { return (float)((k * 7 + n * 3) % 9 - 4); }

static void gen_pack(const void *ctx, int64_t x0, int64_t xn, int64_t k0, int64_t kn, int64_t w,
                     float *dst)
{
    ((gen_ctx_t *)(uintptr_t)ctx)->calls++;
    for (int64_t p = 0; p * w < xn; p++)
        for (int64_t k = 0; k < kn; k++)
            for (int64_t i = 0; i < w; i++) {
                const int64_t x = p * w + i;
                dst[p * w * kn + k * w + i] = x < xn ? gen_b(k0 + k, x0 + x) : 0.0f;
            }
}

Test(sgemm, b_through_a_packing_callback)
{
    const int n = ck_gemm_kernel_count();
    for (int ki = 0; ki < n; ki++) {
        const ck_gemm_kernel_t *k = ck_gemm_kernel_at(ki);
        tk_rng_t r;
        tk_rng_seed(&r, 77);
        const int64_t M = 2 * k->mr + 1, N = 3 * k->nr + 2, K = 40;
        const ck_gemm_blocking_t blk = {.kc = 16, .mc = k->mr, .nc = 2 * k->nr};
        mat_t a = mat_new(M, K, L_GAPS, &r, true);
        mat_t b = mat_new(K, N, L_ROW, &r, true);
        for (int64_t p = 0; p < K; p++)
            for (int64_t j = 0; j < N; j++) b.data[p * b.rs + j] = gen_b(p, j);
        float *c0;
        cbuf_t c = c_setup(M, N, 0.0f, true, &r, &c0);
        gen_ctx_t gen = {0};
        const ck_gemm_matrix_t am = {a.data, a.rs, a.cs};
        const ck_gemm_operand_t aop = {ck_gemm_pack_matrix, &am}, bop = {gen_pack, &gen};
        void *work = xmalloc(ck_sgemm_workspace_size(k, &blk, M, N, K));
        ck_sgemm_ex(k, &blk, M, N, K, &aop, &bop, c.c, c.ldc, 0.0f, work);
        /* NC blocks x KC blocks */
        cr_expect_eq(gen.calls, ((N + blk.nc - 1) / blk.nc) * ((K + blk.kc - 1) / blk.kc),
                     "%s: %lld pack calls", k->name, (long long)gen.calls);
        check_gemm(k->name, &a, &b, &c, c0, 0.0f, true);
        free(work);
        free(a.mem);
        free(b.mem);
        free(c.mem);
        free(c0);
    }
}

/* ---- block sizes, workspace, selection ------------------------------------------ */

Test(blocking, sizes_fit_the_caches_and_the_workspace_limit)
{
    int64_t l1, l2, l3;
    ck_gemm_cache_sizes(&l1, &l2, &l3);
    cr_expect(l1 >= 16 * 1024 && l1 <= 64 * 1024, "L1 %lld", (long long)l1);
    cr_expect(l2 >= 128 * 1024 && l2 <= 4 * 1024 * 1024, "L2 %lld", (long long)l2);
    cr_expect(l3 >= 1024 * 1024, "L3 %lld", (long long)l3);
    for (int i = 0; i < LIST_COUNT; i++) {
        const ck_gemm_kernel_t *k = &list[i];
        const ck_gemm_blocking_t b = ck_gemm_blocking(k);
        cr_log_info("%s: L1 %lld L2 %lld L3 %lld -> KC %lld MC %lld NC %lld, workspace %zu",
                    k->name,
                    (long long)l1, (long long)l2, (long long)l3, (long long)b.kc,
                    (long long)b.mc, (long long)b.nc,
                    ck_sgemm_workspace_size(k, NULL, 1 << 20, 1 << 20, 1 << 20));
        cr_expect(b.kc >= 64 && b.kc % 32 == 0, "%s: KC %lld", k->name, (long long)b.kc);
        cr_expect(b.mc >= k->mr && b.mc % k->mr == 0, "%s: MC %lld", k->name, (long long)b.mc);
        cr_expect(b.nc >= k->nr && b.nc % k->nr == 0, "%s: NC %lld", k->name, (long long)b.nc);
        cr_expect(b.kc * (k->mr + k->nr) * 4 <= l1 || b.kc == 64, "%s: micro-panels exceed L1",
                  k->name);
        cr_expect(b.mc * b.kc * 4 <= l2 || b.mc == k->mr, "%s: A block exceeds L2", k->name);
        /* huge problems stay within the per-thread limit */
        const size_t ws = ck_sgemm_workspace_size(k, NULL, INT64_C(1) << 30, INT64_C(1) << 30,
                                                  INT64_C(1) << 30);
        cr_expect(ws <= CK_GEMM_WORKSPACE_MAX, "%s: workspace %zu", k->name, ws);
        /* small problems need only what they use */
        const size_t small = ck_sgemm_workspace_size(k, NULL, 1, 1, 1);
        cr_expect(small <= (size_t)(4 * (k->mr + k->nr)) + 256, "%s: %zu bytes for 1x1x1",
                  k->name, small);
        cr_expect_eq(ck_sgemm_workspace_size(k, NULL, 0, 5, 5), 0);
        /* other machines: every clamp extreme of the cache sizes */
        static const int64_t l1s[] = {16 << 10, 32 << 10, 48 << 10, 64 << 10};
        static const int64_t l2s[] = {128 << 10, 512 << 10, 1 << 20, 2 << 20, 4 << 20};
        static const int64_t l3s[] = {1 << 20, 8 << 20, 32 << 20, 64 << 20};
        for (int a = 0; a < 4; a++)
            for (int c = 0; c < 5; c++)
                for (int d = 0; d < 4; d++) {
                    const ck_gemm_blocking_t o = ck_gemm_blocking_for(k, l1s[a], l2s[c], l3s[d]);
                    const size_t w = ck_sgemm_workspace_size(k, &o, INT64_C(1) << 30,
                                                             INT64_C(1) << 30, INT64_C(1) << 30);
                    cr_expect(w <= CK_GEMM_WORKSPACE_MAX && o.mc % k->mr == 0 &&
                                  o.nc % k->nr == 0 && o.nc >= k->nr && o.kc >= 64,
                              "%s, L1 %lld L2 %lld L3 %lld: KC %lld MC %lld NC %lld, "
                              "workspace %zu",
                              k->name, (long long)l1s[a], (long long)l2s[c], (long long)l3s[d],
                              (long long)o.kc, (long long)o.mc, (long long)o.nc, w);
                }
    }
}

Test(select, list_order_and_choice)
{
    const int n = ck_gemm_kernel_count();
    cr_assert(n >= 1);
    int supported = 0;
    for (int i = 0; i < LIST_COUNT; i++) supported += convkit_isa_supported(list[i].isa) != 0;
    cr_expect_eq(n, supported, "filtered list has %d kernels, %d supported", n, supported);
    for (int i = 0; i < n; i++) {
        const ck_gemm_kernel_t *k = ck_gemm_kernel_at(i);
        cr_assert_not_null(k);
        cr_expect(convkit_isa_supported(k->isa), "%s unsupported", k->name);
        cr_expect(k->mr >= 1 && k->nr >= 1 && k->ukernel != NULL && k->name != NULL);
        if (i > 0)
            cr_expect(ck_isa_rank(k->isa) <= ck_isa_rank(ck_gemm_kernel_at(i - 1)->isa),
                      "entry %d ranks above entry %d", i, i - 1);
    }
    cr_expect_null(ck_gemm_kernel_at(n));
    cr_expect_null(ck_gemm_kernel_at(-1));
    cr_expect_eq(list[LIST_COUNT - 1].isa, CONVKIT_ISA_SCALAR, "the list must end with scalar");
    cr_expect_eq(ck_gemm_kernel_at(n - 1)->isa, CONVKIT_ISA_SCALAR);
    cr_expect_eq(ck_select_gemm(CONVKIT_ISA_SCALAR)->isa, CONVKIT_ISA_SCALAR);
    const uint32_t isas[] = {CONVKIT_ISA_SCALAR, CONVKIT_ISA_AVX2, CONVKIT_ISA_AVX512,
                             CONVKIT_ISA_NEON};
    for (size_t j = 0; j < 4; j++) {
        if (!convkit_isa_supported(isas[j])) continue;
        const ck_gemm_kernel_t *s = ck_select_gemm(isas[j]);
        cr_expect(ck_isa_rank(s->isa) <= ck_isa_rank(isas[j]), "select(%s) gave %s",
                  convkit_isa_name(isas[j]), convkit_isa_name(s->isa));
        for (int i = 0; i < n && ck_gemm_kernel_at(i) != s; i++)
            cr_expect(ck_isa_rank(ck_gemm_kernel_at(i)->isa) > ck_isa_rank(isas[j]),
                      "select(%s) skipped %s", convkit_isa_name(isas[j]),
                      ck_gemm_kernel_at(i)->name);
    }
    /* under this run's cap (CONVKIT_MAX_ISA) */
    const ck_gemm_kernel_t *s = ck_select_gemm(convkit_get_max_isa());
    cr_expect(ck_isa_rank(s->isa) <= ck_isa_rank(convkit_get_max_isa()));
    cr_log_info("cap %s selects %s", convkit_isa_name(convkit_get_max_isa()), s->name);
    if (!convkit_isa_supported(CONVKIT_ISA_AVX512))
        cr_log_info("this CPU has no AVX-512: the avx512 GEMM kernels are compiled but not run");
}

/* ---- conv-gemm scratch stays within the per-thread limit --------------------------- */

/* A conv problem with dense NCHW (nhwc false) or NHWC operands and OIHW /
 * OHWI weights. */
static ck_conv_problem_t scratch_problem(int64_t n, int64_t cin, int64_t h, int64_t w,
                                         int64_t cout, int64_t k, int64_t stride, int64_t groups,
                                         bool nhwc)
{
    ck_conv_problem_t p = {
        .batch = n, .in_channels = cin, .in_h = h, .in_w = w, .out_channels = cout,
        .out_h = (h - k) / stride + 1, .out_w = (w - k) / stride + 1, .kernel_h = k,
        .kernel_w = k, .stride_h = stride, .stride_w = stride, .dilation_h = 1,
        .dilation_w = 1, .groups = groups,
    };
    const int64_t dims[3][4] = {{n, cin, h, w},
                                {cout, cin / groups, k, k},
                                {n, cout, p.out_h, p.out_w}};
    ck_tensor_t *ts[3] = {&p.src, &p.weight, &p.dst};
    for (int i = 0; i < 3; i++) {
        const int64_t *d = dims[i];
        memcpy(ts[i]->dims, d, sizeof ts[i]->dims);
        if (nhwc) {
            const int64_t s[4] = {d[1] * d[2] * d[3], 1, d[3] * d[1], d[1]};
            memcpy(ts[i]->strides, s, sizeof s);
        } else {
            const int64_t s[4] = {d[1] * d[2] * d[3], d[2] * d[3], d[3], 1};
            memcpy(ts[i]->strides, s, sizeof s);
        }
    }
    return p;
}

Test(conv_gemm, scratch_within_limit_for_any_problem)
{
    /* n cin h w cout k stride groups: ordinary layers, huge planes, huge
     * channel counts, huge kernels, depthwise */
    static const int64_t shapes[][8] = {
        {1, 64, 56, 56, 64, 3, 1, 1},         {8, 2048, 7, 7, 512, 1, 1, 1},
        {1, 3, 4000, 6000, 64, 7, 2, 1},      {1, 1, 1, 5000000, 1, 1, 1, 1},
        {1, 100000, 3, 3, 100000, 3, 1, 1},   {1, 16, 600, 600, 16, 300, 1, 1},
        {2, 4096, 100, 100, 4096, 3, 1, 4096}, {1, 64, 1, 1000000, 128, 1, 1, 1},
        {1, 1, 2000, 2000, 1, 1999, 1, 1},
    };
    for (int ki = 0; ki < ck_gemm_kernel_count(); ki++) {
        const ck_gemm_kernel_t *k = ck_gemm_kernel_at(ki);
        for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
            for (int nhwc = 0; nhwc < 2; nhwc++) {
                const int64_t *s = shapes[i];
                const ck_conv_problem_t p =
                    scratch_problem(s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7], nhwc);
                const size_t f = ck_conv_gemm_forward_scratch(k, &p);
                const size_t d = ck_conv_gemm_backward_data_scratch(k, &p);
                const size_t w = ck_conv_gemm_backward_weights_scratch(k, &p);
                cr_expect(f > 0 && f <= CK_GEMM_WORKSPACE_MAX && d > 0 &&
                              d <= CK_GEMM_WORKSPACE_MAX && w > 0 && w <= CK_GEMM_WORKSPACE_MAX,
                          "%s shape %zu %s: scratch forward %zu, backward-data %zu, "
                          "backward-weights %zu bytes (limit %zu)",
                          k->name, i, nhwc ? "NHWC" : "NCHW", f, d, w,
                          (size_t)CK_GEMM_WORKSPACE_MAX);
            }
    }
}
