/*
 * peer-onednn.h - oneDNN (Debian's libdnnl-dev, 2.x C API) as a benchmark
 * peer: convolution forward / backward-data / backward-weights and max
 * pooling forward (with its argmax workspace) / backward, for one
 * ckb_shape_t, and its row-major sgemm (ckb_onednn_sgemm, at the end).
 * Compiled only when CMake finds oneDNN, which then defines
 * CONVKIT_BENCH_HAVE_ONEDNN=1 for the benchmark sources.
 *
 * A peer object lives in two stages, so that registering hundreds of cases
 * stays cheap and only the cases in flight hold memory:
 *   ckb_onednn_create   builds the primitive descriptors only: it validates
 *                       the problem (oneDNN rejects what it cannot do, e.g.
 *                       a size that disagrees with the padding) and tells
 *                       which implementation oneDNN chose;
 *   ckb_onednn_setup    creates the primitives and the tensors (random data,
 *                       weights reordered once into the layout oneDNN wants,
 *                       a pooling workspace filled by one forward run) and
 *                       runs the primitive once, untimed;
 *   ckb_onednn_run      executes the timed primitive once and waits;
 *   ckb_onednn_release  frees what setup made (setup may be called again);
 *   ckb_onednn_destroy  frees everything.
 * One engine (CPU, index 0) and one in-order stream serve every peer; they
 * are created on first use and destroyed by ckb_onednn_shutdown.
 */
#ifndef CONVKIT_BENCH_PEER_ONEDNN_H
#define CONVKIT_BENCH_PEER_ONEDNN_H

#include <stddef.h>
#include <stdint.h>

#include "shapes.h"

typedef enum ckb_onednn_op {
    CKB_ONEDNN_CONV_FWD,         /* prop forward_inference, no bias */
    CKB_ONEDNN_CONV_BWD_DATA,    /* diff_src from diff_dst and weights */
    CKB_ONEDNN_CONV_BWD_WEIGHTS, /* diff_weights from src and diff_dst, no bias */
    CKB_ONEDNN_POOL_FWD,         /* max, prop forward_training: writes the workspace */
    CKB_ONEDNN_POOL_BWD          /* max, diff_src from diff_dst and the workspace */
} ckb_onednn_op_t;

typedef enum ckb_onednn_layout {
    /* oneDNN's own layouts.  Convolution: every tensor descriptor is
     * format_tag_any, so oneDNN picks (blocked layouts, for its fastest
     * kernels).  Pooling cannot choose its source layout, so it gets the
     * channel-blocked one its jit kernels use: nChw8c, or nChw16c where
     * oneDNN runs AVX-512 code. */
    CKB_ONEDNN_LAYOUT_ANY,
    /* Plain NCHW data and OIHW (GOIHW when grouped) weights. */
    CKB_ONEDNN_LAYOUT_NCHW
} ckb_onednn_layout_t;

typedef struct ckb_onednn ckb_onednn_t;

/* Builds the primitive descriptors for `shape` (a conv shape for the conv
 * ops, a pool shape for the pool ops; the shape's padding is used as is,
 * bottom/right included, and must be >= 0).  Returns NULL and writes a
 * message to err (if not NULL) when oneDNN refuses the problem. */
ckb_onednn_t *ckb_onednn_create(ckb_onednn_op_t op, ckb_onednn_layout_t layout,
                                const ckb_shape_t *shape, char *err, size_t err_size);

/* The forward output dims oneDNN computes for the problem: (N, C, H, W) of
 * the conv or pool destination. */
void ckb_onednn_dst_dims(const ckb_onednn_t *p, int64_t dims[4]);

/* oneDNN's implementation name for the timed primitive ("brg:avx2", "gemm:jit",
 * "ref:any", ...).  Owned by p. */
const char *ckb_onednn_impl(const ckb_onednn_t *p);

/* Bytes setup allocates (tensors, workspace and the scratchpad), an
 * estimate for a memory budget. */
size_t ckb_onednn_footprint(const ckb_onednn_t *p);

/* Returns 0, or -1 with a message in err.  Idempotent. */
int ckb_onednn_setup(ckb_onednn_t *p, char *err, size_t err_size);

/* Executes the primitive once and waits for it.  Returns 0, or -1 with a
 * message in err.  setup must have succeeded. */
int ckb_onednn_run(ckb_onednn_t *p, char *err, size_t err_size);

void ckb_onednn_release(ckb_onednn_t *p);
void ckb_onednn_destroy(ckb_onednn_t *p); /* NULL is a no-op */

/* Destroys the shared engine and stream; call after destroying every peer
 * (a later create makes new ones). */
void ckb_onednn_shutdown(void);

/* oneDNN's dnnl_sgemm, the peer of convkit's SGEMM: C = A B + beta C with
 * A (M x K), B (K x N) and C (M x N) dense and row-major (lda = K, ldb = N,
 * ldc = N), neither transposed, alpha 1, on the threads of OpenMP's current
 * setting.  It needs no engine, no primitive and no setup (its kernels are
 * generated on the first call: run it once untimed).  Returns 0, or -1 with
 * a message in err. */
int ckb_onednn_sgemm(int64_t M, int64_t N, int64_t K, const float *a, const float *b, float beta,
                     float *c, char *err, size_t err_size);

#endif /* CONVKIT_BENCH_PEER_ONEDNN_H */
