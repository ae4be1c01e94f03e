/* geometry.c - which problems the channel-blocked direct engine takes and
 * how it lays out and blocks them (conv-blocked.h). */
#include "conv-blocked/conv-blocked.h"

/* Bytes of packed weights one pass over the input chunks may span: every
 * tile of the rows reads them all, so they should stay in L1 (48 KiB here;
 * 32 KiB measured up to 25% faster than 128 KiB on 7x7 and 14x14 3x3
 * layers, the same on the others).  A 3x3 chunk of 4 x 16 output channels
 * by 16 input channels is 36 KiB: one chunk per pass. */
#define CK_CB_PASS_BYTES ((int64_t)32 * 1024)
/* Largest C_in of a non-blocked, non-NHWC src read in place (kc = 1)
 * instead of reordered. */
#define CK_CB_PLANAR_MAX_C 3
/* Floats per cache line (the prefetch granule). */
#define CK_CB_LINE_FLOATS 16
/* Fewest input chunks a 1x1 problem needs for the software prefetch. */
#define CK_CB_PREFETCH_MIN_CHUNKS 8
/* Bytes of a scratch block of partial sums (kept in L1/L2). */
#define CK_CB_SCRATCH_BYTES ((int64_t)32 * 1024)

static bool ck_cb_unit(const ck_tensor_t *t, int d)
{
    return t->strides[d] == 1 || t->dims[d] == 1;
}

ck_cb_src_kind_t ck_cb_src_kind(const ck_conv_problem_t *p, const ck_cb_layouts_t *lay)
{
    if (lay->src_block != 0) return CK_CB_SRC_BLOCKED;
    if (ck_cb_unit(&p->src, 1)) return CK_CB_SRC_NHWC;
    /* A first layer (RGB or grey images) is read in place: its copy would
     * be as large as the input, for a reduction of only C_in * kH * kW
     * (MobileNet's 3x3 stride 2: 0.27 -> 0.20-0.27 ms at minibatch 1). */
    if (p->in_channels <= CK_CB_PLANAR_MAX_C) return CK_CB_SRC_PLANAR;
    return CK_CB_SRC_REORDER;
}

bool ck_cb_supports(const ck_conv_problem_t *p, const ck_cb_layouts_t *lay)
{
    const bool dst_ok = lay->dst_block != 0 || ck_cb_unit(&p->dst, 1) || ck_cb_unit(&p->dst, 3);
    return p->groups == 1 && p->padding_mode == CONVKIT_PADDING_ZEROS && dst_ok;
}

static int64_t ck_cb_div_up(int64_t a, int64_t b)
{
    return (a + b - 1) / b;
}

static int64_t ck_cb_min(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

/* Largest UR per NB (index NB - 1) that keeps the tile, NB weight vectors
 * and one broadcast within the register file (the arch files' CKC_UR_NB*). */
static const int64_t ck_cb_ur_max16[CK_CB_NB_MAX] = {28, 14, 9, 6};
static const int64_t ck_cb_ur_max8[CK_CB_NB_MAX] = {12, 6, 4, 2};

/* Cycles of one reduction step (one input channel and tap) of an NB x UR
 * tile: NB * UR FMAs on two ports, NB + UR loads counted at one per cycle
 * (fitted: at two per cycle the model preferred 4 x 4 + 4 x 3 tiles on
 * 7-wide rows, which measured 25% slower than one 3 x 7 tile), and each
 * accumulator's 4-cycle FMA chain. */
static double ck_cb_step_cycles(int64_t nb, int64_t ur)
{
    double c = (double)(nb * ur) / 2.0;
    if ((double)(nb + ur) > c) c = (double)(nb + ur);
    return c < 4.0 ? 4.0 : c;
}

/* A fixed cost per tile, in step cycles (fitted on this machine: starting
 * a tile, and its loads and stores of partial sums, make fewer and wider
 * tiles faster than the step cycles alone say). */
#define CK_CB_TILE_COST 6.0

/* Cycles per reduction step of `width` pixels in tiles of ur (the last
 * one narrower). */
static double ck_cb_run_cycles(int64_t nb, int64_t ur, int64_t width)
{
    const int64_t full = width / ur, rest = width % ur;
    double c = (double)full * (ck_cb_step_cycles(nb, ur) + CK_CB_TILE_COST);
    if (rest > 0) c += ck_cb_step_cycles(nb, rest) + CK_CB_TILE_COST;
    return c;
}

/* Cycles per reduction step of a whole output row of one output-channel
 * group of nb vectors: interior tiles of `ur` (the last one narrower) and
 * one-pixel edge tiles. */
static double ck_cb_row_cycles(const ck_cb_geom_t *g, int64_t nb, int64_t ur)
{
    const int64_t width = g->ow_hi - g->ow_lo, edges = g->out_w - width;
    double c = (double)edges * (ck_cb_step_cycles(nb, 1) + CK_CB_TILE_COST);
    if (width > 0) c += ck_cb_run_cycles(nb, ur, width);
    return c;
}

/* Whether a row can be cut into edge tiles (ck_cb_geom_t edge_tiles): a
 * 3-wide kernel, stride and dilation 1 along W, one padded column each
 * side (out_w == in_w), a blocked src (pixel step = lanes). */
static bool ck_cb_edge_tiles_ok(const ck_cb_geom_t *g)
{
    return g->kw == 3 && g->sw == 1 && g->dw == 1 && g->pl == 1 && g->in_w == g->out_w &&
           g->out_w >= 2 && g->s_w == g->lanes;
}

/* Register tile: the NB (and the UR that cuts the interior, or with edge
 * tiles the whole row, into equal tiles) with the fewest modelled cycles
 * per output row over all the output-channel vectors. */
static void ck_cb_choose_tile(ck_cb_geom_t *g)
{
    const int64_t *ur_max = g->lanes == 16 ? ck_cb_ur_max16 : ck_cb_ur_max8;
    const int64_t width = g->ow_hi - g->ow_lo, W = g->out_w;
    const bool edge_ok = ck_cb_edge_tiles_ok(g);
    double best = 0.0;
    const int64_t top = g->ocb < CK_CB_NB_MAX ? g->ocb : CK_CB_NB_MAX;
    g->edge_tiles = false;
    for (int64_t nb = top; nb >= 1; nb--) {
        const int64_t um = ur_max[nb - 1];
        int64_t ur = width <= 0 ? 1 : ck_cb_div_up(width, ck_cb_div_up(width, um));
        const int64_t groups = g->ocb / nb, rest = g->ocb % nb;
        double c = (double)groups * ck_cb_row_cycles(g, nb, ur);
        if (rest > 0) c += ck_cb_row_cycles(g, rest, ur < ur_max[rest - 1] ? ur : ur_max[rest - 1]);
        bool edge = false;
        if (edge_ok) { /* the rest group (fewer vectors) takes the same ur */
            const int64_t ue = ck_cb_div_up(W, ck_cb_div_up(W, um));
            double ce = (double)groups * ck_cb_run_cycles(nb, ue, W);
            if (rest > 0) ce += ck_cb_run_cycles(rest, ue, W);
            if (ce < c) {
                c = ce;
                ur = ue;
                edge = true;
            }
        }
        if (nb == top || c < best * 0.98) { /* near-ties: more vectors, fewer loads */
            best = c;
            g->nb = nb;
            g->ur = ur;
            g->edge_tiles = edge;
        }
    }
    g->ocg = ck_cb_div_up(g->ocb, g->nb);
}

/* The item order that streams fewer bytes from memory: each group's
 * weights once and the whole input once per group, or all the weights
 * once per image and each image's input once. */
static bool ck_cb_group_outer(const ck_cb_geom_t *g)
{
    const double src = (double)g->batch * (double)g->icc * (double)(g->in_h * g->in_w * g->kc);
    const double w = (double)g->ocb * (double)g->w_ocb;
    return (double)g->ocg * src + w <= (double)g->batch * w + src;
}

/* Whether a problem is a 1x1, stride-1, unpadded convolution whose src and
 * dst planes are each one run of equally spaced pixels (rows contiguous):
 * its pixels can be regrouped into rows of any length. */
static bool ck_cb_flat(const ck_cb_geom_t *g)
{
    if (g->kh != 1 || g->kw != 1 || g->sh != 1 || g->sw != 1 || g->pt != 0 || g->pl != 0 ||
        g->in_h != g->out_h || g->in_w != g->out_w || g->out_h <= 1)
        return false;
    const bool src_rows = g->in_w == 1 ? g->s_w == g->s_h : g->s_h == g->in_w * g->s_w;
    const bool dst_rows = g->out_w == 1 ? g->d_w == g->d_h : g->d_h == g->out_w * g->d_w;
    return src_rows && dst_rows;
}

/* Regroups a flat problem's out_h * out_w pixels (g->out_w holds that
 * count, and the tile was chosen for it) into rows of a whole number of
 * interior tiles, about `width` long, the last row shorter: each image
 * then has at most one narrow tile instead of one per row (56 wide rows
 * of 6-pixel tiles: 9 tiles of 6 and one of 2). */
static void ck_cb_flatten(ck_cb_geom_t *g, int64_t width)
{
    const int64_t pixels = g->out_w;
    const int64_t row = g->ur * (width / g->ur > 1 ? width / g->ur : 1);
    g->out_w = g->in_w = g->ow_hi = row;
    g->ow_lo = 0;
    g->out_h = g->in_h = ck_cb_div_up(pixels, row);
    g->last_w = pixels - (g->out_h - 1) * row;
    g->s_h = row * g->s_w;
    g->d_h = row * g->d_w;
}

void ck_cb_geom_init(ck_cb_geom_t *g, const ck_conv_problem_t *p, const ck_cb_layouts_t *lay,
                     int64_t lanes)
{
    const int64_t B = lanes;
    *g = (ck_cb_geom_t){
        .lanes = B, .batch = p->batch, .in_c = p->in_channels, .in_h = p->in_h,
        .in_w = p->in_w, .out_c = p->out_channels, .out_h = p->out_h, .out_w = p->out_w,
        .kh = p->kernel_h, .kw = p->kernel_w, .sh = p->stride_h, .sw = p->stride_w,
        .dh = p->dilation_h, .dw = p->dilation_w, .pt = p->pad_top, .pl = p->pad_left,
        .epilogue = p->epilogue,
    };
    g->sub_h = g->sub_w = 1;
    if (ck_cb_src_kind(p, lay) == CK_CB_SRC_REORDER && p->kernel_h == 1 && p->kernel_w == 1 &&
        p->pad_top == 0 && p->pad_left == 0 && p->pad_bottom == 0 && p->pad_right == 0 &&
        (p->stride_h > 1 || p->stride_w > 1)) {
        g->sub_h = p->stride_h;
        g->sub_w = p->stride_w;
        g->in_h = p->out_h;
        g->in_w = p->out_w;
        g->sh = g->sw = 1;
    }
    const int64_t H = g->in_h, W = g->in_w;
    const ck_cb_src_kind_t kind = ck_cb_src_kind(p, lay);
    g->kc = kind == CK_CB_SRC_BLOCKED ? lay->src_block
            : kind == CK_CB_SRC_PLANAR ? 1
                                       : ck_cb_min(B, p->in_channels);
    g->icc = ck_cb_div_up(p->in_channels, g->kc);
    if (kind == CK_CB_SRC_NHWC || kind == CK_CB_SRC_PLANAR) { /* read in place */
        g->s_cc = kind == CK_CB_SRC_NHWC ? g->kc : p->src.strides[1];
        g->s_w = p->src.strides[3];
        g->s_h = p->src.strides[2];
        g->s_n = p->src.strides[0];
    } else { /* the caller's blocked tensor, or ck_cb_reorder_src's tight copy */
        g->s_w = g->kc;
        g->s_h = W * g->kc;
        g->s_cc = H * W * g->kc;
        g->s_n = g->icc * g->s_cc;
    }
    const int64_t OH = p->out_h, OW = p->out_w, OC = p->out_channels;
    if (lay->dst_block != 0) {
        g->dst_kind = CK_CB_DST_CHUNKED;
        g->kd = lay->dst_block;
        g->dst_pad_lanes = true;
        g->ocb = ck_cb_div_up(OC, g->kd) * (g->kd / B);
        g->d_w = g->kd;
        g->d_h = OW * g->kd;
        g->d_cc = OH * OW * g->kd;
        g->d_n = ck_cb_div_up(OC, g->kd) * g->d_cc;
    } else if (ck_cb_unit(&p->dst, 1)) {
        g->dst_kind = CK_CB_DST_CHUNKED;
        g->kd = B;
        g->ocb = ck_cb_div_up(OC, B);
        g->d_cc = B;
        g->d_w = p->dst.strides[3];
        g->d_h = p->dst.strides[2];
        g->d_n = p->dst.strides[0];
    } else {
        g->dst_kind = CK_CB_DST_PLANAR; /* ck_cb_dst_ok: unit stride along W */
        g->ocb = ck_cb_div_up(OC, B);
        g->d_c = p->dst.strides[1];
        g->d_w = 1;
        g->d_h = p->dst.strides[2];
        g->d_n = p->dst.strides[0];
    }
    g->w_icc = g->kh * g->kw * g->kc * B;
    g->w_ocb = g->icc * g->w_icc;

    /* Interior columns: ow * sw - pl >= 0 and ow * sw - pl + (kw-1) * dw < W. */
    int64_t lo = ck_cb_div_up(g->pl, g->sw);
    const int64_t last = W - 1 + g->pl - (g->kw - 1) * g->dw;
    int64_t hi = last < 0 ? 0 : last / g->sw + 1;
    lo = ck_cb_min(lo, OW);
    hi = ck_cb_min(hi, OW);
    g->ow_lo = lo;
    g->ow_hi = hi < lo ? lo : hi;

    g->copy_h = g->in_h;
    g->copy_w = g->in_w;
    g->last_w = g->out_w;
    ck_cb_choose_tile(g);
    /* A flat problem whose rows end in a narrower tile is regrouped, with
     * the tile chosen again for one run of all its pixels. */
    if (ck_cb_flat(g) && g->out_w % g->ur != 0) {
        g->out_w = g->ow_hi = g->out_h * g->out_w;
        ck_cb_choose_tile(g);
        ck_cb_flatten(g, OW);
    }
    g->group_outer = ck_cb_group_outer(g);

    /* Passes over the input chunks, and rows per item when there is more
     * than one pass (the partial sums of the rows fit the scratch). */
    const int64_t chunk_bytes = g->nb * B * g->kc * g->kh * g->kw * (int64_t)sizeof(float);
    g->pass = chunk_bytes >= CK_CB_PASS_BYTES ? 1 : CK_CB_PASS_BYTES / chunk_bytes;
    if (g->pass > g->icc) g->pass = g->icc;
    g->rows = 1;
    if (g->pass < g->icc) {
        const int64_t row_bytes = OW * g->nb * B * (int64_t)sizeof(float);
        g->rows = row_bytes >= CK_CB_SCRATCH_BYTES ? 1 : CK_CB_SCRATCH_BYTES / row_bytes;
        if (g->rows > OH) g->rows = OH;
        /* A row too wide for any scratch block: one pass, no partial sums. */
        if (row_bytes > (int64_t)4 << 20) {
            g->pass = g->icc;
            g->rows = 1;
        }
    }
    /* Software prefetch for 1x1 kernels over many chunks (the src streams
     * the hardware prefetchers lose: one per chunk and row).  Measured here
     * at minibatch 8: 256x56x56 -> 64 1.24x, 256x56x56 -> 128 stride 2
     * 1.44x, 1024x14x14 -> 512 stride 2 1.07x (the next image's input,
     * fetched while the last group of this image runs); with 2 chunks
     * (32x112x112 -> 64) 0.9x, so not there. */
    g->prefetch = g->kh * g->kw == 1 && g->icc >= CK_CB_PREFETCH_MIN_CHUNKS;
    const int64_t pixel_step = g->sw * g->s_w;
    g->pf_step = pixel_step <= 0 || pixel_step >= CK_CB_LINE_FLOATS
                     ? 1
                     : CK_CB_LINE_FLOATS / pixel_step;
}

bool ck_cb_backward_data_problem(const ck_conv_problem_t *p, const ck_cb_layouts_t *lay,
                                 ck_conv_problem_t *t, ck_cb_layouts_t *tlay,
                                 int64_t *weight_offset)
{
    const int64_t span_h = p->dilation_h * (p->kernel_h - 1);
    const int64_t span_w = p->dilation_w * (p->kernel_w - 1);
    if (p->stride_h != 1 || p->stride_w != 1 || p->pad_top > span_h || p->pad_bottom > span_h ||
        p->pad_left > span_w || p->pad_right > span_w)
        return false;
    *t = *p;
    t->in_channels = p->out_channels;
    t->in_h = p->out_h;
    t->in_w = p->out_w;
    t->out_channels = p->in_channels;
    t->out_h = p->in_h;
    t->out_w = p->in_w;
    t->pad_top = span_h - p->pad_top;
    t->pad_bottom = span_h - p->pad_bottom;
    t->pad_left = span_w - p->pad_left;
    t->pad_right = span_w - p->pad_right;
    t->src = p->dst;
    t->dst = p->src;
    t->epilogue = (ck_conv_epilogue_t){CONVKIT_ACTIVATION_NONE, 0.0f, 0.0f};
    /* weight'[ci][co][r][q] = weight[co][ci][kh-1-r][kw-1-q] */
    const ck_tensor_t *w = &p->weight;
    t->weight.dims[0] = w->dims[1];
    t->weight.dims[1] = w->dims[0];
    t->weight.dims[2] = w->dims[2];
    t->weight.dims[3] = w->dims[3];
    t->weight.strides[0] = w->strides[1];
    t->weight.strides[1] = w->strides[0];
    t->weight.strides[2] = -w->strides[2];
    t->weight.strides[3] = -w->strides[3];
    *weight_offset = (w->dims[2] - 1) * w->strides[2] + (w->dims[3] - 1) * w->strides[3];
    tlay->src_block = lay->dst_block;
    tlay->dst_block = lay->src_block;
    return ck_cb_supports(t, tlay);
}

int64_t ck_cb_packed_weight_count(const ck_cb_geom_t *g)
{
    return g->ocb * g->w_ocb;
}
