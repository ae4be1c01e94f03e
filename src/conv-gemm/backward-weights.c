/* backward-weights.c - convolution backward-weights as GEMM over packed
 * columns (conv-gemm.h).  Scalar equivalent:
 * ck_ref_conv_kernels.backward_weights.
 *
 * Items are output channels: each owns its rows of grad_weight.  A range
 * is cut into runs of channels of one group, and for each image n, in
 * order:
 *   gW[co][t] (+)= sum_j gdst[n][co][j] col_n[t][j]
 *   A = grad_dst (channels x pixels), B = col transposed, packed straight
 *   from the image (im2col fused into packing), beta 0 for n = 0, then 1.
 * Every element's sum runs over n, then over the GEMM's K blocks of pixels,
 * whatever the range: results do not depend on the thread count.
 * grad_weight is the GEMM's C when it is linear along taps (OIHW, OHWI);
 * otherwise the taps are cut into runs that are (kw columns or C_in/G
 * channels at unit stride, else single taps). */

#include "conv-gemm/conv-gemm.h"

static int64_t ck_min(int64_t a, int64_t b) { return a < b ? a : b; }

/* Taps per GEMM call: a run of taps at unit stride in grad_weight. */
static int64_t ck_tap_run(const ck_weight_view_t *v)
{
    if (ck_weight_taps_linear(v)) return v->cig * v->kh * v->kw;
    if (v->hwc) return v->si == 1 ? v->cig : 1;
    return v->ss == 1 ? v->kw : 1;
}

static void ck_zero_rows(const ck_conv_problem_t *p, float *grad_weight, int64_t c0, int64_t c1)
{
    const int64_t *st = p->weight.strides;
    const int64_t cig = p->in_channels / p->groups;
    for (int64_t co = c0; co < c1; co++)
        for (int64_t ci = 0; ci < cig; ci++)
            for (int64_t r = 0; r < p->kernel_h; r++)
                for (int64_t s = 0; s < p->kernel_w; s++)
                    grad_weight[co * st[0] + ci * st[1] + r * st[2] + s * st[3]] = 0.0f;
}

size_t ck_conv_gemm_backward_weights_scratch(const ck_gemm_kernel_t *gk,
                                             const ck_conv_problem_t *p)
{
    ck_weight_view_t wv;
    ck_conv_gemm_weight(p, NULL, 0, &wv);
    const ck_gemm_blocking_t blk = ck_conv_gemm_blocking(gk);
    return ck_sgemm_workspace_size(gk, &blk, p->out_channels / p->groups, ck_tap_run(&wv),
                                   p->out_h * p->out_w);
}

void ck_conv_gemm_backward_weights(const ck_gemm_kernel_t *gk, const ck_conv_problem_t *p,
                                   const float *src, const float *grad_dst, float *grad_weight,
                                   int64_t begin, int64_t end)
{
    const int64_t cog = p->out_channels / p->groups;
    const int64_t taps = p->in_channels / p->groups * p->kernel_h * p->kernel_w;
    const int64_t pixels = p->out_h * p->out_w;
    if (p->batch == 0) {
        ck_zero_rows(p, grad_weight, begin, end);
        return;
    }
    const bool hwc = ck_conv_gemm_hwc(p);
    ck_weight_view_t wv;
    ck_conv_gemm_weight(p, grad_weight, 0, &wv);
    const int64_t run = ck_tap_run(&wv);
    const ck_gemm_blocking_t blk = ck_conv_gemm_blocking(gk);
    void *ws = ck_conv_gemm_scratch(ck_conv_gemm_backward_weights_scratch(gk, p));
    if (ws == NULL) {
        ck_ref_conv_kernels.backward_weights(p, src, grad_dst, grad_weight, begin, end);
        return;
    }
    const int64_t *ds = p->dst.strides, *wst = p->weight.strides;
    for (int64_t c0 = begin; c0 < end;) {
        const int64_t g = c0 / cog;
        const int64_t c1 = ck_min((g + 1) * cog, end);
        for (int64_t t0 = 0; t0 < taps; t0 += run) {
            float *c = grad_weight + c0 * wst[0] + ck_weight_tap_offset(&wv, t0);
            for (int64_t n = 0; n < p->batch; n++) {
                ck_im2col_t iv;
                ck_conv_gemm_im2col(p, src, n, g, hwc, &iv);
                const ck_gemm_shifted_t tsh = {{ck_im2col_pack_taps, &iv}, t0, 0};
                const ck_gemm_operand_t top = {ck_gemm_pack_shifted, &tsh};
                ck_plane_view_t gv;
                ck_plane_view_init(&gv, grad_dst + n * ds[0] + c0 * ds[1], ds[1], ds[2], ds[3],
                                   p->out_h, p->out_w);
                const ck_gemm_operand_t gop = {ck_plane_pack_channels, &gv};
                ck_sgemm_ex(gk, &blk, c1 - c0, run, pixels, &gop, &top, c, wst[0],
                            n == 0 ? 0.0f : 1.0f, ws);
            }
        }
        c0 = c1;
    }
}
