/* im2col-pack.c - im2col fused into GEMM packing: the column block of one
 * K x N (or M x K) panel is gathered from the image straight into the
 * packed micro-panels (layout at ck_gemm_pack_fn in gemm.h), so no column
 * matrix exists.  Scalar equivalent: col[t][j] as defined in conv-gemm.h.
 * Pixel panels are filled one tap at a time along the image rows (reads
 * stream along rows; the part of a row inside the image is a strided, at
 * stride 1 contiguous, copy into the panels it spans).  Tap panels are
 * filled one slot (tap) at a time, by the unfold row primitive writing at
 * the panel's stride. */
#include "conv-gemm/conv-gemm.h"

/* Advances (ci, r, s) to the next tap in the view's order. */
static inline void ck_tap_next(const ck_im2col_t *v, int64_t *ci, int64_t *r, int64_t *s)
{
    if (v->hwc) {
        if (++*ci < v->cig) return;
        *ci = 0;
        if (++*s < v->kw) return;
        *s = 0;
        ++*r;
    } else {
        if (++*s < v->kw) return;
        *s = 0;
        if (++*r < v->kh) return;
        *r = 0;
        ++*ci;
    }
}

/* Writes col[t][x0 + jj] for jj in [j_lo, j_hi) (one output row's pixels)
 * into the packed block: pixel jj goes to panel jj / w, slot jj % w of the
 * panel's row k.  `src_at` is the element read by pixel x0 + j_lo, the
 * next ones at `step`; [in_lo, in_hi) is the part inside the image. */
static inline __attribute__((always_inline)) void ck_scatter_run(float *dst, int64_t w, int64_t kn, int64_t k, int64_t jj,
                                  int64_t len, const float *src_at, int64_t step)
{
    while (len > 0) {
        const int64_t slot = jj % w, chunk = w - slot < len ? w - slot : len;
        float *restrict d = dst + (jj / w) * w * kn + k * w + slot;
        if (step == 1) {
            for (int64_t i = 0; i < chunk; i++) d[i] = src_at[i];
        } else {
            for (int64_t i = 0; i < chunk; i++) d[i] = src_at[i * step];
        }
        jj += chunk;
        len -= chunk;
        src_at += chunk * step;
    }
}

/* The packer for panel width w; instantiated below with constant widths so
 * the panel arithmetic is shifts and the copies are fixed-size. */
static inline __attribute__((always_inline)) void
ck_pack_pixels_w(const ck_im2col_t *v, int64_t x0, int64_t xn, int64_t k0, int64_t kn,
                 int64_t w, float *dst)
{
    const int64_t panels = (xn + w - 1) / w;
    /* The slots past xn in the last panel are zeros. */
    for (int64_t jj = xn; jj < panels * w; jj++)
        for (int64_t k = 0; k < kn; k++) dst[(jj / w) * w * kn + k * w + jj % w] = 0.0f;
    const int64_t step = v->stride_w * v->sw;
    int64_t ci, r, s;
    ck_im2col_tap(v, k0, &ci, &r, &s);
    for (int64_t k = 0; k < kn; k++, ck_tap_next(v, &ci, &r, &s)) {
        const float *plane = v->src + ci * v->sc;
        const int64_t a = s * v->dil_w - v->pad_l; /* iw = ow * stride_w + a */
        int64_t oh = x0 / v->out_w, ow0 = x0 % v->out_w;
        for (int64_t jj = 0; jj < xn; oh++, ow0 = 0) {
            const int64_t ow1 = ow0 + (xn - jj) < v->out_w ? ow0 + (xn - jj) : v->out_w;
            const int64_t ih = ck_im2col_coord(oh * v->stride_h - v->pad_t + r * v->dil_h,
                                               v->in_h, v->mode);
            /* inside: ow in [lo, hi) reads iw in [0, in_w) */
            int64_t lo, hi;
            ck_im2col_inside(a, v->stride_w, v->in_w, ow0, ow1, &lo, &hi);
            if (ih < 0) lo = hi = ow1; /* the whole run reads padding */
            const float *row = plane + (ih < 0 ? 0 : ih) * v->sh;
            for (int64_t ow = ow0; ow < ow1; ow++) {
                if (ow == lo && hi > lo) {
                    ck_scatter_run(dst, w, kn, k, jj + (lo - ow0), hi - lo,
                                   row + (lo * v->stride_w + a) * v->sw, step);
                    ow = hi - 1;
                    continue;
                }
                const int64_t iw =
                    ih < 0 ? -1 : ck_im2col_coord(ow * v->stride_w + a, v->in_w, v->mode);
                const int64_t p = jj + (ow - ow0);
                dst[(p / w) * w * kn + k * w + p % w] = iw < 0 ? 0.0f : row[iw * v->sw];
            }
            jj += ow1 - ow0;
        }
    }
}

#define CK_PACK_PIXELS_WIDTH(W)                                                              \
    static void ck_pack_pixels_##W(const ck_im2col_t *v, int64_t x0, int64_t xn, int64_t k0, \
                                   int64_t kn, float *dst)                                   \
    {                                                                                        \
        ck_pack_pixels_w(v, x0, xn, k0, kn, W, dst);                                         \
    }
CK_PACK_PIXELS_WIDTH(4)
CK_PACK_PIXELS_WIDTH(6)
CK_PACK_PIXELS_WIDTH(8)
CK_PACK_PIXELS_WIDTH(14)
CK_PACK_PIXELS_WIDTH(16)
CK_PACK_PIXELS_WIDTH(32)

void ck_im2col_pack_pixels(const void *ctx, int64_t x0, int64_t xn, int64_t k0, int64_t kn,
                           int64_t w, float *dst)
{
    const ck_im2col_t *v = ctx;
    /* 1x1, stride 1, no padding over rows that follow each other: a plain
     * (pixels x channels) matrix. */
    if (v->kh == 1 && v->kw == 1 && v->stride_h == 1 && v->stride_w == 1 && v->pad_t == 0 &&
        v->pad_l == 0 && v->in_w == v->out_w && (v->in_h == 1 || v->sh == v->in_w * v->sw)) {
        const ck_gemm_matrix_t m = {v->src, v->sw, v->sc};
        ck_gemm_pack_matrix(&m, x0, xn, k0, kn, w, dst);
        return;
    }
    switch (w) {
    case 4: ck_pack_pixels_4(v, x0, xn, k0, kn, dst); break;
    case 6: ck_pack_pixels_6(v, x0, xn, k0, kn, dst); break;
    case 8: ck_pack_pixels_8(v, x0, xn, k0, kn, dst); break;
    case 14: ck_pack_pixels_14(v, x0, xn, k0, kn, dst); break;
    case 16: ck_pack_pixels_16(v, x0, xn, k0, kn, dst); break;
    case 32: ck_pack_pixels_32(v, x0, xn, k0, kn, dst); break;
    default: ck_pack_pixels_w(v, x0, xn, k0, kn, w, dst); break;
    }
}

void ck_im2col_pack_taps(const void *ctx, int64_t x0, int64_t xn, int64_t k0, int64_t kn,
                         int64_t w, float *dst)
{
    const ck_im2col_t *v = ctx;
    int64_t ci, r, s;
    ck_im2col_tap(v, x0, &ci, &r, &s);
    for (int64_t p0 = 0; p0 < xn; p0 += w, dst += w * kn) {
        const int64_t cols = xn - p0 < w ? xn - p0 : w;
        /* slot i of every row k: tap x0 + p0 + i at pixel k0 + k */
        for (int64_t i = 0; i < cols; i++, ck_tap_next(v, &ci, &r, &s))
            ck_col_unfold_row(v, ci, r, s, k0, kn, dst + i, w);
        for (int64_t k = 0; k < kn; k++)
            for (int64_t i = cols; i < w; i++) dst[k * w + i] = 0.0f;
    }
}
