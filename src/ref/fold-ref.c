/*
 * fold-ref.c - the scalar reference unfold (im2col) and fold (col2im) in the
 * F.unfold / F.fold layout.  Column row c*kh*kw + i*kw + j, column index
 * l = oh*out_w + ow, and the image position it reads or adds to is
 *   ih = oh*stride_h - pad_h + i*dilation_h,  iw = ow*stride_w - pad_w + j*dilation_w.
 * unfold writes the image value there, or 0 where the window leaves the
 * image.  fold zeroes its (n, c) image plane and then adds every column
 * element that lands inside it, in the order (i, j, oh, ow) - PyTorch's
 * col2im order - so the sums match PyTorch bit for bit.  Each work item
 * touches only its own image plane, so threading is race-free.
 */
#include "kernels.h"

static void ck_ref_unfold(const ck_fold_problem_t *p, const float *image, float *column,
                          int64_t begin, int64_t end)
{
    for (int64_t item = begin; item < end; item++) {
        const int64_t n = item / p->channels, c = item % p->channels;
        for (int64_t i = 0; i < p->kernel_h; i++)
            for (int64_t j = 0; j < p->kernel_w; j++) {
                const int64_t row = (c * p->kernel_h + i) * p->kernel_w + j;
                for (int64_t oh = 0; oh < p->out_h; oh++) {
                    const int64_t ih = oh * p->stride_h - p->pad_h + i * p->dilation_h;
                    for (int64_t ow = 0; ow < p->out_w; ow++) {
                        const int64_t iw = ow * p->stride_w - p->pad_w + j * p->dilation_w;
                        const bool inside = ih >= 0 && ih < p->height && iw >= 0 && iw < p->width;
                        column[ck_off(&p->column, n, row, 0, oh * p->out_w + ow)] =
                            inside ? image[ck_off(&p->image, n, c, ih, iw)] : 0.0f;
                    }
                }
            }
    }
}

static void ck_ref_fold(const ck_fold_problem_t *p, const float *column, float *image,
                        int64_t begin, int64_t end)
{
    for (int64_t item = begin; item < end; item++) {
        const int64_t n = item / p->channels, c = item % p->channels;
        for (int64_t ih = 0; ih < p->height; ih++)
            for (int64_t iw = 0; iw < p->width; iw++)
                image[ck_off(&p->image, n, c, ih, iw)] = 0.0f;
        for (int64_t i = 0; i < p->kernel_h; i++)
            for (int64_t j = 0; j < p->kernel_w; j++) {
                const int64_t row = (c * p->kernel_h + i) * p->kernel_w + j;
                for (int64_t oh = 0; oh < p->out_h; oh++) {
                    const int64_t ih = oh * p->stride_h - p->pad_h + i * p->dilation_h;
                    if (ih < 0 || ih >= p->height) continue;
                    for (int64_t ow = 0; ow < p->out_w; ow++) {
                        const int64_t iw = ow * p->stride_w - p->pad_w + j * p->dilation_w;
                        if (iw < 0 || iw >= p->width) continue;
                        image[ck_off(&p->image, n, c, ih, iw)] +=
                            column[ck_off(&p->column, n, row, 0, oh * p->out_w + ow)];
                    }
                }
            }
    }
}

const ck_fold_kernels_t ck_ref_fold_kernels = {
    .isa = CONVKIT_ISA_SCALAR,
    .name = "ref",
    .unfold = ck_ref_unfold,
    .fold = ck_ref_fold,
};
