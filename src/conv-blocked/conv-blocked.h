/*
 * conv-blocked.h - direct convolution on channel-blocked data, the portable
 * part: which problems it takes, the geometry its arch kernels read, the
 * packed weight layout, and the entry points.
 *
 * The kernels (src/conv-blocked/cbconv.inc, compiled per ISA in
 * arch/x86/avx512/f32-cbconv-16-avx512f.c and arch/x86/avx2/f32-cbconv-8-avx2.c)
 * compute forward convolution with groups == 1 as outer products: a
 * register tile of NB vectors of B output channels (B = lanes) times UR
 * output pixels of one output row is summed over input channels and taps,
 * one broadcast input value and NB weight vectors per step.  That needs the
 * input channels of a pixel next to each other, in chunks of kc:
 *   - src in a blocked format (nChw16c / nChw8c): read in place, kc = its block;
 *   - src NHWC-like (unit channel stride): read in place, kc = B;
 *   - any other src with at most 3 channels (a first layer): read in
 *     place, kc = 1 (each channel a chunk, its plane stride the chunk
 *     stride);
 *   - any other src (NCHW): reordered per call into a blocked copy.
 * Output channels are written B at a time: blocked dst and NHWC-like dst
 * directly (vector stores), any other dst (NCHW) through a small transpose.
 *
 * Packed weights: [ceil(C_out / B)][icc][kH][kW][kc][B] floats, icc =
 * ceil(C_in / kc), zero where ci >= C_in or co >= C_out.  One layout per
 * plan (kc and B are fixed when the plan is made).
 */
#ifndef CONVKIT_CONV_BLOCKED_H
#define CONVKIT_CONV_BLOCKED_H

#include "kernels.h"

/* Largest register tile: NB output-channel vectors by UR output pixels. */
#define CK_CB_NB_MAX 4
#define CK_CB_UR_MAX 28

typedef enum ck_cb_dst_kind {
    CK_CB_DST_CHUNKED = 0, /* channels of a pixel contiguous in chunks of kd */
    CK_CB_DST_PLANAR = 1,  /* unit stride along W (NCHW-like) */
} ck_cb_dst_kind_t;

typedef struct ck_cb_geom {
    int64_t lanes; /* B */
    int64_t batch, in_c, in_h, in_w, out_c, out_h, out_w;
    int64_t kh, kw, sh, sw, dh, dw, pt, pl;
    /* A reordered src of a 1x1 unpadded problem keeps only the pixels the
     * convolution reads (every sub_h-th row, sub_w-th column); in_h, in_w
     * and sh, sw then describe that copy (stride 1).  1 otherwise. */
    int64_t sub_h, sub_w;
    /* Rows and columns of the reordered src copy (in_h, in_w before a
     * flat problem is regrouped). */
    int64_t copy_h, copy_w;
    /* A 1x1 stride-1 unpadded problem with contiguous rows is "flat": its
     * pixels are regrouped into out_h rows of out_w (= in_w) pixels, a
     * whole number of interior tiles, the last row last_w long; s_h and
     * d_h are those rows' strides.  last_w == out_w otherwise. */
    int64_t last_w;
    /* src as the kernel reads it: kc channels per chunk, icc chunks;
     * float strides of image, chunk, row and pixel. */
    int64_t kc, icc;
    int64_t s_n, s_cc, s_h, s_w;
    /* packed weights */
    int64_t ocb;        /* ceil(out_c / B) */
    int64_t w_ocb;      /* floats per output-channel block */
    int64_t w_icc;      /* floats per input chunk: kh * kw * kc * B */
    /* dst (and residual, same layout) */
    ck_cb_dst_kind_t dst_kind;
    int64_t kd;              /* CHUNKED: channels per dst chunk (a multiple of B) */
    bool dst_pad_lanes;      /* CHUNKED blocked: lanes past out_c are written as 0 */
    int64_t d_n, d_cc, d_h, d_w; /* CHUNKED: image, chunk, row, pixel strides */
    int64_t d_c;             /* PLANAR: channel stride (d_w is 1) */
    /* blocking of the work */
    int64_t nb;       /* output-channel vectors per item (last item may have fewer) */
    int64_t ocg;      /* items per output row: ceil(ocb / nb) */
    int64_t ur;       /* pixels per interior tile */
    int64_t rows;     /* output rows per item */
    int64_t pass;     /* input chunks per pass (weights reused over the rows) */
    bool group_outer; /* items: output-channel group outside images (see below) */
    /* Software prefetch: after each input chunk, a tile touches the lines
     * of the same pixels in the next item's input (the next rows, or the
     * next image), every pf_step-th pixel (one per cache line); not when
     * the next item reads this item's image again (another output-channel
     * group).  The hardware prefetchers lose track of the many short
     * streams of a channel-chunked src (one per chunk and row); set for
     * 1x1 kernels over 8 or more chunks (geometry.c). */
    bool prefetch;
    int64_t pf_step;
    int64_t ow_lo, ow_hi; /* interior columns: every kernel column inside the input */
    /* Each output row is cut into tiles of ur from column 0, the first and
     * the last (or one tile over the whole row) taking in the padded
     * column: a 3-wide kernel at stride and dilation 1 with one padded
     * column each side, a blocked src (pixel step = lanes).  Tap q of
     * pixel j reads column j + q - 1 of the tile, skipped outside the row.
     * Chosen by the tile model (one-pixel edge tiles cost as much as 4-6
     * interior pixels: 7- and 14-wide rows run as one tile). */
    bool edge_tiles;
    ck_conv_epilogue_t epilogue;
} ck_cb_geom_t;

/* How a src layout can be read in place: 0 = blocked format with block
 * `blk`, the chunk size is the block; NHWC-like; else it must be reordered. */
typedef enum ck_cb_src_kind {
    CK_CB_SRC_BLOCKED = 0,
    CK_CB_SRC_NHWC = 1,
    CK_CB_SRC_REORDER = 2,
    /* any other src read in place as chunks of one channel (kc = 1): the
     * tiles broadcast each input value where it is, so no copy is made */
    CK_CB_SRC_PLANAR = 3,
} ck_cb_src_kind_t;

/* Describes one conv operand's public layout to the engine. */
typedef struct ck_cb_layouts {
    int64_t src_block; /* 0, 8 or 16 (CONVKIT_FORMAT_NCHW8C / 16C) */
    int64_t dst_block;
} ck_cb_layouts_t;

/* Whether the engine takes a problem: groups == 1, zero padding, dst
 * blocked or with unit stride along C or W. */
CK_INTERNAL bool ck_cb_supports(const ck_conv_problem_t *p, const ck_cb_layouts_t *lay);

/* Backward-data of a stride-1 problem is the forward convolution of
 * grad_dst with the weights transposed (C_in and C_out swapped) and
 * flipped, padding dilation*(k-1) - pad: fills that problem `t` (src =
 * grad_dst, dst = grad_src, the weight a view of the original one at
 * element offset *weight_offset, no epilogue) and its layouts.  false when
 * the problem is not stride 1, a padding exceeds dilation*(k-1), or the
 * engine does not take `t`. */
CK_INTERNAL bool ck_cb_backward_data_problem(const ck_conv_problem_t *p,
                                             const ck_cb_layouts_t *lay, ck_conv_problem_t *t,
                                             ck_cb_layouts_t *tlay, int64_t *weight_offset);

/* Fills the geometry for a problem at `lanes` (16 or 8): layouts, blocking.
 * src/dst tensors of p describe NCHW dims with the caller's strides; for a
 * blocked operand, `lay` gives its block and the tensor's strides are
 * ignored. */
CK_INTERNAL void ck_cb_geom_init(ck_cb_geom_t *g, const ck_conv_problem_t *p,
                                 const ck_cb_layouts_t *lay, int64_t lanes);

/* The src kind the geometry reads (set by ck_cb_geom_init). */
CK_INTERNAL ck_cb_src_kind_t ck_cb_src_kind(const ck_conv_problem_t *p, const ck_cb_layouts_t *lay);

/* Floats of the per-thread scratch of the arch kernels (0: none needed). */
static inline int64_t ck_cb_scratch_floats(const ck_cb_geom_t *g)
{
    return g->pass >= g->icc ? 0 : g->rows * g->out_w * g->nb * g->lanes;
}

/* Floats of the packed weights. */
CK_INTERNAL int64_t ck_cb_packed_weight_count(const ck_cb_geom_t *g);

/* Packs weight (p->weight's layout) into packed (ck_cb_packed_weight_count
 * floats). */
CK_INTERNAL void ck_cb_pack_weights(const ck_cb_geom_t *g, const ck_conv_problem_t *p,
                                    const float *weight, float *packed);

/* Copies src (NCHW-like, any strides) into the chunked layout the geometry
 * reads (kc = g->kc, tight strides; only every sub_h-th row and sub_w-th
 * column); items batch * icc * g->copy_h, item = (n * icc + cc) * copy_h + h,
 * one row of the copy in one chunk. */
CK_INTERNAL void ck_cb_reorder_src(const ck_cb_geom_t *g, const ck_conv_problem_t *p,
                                   const float *src, float *chunked, int64_t begin, int64_t end);

/* ---- the public blocked formats and dense NCHW (reorder.c) ------------- */

/* Floats of a blocked tensor of NCHW dims. */
CK_INTERNAL int64_t ck_blocked_count(const int64_t dims[4], int64_t block);
/* Dense NCHW <- blocked, and blocked <- dense NCHW (padding lanes 0). */
CK_INTERNAL void ck_blocked_to_plain(const float *blocked, float *plain, const int64_t dims[4],
                                     int64_t block);
CK_INTERNAL void ck_plain_to_blocked(const float *plain, float *blocked, const int64_t dims[4],
                                     int64_t block);

/* ---- the engine a conv plan holds (forward.c) ---------------------------- */

typedef struct ck_cb_engine ck_cb_engine_t;

/* Whether the engine has kernels for a plan ISA (AVX2, AVX-512). */
CK_INTERNAL bool ck_cb_isa_ok(uint32_t isa);
/* The engine for a problem at the plan's ISA, or NULL when it has none
 * (ck_cb_isa_ok false, a problem ck_cb_supports rejects, out of memory). */
CK_INTERNAL ck_cb_engine_t *ck_cb_engine_create(const ck_conv_problem_t *p,
                                                const ck_cb_layouts_t *lay, uint32_t isa);
CK_INTERNAL void ck_cb_engine_destroy(ck_cb_engine_t *e);
CK_INTERNAL const char *ck_cb_engine_name(const ck_cb_engine_t *e);
CK_INTERNAL uint32_t ck_cb_engine_isa(const ck_cb_engine_t *e);
CK_INTERNAL const ck_cb_geom_t *ck_cb_engine_geom(const ck_cb_engine_t *e);
/* Packs and keeps weight (p->weight's layout). */
CK_INTERNAL convkit_status_t ck_cb_engine_set_weights(ck_cb_engine_t *e,
                                                      const ck_conv_problem_t *p,
                                                      const float *weight);
CK_INTERNAL bool ck_cb_engine_has_weights(const ck_cb_engine_t *e);
/* dst = act(conv + bias) + residual.  weight NULL: the set_weights copy
 * (the caller has checked there is one).  Not for two threads at once on
 * one engine: the per-call buffers are the engine's. */
CK_INTERNAL convkit_status_t ck_cb_forward(ck_cb_engine_t *e, const ck_conv_problem_t *p,
                                           const float *src, const float *weight,
                                           const float *bias, const float *residual,
                                           float *dst);

/* ---- arch kernels: items = ocg * batch * nrb (nrb = ceil(out_h / rows)),
 * item = (og * batch + n) * nrb + rb if group_outer, else
 * (n * ocg + og) * nrb + rb: the output rows [rb * rows, ..) of image n for
 * output-channel vectors [og * nb, og * nb + nb).  group_outer streams the
 * input once per group and the weights once; otherwise the weights once
 * per image and the input once.  src is read as the geometry says, weights are
 * packed, bias may be NULL (else out_c floats), residual may be NULL or
 * dst.  scratch holds ck_cb_scratch_floats(g) floats (unused, may be NULL,
 * when one pass covers every chunk). ------------------------------------ */
#define CK_CB_DECLARE(suffix)                                                                  \
    CK_INTERNAL void ck_f32_cbconv_forward_##suffix(                                         \
        const ck_cb_geom_t *g, const float *src, const float *packed, const float *bias,     \
        const float *residual, float *dst, float *scratch, int64_t begin, int64_t end);

#if defined(__x86_64__) || defined(_M_X64)
CK_CB_DECLARE(16__avx512f)
CK_CB_DECLARE(8__avx2)
#endif

#endif /* CONVKIT_CONV_BLOCKED_H */
