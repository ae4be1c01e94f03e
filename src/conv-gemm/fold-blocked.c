/* fold-blocked.c - the public unfold and fold on the row primitives of the
 * GEMM path (col-rows.c), cache-blocked.  Scalar equivalent:
 * ck_ref_fold_kernels (src/ref/fold-ref.c).
 *   unfold: per (n, c), blocks of output rows; within a block every tap's
 *           column row is copied from the image rows the block reads.
 *   fold:   per (n, c), blocks of image rows; each block is zeroed, then
 *           every tap adds the column elements that land in it, in the
 *           order (tap i, tap j, oh, ow) of PyTorch's col2im, so the sums
 *           match the reference bit for bit. */
#include "conv-gemm/conv-gemm.h"

#define CK_FOLD_BLOCK_FLOATS 4096 /* 16 KiB of image or column row per block */

static void ck_fold_view(const ck_fold_problem_t *p, const float *image, int64_t n,
                         ck_im2col_t *v)
{
    const int64_t *st = p->image.strides;
    *v = (ck_im2col_t){
        .src = image + n * st[0], .sc = st[1], .sh = st[2], .sw = st[3],
        .in_h = p->height, .in_w = p->width, .out_w = p->out_w,
        .kh = p->kernel_h, .kw = p->kernel_w, .cig = p->channels,
        .stride_h = p->stride_h, .stride_w = p->stride_w,
        .dil_h = p->dilation_h, .dil_w = p->dilation_w,
        .pad_t = p->pad_h, .pad_l = p->pad_w, .mode = CONVKIT_PADDING_ZEROS, .hwc = false,
    };
}

static int64_t ck_rows_per_block(int64_t row_len)
{
    const int64_t rows = CK_FOLD_BLOCK_FLOATS / (row_len > 0 ? row_len : 1);
    return rows < 1 ? 1 : rows;
}

static void ck_blocked_unfold(const ck_fold_problem_t *p, const float *image, float *column,
                              int64_t begin, int64_t end)
{
    const int64_t *cs = p->column.strides;
    const int64_t block = ck_rows_per_block(p->out_w);
    for (int64_t item = begin; item < end; item++) {
        const int64_t n = item / p->channels, c = item % p->channels;
        ck_im2col_t v;
        ck_fold_view(p, image, n, &v);
        for (int64_t oh0 = 0; oh0 < p->out_h; oh0 += block) {
            const int64_t rows = p->out_h - oh0 < block ? p->out_h - oh0 : block;
            for (int64_t i = 0; i < p->kernel_h; i++)
                for (int64_t j = 0; j < p->kernel_w; j++) {
                    const int64_t row = (c * p->kernel_h + i) * p->kernel_w + j;
                    float *out = column + n * cs[0] + row * cs[1] + oh0 * p->out_w * cs[3];
                    ck_col_unfold_row(&v, c, i, j, oh0 * p->out_w, rows * p->out_w, out, cs[3]);
                }
        }
    }
}

/* The output rows [lo, hi) whose tap row i reads an image row in [h0, h1). */
static void ck_rows_reading(const ck_fold_problem_t *p, int64_t i, int64_t h0, int64_t h1,
                            int64_t *lo, int64_t *hi)
{
    const int64_t a = i * p->dilation_h - p->pad_h; /* ih = oh * stride + a */
    int64_t l = h0 - a <= 0 ? 0 : (h0 - a + p->stride_h - 1) / p->stride_h;
    int64_t h = h1 - a <= 0 ? 0 : (h1 - a + p->stride_h - 1) / p->stride_h;
    *lo = l < p->out_h ? l : p->out_h;
    *hi = h < p->out_h ? h : p->out_h;
    if (*hi < *lo) *hi = *lo;
}

static void ck_blocked_fold(const ck_fold_problem_t *p, const float *column, float *image,
                            int64_t begin, int64_t end)
{
    const int64_t *cs = p->column.strides, *is = p->image.strides;
    const int64_t block = ck_rows_per_block(p->width);
    for (int64_t item = begin; item < end; item++) {
        const int64_t n = item / p->channels, c = item % p->channels;
        ck_im2col_t v;
        ck_fold_view(p, image, n, &v);
        float *plane = image + n * is[0] + c * is[1];
        for (int64_t h0 = 0; h0 < p->height; h0 += block) {
            const int64_t h1 = p->height - h0 < block ? p->height : h0 + block;
            for (int64_t h = h0; h < h1; h++) {
                float *restrict r = plane + h * is[2];
                if (is[3] == 1) {
                    for (int64_t w = 0; w < p->width; w++) r[w] = 0.0f;
                } else {
                    for (int64_t w = 0; w < p->width; w++) r[w * is[3]] = 0.0f;
                }
            }
            for (int64_t i = 0; i < p->kernel_h; i++) {
                int64_t lo, hi;
                ck_rows_reading(p, i, h0, h1, &lo, &hi);
                if (lo == hi) continue;
                for (int64_t j = 0; j < p->kernel_w; j++) {
                    const int64_t row = (c * p->kernel_h + i) * p->kernel_w + j;
                    const float *in = column + n * cs[0] + row * cs[1] + lo * p->out_w * cs[3];
                    ck_col_fold_row(&v, i, j, lo * p->out_w, (hi - lo) * p->out_w, in, cs[3],
                                    plane);
                }
            }
        }
    }
}

const ck_fold_kernels_t ck_blocked_fold_kernels = {
    .isa = CONVKIT_ISA_SCALAR,
    .name = "blocked",
    .unfold = ck_blocked_unfold,
    .fold = ck_blocked_fold,
};
