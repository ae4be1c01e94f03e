/* col-rows.c - one tap's row of the column matrix over a run of pixels:
 * unfold (im2col: read the image) and fold (col2im: add back into the
 * image).  Scalar equivalents: the per-element loops of src/ref/fold-ref.c
 * and of the reference conv's backward-data.  Each output row of the run is
 * cut into the pixels whose read falls left of the image, inside it, and
 * right of it; the inside part is a strided copy / add (stride 1:
 * contiguous, which the compiler vectorizes), the edges go through the
 * padding-mode map. */
#include "conv-gemm/conv-gemm.h"

void ck_col_unfold_row(const ck_im2col_t *v, int64_t ci, int64_t r, int64_t s, int64_t j0,
                       int64_t len, float *out, int64_t out_stride)
{
    const float *plane = v->src + ci * v->sc;
    const int64_t a = s * v->dil_w - v->pad_l;
    int64_t in_lo, in_hi; /* the columns reading inside the image, any row */
    ck_im2col_inside(a, v->stride_w, v->in_w, 0, v->out_w, &in_lo, &in_hi);
    int64_t oh = j0 / v->out_w, ow0 = j0 % v->out_w;
    for (int64_t done = 0; done < len; oh++, ow0 = 0) {
        const int64_t ow1 = ow0 + (len - done) < v->out_w ? ow0 + (len - done) : v->out_w;
        float *o = out + done * out_stride;
        done += ow1 - ow0;
        const int64_t ih = ck_im2col_coord(oh * v->stride_h - v->pad_t + r * v->dil_h, v->in_h,
                                           v->mode);
        if (ih < 0) {
            for (int64_t ow = ow0; ow < ow1; ow++) o[(ow - ow0) * out_stride] = 0.0f;
            continue;
        }
        const float *row = plane + ih * v->sh;
        const int64_t lo = in_lo < ow0 ? ow0 : in_lo > ow1 ? ow1 : in_lo;
        const int64_t hi = in_hi < lo ? lo : in_hi > ow1 ? ow1 : in_hi;
        for (int64_t ow = ow0; ow < lo; ow++) {
            const int64_t iw = ck_im2col_coord(ow * v->stride_w + a, v->in_w, v->mode);
            o[(ow - ow0) * out_stride] = iw < 0 ? 0.0f : row[iw * v->sw];
        }
        const int64_t step = v->stride_w * v->sw;
        const float *in = hi > lo ? row + (lo * v->stride_w + a) * v->sw : row;
        float *restrict d = o + (lo - ow0) * out_stride;
        if (step == 1 && out_stride == 1) {
            for (int64_t i = 0; i < hi - lo; i++) d[i] = in[i];
        } else {
            for (int64_t i = 0; i < hi - lo; i++) d[i * out_stride] = in[i * step];
        }
        for (int64_t ow = hi; ow < ow1; ow++) {
            const int64_t iw = ck_im2col_coord(ow * v->stride_w + a, v->in_w, v->mode);
            o[(ow - ow0) * out_stride] = iw < 0 ? 0.0f : row[iw * v->sw];
        }
    }
}

void ck_col_fold_row(const ck_im2col_t *v, int64_t r, int64_t s, int64_t j0, int64_t len,
                     const float *rowin, int64_t row_stride, float *plane)
{
    const int64_t a = s * v->dil_w - v->pad_l;
    int64_t in_lo, in_hi; /* the columns reading inside the image, any row */
    ck_im2col_inside(a, v->stride_w, v->in_w, 0, v->out_w, &in_lo, &in_hi);
    int64_t oh = j0 / v->out_w, ow0 = j0 % v->out_w;
    for (int64_t done = 0; done < len; oh++, ow0 = 0) {
        const int64_t ow1 = ow0 + (len - done) < v->out_w ? ow0 + (len - done) : v->out_w;
        const float *c = rowin + done * row_stride;
        done += ow1 - ow0;
        const int64_t ih = ck_im2col_coord(oh * v->stride_h - v->pad_t + r * v->dil_h, v->in_h,
                                           v->mode);
        if (ih < 0) continue;
        float *row = plane + ih * v->sh;
        const int64_t lo = in_lo < ow0 ? ow0 : in_lo > ow1 ? ow1 : in_lo;
        const int64_t hi = in_hi < lo ? lo : in_hi > ow1 ? ow1 : in_hi;
        for (int64_t ow = ow0; ow < lo; ow++) {
            const int64_t iw = ck_im2col_coord(ow * v->stride_w + a, v->in_w, v->mode);
            if (iw >= 0) row[iw * v->sw] += c[(ow - ow0) * row_stride];
        }
        const int64_t step = v->stride_w * v->sw;
        float *restrict d = hi > lo ? row + (lo * v->stride_w + a) * v->sw : row;
        const float *restrict in = c + (lo - ow0) * row_stride;
        if (step == 1 && row_stride == 1) {
            for (int64_t i = 0; i < hi - lo; i++) d[i] += in[i];
        } else {
            for (int64_t i = 0; i < hi - lo; i++) d[i * step] += in[i * row_stride];
        }
        for (int64_t ow = hi; ow < ow1; ow++) {
            const int64_t iw = ck_im2col_coord(ow * v->stride_w + a, v->in_w, v->mode);
            if (iw >= 0) row[iw * v->sw] += c[(ow - ow0) * row_stride];
        }
    }
}
