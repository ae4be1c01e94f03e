/*
 * kernels.h - the problem descriptions kernels receive and the per-op
 * kernel tables the dispatcher chooses from.
 *
 * A kernel computes a range [begin, end) of independent work items (one
 * output plane, one output channel, ...); the portable driver splits the
 * items across threads with ck_parallel_for.  Kernels allocate nothing,
 * check nothing and start no threads.
 */
#ifndef CONVKIT_KERNELS_H
#define CONVKIT_KERNELS_H

#include "internal.h"

/* ---- convolution --------------------------------------------------------- */

/* The forward epilogue fixed at plan time (convkit.h, CONVKIT_ACTIVATION_*):
 * dst = act(conv + bias) [+ residual]. */
typedef struct ck_conv_epilogue {
    uint32_t activation; /* CONVKIT_ACTIVATION_* */
    float alpha, beta;   /* CLAMP bounds */
} ck_conv_epilogue_t;

typedef struct ck_conv_problem {
    int64_t batch, in_channels, in_h, in_w;
    int64_t out_channels, out_h, out_w;
    int64_t kernel_h, kernel_w;
    int64_t stride_h, stride_w;
    int64_t pad_top, pad_bottom, pad_left, pad_right;
    int64_t dilation_h, dilation_w;
    int64_t groups;
    uint32_t padding_mode;     /* CONVKIT_PADDING_* */
    ck_tensor_t src;    /* (N, C_in, H, W): src and grad_src                */
    ck_tensor_t weight; /* (C_out, C_in/G, kH, kW): weight and grad_weight  */
    ck_tensor_t dst;    /* (N, C_out, H_out, W_out): dst and grad_dst       */
    ck_conv_epilogue_t epilogue; /* forward only */
} ck_conv_problem_t;

typedef struct ck_conv_kernels {
    uint32_t isa;
    const char *name; /* "ref", later "gemm:6x16", ... */
    /* items: batch * out_channels, item = n * C_out + co.  Computes
     * dst = act(conv + bias) + residual with p->epilogue's activation;
     * bias and residual may be NULL (residual has dst's layout and may be
     * dst itself). */
    void (*forward)(const ck_conv_problem_t *p, const float *src, const float *weight,
                    const float *bias, const float *residual, float *dst, int64_t begin,
                    int64_t end);
    /* items: batch * in_channels; each item overwrites one grad_src plane. */
    void (*backward_data)(const ck_conv_problem_t *p, const float *grad_dst,
                          const float *weight, float *grad_src, int64_t begin, int64_t end);
    /* items: out_channels; each item overwrites grad_weight[co, :, :, :]. */
    void (*backward_weights)(const ck_conv_problem_t *p, const float *src,
                             const float *grad_dst, float *grad_weight, int64_t begin,
                             int64_t end);
    /* items: out_channels; grad_bias[co] = sum of grad_dst[:, co, :, :]. */
    void (*backward_bias)(const ck_conv_problem_t *p, const float *grad_dst, float *grad_bias,
                          int64_t begin, int64_t end);
} ck_conv_kernels_t;

/* ---- max pooling --------------------------------------------------------- */

typedef struct ck_pool_problem {
    int64_t batch, channels, in_h, in_w, out_h, out_w;
    int64_t kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w, dilation_h, dilation_w;
    ck_tensor_t src;     /* (N, C, H, W) */
    ck_tensor_t dst;     /* (N, C, H_out, W_out) */
    ck_tensor_t indices; /* (N, C, H_out, W_out) */
} ck_pool_problem_t;

typedef struct ck_pool_kernels {
    uint32_t isa;
    const char *name;
    /* items: batch * channels (item = n * C + c); indices may be NULL. */
    void (*forward)(const ck_pool_problem_t *p, const float *src, float *dst, int64_t *indices,
                    int64_t begin, int64_t end);
    /* items: batch * channels; overwrites the grad_src plane.  Indices have
     * been validated (-1 or inside the plane) before the call. */
    void (*backward)(const ck_pool_problem_t *p, const float *grad_dst, const int64_t *indices,
                     float *grad_src, int64_t begin, int64_t end);
} ck_pool_kernels_t;

/* ---- unfold / fold ------------------------------------------------------- */

typedef struct ck_fold_problem {
    int64_t batch, channels, height, width;
    int64_t kernel_h, kernel_w, dilation_h, dilation_w, pad_h, pad_w, stride_h, stride_w;
    int64_t out_h, out_w; /* sliding-window positions; L = out_h * out_w */
    ck_tensor_t image;  /* (N, C, H, W) */
    ck_tensor_t column; /* (N, C*kh*kw, 1, L) */
} ck_fold_problem_t;

typedef struct ck_fold_kernels {
    uint32_t isa;
    const char *name;
    /* items: batch * channels; writes the kh*kw column rows of (n, c). */
    void (*unfold)(const ck_fold_problem_t *p, const float *image, float *column, int64_t begin,
                   int64_t end);
    /* items: batch * channels; overwrites the image plane of (n, c). */
    void (*fold)(const ck_fold_problem_t *p, const float *column, float *image, int64_t begin,
                 int64_t end);
} ck_fold_kernels_t;

/* ---- pad ----------------------------------------------------------------- */

typedef struct ck_pad_problem {
    int64_t batch, channels, in_h, in_w, out_h, out_w;
    int64_t pad_left, pad_right, pad_top, pad_bottom;
    uint32_t mode; /* CONVKIT_PAD_* */
    float value;
    ck_tensor_t src; /* (N, C, H, W) */
    ck_tensor_t dst; /* (N, C, H_out, W_out) */
} ck_pad_problem_t;

typedef struct ck_pad_kernels {
    uint32_t isa;
    const char *name;
    /* items: batch * channels; writes the dst plane of (n, c). */
    void (*pad)(const ck_pad_problem_t *p, const float *src, float *dst, int64_t begin,
                int64_t end);
} ck_pad_kernels_t;

/* ---- dispatch (dispatch.c) --------------------------------------------- */

/* The best kernels whose ISA ranks at or below `isa` (a supported ISA, as
 * returned by ck_plan_isa).  Never NULL: the scalar reference is last. */
CK_INTERNAL const ck_conv_kernels_t *ck_select_conv(uint32_t isa);
/* The best direct (depthwise) convolution set within `isa` (never NULL:
 * the scalar one is last).  A plan uses it only for problems
 * ck_conv_direct_supports accepts (src/conv-direct/). */
CK_INTERNAL const ck_conv_kernels_t *ck_select_conv_direct(uint32_t isa);
CK_INTERNAL const ck_pool_kernels_t *ck_select_pool(uint32_t isa);
CK_INTERNAL const ck_fold_kernels_t *ck_select_fold(uint32_t isa);
CK_INTERNAL const ck_pad_kernels_t *ck_select_pad(uint32_t isa);

/* Every registered kernel set of an op (tests iterate these). */
CK_INTERNAL int ck_conv_kernel_count(void);
CK_INTERNAL const ck_conv_kernels_t *ck_conv_kernel_at(int i);
CK_INTERNAL int ck_conv_direct_kernel_count(void);
CK_INTERNAL const ck_conv_kernels_t *ck_conv_direct_kernel_at(int i);
CK_INTERNAL int ck_pool_kernel_count(void);
CK_INTERNAL const ck_pool_kernels_t *ck_pool_kernel_at(int i);
CK_INTERNAL int ck_fold_kernel_count(void);
CK_INTERNAL const ck_fold_kernels_t *ck_fold_kernel_at(int i);
CK_INTERNAL int ck_pad_kernel_count(void);
CK_INTERNAL const ck_pad_kernels_t *ck_pad_kernel_at(int i);

/* ---- the scalar reference (src/ref/) ----------------------------------- */

/* Maps a padded coordinate i - pad_lo (may be out of [0, size)) to the
 * source coordinate under a padding mode, or -1 where zero/constant padding
 * applies.  Valid for |overhang| within the mode's limits. */
CK_INTERNAL int64_t ck_ref_pad_index(int64_t i, int64_t size, uint32_t mode);

CK_INTERNAL extern const ck_conv_kernels_t ck_ref_conv_kernels;
CK_INTERNAL extern const ck_pool_kernels_t ck_ref_pool_kernels;
CK_INTERNAL extern const ck_fold_kernels_t ck_ref_fold_kernels;
CK_INTERNAL extern const ck_pad_kernels_t ck_ref_pad_kernels;

/* ---- the GEMM path (src/conv-gemm/) ------------------------------------ */

#if defined(__x86_64__) || defined(_M_X64)
CK_INTERNAL extern const ck_conv_kernels_t ck_conv_gemm_avx512_kernels;
CK_INTERNAL extern const ck_conv_kernels_t ck_conv_gemm_avx2_kernels;
#endif
CK_INTERNAL extern const ck_conv_kernels_t ck_conv_gemm_scalar_kernels;
CK_INTERNAL extern const ck_fold_kernels_t ck_blocked_fold_kernels;

/* ---- the direct depthwise path (src/conv-direct/) ---------------------- */

/* Whether the direct kernels take a problem: groups == in_channels, zero
 * padding, src and dst unit stride along W (NCHW-like) or along C
 * (NHWC-like, kernel_h * kernel_w <= 64).  The direct sets compute any
 * problem (falling back to the GEMM path per direction), but a plan picks
 * them only for these. */
CK_INTERNAL bool ck_conv_direct_supports(const ck_conv_problem_t *p);

#if defined(__x86_64__) || defined(_M_X64)
CK_INTERNAL extern const ck_conv_kernels_t ck_conv_direct_avx512_kernels;
CK_INTERNAL extern const ck_conv_kernels_t ck_conv_direct_avx2_kernels;
#endif
CK_INTERNAL extern const ck_conv_kernels_t ck_conv_direct_scalar_kernels;

#endif /* CONVKIT_KERNELS_H */
