/*
 * gemm.h - single-precision GEMM: the microkernel contract, the kernel list,
 * BLIS-style packing and the blocked driver (portable code).
 *
 * The computation is C[M x N] = A[M x K] * B[K x N] + beta * C, C row-major
 * with row stride ldc (column stride 1), A and B read through any element
 * strides (so transposed and strided views need no copy) or through a
 * packing callback that produces the packed panels directly (im2col).
 *
 * Blocking follows BLIS (Van Zee and van de Geijn 2015; Low et al. 2016):
 *
 *   for jc in N by NC:            B block KC x NC  -> packed once, kept in L3
 *     for pc in K by KC:          (beta on the first pc block, 1 afterwards)
 *       pack B[pc, jc] into NR-column micro-panels
 *       for ic in M by MC:        A block MC x KC  -> packed, kept in L2
 *         pack A[ic, pc] into MR-row micro-panels
 *         for jr in NC by NR:     one B micro-panel (KC x NR), kept in L1
 *           for ir in MC by MR:   microkernel: MR x NR tile of C in registers
 *
 * Nothing here allocates: the caller passes a workspace of
 * ck_sgemm_workspace_size() bytes (at most CK_GEMM_WORKSPACE_MAX), and
 * nothing here starts threads (the caller splits M or N across threads, each
 * with its own workspace).
 */
#ifndef CONVKIT_GEMM_H
#define CONVKIT_GEMM_H

#include <stddef.h>
#include <stdint.h>

#include "internal.h"

/* ---- the microkernel ------------------------------------------------------ */

/*
 * A microkernel with tile MR x NR computes
 *
 *   C[i][j] = sum_{k < kc} a[k*MR + i] * b[k*NR + j]   (+ beta * C[i][j])
 *
 * for i < m, j < n, where C[i][j] is c[i*ldc + j]:
 *   - a: packed A micro-panel, kc columns of MR values (row index fastest);
 *   - b: packed B micro-panel, kc rows of NR values (column index fastest);
 *     both hold the full MR / NR values per k, zero-padded past m / n, and
 *     may be unaligned (packed buffers are 64-byte aligned in practice);
 *   - 1 <= m <= MR and 1 <= n <= NR (edge tiles), kc >= 1;
 *   - beta == 0: C is only written, never read (it may hold NaN);
 *     otherwise C = beta * C + the sum (beta == 1 accumulates);
 *   - only the m x n elements are accessed: nothing else in C's rows is
 *     read or written (edge columns use masked stores).
 * The sum over k is accumulated in order k = 0, 1, ... per element (with
 * FMA on SIMD ISAs).  No allocation, no checks, no threads.
 */
typedef void (*ck_f32_gemm_ukernel_fn)(size_t m, size_t n, size_t kc, const float *a,
                                       const float *b, float *c, size_t ldc, float beta);

/* One entry of the kernel list. */
typedef struct ck_gemm_kernel {
    uint32_t isa;     /* CONVKIT_ISA_* the kernel needs */
    int mr, nr;       /* register tile */
    const char *name; /* "6x16" (the plan impl name appends the ISA) */
    ck_f32_gemm_ukernel_fn ukernel;
} ck_gemm_kernel_t;

/* Prototypes of every kernel in the list. */
#define CK_GEMM_KERNEL(isa, mr, nr, fn)                                                       \
    CK_INTERNAL void fn(size_t m, size_t n, size_t kc, const float *a, const float *b,     \
                        float *c, size_t ldc, float beta);
#include "gemm/f32-gemm.inc"
#undef CK_GEMM_KERNEL

/* The oracle (src/ref/f32-gemm-ref.c): the microkernel contract above for
 * any tile mr x nr, in plain loops.  The scalar entry of the list is this
 * function at a fixed tile. */
CK_INTERNAL void ck_ref_f32_gemm_tile(size_t mr, size_t nr, size_t m, size_t n, size_t kc,
                                      const float *a, const float *b, float *c, size_t ldc,
                                      float beta);

/* ---- dispatch (gemm-select.c) ------------------------------------------- */

/* The best kernel whose ISA ranks at or below `isa` (a supported ISA, as
 * returned by ck_plan_isa).  Never NULL: the scalar kernel is last. */
CK_INTERNAL const ck_gemm_kernel_t *ck_select_gemm(uint32_t isa);
/* The kernels of f32-gemm.inc this CPU runs, best first. */
CK_INTERNAL int ck_gemm_kernel_count(void);
CK_INTERNAL const ck_gemm_kernel_t *ck_gemm_kernel_at(int i);

/* ---- block sizes (sgemm.c) ---------------------------------------------- */

/* Per-thread workspace limit (packed A block + packed B block). */
#define CK_GEMM_WORKSPACE_MAX ((size_t)4 << 20)

typedef struct ck_gemm_blocking {
    int64_t kc; /* K block: one B micro-panel (KC x NR) plus A's stay in L1 */
    int64_t mc; /* M block, multiple of MR: packed A (MC x KC) stays in L2 */
    int64_t nc; /* N block, multiple of NR: packed B (KC x NC), within the
                 * workspace limit */
} ck_gemm_blocking_t;

/* Cache sizes in bytes as the blocking sees them: sysconf's
 * _SC_LEVEL1_DCACHE_SIZE / _SC_LEVEL2_CACHE_SIZE / _SC_LEVEL3_CACHE_SIZE,
 * clamped to [16 KiB, 64 KiB], [128 KiB, 4 MiB], [1 MiB, 64 MiB], with
 * 32 KiB / 512 KiB / 8 MiB where the query gives nothing. */
CK_INTERNAL void ck_gemm_cache_sizes(int64_t *l1, int64_t *l2, int64_t *l3);

/* The block sizes of kernel k for cache sizes l1, l2, l3 (bytes):
 *   KC = 3/4 L1 / (4 (MR + NR)) rounded down to a multiple of 32 (>= 64),
 *   MC = min(1/2 L2, 1 MiB) / (4 KC) rounded down to a multiple of MR (>= MR),
 *   NC = min(1/2 L3, the workspace limit less the A block) / (4 KC)
 *        rounded down to a multiple of NR (>= NR),
 * so the workspace stays within CK_GEMM_WORKSPACE_MAX for any cache sizes
 * ck_gemm_cache_sizes reports.  ck_gemm_blocking uses this machine's. */
CK_INTERNAL ck_gemm_blocking_t ck_gemm_blocking_for(const ck_gemm_kernel_t *k, int64_t l1,
                                                    int64_t l2, int64_t l3);
CK_INTERNAL ck_gemm_blocking_t ck_gemm_blocking(const ck_gemm_kernel_t *k);

/* ---- packing -------------------------------------------------------------- */

/*
 * A packer writes the block of an operand with rows x0 .. x0+xn-1 of the
 * "panel" dimension (M for A, N for B) and k0 .. k0+kn-1 of the reduction
 * dimension into ceil(xn / w) micro-panels of width w (MR for A, NR for B):
 * element (x0 + p*w + i, k0 + k) goes to dst[p*w*kn + k*w + i], and the
 * slots past xn in the last panel are zeros.  `ctx` is the packer's own
 * description of the operand.
 */
typedef void (*ck_gemm_pack_fn)(const void *ctx, int64_t x0, int64_t xn, int64_t k0, int64_t kn,
                                int64_t w, float *dst);

typedef struct ck_gemm_operand {
    ck_gemm_pack_fn pack;
    const void *ctx;
} ck_gemm_operand_t;

/* A plain matrix seen along (panel, reduction) dimensions: element (x, k)
 * at data[x * sx + k * sk].  For A (M x K) with row stride rs and column
 * stride cs: sx = rs, sk = cs.  For B (K x N): sx = cs, sk = rs.  Strides
 * may be any value (zero and negative included). */
typedef struct ck_gemm_matrix {
    const float *data;
    int64_t sx, sk;
} ck_gemm_matrix_t;

/* The packer of a ck_gemm_matrix_t (ctx); contiguous fast paths for
 * sx == 1 and sk == 1. */
CK_INTERNAL void ck_gemm_pack_matrix(const void *ctx, int64_t x0, int64_t xn, int64_t k0,
                                     int64_t kn, int64_t w, float *dst);

/* An operand seen from an offset: element (x, k) of the shifted operand is
 * element (x + dx, k + dk) of `op` (a sub-block of a larger operand). */
typedef struct ck_gemm_shifted {
    ck_gemm_operand_t op;
    int64_t dx, dk;
} ck_gemm_shifted_t;

/* The packer of a ck_gemm_shifted_t (ctx). */
CK_INTERNAL void ck_gemm_pack_shifted(const void *ctx, int64_t x0, int64_t xn, int64_t k0,
                                      int64_t kn, int64_t w, float *dst);

/* ---- the driver (sgemm.c) ------------------------------------------------- */

/* Bytes of workspace ck_sgemm / ck_sgemm_ex need for this problem with
 * kernel k and blocking b (NULL: ck_gemm_blocking(k)): the packed A block
 * and B block, each 64-byte aligned inside the workspace.  Never more than
 * CK_GEMM_WORKSPACE_MAX with the default blocking. */
CK_INTERNAL size_t ck_sgemm_workspace_size(const ck_gemm_kernel_t *k,
                                           const ck_gemm_blocking_t *b, int64_t M, int64_t N,
                                           int64_t K);

/* C = A B + beta C with A and B given by packers, kernel k and blocking b
 * (NULL: the default).  M, N, K >= 0; with K == 0, C = beta C (0 if beta is
 * 0).  workspace: ck_sgemm_workspace_size(k, b, M, N, K) bytes, any
 * alignment.  K is cut into ceil(K / KC) equal blocks (the last may be
 * shorter by the rounding); each element of C gets its K products in order
 * k = 0, 1, ..., one K block at a time, so the result does not depend on the
 * M, N blocking or on how the caller splits M and N. */
CK_INTERNAL void ck_sgemm_ex(const ck_gemm_kernel_t *k, const ck_gemm_blocking_t *b, int64_t M,
                             int64_t N, int64_t K, const ck_gemm_operand_t *a,
                             const ck_gemm_operand_t *bop, float *c, int64_t ldc, float beta,
                             void *workspace);

/* A callback the driver runs on each C tile (the microkernel's m x n tile
 * at rows i0.., columns j0.. of C, at c with row stride ldc) right after
 * the microkernel has written that tile's last K block, while it is in
 * L1: the tile holds its final A B + beta C.  For K <= 0 it runs once on
 * the whole of C.  The convolution forward applies its epilogue (bias,
 * activation, residual) here. */
typedef struct ck_gemm_epilogue {
    void (*fn)(const void *ctx, int64_t i0, int64_t j0, int64_t m, int64_t n, float *c,
               int64_t ldc);
    const void *ctx;
} ck_gemm_epilogue_t;

/* ck_sgemm_ex, then `epi` (may be NULL) on every tile as it is finished. */
CK_INTERNAL void ck_sgemm_epi(const ck_gemm_kernel_t *k, const ck_gemm_blocking_t *b,
                              int64_t M, int64_t N, int64_t K, const ck_gemm_operand_t *a,
                              const ck_gemm_operand_t *bop, float *c, int64_t ldc, float beta,
                              const ck_gemm_epilogue_t *epi, void *workspace);

/* C[M x N] (row stride ldc) = A B + beta C with A(i, k) = a[i*rsa + k*csa]
 * and B(k, j) = b[k*rsb + j*csb], default blocking. */
CK_INTERNAL void ck_sgemm(const ck_gemm_kernel_t *k, int64_t M, int64_t N, int64_t K,
                          const float *a, int64_t rsa, int64_t csa, const float *b, int64_t rsb,
                          int64_t csb, float *c, int64_t ldc, float beta, void *workspace);

#endif /* CONVKIT_GEMM_H */
