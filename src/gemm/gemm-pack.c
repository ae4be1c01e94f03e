/* gemm-pack.c - packing a strided matrix into GEMM micro-panels (the
 * layout is described at ck_gemm_pack_fn in gemm.h).  Portable C: each
 * panel is written in order (k outer, the w slots inner), and full panels
 * of the widths the kernel list uses get a copy with a constant width,
 * which the compiler unrolls and vectorizes (about 4x faster than a
 * run-time width, measured on Zen 3 for the transposing case). */
#include "gemm/gemm.h"

/* One panel: slots i < cols from the source, the rest zero. */
static inline __attribute__((always_inline)) void
ck_pack_panel(const float *src, int64_t sx, int64_t sk, int64_t kn, int64_t cols, int64_t w,
              float *restrict dst)
{
    if (cols == w && sx == 1) {
        for (int64_t k = 0; k < kn; k++)
            for (int64_t i = 0; i < w; i++) dst[k * w + i] = src[k * sk + i];
    } else if (cols == w) {
        for (int64_t k = 0; k < kn; k++)
            for (int64_t i = 0; i < w; i++) dst[k * w + i] = src[i * sx + k * sk];
    } else {
        for (int64_t k = 0; k < kn; k++) {
            for (int64_t i = 0; i < cols; i++) dst[k * w + i] = src[i * sx + k * sk];
            for (int64_t i = cols; i < w; i++) dst[k * w + i] = 0.0f;
        }
    }
}

#define CK_PACK_WIDTH(W)                                                                   \
    static void ck_pack_panel_##W(const float *src, int64_t sx, int64_t sk, int64_t kn,    \
                                  int64_t cols, float *restrict dst)                       \
    {                                                                                      \
        ck_pack_panel(src, sx, sk, kn, cols, W, dst);                                      \
    }
CK_PACK_WIDTH(4)
CK_PACK_WIDTH(6)
CK_PACK_WIDTH(8)
CK_PACK_WIDTH(14)
CK_PACK_WIDTH(16)
CK_PACK_WIDTH(32)

void ck_gemm_pack_matrix(const void *ctx, int64_t x0, int64_t xn, int64_t k0, int64_t kn,
                         int64_t w, float *dst)
{
    const ck_gemm_matrix_t *mat = ctx;
    const int64_t sx = mat->sx, sk = mat->sk;
    for (int64_t p0 = 0; p0 < xn; p0 += w, dst += w * kn) {
        const int64_t cols = xn - p0 < w ? xn - p0 : w; /* live slots of this panel */
        const float *src = mat->data + (x0 + p0) * sx + k0 * sk;
        switch (w) {
        case 4: ck_pack_panel_4(src, sx, sk, kn, cols, dst); break;
        case 6: ck_pack_panel_6(src, sx, sk, kn, cols, dst); break;
        case 8: ck_pack_panel_8(src, sx, sk, kn, cols, dst); break;
        case 14: ck_pack_panel_14(src, sx, sk, kn, cols, dst); break;
        case 16: ck_pack_panel_16(src, sx, sk, kn, cols, dst); break;
        case 32: ck_pack_panel_32(src, sx, sk, kn, cols, dst); break;
        default: ck_pack_panel(src, sx, sk, kn, cols, w, dst); break;
        }
    }
}

void ck_gemm_pack_shifted(const void *ctx, int64_t x0, int64_t xn, int64_t k0, int64_t kn,
                          int64_t w, float *dst)
{
    const ck_gemm_shifted_t *s = ctx;
    s->op.pack(s->op.ctx, x0 + s->dx, xn, k0 + s->dk, kn, w, dst);
}
