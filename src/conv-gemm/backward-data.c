/* backward-data.c - convolution backward-data as GEMM + blocked fold
 * (conv-gemm.h).  Scalar equivalent: ck_ref_conv_kernels.backward_data.
 *
 * Items are (n, ci): each owns one grad_src plane, so accumulation never
 * races.  A range is cut into runs of input channels of one image and
 * group; for each block of taps (whole channels, at most CK_BD_TAPS rows)
 * and block of pixels (CK_BD_PIXELS(taps) columns):
 *   col[t][j] = sum_co W[co][t] gdst[co][j]     (GEMM into a scratch block)
 *   grad_src[ci] += fold of col's rows of ci    (col-rows.c)
 * The blocks depend on the problem only, so each plane receives its terms
 * in the same order whatever the range: results do not depend on how the
 * items are split across threads.  Taps use the (ci, r, s) order here. */

#include "conv-gemm/conv-gemm.h"

#define CK_BD_TAPS 512                /* rows of a column block */
#define CK_BD_COL_FLOATS (192 * 1024) /* column block, 768 KiB */

typedef struct ck_bd_blocking {
    int64_t taps_per_block; /* whole channels when a channel has <= CK_BD_TAPS taps */
    int64_t pixels;         /* columns of a block */
    ck_gemm_blocking_t gemm;
    size_t col_bytes, bytes; /* the column block; all scratch */
} ck_bd_blocking_t;

static int64_t ck_min(int64_t a, int64_t b) { return a < b ? a : b; }

static ck_bd_blocking_t ck_bd_blocking(const ck_gemm_kernel_t *gk, const ck_conv_problem_t *p)
{
    ck_bd_blocking_t b;
    const int64_t per_channel = p->kernel_h * p->kernel_w;
    const int64_t group_taps = p->in_channels / p->groups * per_channel;
    b.taps_per_block = per_channel <= CK_BD_TAPS
                           ? ck_min(CK_BD_TAPS / per_channel * per_channel, group_taps)
                           : CK_BD_TAPS;
    const int64_t pixels = p->out_h * p->out_w;
    b.pixels = ck_min(pixels, CK_BD_COL_FLOATS / b.taps_per_block);
    if (b.pixels > 16 && b.pixels < pixels) b.pixels = b.pixels / 16 * 16;
    b.col_bytes = ((size_t)(b.taps_per_block * b.pixels) * sizeof(float) + 63) / 64 * 64;
    /* The GEMM's packed B block shares the workspace limit with the
     * column block. */
    b.gemm = ck_gemm_blocking(gk);
    const int64_t a_floats = b.gemm.kc * ck_min(b.gemm.mc, (b.taps_per_block + gk->mr - 1) /
                                                               gk->mr * gk->mr);
    const int64_t room = (int64_t)CK_GEMM_WORKSPACE_MAX - (int64_t)b.col_bytes -
                         a_floats * (int64_t)sizeof(float) - 4 * 64;
    const int64_t nc = room / ((int64_t)sizeof(float) * b.gemm.kc) / gk->nr * gk->nr;
    if (nc < b.gemm.nc) b.gemm.nc = nc < gk->nr ? gk->nr : nc;
    b.bytes = b.col_bytes + ck_sgemm_workspace_size(gk, &b.gemm, b.taps_per_block, b.pixels,
                                                    p->out_channels / p->groups);
    return b;
}

/* Zeroes the grad_src planes of channels [c0, c1) of image n. */
static void ck_zero_planes(const ck_conv_problem_t *p, float *grad_src, int64_t n, int64_t c0,
                           int64_t c1)
{
    const int64_t *st = p->src.strides;
    for (int64_t c = c0; c < c1; c++)
        for (int64_t h = 0; h < p->in_h; h++) {
            float *restrict row = grad_src + n * st[0] + c * st[1] + h * st[2];
            if (st[3] == 1) {
                for (int64_t w = 0; w < p->in_w; w++) row[w] = 0.0f;
            } else {
                for (int64_t w = 0; w < p->in_w; w++) row[w * st[3]] = 0.0f;
            }
        }
}

/* 1x1, stride 1, no padding, grad_src rows following each other: col is
 * grad_src itself, so the GEMM writes it directly (no column block, no
 * fold).  Returns false when the layout does not allow it. */
/* The column stride of grad_src when the pointwise path applies, else 0
 * (any stride but unit: channels-last). */
static int64_t ck_bd_pointwise_step(const ck_conv_problem_t *p)
{
    const int64_t *ss = p->src.strides;
    if (p->kernel_h != 1 || p->kernel_w != 1 || p->stride_h != 1 || p->stride_w != 1 ||
        p->pad_top != 0 || p->pad_left != 0 || p->pad_bottom != 0 || p->pad_right != 0)
        return 0;
    const int64_t step = p->in_w == 1 ? (p->in_h == 1 ? 1 : ss[2]) : ss[3];
    if (p->in_h > 1 && p->in_w > 1 && ss[2] != p->in_w * step) return 0;
    if (step != 1 && ss[1] != 1) return 0;
    return step;
}

static size_t ck_bd_pointwise_scratch(const ck_gemm_kernel_t *gk, const ck_conv_problem_t *p,
                                      int64_t step)
{
    const int64_t cig = p->in_channels / p->groups, cog = p->out_channels / p->groups;
    const int64_t pixels = p->in_h * p->in_w;
    const ck_gemm_blocking_t blk = ck_conv_gemm_blocking(gk);
    return step == 1 ? ck_sgemm_workspace_size(gk, &blk, cig, pixels, cog)
                     : ck_sgemm_workspace_size(gk, &blk, pixels, cig, cog);
}

static bool ck_bd_pointwise(const ck_gemm_kernel_t *gk, const ck_conv_problem_t *p,
                            const float *grad_dst, const float *weight, float *grad_src,
                            int64_t begin, int64_t end)
{
    const int64_t *ss = p->src.strides, *ds = p->dst.strides;
    const int64_t pixels = p->in_h * p->in_w;
    const int64_t step = ck_bd_pointwise_step(p);
    if (step == 0) return false;
    const bool first = step == 1;
    const int64_t cig = p->in_channels / p->groups, cog = p->out_channels / p->groups;
    const ck_gemm_blocking_t blk = ck_conv_gemm_blocking(gk);
    void *ws = ck_conv_gemm_scratch(ck_bd_pointwise_scratch(gk, p, step));
    if (ws == NULL) return false;
    for (int64_t item = begin; item < end;) {
        const int64_t n = item / p->in_channels, c0 = item % p->in_channels;
        const int64_t g = c0 / cig;
        const int64_t c1 = ck_min((g + 1) * cig, c0 + (end - item));
        item += c1 - c0;
        ck_weight_view_t wv;
        ck_conv_gemm_weight(p, weight, g, &wv);
        const ck_gemm_shifted_t wsh = {{ck_weight_pack_taps, &wv}, c0 - g * cig, 0};
        const ck_gemm_operand_t wop = {ck_gemm_pack_shifted, &wsh};
        ck_plane_view_t gv;
        ck_plane_view_init(&gv, grad_dst + n * ds[0] + g * cog * ds[1], ds[1], ds[2], ds[3],
                           p->out_h, p->out_w);
        const ck_gemm_operand_t gop = {ck_plane_pack_pixels, &gv};
        float *c = grad_src + n * ss[0] + c0 * ss[1];
        if (first)
            ck_sgemm_ex(gk, &blk, c1 - c0, pixels, cog, &wop, &gop, c, ss[1], 0.0f, ws);
        else
            ck_sgemm_ex(gk, &blk, pixels, c1 - c0, cog, &gop, &wop, c, step, 0.0f, ws);
    }
    return true;
}

size_t ck_conv_gemm_backward_data_scratch(const ck_gemm_kernel_t *gk,
                                          const ck_conv_problem_t *p)
{
    const int64_t step = ck_bd_pointwise_step(p);
    return step != 0 ? ck_bd_pointwise_scratch(gk, p, step) : ck_bd_blocking(gk, p).bytes;
}

void ck_conv_gemm_backward_data(const ck_gemm_kernel_t *gk, const ck_conv_problem_t *p,
                                const float *grad_dst, const float *weight, float *grad_src,
                                int64_t begin, int64_t end)
{
    if (ck_bd_pointwise(gk, p, grad_dst, weight, grad_src, begin, end)) return;
    const ck_bd_blocking_t b = ck_bd_blocking(gk, p);
    void *ws = ck_conv_gemm_scratch(b.bytes);
    if (ws == NULL) {
        ck_ref_conv_kernels.backward_data(p, grad_dst, weight, grad_src, begin, end);
        return;
    }
    float *const col = ws;
    void *const gemm_ws = (char *)ws + b.col_bytes;
    const int64_t cig = p->in_channels / p->groups, cog = p->out_channels / p->groups;
    const int64_t per_channel = p->kernel_h * p->kernel_w;
    const int64_t pixels = p->out_h * p->out_w;
    const int64_t *ds = p->dst.strides, *ss = p->src.strides;
    for (int64_t item = begin; item < end;) {
        const int64_t n = item / p->in_channels, c0 = item % p->in_channels;
        const int64_t g = c0 / cig;
        const int64_t c1 = ck_min((g + 1) * cig, c0 + (end - item));
        item += c1 - c0;
        ck_zero_planes(p, grad_src, n, c0, c1);

        ck_im2col_t iv; /* the geometry of grad_src (src's layout) */
        ck_conv_gemm_im2col(p, grad_src, n, g, false, &iv);
        ck_weight_view_t wv;
        ck_conv_gemm_weight(p, weight, g, &wv);
        wv.hwc = false;
        ck_plane_view_t gv;
        ck_plane_view_init(&gv, grad_dst + n * ds[0] + g * cog * ds[1], ds[1], ds[2], ds[3],
                           p->out_h, p->out_w);
        /* Tap blocks: channel groups from c0, or pieces of one channel. */
        const int64_t t_begin = (c0 - g * cig) * per_channel, t_end = (c1 - g * cig) * per_channel;
        for (int64_t t0 = t_begin, t1; t0 < t_end; t0 = t1) {
            t1 =
                per_channel <= CK_BD_TAPS
                    ? ck_min(t0 + b.taps_per_block, t_end)
                    : ck_min(t0 + CK_BD_TAPS, (t0 / per_channel + 1) * per_channel);
            const ck_gemm_shifted_t wsh = {{ck_weight_pack_taps, &wv}, t0, 0};
            const ck_gemm_operand_t wop = {ck_gemm_pack_shifted, &wsh};
            for (int64_t j0 = 0; j0 < pixels; j0 += b.pixels) {
                const int64_t jn = ck_min(b.pixels, pixels - j0);
                const ck_gemm_shifted_t gsh = {{ck_plane_pack_pixels, &gv}, j0, 0};
                const ck_gemm_operand_t gop = {ck_gemm_pack_shifted, &gsh};
                ck_sgemm_ex(gk, &b.gemm, t1 - t0, jn, cog, &wop, &gop, col, b.pixels, 0.0f,
                            gemm_ws);
                for (int64_t t = t0; t < t1; t++) {
                    const int64_t ci = t / per_channel, r = t % per_channel / p->kernel_w,
                                  s = t % p->kernel_w;
                    float *plane = grad_src + n * ss[0] + (g * cig + ci) * ss[1];
                    ck_col_fold_row(&iv, r, s, j0, jn, col + (t - t0) * b.pixels, 1, plane);
                }
            }
        }
    }
}
