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
 * output row at a time.
 *
 * The epilogue - bias, activation, residual (dst = act(C + bias) + res) -
 * runs on each GEMM tile as soon as the driver has finished it, while it
 * is in L1 (ck_sgemm_epi), through the row kernels of the GEMM kernel's
 * ISA (epilogue.h).  With residual == dst the GEMM writes its output in
 * blocks to scratch instead, and the epilogue reads the residual from dst
 * before overwriting it. */

#include "conv-gemm/conv-gemm.h"
#include "epilogue.h"

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

/* The epilogue of one GEMM call's output, run by the driver on each tile
 * as soon as it is finished (ck_gemm_epilogue_t): rows of C are channels
 * (channels-first) or pixels (channels-last); the ISA's row kernel does
 * the tile's rows in one call. */
typedef struct ck_fwd_epilogue {
    ck_f32_epilogue_fn rows;   /* the row kernel for C's orientation */
    const ck_conv_epilogue_t *e;
    bool first;                /* C's rows are channels */
    const float *bias;         /* bias of C's channel 0, or NULL */
    const float *res;          /* residual element of C(0, 0), or NULL */
    float *out;                /* dst element of C(0, 0) */
    int64_t ld;                /* row stride of out and res */
} ck_fwd_epilogue_t;

static void ck_fwd_epilogue_tile(const void *ctx, int64_t i0, int64_t j0, int64_t m, int64_t n,
                                 float *c, int64_t ldc)
{
    const ck_fwd_epilogue_t *x = ctx;
    const float *b = x->bias == NULL ? NULL : x->first ? x->bias + i0 : x->bias + j0;
    const int64_t o = i0 * x->ld + j0;
    x->rows(x->e, (size_t)m, (size_t)n, c, (size_t)ldc, b, x->res == NULL ? NULL : x->res + o,
            x->out + o, (size_t)x->ld);
}

/* In place (residual == dst) the GEMM cannot write dst, which still holds
 * the residual: it writes blocks of at most CK_FWD_CBLOCK floats of its
 * output into scratch, and the epilogue reads them there and writes dst. */
#define CK_FWD_CBLOCK ((int64_t)1 << 16)

typedef struct ck_fwd_inplace {
    ck_gemm_blocking_t gemm; /* the GEMM's, its B block cut to fit beside the C block */
    int64_t channels, pixels; /* the largest C block: channels x pixels */
    size_t c_bytes, bytes;    /* the C block; all scratch */
} ck_fwd_inplace_t;

static int64_t ck_fwd_min(int64_t a, int64_t b) { return a < b ? a : b; }

static ck_fwd_inplace_t ck_fwd_inplace_blocking(const ck_gemm_kernel_t *gk,
                                                const ck_conv_problem_t *p)
{
    ck_fwd_inplace_t b;
    const int64_t f = (int64_t)sizeof(float);
    const int64_t cog = p->out_channels / p->groups;
    const int64_t taps = p->in_channels / p->groups * p->kernel_h * p->kernel_w;
    const bool first = ck_out_kind(p) == CK_OUT_CHANNELS_FIRST;
    b.channels = ck_fwd_min(cog, CK_FWD_CBLOCK);
    const int64_t run = ck_pixel_run(p);
    b.pixels = ck_fwd_min(run, CK_FWD_CBLOCK / b.channels);
    if (b.pixels > 32 && b.pixels < run) b.pixels = b.pixels / 32 * 32; /* whole GEMM tiles */
    b.c_bytes = (size_t)(b.channels * b.pixels * f + 63) / 64 * 64;
    const int64_t M = first ? b.channels : b.pixels, N = first ? b.pixels : b.channels;
    b.gemm = ck_conv_gemm_blocking(gk);
    const int64_t a_floats =
        b.gemm.kc * ck_fwd_min(b.gemm.mc, (M + gk->mr - 1) / gk->mr * gk->mr);
    const int64_t room =
        (int64_t)CK_GEMM_WORKSPACE_MAX - (int64_t)b.c_bytes - a_floats * f - 4 * 64;
    const int64_t nc = room / (f * b.gemm.kc) / gk->nr * gk->nr;
    if (nc < b.gemm.nc) b.gemm.nc = nc < gk->nr ? gk->nr : nc;
    b.bytes = b.c_bytes + ck_sgemm_workspace_size(gk, &b.gemm, M, N, taps);
    return b;
}

size_t ck_conv_gemm_forward_inplace_scratch(const ck_gemm_kernel_t *gk,
                                            const ck_conv_problem_t *p)
{
    if (ck_out_kind(p) == CK_OUT_OTHER) return 0;
    return ck_fwd_inplace_blocking(gk, p).bytes;
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
                          const float *src, const float *weight, const float *bias,
                          const float *residual, float *dst, int64_t begin, int64_t end)
{
    const ck_out_kind_t kind = ck_out_kind(p);
    const int64_t cog = p->out_channels / p->groups;
    const int64_t taps = p->in_channels / p->groups * p->kernel_h * p->kernel_w;
    const int64_t run = ck_pixel_run(p), pixels = p->out_h * p->out_w;
    const bool first = kind == CK_OUT_CHANNELS_FIRST;
    const bool in_place = residual != NULL && residual == dst;
    ck_fwd_inplace_t ib = {0};
    ck_gemm_blocking_t blk = ck_conv_gemm_blocking(gk);
    void *ws = NULL;
    if (kind != CK_OUT_OTHER) {
        if (in_place) {
            ib = ck_fwd_inplace_blocking(gk, p);
            blk = ib.gemm;
        }
        ws = ck_conv_gemm_scratch(in_place ? ib.bytes : ck_conv_gemm_forward_scratch(gk, p));
    }
    if (ws == NULL) {
        ck_ref_conv_kernels.forward(p, src, weight, bias, residual, dst, begin, end);
        return;
    }
    /* in place: the C block first, the GEMM's workspace after it */
    float *const cblock = ws;
    void *const gws = in_place ? (char *)ws + ib.c_bytes : ws;
    const bool any_epilogue =
        bias != NULL || residual != NULL || p->epilogue.activation != CONVKIT_ACTIVATION_NONE;
    const ck_epilogue_kernels_t *ek = ck_select_epilogue(gk->isa);
    const bool hwc = ck_conv_gemm_hwc(p);
    const int64_t *ds = p->dst.strides;
    const int64_t step = ck_pixel_step(p);
    const int64_t ld = first ? ds[1] : step; /* between rows of C in dst */
    for (int64_t item = begin; item < end;) {
        const int64_t n = item / p->out_channels, co0 = item % p->out_channels;
        const int64_t g = co0 / cog;
        const int64_t co1 = (g + 1) * cog < co0 + (end - item) ? (g + 1) * cog : co0 + (end - item);
        item += co1 - co0;

        ck_im2col_t iv;
        ck_weight_view_t wv;
        ck_conv_gemm_im2col(p, src, n, g, hwc, &iv);
        ck_conv_gemm_weight(p, weight, g, &wv);
        /* C blocks: the whole run of channels and pixels, or in place
         * blocks of at most ib.channels x ib.pixels */
        const int64_t nch = co1 - co0;
        const int64_t chb = in_place ? ib.channels : nch, pxb = in_place ? ib.pixels : run;
        for (int64_t j0 = 0; j0 < pixels; j0 += run) {
            const int64_t off =
                n * ds[0] + co0 * ds[1] + (j0 / p->out_w) * ds[2] + (j0 % p->out_w) * ds[3];
            for (int64_t c0 = 0; c0 < nch; c0 += chb)
                for (int64_t q0 = 0; q0 < run; q0 += pxb) {
                    const int64_t cn = ck_fwd_min(chb, nch - c0), qn = ck_fwd_min(pxb, run - q0);
                    const int64_t boff = off + c0 * ds[1] + q0 * step;
                    const ck_gemm_shifted_t wsh = {
                        {ck_weight_pack_channels, &wv}, co0 - g * cog + c0, 0};
                    const ck_gemm_operand_t wop = {ck_gemm_pack_shifted, &wsh};
                    const ck_gemm_shifted_t csh = {{ck_im2col_pack_pixels, &iv}, j0 + q0, 0};
                    const ck_gemm_operand_t cop = {ck_gemm_pack_shifted, &csh};
                    const ck_fwd_epilogue_t x = {
                        first ? ek->rows_cf : ek->rows_cl, &p->epilogue, first,
                        bias != NULL ? bias + co0 + c0 : NULL,
                        residual != NULL ? residual + boff : NULL, dst + boff, ld};
                    const ck_gemm_epilogue_t epi = {ck_fwd_epilogue_tile, &x};
                    const ck_gemm_epilogue_t *ep = any_epilogue ? &epi : NULL;
                    float *c = in_place ? cblock : dst + boff;
                    if (first)
                        ck_sgemm_epi(gk, &blk, cn, qn, taps, &wop, &cop, c, in_place ? qn : ld,
                                     0.0f, ep, gws);
                    else
                        ck_sgemm_epi(gk, &blk, qn, cn, taps, &cop, &wop, c, in_place ? cn : ld,
                                     0.0f, ep, gws);
                }
        }
    }
}
