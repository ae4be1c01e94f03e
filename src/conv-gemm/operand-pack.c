/* operand-pack.c - packing the weight (C_out/G x K per group) and the
 * output-shaped operands (grad_dst, C_out/G x P per image and group) into
 * GEMM micro-panels (layout at ck_gemm_pack_fn in gemm.h).  Operands whose
 * elements lie on a plain 2-D grid go through ck_gemm_pack_matrix; other
 * layouts are gathered element by element. */
#include "conv-gemm/conv-gemm.h"

#define CK_PANEL_MAX 64

/* One panel gathered at fixed slot offsets: dst[k*w + i] = base[k*ks + off[i]]
 * for i < cols, zeros past cols. */
static void ck_pack_gather(const float *base, int64_t ks, const int64_t *off, int64_t cols,
                           int64_t w, int64_t kn, float *dst)
{
    for (int64_t k = 0; k < kn; k++) {
        const float *row = base + k * ks;
        for (int64_t i = 0; i < cols; i++) dst[k * w + i] = row[off[i]];
        for (int64_t i = cols; i < w; i++) dst[k * w + i] = 0.0f;
    }
}

/* ---- weight ------------------------------------------------------------------ */

int64_t ck_weight_tap_offset(const ck_weight_view_t *v, int64_t t)
{
    int64_t ci, r, s;
    if (v->hwc) {
        ci = t % v->cig;
        t /= v->cig;
        s = t % v->kw;
        r = t / v->kw;
    } else {
        s = t % v->kw;
        t /= v->kw;
        r = t % v->kh;
        ci = t / v->kh;
    }
    return ci * v->si + r * v->sr + s * v->ss;
}

/* Stride `st` of a dimension of size `n` matters only if n > 1. */
static bool ck_stride_is(int64_t n, int64_t st, int64_t want) { return n == 1 || st == want; }

bool ck_weight_taps_linear(const ck_weight_view_t *v)
{
    if (v->hwc)
        return ck_stride_is(v->cig, v->si, 1) && ck_stride_is(v->kw, v->ss, v->cig) &&
               ck_stride_is(v->kh, v->sr, v->kw * v->cig);
    return ck_stride_is(v->kw, v->ss, 1) && ck_stride_is(v->kh, v->sr, v->kw) &&
           ck_stride_is(v->cig, v->si, v->kh * v->kw);
}

void ck_weight_pack_channels(const void *ctx, int64_t x0, int64_t xn, int64_t k0, int64_t kn,
                             int64_t w, float *dst)
{
    const ck_weight_view_t *v = ctx;
    if (ck_weight_taps_linear(v)) {
        const ck_gemm_matrix_t m = {v->w, v->so, 1};
        ck_gemm_pack_matrix(&m, x0, xn, k0, kn, w, dst);
        return;
    }
    for (int64_t p0 = 0; p0 < xn; p0 += w, dst += w * kn) {
        const int64_t cols = xn - p0 < w ? xn - p0 : w;
        const float *base = v->w + (x0 + p0) * v->so;
        for (int64_t k = 0; k < kn; k++) {
            const float *tap = base + ck_weight_tap_offset(v, k0 + k);
            for (int64_t i = 0; i < cols; i++) dst[k * w + i] = tap[i * v->so];
            for (int64_t i = cols; i < w; i++) dst[k * w + i] = 0.0f;
        }
    }
}

void ck_weight_pack_taps(const void *ctx, int64_t x0, int64_t xn, int64_t k0, int64_t kn,
                         int64_t w, float *dst)
{
    const ck_weight_view_t *v = ctx;
    if (ck_weight_taps_linear(v)) {
        const ck_gemm_matrix_t m = {v->w, 1, v->so};
        ck_gemm_pack_matrix(&m, x0, xn, k0, kn, w, dst);
        return;
    }
    int64_t off[CK_PANEL_MAX];
    for (int64_t p0 = 0; p0 < xn; p0 += w, dst += w * kn) {
        const int64_t cols = xn - p0 < w ? xn - p0 : w;
        for (int64_t i = 0; i < cols; i++) off[i] = ck_weight_tap_offset(v, x0 + p0 + i);
        ck_pack_gather(v->w + k0 * v->so, v->so, off, cols, w, kn, dst);
    }
}

/* ---- output-shaped operands ---------------------------------------------------- */

void ck_plane_view_init(ck_plane_view_t *v, const float *data, int64_t sc, int64_t sh,
                        int64_t sw, int64_t out_h, int64_t out_w)
{
    v->data = data;
    v->sc = sc;
    v->sh = sh;
    v->sw = sw;
    v->out_w = out_w;
    v->linear = out_h == 1 || sh == out_w * sw;
}

/* Element offset of pixel j. */
static inline int64_t ck_plane_pixel(const ck_plane_view_t *v, int64_t j)
{
    return (j / v->out_w) * v->sh + (j % v->out_w) * v->sw;
}

void ck_plane_pack_pixels(const void *ctx, int64_t x0, int64_t xn, int64_t k0, int64_t kn,
                          int64_t w, float *dst)
{
    const ck_plane_view_t *v = ctx;
    if (v->linear) {
        const ck_gemm_matrix_t m = {v->data, v->sw, v->sc};
        ck_gemm_pack_matrix(&m, x0, xn, k0, kn, w, dst);
        return;
    }
    int64_t off[CK_PANEL_MAX];
    for (int64_t p0 = 0; p0 < xn; p0 += w, dst += w * kn) {
        const int64_t cols = xn - p0 < w ? xn - p0 : w;
        for (int64_t i = 0; i < cols; i++) off[i] = ck_plane_pixel(v, x0 + p0 + i);
        ck_pack_gather(v->data + k0 * v->sc, v->sc, off, cols, w, kn, dst);
    }
}

void ck_plane_pack_channels(const void *ctx, int64_t x0, int64_t xn, int64_t k0, int64_t kn,
                            int64_t w, float *dst)
{
    const ck_plane_view_t *v = ctx;
    if (v->linear) {
        const ck_gemm_matrix_t m = {v->data, v->sc, v->sw};
        ck_gemm_pack_matrix(&m, x0, xn, k0, kn, w, dst);
        return;
    }
    for (int64_t p0 = 0; p0 < xn; p0 += w, dst += w * kn) {
        const int64_t cols = xn - p0 < w ? xn - p0 : w;
        const float *base = v->data + (x0 + p0) * v->sc;
        for (int64_t k = 0; k < kn; k++) {
            const float *px = base + ck_plane_pixel(v, k0 + k);
            for (int64_t i = 0; i < cols; i++) dst[k * w + i] = px[i * v->sc];
            for (int64_t i = cols; i < w; i++) dst[k * w + i] = 0.0f;
        }
    }
}
