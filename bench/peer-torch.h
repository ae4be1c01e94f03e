/*
 * peer-torch.h - PyTorch (libtorch's ATen, Debian's libtorch-dev 1.13) as an
 * in-process benchmark peer, behind a C interface: max_pool2d with indices
 * forward / backward (NCHW or channels-last), F.pad's four modes, unfold
 * (im2col), fold (col2im), and conv2d forward / backward-data /
 * backward-weights (groups included, so depthwise too).  Each call is the
 * ATen function PyTorch's Python API reaches, on fp32 tensors, so the
 * figure is what a PyTorch user gets (the output tensor is allocated by
 * every call, as in PyTorch):
 *   pool fwd     at::max_pool2d_with_indices
 *   pool bwd     at::max_pool2d_with_indices_backward (indices from one
 *                untimed forward)
 *   pad          at::pad(src, {l, r, t, b}, mode, value) (F.pad)
 *   unfold/fold  at::im2col / at::col2im (F.unfold / F.fold)
 *   conv fwd     at::convolution, no bias
 *   conv bwd     at::convolution_backward with output_mask {1,0,0} (data)
 *                or {0,1,0} (weights)
 * Compiled only when CMake finds libtorch (it then defines
 * CONVKIT_BENCH_HAVE_TORCH=1 for the benchmark sources).
 *
 * The lifecycle mirrors peer-onednn.h: create (validates, cheap, no
 * tensors), setup (random tensors, one untimed run), run (one timed call),
 * release (frees what setup made), destroy.  No function throws: errors
 * come back as -1 / NULL with a message.
 */
#ifndef CONVKIT_BENCH_PEER_TORCH_H
#define CONVKIT_BENCH_PEER_TORCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ckb_torch_op {
    CKB_TORCH_POOL_FWD,
    CKB_TORCH_POOL_BWD,
    CKB_TORCH_PAD,
    CKB_TORCH_UNFOLD,
    CKB_TORCH_FOLD,
    CKB_TORCH_CONV_FWD,
    CKB_TORCH_CONV_BWD_DATA,
    CKB_TORCH_CONV_BWD_WEIGHTS
} ckb_torch_op_t;

/* PyTorch's pad modes, in convkit's CONVKIT_PAD_* order. */
typedef enum ckb_torch_pad_mode {
    CKB_TORCH_PAD_CONSTANT,
    CKB_TORCH_PAD_REFLECT,
    CKB_TORCH_PAD_REPLICATE,
    CKB_TORCH_PAD_CIRCULAR
} ckb_torch_pad_mode_t;

typedef struct ckb_torch_problem {
    ckb_torch_op_t op;
    int64_t n, c, h, w;    /* the image: input (pool, pad, unfold, conv), output (fold) */
    int64_t oc, groups;    /* conv: output channels and groups */
    /* pool, unfold/fold, conv: window, stride, symmetric padding, dilation */
    int64_t kh, kw, sh, sw, ph, pw, dh, dw;
    bool ceil_mode;        /* pool */
    bool channels_last;    /* pool: src, dst, indices and gradients channels-last */
    int64_t pad_l, pad_r, pad_t, pad_b; /* pad */
    ckb_torch_pad_mode_t pad_mode;      /* pad */
    float pad_value;                    /* pad, constant mode */
} ckb_torch_problem_t;

typedef struct ckb_torch ckb_torch_t;

/* Checks the problem (sizes > 0, the output not empty) and computes PyTorch's
 * output dims.  Returns NULL with a message in err when it cannot be run. */
ckb_torch_t *ckb_torch_create(const ckb_torch_problem_t *problem, char *err, size_t err_size);

/* The output's dims as PyTorch computes them: pool/pad/conv (N, C, H, W) of
 * the forward result (for the backward ops too); unfold (N, C*kh*kw, L, 1);
 * fold (N, C, H, W) of the image. */
void ckb_torch_out_dims(const ckb_torch_t *t, int64_t dims[4]);

/* Bytes setup allocates, about (for the harness's memory budget). */
size_t ckb_torch_footprint(const ckb_torch_t *t);

/* Returns 0, or -1 with a message in err.  Idempotent. */
int ckb_torch_setup(ckb_torch_t *t, char *err, size_t err_size);

/* One timed call.  Returns 0, or -1 with a message in err. */
int ckb_torch_run(ckb_torch_t *t, char *err, size_t err_size);

void ckb_torch_release(ckb_torch_t *t);
void ckb_torch_destroy(ckb_torch_t *t); /* NULL is a no-op */

/* Call once, before any case runs, with convkit's thread count:
 * at::set_num_threads(threads) (ATen's intra-op threads), and glibc's malloc
 * told to keep freed memory (no mmap for large blocks, no trimming).
 * PyTorch allocates every result; with glibc's defaults a result of
 * megabytes is a fresh mmap each call, and faulting its pages in dominated
 * and scattered the timing on this VM (max_pool2d backward, N8 C64
 * 112x112: 105 ms per call, 4.5 ms with the heap kept; forward 3-170 ms).
 * With the heap kept, PyTorch's time is its kernel plus an allocation from
 * warm memory, as under a caching allocator; the other peers allocate
 * nothing in the timed loop, so they are unaffected. */
void ckb_torch_init(int threads);

/* "1.13.1" (the headers' version). */
const char *ckb_torch_version(void);

#ifdef __cplusplus
}
#endif

#endif /* CONVKIT_BENCH_PEER_TORCH_H */
