/* backward-bias.c - grad_bias[co] = sum over n and pixels of grad_dst[n][co]
 * (scalar equivalent: ck_ref_conv_kernels.backward_bias).  Rows at unit
 * stride are summed in CK_LANES interleaved partial sums (the compiler maps
 * them onto vector registers); with channels at unit stride (NHWC) a block
 * of channels is summed side by side, one contiguous load per pixel.  Each
 * channel's terms are added in an order fixed by the problem alone. */
#include "conv-gemm/conv-gemm.h"

#define CK_LANES 16
#define CK_CHANNEL_BLOCK 64

/* Sum of row[0 .. len) in CK_LANES partial sums, folded pairwise. */
static float ck_row_sum(const float *row, int64_t len, float acc[CK_LANES])
{
    int64_t i = 0;
    for (; i + CK_LANES <= len; i += CK_LANES)
        for (int l = 0; l < CK_LANES; l++) acc[l] += row[i + l];
    float tail = 0.0f;
    for (; i < len; i++) tail += row[i];
    return tail;
}

static void ck_bias_rows(const ck_conv_problem_t *p, const float *gd, float *gb, int64_t co)
{
    const int64_t *st = p->dst.strides;
    float acc[CK_LANES] = {0}, tail = 0.0f;
    const bool flat = p->out_h == 1 || st[2] == p->out_w;
    const int64_t len = flat ? p->out_h * p->out_w : p->out_w, rows = flat ? 1 : p->out_h;
    for (int64_t n = 0; n < p->batch; n++)
        for (int64_t h = 0; h < rows; h++)
            tail += ck_row_sum(gd + n * st[0] + co * st[1] + h * st[2], len, acc);
    for (int w = CK_LANES / 2; w > 0; w /= 2)
        for (int l = 0; l < w; l++) acc[l] += acc[l + w];
    gb[co] = acc[0] + tail;
}

static void ck_bias_channels(const ck_conv_problem_t *p, const float *gd, float *gb, int64_t c0,
                             int64_t c1)
{
    const int64_t *st = p->dst.strides;
    float acc[CK_CHANNEL_BLOCK];
    for (int64_t b0 = c0; b0 < c1; b0 += CK_CHANNEL_BLOCK) {
        const int64_t nb = c1 - b0 < CK_CHANNEL_BLOCK ? c1 - b0 : CK_CHANNEL_BLOCK;
        for (int64_t i = 0; i < nb; i++) acc[i] = 0.0f;
        for (int64_t n = 0; n < p->batch; n++)
            for (int64_t h = 0; h < p->out_h; h++)
                for (int64_t w = 0; w < p->out_w; w++) {
                    const float *restrict px = gd + n * st[0] + b0 + h * st[2] + w * st[3];
                    for (int64_t i = 0; i < nb; i++) acc[i] += px[i];
                }
        for (int64_t i = 0; i < nb; i++) gb[b0 + i] = acc[i];
    }
}

void ck_conv_gemm_backward_bias(const ck_conv_problem_t *p, const float *grad_dst,
                                float *grad_bias, int64_t begin, int64_t end)
{
    const int64_t *st = p->dst.strides;
    if (st[3] == 1 || (p->out_w == 1 && (st[2] == 1 || p->out_h == 1))) {
        for (int64_t co = begin; co < end; co++) ck_bias_rows(p, grad_dst, grad_bias, co);
    } else if (st[1] == 1) {
        ck_bias_channels(p, grad_dst, grad_bias, begin, end);
    } else {
        ck_ref_conv_kernels.backward_bias(p, grad_dst, grad_bias, begin, end);
    }
}
