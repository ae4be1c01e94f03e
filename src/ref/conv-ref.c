/*
 * conv-ref.c - the scalar reference convolution: the textbook loops of the
 * definition in convkit.h, one output element at a time, accumulating in
 * fp32 in a fixed order (input channel, kernel row, kernel column).  The
 * padding mode maps each padded coordinate to its source (or to nothing).
 * Forward ends with the fused epilogue: dst = act(sum + bias) + residual
 * (ck_ref_activation; epilogue.h).
 */
#include "epilogue.h"
#include "kernels.h"

/* Source row/column of padded coordinate `i` (oh*stride + k*dilation), or -1. */
static int64_t ck_src_coord(int64_t padded, int64_t pad_lo, int64_t size, uint32_t mode)
{
    return ck_ref_pad_index(padded - pad_lo, size, mode);
}

static void ck_ref_conv_forward(const ck_conv_problem_t *p, const float *src,
                                const float *weight, const float *bias, const float *residual,
                                float *dst, int64_t begin, int64_t end)
{
    const int64_t cin_g = p->in_channels / p->groups, cout_g = p->out_channels / p->groups;
    for (int64_t item = begin; item < end; item++) {
        const int64_t n = item / p->out_channels, co = item % p->out_channels;
        const int64_t g = co / cout_g;
        for (int64_t oh = 0; oh < p->out_h; oh++)
            for (int64_t ow = 0; ow < p->out_w; ow++) {
                float acc = bias != NULL ? bias[co] : 0.0f;
                for (int64_t ci = 0; ci < cin_g; ci++)
                    for (int64_t kh = 0; kh < p->kernel_h; kh++) {
                        const int64_t ih = ck_src_coord(oh * p->stride_h + kh * p->dilation_h,
                                                        p->pad_top, p->in_h, p->padding_mode);
                        if (ih < 0) continue;
                        for (int64_t kw = 0; kw < p->kernel_w; kw++) {
                            const int64_t iw =
                                ck_src_coord(ow * p->stride_w + kw * p->dilation_w, p->pad_left,
                                             p->in_w, p->padding_mode);
                            if (iw < 0) continue;
                            acc += src[ck_off(&p->src, n, g * cin_g + ci, ih, iw)] *
                                   weight[ck_off(&p->weight, co, ci, kh, kw)];
                        }
                    }
                /* the epilogue: activation, then the residual (read before the
                 * store: residual may be dst) */
                const int64_t o = ck_off(&p->dst, n, co, oh, ow);
                acc = ck_ref_activation(acc, &p->epilogue);
                if (residual != NULL) acc += residual[o];
                dst[o] = acc;
            }
    }
}

/* grad_src plane (n, c): zero it, then scatter every contribution of that
 * channel's group outputs to the source coordinates they read. */
static void ck_ref_conv_backward_data(const ck_conv_problem_t *p, const float *grad_dst,
                                      const float *weight, float *grad_src, int64_t begin,
                                      int64_t end)
{
    const int64_t cin_g = p->in_channels / p->groups, cout_g = p->out_channels / p->groups;
    for (int64_t item = begin; item < end; item++) {
        const int64_t n = item / p->in_channels, c = item % p->in_channels;
        const int64_t g = c / cin_g, ci = c % cin_g;
        for (int64_t ih = 0; ih < p->in_h; ih++)
            for (int64_t iw = 0; iw < p->in_w; iw++)
                grad_src[ck_off(&p->src, n, c, ih, iw)] = 0.0f;
        for (int64_t j = 0; j < cout_g; j++) {
            const int64_t co = g * cout_g + j;
            for (int64_t oh = 0; oh < p->out_h; oh++)
                for (int64_t kh = 0; kh < p->kernel_h; kh++) {
                    const int64_t ih = ck_src_coord(oh * p->stride_h + kh * p->dilation_h,
                                                    p->pad_top, p->in_h, p->padding_mode);
                    if (ih < 0) continue;
                    for (int64_t ow = 0; ow < p->out_w; ow++)
                        for (int64_t kw = 0; kw < p->kernel_w; kw++) {
                            const int64_t iw =
                                ck_src_coord(ow * p->stride_w + kw * p->dilation_w, p->pad_left,
                                             p->in_w, p->padding_mode);
                            if (iw < 0) continue;
                            grad_src[ck_off(&p->src, n, c, ih, iw)] +=
                                grad_dst[ck_off(&p->dst, n, co, oh, ow)] *
                                weight[ck_off(&p->weight, co, ci, kh, kw)];
                        }
                }
        }
    }
}

/* grad_weight[co, ci, kh, kw] = sum over n, oh, ow of src * grad_dst. */
static void ck_ref_conv_backward_weights(const ck_conv_problem_t *p, const float *src,
                                         const float *grad_dst, float *grad_weight,
                                         int64_t begin, int64_t end)
{
    const int64_t cin_g = p->in_channels / p->groups, cout_g = p->out_channels / p->groups;
    for (int64_t co = begin; co < end; co++) {
        const int64_t g = co / cout_g;
        for (int64_t ci = 0; ci < cin_g; ci++)
            for (int64_t kh = 0; kh < p->kernel_h; kh++)
                for (int64_t kw = 0; kw < p->kernel_w; kw++) {
                    float acc = 0.0f;
                    for (int64_t n = 0; n < p->batch; n++)
                        for (int64_t oh = 0; oh < p->out_h; oh++) {
                            const int64_t ih =
                                ck_src_coord(oh * p->stride_h + kh * p->dilation_h, p->pad_top,
                                             p->in_h, p->padding_mode);
                            if (ih < 0) continue;
                            for (int64_t ow = 0; ow < p->out_w; ow++) {
                                const int64_t iw =
                                    ck_src_coord(ow * p->stride_w + kw * p->dilation_w,
                                                 p->pad_left, p->in_w, p->padding_mode);
                                if (iw < 0) continue;
                                acc += src[ck_off(&p->src, n, g * cin_g + ci, ih, iw)] *
                                       grad_dst[ck_off(&p->dst, n, co, oh, ow)];
                            }
                        }
                    grad_weight[ck_off(&p->weight, co, ci, kh, kw)] = acc;
                }
    }
}

static void ck_ref_conv_backward_bias(const ck_conv_problem_t *p, const float *grad_dst,
                                      float *grad_bias, int64_t begin, int64_t end)
{
    for (int64_t co = begin; co < end; co++) {
        float acc = 0.0f;
        for (int64_t n = 0; n < p->batch; n++)
            for (int64_t oh = 0; oh < p->out_h; oh++)
                for (int64_t ow = 0; ow < p->out_w; ow++)
                    acc += grad_dst[ck_off(&p->dst, n, co, oh, ow)];
        grad_bias[co] = acc;
    }
}

const ck_conv_kernels_t ck_ref_conv_kernels = {
    .isa = CONVKIT_ISA_SCALAR,
    .name = "ref",
    .forward = ck_ref_conv_forward,
    .backward_data = ck_ref_conv_backward_data,
    .backward_weights = ck_ref_conv_backward_weights,
    .backward_bias = ck_ref_conv_backward_bias,
};
