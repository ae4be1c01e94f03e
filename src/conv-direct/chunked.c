/* chunked.c - which depthwise problems the chunked forward kernels take
 * (blocked or NHWC-like src and dst, multiplier 1), their geometry, and
 * the kernel of a plan ISA (conv-direct.h). */
#include "conv-direct/conv-direct.h"

/* Fills o for an operand of `channels` channels: blocked with `block`
 * (dims (N, C, H, W) of the tensor t), or t's own strides, which must
 * have unit stride along C.  false when the lanes cannot be loaded as
 * one vector per chunk. */
static bool ck_dwc_operand(ck_dwc_operand_t *o, const ck_tensor_t *t, int64_t block,
                           int64_t lanes)
{
    if (block != 0) {
        if (block % lanes != 0) return false;
        const int64_t h = t->dims[2], w = t->dims[3];
        o->block = block;
        o->s_w = block;
        o->s_h = w * block;
        o->s_cb = h * w * block;
        o->s_n = (t->dims[1] + block - 1) / block * o->s_cb;
        return true;
    }
    if (!ck_dw_unit(t, 1)) return false;
    o->block = CK_DWC_UNBLOCKED;
    o->s_cb = 0;
    o->s_n = t->strides[0];
    o->s_h = t->strides[2];
    o->s_w = t->strides[3];
    return true;
}

/* Output rows ahead of the one being computed whose input the tiles
 * prefetch, and the smallest src (bytes, every image) that takes it: a
 * smaller one stays in L2/L3 from one call to the next here, and the
 * prefetches only cost load slots (64x112x112 stride 2 at minibatch 1:
 * 66 -> 53 GFLOP/s with them; at minibatch 8 21 -> 41, distance 1 row
 * ahead measured better than 2 or 4). */
#define CK_DWC_PREFETCH_ROWS 1
#define CK_DWC_PREFETCH_MIN_BYTES ((int64_t)8 << 20)
/* Floats per cache line. */
#define CK_DWC_LINE_FLOATS 16

static void ck_dwc_prefetch_init(ck_dwc_geom_t *g)
{
    const double bytes = (double)g->batch * (double)(g->chunks * g->lanes) *
                         (double)(g->in_h * g->in_w) * sizeof(float);
    g->pf_rows = 0;
    if (bytes < (double)CK_DWC_PREFETCH_MIN_BYTES) return;
    /* the lowest input row of output row y + D, relative to kernel row 0
     * of row y; the sh rows above it are new to row y + D (fewer when the
     * kernel is shorter than the stride) */
    g->pf_ahead = ((g->kh - 1) * g->dh + CK_DWC_PREFETCH_ROWS * g->sh) * g->src.s_h;
    g->pf_rows = g->sh < g->kh ? g->sh : g->kh;
    g->pf_step = g->src.s_w <= 0 || g->src.s_w >= CK_DWC_LINE_FLOATS
                     ? 1
                     : CK_DWC_LINE_FLOATS / g->src.s_w;
}

bool ck_dwc_takes(const ck_conv_problem_t *p, int64_t src_block, int64_t dst_block)
{
    if (p->groups != p->in_channels || p->out_channels != p->groups ||
        p->padding_mode != CONVKIT_PADDING_ZEROS || p->kernel_h * p->kernel_w > CK_DW_MAX_TAPS)
        return false;
    /* The weights of a chunk are gathered with int32 lane offsets. */
    if (p->weight.strides[0] > ((int64_t)1 << 31) / 16) return false;
    return (src_block != 0 || ck_dw_unit(&p->src, 1)) && (dst_block != 0 || ck_dw_unit(&p->dst, 1));
}

ck_dwc_forward_fn ck_dwc_init(ck_dwc_geom_t *g, const ck_conv_problem_t *p, int64_t src_block,
                              int64_t dst_block, uint32_t isa)
{
#if defined(__x86_64__) || defined(_M_X64)
    ck_dwc_forward_fn fn = NULL;
    int64_t lanes = 0;
    if (isa == CONVKIT_ISA_AVX512 && src_block != 8 && dst_block != 8) {
        fn = ck_f32_dwconv_chunked_forward_16__avx512f;
        lanes = 16;
    } else if (isa == CONVKIT_ISA_AVX512 || isa == CONVKIT_ISA_AVX2) {
        fn = ck_f32_dwconv_chunked_forward_8__avx2;
        lanes = 8;
    }
    if (fn == NULL || !ck_dwc_takes(p, src_block, dst_block)) return NULL;
    *g = (ck_dwc_geom_t){
        .lanes = lanes, .batch = p->batch, .channels = p->out_channels, .in_h = p->in_h,
        .in_w = p->in_w, .out_h = p->out_h, .out_w = p->out_w, .kh = p->kernel_h,
        .kw = p->kernel_w, .sh = p->stride_h, .sw = p->stride_w, .dh = p->dilation_h,
        .dw = p->dilation_w, .pt = p->pad_top, .pl = p->pad_left,
        .w_c = p->weight.strides[0], .w_r = p->weight.strides[2], .w_s = p->weight.strides[3],
        .epilogue = p->epilogue,
    };
    if (!ck_dwc_operand(&g->src, &p->src, src_block, lanes) ||
        !ck_dwc_operand(&g->dst, &p->dst, dst_block, lanes))
        return NULL;
    const int64_t c_out = dst_block != 0 ? (g->channels + dst_block - 1) / dst_block * dst_block
                                         : g->channels;
    g->chunks = (c_out + lanes - 1) / lanes;
    g->dst_zero_pad = dst_block != 0;
    /* interior: x * sw - pl >= 0 and x * sw - pl + (kw - 1) * dw <= in_w - 1 */
    int64_t lo = (p->pad_left + g->sw - 1) / g->sw;
    const int64_t last = g->in_w - 1 + p->pad_left - (g->kw - 1) * g->dw;
    int64_t hi = last < 0 ? 0 : last / g->sw + 1;
    lo = lo > g->out_w ? g->out_w : lo;
    hi = hi > g->out_w ? g->out_w : hi < lo ? lo : hi;
    g->ow_lo = lo;
    g->ow_hi = hi;
    ck_dwc_prefetch_init(g);
    /* 7-wide output rows of a 3x3 kernel whose only padded taps are pixel
     * 0's first column and (1) or not (2) pixel 6's last one: one tile of
     * 7 independent chains (MobileNet's 1024x7x7: 60 -> 80 GFLOP/s; its
     * 512x14x14 stride 2: 57 -> 66) */
    g->whole_row = 0;
    if (g->lanes == 16 && g->out_w == 7 && g->kw == 3 && g->dw == 1 && g->pl == 1) {
        const int64_t right = 6 * g->sw - 1 + 2; /* pixel 6's last input column */
        g->whole_row = right == g->in_w ? 1 : right < g->in_w ? 2 : 0;
    }
    return fn;
#else
    (void)g;
    (void)p;
    (void)src_block;
    (void)dst_block;
    (void)isa;
    return NULL;
#endif
}
