/*
 * pool-ref.c - the scalar reference max-pool: for every output element, scan
 * its window row-major over the positions that lie inside the input; a
 * value replaces the running maximum when it is the first valid element,
 * when it is greater, or when it is NaN (ties keep the first maximum, NaN
 * propagates and the last NaN's index wins).  The index is ih*W + iw in the
 * unpadded plane; a window with no valid element gives -inf and index -1.
 * Backward zeroes each grad_src plane and scatter-adds grad_dst by index,
 * in output order, skipping index -1.
 */
#include <math.h>

#include "kernels.h"

static void ck_ref_pool_forward(const ck_pool_problem_t *p, const float *src, float *dst,
                                int64_t *indices, int64_t begin, int64_t end)
{
    for (int64_t item = begin; item < end; item++) {
        const int64_t n = item / p->channels, c = item % p->channels;
        for (int64_t oh = 0; oh < p->out_h; oh++)
            for (int64_t ow = 0; ow < p->out_w; ow++) {
                float max = -INFINITY;
                int64_t index = -1;
                bool seen = false; /* a valid element has been read */
                for (int64_t kh = 0; kh < p->kernel_h; kh++) {
                    const int64_t ih = oh * p->stride_h - p->pad_h + kh * p->dilation_h;
                    if (ih < 0 || ih >= p->in_h) continue;
                    for (int64_t kw = 0; kw < p->kernel_w; kw++) {
                        const int64_t iw = ow * p->stride_w - p->pad_w + kw * p->dilation_w;
                        if (iw < 0 || iw >= p->in_w) continue;
                        const float v = src[ck_off(&p->src, n, c, ih, iw)];
                        if (!seen || v > max || isnan(v)) {
                            max = v;
                            index = ih * p->in_w + iw;
                            seen = true;
                        }
                    }
                }
                dst[ck_off(&p->dst, n, c, oh, ow)] = max;
                if (indices != NULL) indices[ck_off(&p->indices, n, c, oh, ow)] = index;
            }
    }
}

static void ck_ref_pool_backward(const ck_pool_problem_t *p, const float *grad_dst,
                                 const int64_t *indices, float *grad_src, int64_t begin,
                                 int64_t end)
{
    for (int64_t item = begin; item < end; item++) {
        const int64_t n = item / p->channels, c = item % p->channels;
        for (int64_t ih = 0; ih < p->in_h; ih++)
            for (int64_t iw = 0; iw < p->in_w; iw++)
                grad_src[ck_off(&p->src, n, c, ih, iw)] = 0.0f;
        for (int64_t oh = 0; oh < p->out_h; oh++)
            for (int64_t ow = 0; ow < p->out_w; ow++) {
                const int64_t index = indices[ck_off(&p->indices, n, c, oh, ow)];
                if (index < 0) continue; /* -1: the window had no valid element */
                grad_src[ck_off(&p->src, n, c, index / p->in_w, index % p->in_w)] +=
                    grad_dst[ck_off(&p->dst, n, c, oh, ow)];
            }
    }
}

const ck_pool_kernels_t ck_ref_pool_kernels = {
    .isa = CONVKIT_ISA_SCALAR,
    .name = "ref",
    .forward = ck_ref_pool_forward,
    .backward = ck_ref_pool_backward,
};
