/*
 * conv-direct.h - direct depthwise convolution, the portable part: which
 * problems the direct kernels take, the geometry of the 2-D correlation
 * their NCHW loops run, and the entry points of the arch kernels
 * (src/conv-direct/dwconv.inc, compiled per ISA in
 * arch/x86/avx2/f32-dwconv-8-avx2.c and arch/x86/avx512/f32-dwconv-16-avx512f.c).
 *
 * Depthwise: groups == in_channels, M = out_channels / groups output
 * channels per input channel (the multiplier); output channel co reads
 * input channel co / M and the weight has one input channel (ci = 0).
 *
 * The NCHW forward and backward-data kernels see both directions as one
 * engine (backward-weights walks the forward's geometry, summing
 * src * grad_dst per tap instead):
 *   out[y][x] = init + sum_{plane q < planes} sum_{r, s}
 *       in_q[y*ys + yoff + r*ystep][x*xs + xoff + s*xstep] * w_q[r][s]
 * over the taps whose input coordinates are inside in_q (zero padding):
 *   forward:            in = src (n, co/M), 1 plane, ys = sh, yoff = -pt,
 *                       ystep = dh (likewise x), init = bias[co]
 *   backward-data (stride 1): in = grad_dst (n, c*M + q), M planes,
 *                       ys = 1, yoff = pt, ystep = -dh (likewise x), init 0
 */
#ifndef CONVKIT_CONV_DIRECT_H
#define CONVKIT_CONV_DIRECT_H

#include "kernels.h"

/* NHWC kernels keep the weights of a channel block on the stack: at most
 * this many taps (kh * kw forward, M * kh * kw backward-data). */
#define CK_DW_MAX_TAPS 64
/* Lane offsets (stride, multiplier) are int32 in the vector code. */
#define CK_DW_LANE_LIMIT ((int64_t)1 << 20)

typedef enum ck_dw_layout {
    CK_DW_NONE = 0, /* not for the direct kernels */
    CK_DW_NCHW = 1, /* src and dst (grad_src, grad_dst) unit stride along W */
    CK_DW_NHWC = 2, /* ... unit stride along C */
} ck_dw_layout_t;

static inline bool ck_dw_unit(const ck_tensor_t *t, int d)
{
    return t->strides[d] == 1 || t->dims[d] == 1;
}

/* How the direct forward kernel runs a problem (CK_DW_NONE: it cannot). */
static inline ck_dw_layout_t ck_dw_forward_layout(const ck_conv_problem_t *p)
{
    if (p->groups != p->in_channels || p->padding_mode != CONVKIT_PADDING_ZEROS) return CK_DW_NONE;
    if (p->stride_w > CK_DW_LANE_LIMIT || p->out_channels / p->groups > CK_DW_LANE_LIMIT)
        return CK_DW_NONE;
    if (ck_dw_unit(&p->src, 3) && ck_dw_unit(&p->dst, 3)) return CK_DW_NCHW;
    if (ck_dw_unit(&p->src, 1) && ck_dw_unit(&p->dst, 1) &&
        p->kernel_h * p->kernel_w <= CK_DW_MAX_TAPS)
        return CK_DW_NHWC;
    return CK_DW_NONE;
}

/* The same for backward-data: NCHW at stride 1 only, NHWC within the tap
 * limit counting the multiplier. */
static inline ck_dw_layout_t ck_dw_backward_data_layout(const ck_conv_problem_t *p)
{
    const ck_dw_layout_t l = ck_dw_forward_layout(p);
    if (l == CK_DW_NCHW) return p->stride_h == 1 && p->stride_w == 1 ? l : CK_DW_NONE;
    if (l == CK_DW_NHWC)
        return p->out_channels / p->groups * p->kernel_h * p->kernel_w <= CK_DW_MAX_TAPS
                   ? l
                   : CK_DW_NONE;
    return CK_DW_NONE;
}

/* The valid taps [*lo, *hi) of k taps at start + t * step (step may be
 * negative) along an axis of `size`: a contiguous run, counted. */
static inline void ck_dw_taps(int64_t start, int64_t step, int64_t k, int64_t size, int64_t *lo,
                              int64_t *hi)
{
    int64_t l = 0;
    while (l < k && (start + l * step < 0 || start + l * step >= size)) l++;
    int64_t h = l;
    while (h < k && start + h * step >= 0 && start + h * step < size) h++;
    *lo = l;
    *hi = h;
}

static inline int64_t ck_dw_floor_div(int64_t a, int64_t b) /* b > 0 */
{
    return a >= 0 ? a / b : -((-a + b - 1) / b);
}

/* The NCHW engine of one plane (see the top of this file). */
typedef struct ck_dw_geom {
    const float *in;
    int64_t in_ps, in_rs, in_h, in_w; /* plane and row strides, sizes */
    const float *w;
    int64_t w_ps, w_r, w_s; /* plane, kernel-row and kernel-column strides */
    int64_t planes, kh, kw;
    int64_t ys, yoff, ystep, xs, xoff, xstep;
    float *out;
    int64_t out_rs, out_h, out_w;
    float init;
    /* Forward's epilogue, applied to each output vector before its store:
     * the activation (NULL: none) and the residual plane, laid out as out
     * (NULL: none; may be out itself).  Backward-data leaves both NULL. */
    const ck_conv_epilogue_t *epi;
    const float *res;
    /* Interior columns [x_lo, x_hi): every tap column inside the input. */
    int64_t x_lo, x_hi;
} ck_dw_geom_t;

/* Fills the interior column range of g from its x mapping. */
static inline void ck_dw_geom_interior(ck_dw_geom_t *g)
{
    const int64_t span = (g->kw - 1) * g->xstep;
    const int64_t mn = g->xoff + (span < 0 ? span : 0), mx = g->xoff + (span > 0 ? span : 0);
    int64_t lo = -ck_dw_floor_div(mn, g->xs); /* ceil(-mn / xs) */
    int64_t hi = ck_dw_floor_div(g->in_w - 1 - mx, g->xs) + 1;
    lo = lo < 0 ? 0 : lo > g->out_w ? g->out_w : lo;
    hi = hi < lo ? lo : hi > g->out_w ? g->out_w : hi;
    g->x_lo = lo;
    g->x_hi = hi;
}

/* The forward geometry of a problem (pointers and init left for the item). */
static inline ck_dw_geom_t ck_dw_geom_forward(const ck_conv_problem_t *p)
{
    ck_dw_geom_t g = {
        .in_ps = 0, .in_rs = p->src.strides[2], .in_h = p->in_h, .in_w = p->in_w,
        .w_ps = 0, .w_r = p->weight.strides[2], .w_s = p->weight.strides[3], .planes = 1,
        .kh = p->kernel_h, .kw = p->kernel_w, .ys = p->stride_h, .yoff = -p->pad_top,
        .ystep = p->dilation_h, .xs = p->stride_w, .xoff = -p->pad_left,
        .xstep = p->dilation_w, .out_rs = p->dst.strides[2], .out_h = p->out_h,
        .out_w = p->out_w,
    };
    ck_dw_geom_interior(&g);
    return g;
}

/* The backward-data geometry (stride 1). */
static inline ck_dw_geom_t ck_dw_geom_backward_data(const ck_conv_problem_t *p)
{
    ck_dw_geom_t g = {
        .in_ps = p->dst.strides[1], .in_rs = p->dst.strides[2], .in_h = p->out_h,
        .in_w = p->out_w, .w_ps = p->weight.strides[0], .w_r = p->weight.strides[2],
        .w_s = p->weight.strides[3], .planes = p->out_channels / p->groups,
        .kh = p->kernel_h, .kw = p->kernel_w, .ys = 1, .yoff = p->pad_top,
        .ystep = -p->dilation_h, .xs = 1, .xoff = p->pad_left, .xstep = -p->dilation_w,
        .out_rs = p->src.strides[2], .out_h = p->in_h, .out_w = p->in_w, .init = 0.0f,
    };
    ck_dw_geom_interior(&g);
    return g;
}

/* ---- the arch kernels (items as in ck_conv_kernels_t; the caller has
 * checked ck_dw_forward_layout / ck_dw_backward_data_layout) ------------ */

#define CK_DW_DECLARE(suffix)                                                                  \
    CK_INTERNAL void ck_f32_dwconv_forward_##suffix(const ck_conv_problem_t *p,              \
                                                    const float *src, const float *weight,   \
                                                    const float *bias, const float *residual, \
                                                    float *dst,                              \
                                                    int64_t begin, int64_t end);             \
    CK_INTERNAL void ck_f32_dwconv_backward_data_##suffix(                                   \
        const ck_conv_problem_t *p, const float *grad_dst, const float *weight,              \
        float *grad_src, int64_t begin, int64_t end);                                        \
    /* false (nothing written) when the problem is not one it takes */                        \
    CK_INTERNAL bool ck_f32_dwconv_backward_weights_##suffix(                                 \
        const ck_conv_problem_t *p, const float *src, const float *grad_dst,                  \
        float *grad_weight, int64_t begin, int64_t end);

#if defined(__x86_64__) || defined(_M_X64)
CK_DW_DECLARE(16__avx512f)
CK_DW_DECLARE(8__avx2)
#endif

/* ---- depthwise forward on channel-chunked data (chunked.c, dwconv-chunked.inc)
 *
 * Multiplier 1 (out_channels == groups == in_channels), zero padding,
 * kh * kw <= CK_DW_MAX_TAPS, src and dst each either in a blocked format
 * (nChw16c / nChw8c) whose block is a multiple of the kernel's lanes L, or
 * with unit stride along C (NHWC-like).  Every run of L channels starting
 * at a multiple of L is then contiguous in memory (a "chunk"): one vector
 * holds one pixel's chunk, an output vector is the sum over its valid taps
 * of an input vector times that tap's weight vector, and padding costs
 * only the skipped taps (no masks).  Channel c of an operand lies at
 *   n * s_n + (c / block) * s_cb + c % block + h * s_h + w * s_w
 * (an NHWC-like operand has block = CK_DWC_UNBLOCKED, s_cb = 0). */
#define CK_DWC_UNBLOCKED INT64_MAX

typedef struct ck_dwc_operand {
    int64_t block;
    int64_t s_n, s_cb, s_h, s_w;
} ck_dwc_operand_t;

typedef struct ck_dwc_geom {
    int64_t lanes; /* L: 16 (AVX-512F) or 8 (AVX2) */
    int64_t batch, channels, in_h, in_w, out_h, out_w;
    int64_t kh, kw, sh, sw, dh, dw, pt, pl;
    ck_dwc_operand_t src, dst; /* the residual has dst's layout */
    int64_t w_c, w_r, w_s;     /* weight strides: channel (dim 0), kernel row, column */
    /* Items per image: chunks covering dst's channels, with a blocked dst
     * its padding lanes too (written 0; a chunk may hold only those). */
    int64_t chunks;
    bool dst_zero_pad; /* dst blocked: lanes past `channels` are written 0 */
    int64_t ow_lo, ow_hi; /* interior columns: every kernel column inside the input */
    /* Software prefetch, for a src too large to stay in cache between
     * calls: each interior tile touches the lines of its input columns in
     * the pf_rows input rows that output row y + CK_DWC_PREFETCH_ROWS
     * reads and row y + CK_DWC_PREFETCH_ROWS - 1 does not (the lowest at
     * pf_ahead floats past the tile's kernel row 0), every pf_step-th
     * pixel (one per cache line).  pf_rows 0: none. */
    int64_t pf_ahead, pf_rows, pf_step;
    /* 7-wide output rows of a 3x3 kernel (AVX-512) run as one tile of 7
     * pixels: 1 when pixel 0 lacks its first kernel column and pixel 6 its
     * last, 2 when only pixel 0 lacks one; 0: the edge/interior split. */
    int whole_row;
    ck_conv_epilogue_t epilogue;
} ck_dwc_geom_t;

/* items: batch * chunks, item = n * chunks + k: the output plane of image
 * n for channels [k * L, k * L + L).  weight as g's strides say, bias NULL
 * or `channels` floats, residual NULL or dst's layout (may be dst). */
typedef void (*ck_dwc_forward_fn)(const ck_dwc_geom_t *g, const float *src,
                                  const float *weight, const float *bias,
                                  const float *residual, float *dst, int64_t begin,
                                  int64_t end);

/* Whether the chunked kernels take the problem at any ISA that has them
 * (src_block, dst_block as for ck_dwc_init). */
CK_INTERNAL bool ck_dwc_takes(const ck_conv_problem_t *p, int64_t src_block, int64_t dst_block);

/* Fills g and returns the kernel when the chunked kernels take the problem
 * at the plan ISA `isa`; src_block / dst_block: 0 (the tensor's own
 * strides) or the blocked format's block (the tensor's strides are then
 * ignored).  NULL otherwise. */
CK_INTERNAL ck_dwc_forward_fn ck_dwc_init(ck_dwc_geom_t *g, const ck_conv_problem_t *p,
                                          int64_t src_block, int64_t dst_block, uint32_t isa);

#define CK_DWC_DECLARE(suffix)                                                                 \
    CK_INTERNAL void ck_f32_dwconv_chunked_forward_##suffix(                                  \
        const ck_dwc_geom_t *g, const float *src, const float *weight, const float *bias,     \
        const float *residual, float *dst, int64_t begin, int64_t end);

#if defined(__x86_64__) || defined(_M_X64)
CK_DWC_DECLARE(16__avx512f)
CK_DWC_DECLARE(8__avx2)
#endif

#endif /* CONVKIT_CONV_DIRECT_H */
