/* forward.c - convolution forward as GEMM with im2col fused into packing
 * (conv-gemm.h).  Scalar equivalent: ck_ref_conv_kernels.forward.
 *
 * Items are (n, co) as for every conv kernel set; a range is cut into runs
 * of output channels of one image and group, each one GEMM:
 *   channels-first output (unit pixel stride, NCHW):
 *     C[co][j] = W[co][:] . col[:][j]     M = channels, N = pixels
 *   channels-last output (unit channel stride, NHWC):
 *     C[j][co] = col[:][j] . W[co][:]     M = pixels,   N = channels
 * Outputs whose rows are not contiguous in j (padded rows) are done one
 * output row at a time.  The bias is added after the GEMM. */

#include "conv-gemm/conv-gemm.h"

typedef enum { CK_OUT_CHANNELS_FIRST, CK_OUT_CHANNELS_LAST, CK_OUT_OTHER } ck_out_kind_t;

/* The column stride of the output (any value when it has one column). */
static int64_t ck_pixel_step(const ck_conv_problem_t *p)
{
    return p->out_w == 1 ? 1 : p->dst.strides[3];
}

static ck_out_kind_t ck_out_kind(const ck_conv_problem_t *p)
{
    if (ck_pixel_step(p) == 1) return CK_OUT_CHANNELS_FIRST;
    if (p->dst.strides[1] == 1 || p->out_channels == 1) return CK_OUT_CHANNELS_LAST;
    return CK_OUT_OTHER;
}

/* Pixels per GEMM call: all of them when output rows follow each other at
 * the column stride, else one row. */
static int64_t ck_pixel_run(const ck_conv_problem_t *p)
{
    const bool linear = p->out_h == 1 || p->dst.strides[2] == p->out_w * ck_pixel_step(p);
    return linear ? p->out_h * p->out_w : p->out_w;
}

static void ck_add_bias(ck_out_kind_t kind, float *c, int64_t ldc, int64_t channels,
                        int64_t pixels, const float *bias)
{
    if (kind == CK_OUT_CHANNELS_FIRST) {
        for (int64_t co = 0; co < channels; co++) {
            float *restrict row = c + co * ldc;
            const float b = bias[co];
            for (int64_t j = 0; j < pixels; j++) row[j] += b;
        }
    } else {
        for (int64_t j = 0; j < pixels; j++) {
            float *restrict row = c + j * ldc;
            for (int64_t co = 0; co < channels; co++) row[co] += bias[co];
        }
    }
}

size_t ck_conv_gemm_forward_scratch(const ck_gemm_kernel_t *gk, const ck_conv_problem_t *p)
{
    const ck_out_kind_t kind = ck_out_kind(p);
    if (kind == CK_OUT_OTHER) return 0;
    const int64_t cog = p->out_channels / p->groups;
    const int64_t taps = p->in_channels / p->groups * p->kernel_h * p->kernel_w;
    const int64_t run = ck_pixel_run(p);
    const ck_gemm_blocking_t blk = ck_conv_gemm_blocking(gk);
    return kind == CK_OUT_CHANNELS_FIRST ? ck_sgemm_workspace_size(gk, &blk, cog, run, taps)
                                         : ck_sgemm_workspace_size(gk, &blk, run, cog, taps);
}

void ck_conv_gemm_forward(const ck_gemm_kernel_t *gk, const ck_conv_problem_t *p,
                          const float *src, const float *weight, const float *bias, float *dst,
                          int64_t begin, int64_t end)
{
    const ck_out_kind_t kind = ck_out_kind(p);
    const int64_t cog = p->out_channels / p->groups;
    const int64_t taps = p->in_channels / p->groups * p->kernel_h * p->kernel_w;
    const int64_t run = ck_pixel_run(p), pixels = p->out_h * p->out_w;
    const bool first = kind == CK_OUT_CHANNELS_FIRST;
    const ck_gemm_blocking_t blk = ck_conv_gemm_blocking(gk);
    void *ws = NULL;
    if (kind != CK_OUT_OTHER) ws = ck_conv_gemm_scratch(ck_conv_gemm_forward_scratch(gk, p));
    if (ws == NULL) {
        ck_ref_conv_kernels.forward(p, src, weight, bias, dst, begin, end);
        return;
    }
    const bool hwc = ck_conv_gemm_hwc(p);
    const int64_t *ds = p->dst.strides;
    const int64_t step = ck_pixel_step(p);
    for (int64_t item = begin; item < end;) {
        const int64_t n = item / p->out_channels, co0 = item % p->out_channels;
        const int64_t g = co0 / cog;
        const int64_t co1 = (g + 1) * cog < co0 + (end - item) ? (g + 1) * cog : co0 + (end - item);
        item += co1 - co0;

        ck_im2col_t iv;
        ck_weight_view_t wv;
        ck_conv_gemm_im2col(p, src, n, g, hwc, &iv);
        ck_conv_gemm_weight(p, weight, g, &wv);
        const ck_gemm_shifted_t wsh = {{ck_weight_pack_channels, &wv}, co0 - g * cog, 0};
        const ck_gemm_operand_t wop = {ck_gemm_pack_shifted, &wsh};
        for (int64_t j0 = 0; j0 < pixels; j0 += run) {
            const ck_gemm_shifted_t csh = {{ck_im2col_pack_pixels, &iv}, j0, 0};
            const ck_gemm_operand_t cop = {ck_gemm_pack_shifted, &csh};
            float *c = dst + n * ds[0] + co0 * ds[1] + (j0 / p->out_w) * ds[2] +
                       (j0 % p->out_w) * ds[3];
            if (first) {
                ck_sgemm_ex(gk, &blk, co1 - co0, run, taps, &wop, &cop, c, ds[1], 0.0f, ws);
                if (bias != NULL) ck_add_bias(kind, c, ds[1], co1 - co0, run, bias + co0);
            } else {
                ck_sgemm_ex(gk, &blk, run, co1 - co0, taps, &cop, &wop, c, step, 0.0f, ws);
                if (bias != NULL) ck_add_bias(kind, c, step, co1 - co0, run, bias + co0);
            }
        }
    }
}
