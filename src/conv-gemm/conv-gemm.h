/*
 * conv-gemm.h - convolution as GEMM (im2col + GEMM, GEMM + col2im), the
 * portable part: views of the operands as GEMM matrices, their packers
 * (im2col is fused into packing: no column matrix is ever allocated for
 * forward and backward-weights), the row primitives of unfold and fold, and
 * the kernel-set entry points registered in dispatch.c.
 *
 * Notation for one (image n, group g):
 *   pixel j = oh * OW + ow          (P = OH * OW output positions)
 *   tap   t = (ci, r, s)            (K = C_in/G * kh * kw taps), ordered
 *               ci-major ("chw": t = (ci * kh + r) * kw + s) or
 *               channel-minor ("hwc": t = (r * kw + s) * C_in/G + ci),
 *               whichever makes the weight tensor linear along t
 *   col[t][j] = padded src[ci][oh*sh - pt + r*dh][ow*sw - pl + s*dw]
 *   forward          dst[co][j]  = sum_t W[co][t] col[t][j]
 *   backward-data    col[t][j]   = sum_co W[co][t] gdst[co][j], then fold
 *   backward-weights gW[co][t]   = sum_{n, j} gdst[co][j] col[t][j]
 */
#ifndef CONVKIT_CONV_GEMM_H
#define CONVKIT_CONV_GEMM_H

#include "gemm/gemm.h"
#include "kernels.h"

/* ---- im2col view of one (n, g) input image -------------------------------- */

typedef struct ck_im2col {
    const float *src;         /* element (ci = 0) of this image and group */
    int64_t sc, sh, sw;       /* element strides of channel, row, column */
    int64_t in_h, in_w;       /* input plane */
    int64_t out_w;            /* output width (pixel j -> oh, ow) */
    int64_t kh, kw, cig;      /* taps: kernel and channels per group */
    int64_t stride_h, stride_w, dil_h, dil_w, pad_t, pad_l;
    uint32_t mode;            /* CONVKIT_PADDING_* */
    bool hwc;                 /* tap order (r, s, ci) instead of (ci, r, s) */
} ck_im2col_t;

/* Tap t -> (ci, r, s) under the view's order. */
static inline void ck_im2col_tap(const ck_im2col_t *v, int64_t t, int64_t *ci, int64_t *r,
                                 int64_t *s)
{
    if (v->hwc) {
        *ci = t % v->cig;
        t /= v->cig;
        *s = t % v->kw;
        *r = t / v->kw;
    } else {
        *s = t % v->kw;
        t /= v->kw;
        *r = t % v->kh;
        *ci = t / v->kh;
    }
}

/* Source coordinate of padded coordinate `raw` (may lie outside [0, size)),
 * or -1 where the zero padding applies. */
static inline int64_t ck_im2col_coord(int64_t raw, int64_t size, uint32_t mode)
{
    if (raw >= 0 && raw < size) return raw;
    return mode == CONVKIT_PADDING_ZEROS ? -1 : ck_ref_pad_index(raw, size, mode);
}

/* The output columns [lo, hi) of a row whose read ow * stride + a falls in
 * [0, size), clipped to [ow0, ow1) (no division at stride 1). */
static inline void ck_im2col_inside(int64_t a, int64_t stride, int64_t size, int64_t ow0,
                                    int64_t ow1, int64_t *lo, int64_t *hi)
{
    int64_t l, h;
    if (stride == 1) {
        l = a >= 0 ? 0 : -a;
        h = size - a > 0 ? size - a : 0;
    } else {
        l = a >= 0 ? 0 : (-a + stride - 1) / stride;
        h = size - 1 - a >= 0 ? (size - 1 - a) / stride + 1 : 0;
    }
    l = l < ow0 ? ow0 : l > ow1 ? ow1 : l;
    h = h < l ? l : h > ow1 ? ow1 : h;
    *lo = l;
    *hi = h;
}

/* Packer (ck_gemm_pack_fn) with the panel dimension = pixels and the
 * reduction = taps: col[t][j] packed as A (forward, channels-last output)
 * or B (forward, channels-first output).  ctx: ck_im2col_t. */
CK_INTERNAL void ck_im2col_pack_pixels(const void *ctx, int64_t x0, int64_t xn, int64_t k0,
                                       int64_t kn, int64_t w, float *dst);
/* Packer with the panel dimension = taps and the reduction = pixels: col
 * transposed, packed as B of backward-weights.  ctx: ck_im2col_t. */
CK_INTERNAL void ck_im2col_pack_taps(const void *ctx, int64_t x0, int64_t xn, int64_t k0,
                                     int64_t kn, int64_t w, float *dst);

/* ---- the weight of one group as a (C_out/G x K) matrix -------------------- */

typedef struct ck_weight_view {
    const float *w;           /* element (co = 0, t = 0) of the group */
    int64_t so, si, sr, ss;   /* strides of out channel, in channel, row, column */
    int64_t kh, kw, cig;
    bool hwc;                 /* tap order, as in ck_im2col_t */
} ck_weight_view_t;

/* Element offset of tap t (strides si, sr, ss). */
CK_INTERNAL int64_t ck_weight_tap_offset(const ck_weight_view_t *v, int64_t t);
/* Whether taps are at unit stride (tap offset == t) in the view's order. */
CK_INTERNAL bool ck_weight_taps_linear(const ck_weight_view_t *v);

/* Packers: panel = out channels, reduction = taps (forward A or B), and
 * panel = taps, reduction = out channels (backward-data A).  ctx:
 * ck_weight_view_t. */
CK_INTERNAL void ck_weight_pack_channels(const void *ctx, int64_t x0, int64_t xn, int64_t k0,
                                         int64_t kn, int64_t w, float *dst);
CK_INTERNAL void ck_weight_pack_taps(const void *ctx, int64_t x0, int64_t xn, int64_t k0,
                                     int64_t kn, int64_t w, float *dst);

/* ---- an output-shaped operand (dst, grad_dst) of one (n, g) --------------- */

typedef struct ck_plane_view {
    const float *data;        /* element (co = 0, pixel 0) */
    int64_t sc, sh, sw;       /* channel, row, column strides */
    int64_t out_w;
    bool linear;              /* pixel j at j * sw (rows are contiguous in j) */
} ck_plane_view_t;

CK_INTERNAL void ck_plane_view_init(ck_plane_view_t *v, const float *data, int64_t sc,
                                    int64_t sh, int64_t sw, int64_t out_h, int64_t out_w);
/* Packers: panel = pixels, reduction = channels (backward-data B) and
 * panel = channels, reduction = pixels (backward-weights A).  ctx:
 * ck_plane_view_t. */
CK_INTERNAL void ck_plane_pack_pixels(const void *ctx, int64_t x0, int64_t xn, int64_t k0,
                                      int64_t kn, int64_t w, float *dst);
CK_INTERNAL void ck_plane_pack_channels(const void *ctx, int64_t x0, int64_t xn, int64_t k0,
                                        int64_t kn, int64_t w, float *dst);

/* ---- rows of unfold and fold (col-rows.c) -------------------------------- */

/* out[i * out_stride] = col[t][j0 + i] for i < len (im2col of one tap over
 * a run of pixels; zero padding and padding modes). */
CK_INTERNAL void ck_col_unfold_row(const ck_im2col_t *v, int64_t ci, int64_t r, int64_t s,
                                   int64_t j0, int64_t len, float *out, int64_t out_stride);
/* The transpose: plane[...] += row[i * row_stride] for every pixel j0 + i
 * whose tap (r, s) reads an input element (padding modes map the read
 * back to the element it copied); `plane` is channel ci's plane of the
 * view (sh, sw strides), written through v->src's geometry. */
CK_INTERNAL void ck_col_fold_row(const ck_im2col_t *v, int64_t r, int64_t s, int64_t j0,
                                 int64_t len, const float *row, int64_t row_stride,
                                 float *plane);

/* ---- workspace ------------------------------------------------------------- */

/* Scratch of the GEMM kernel sets: the calling thread's own block of at
 * least `bytes` (64-byte aligned, valid until the thread's next call; at
 * most CK_GEMM_WORKSPACE_MAX bytes are ever asked for).  Never freed by the
 * caller.  NULL when allocation fails (the caller then computes its range
 * with the reference kernels). */
CK_INTERNAL void *ck_conv_gemm_scratch(size_t bytes);

/* ---- the kernel-set entry points (items as in ck_conv_kernels_t) ------- */

CK_INTERNAL void ck_conv_gemm_forward(const ck_gemm_kernel_t *gk, const ck_conv_problem_t *p,
                                      const float *src, const float *weight, const float *bias,
                                      const float *residual, float *dst, int64_t begin,
                                      int64_t end);
CK_INTERNAL void ck_conv_gemm_backward_data(const ck_gemm_kernel_t *gk,
                                            const ck_conv_problem_t *p, const float *grad_dst,
                                            const float *weight, float *grad_src,
                                            int64_t begin, int64_t end);
CK_INTERNAL void ck_conv_gemm_backward_weights(const ck_gemm_kernel_t *gk,
                                               const ck_conv_problem_t *p, const float *src,
                                               const float *grad_dst, float *grad_weight,
                                               int64_t begin, int64_t end);
CK_INTERNAL void ck_conv_gemm_backward_bias(const ck_conv_problem_t *p, const float *grad_dst,
                                            float *grad_bias, int64_t begin, int64_t end);

/* The tap order of a problem: "hwc" when the weight is linear along taps
 * in that order (OHWI), "chw" when linear in that one (OIHW) or when
 * neither fits and the channels are not the unit stride. */
CK_INTERNAL bool ck_conv_gemm_hwc(const ck_conv_problem_t *p);

/* The GEMM blocking of the fused packers: the default, with the packed B
 * block (the im2col panels when they are B) cut to half of L2, since
 * gathering them costs far more than re-packing the other operand per
 * block. */
CK_INTERNAL ck_gemm_blocking_t ck_conv_gemm_blocking(const ck_gemm_kernel_t *gk);

/* The scratch bytes each direction asks ck_conv_gemm_scratch for on this
 * problem (never more than CK_GEMM_WORKSPACE_MAX; tested). */
CK_INTERNAL size_t ck_conv_gemm_forward_scratch(const ck_gemm_kernel_t *gk,
                                                const ck_conv_problem_t *p);
/* Forward with residual == dst (the GEMM output goes through a scratch
 * block): at most CK_GEMM_WORKSPACE_MAX too. */
CK_INTERNAL size_t ck_conv_gemm_forward_inplace_scratch(const ck_gemm_kernel_t *gk,
                                                        const ck_conv_problem_t *p);
CK_INTERNAL size_t ck_conv_gemm_backward_data_scratch(const ck_gemm_kernel_t *gk,
                                                      const ck_conv_problem_t *p);
CK_INTERNAL size_t ck_conv_gemm_backward_weights_scratch(const ck_gemm_kernel_t *gk,
                                                         const ck_conv_problem_t *p);

/* Views of (n, g) for a problem. */
CK_INTERNAL void ck_conv_gemm_im2col(const ck_conv_problem_t *p, const float *src, int64_t n,
                                     int64_t g, bool hwc, ck_im2col_t *v);
CK_INTERNAL void ck_conv_gemm_weight(const ck_conv_problem_t *p, const float *weight, int64_t g,
                                     ck_weight_view_t *v);

#endif /* CONVKIT_CONV_GEMM_H */
