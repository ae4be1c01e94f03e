/* kernel-sets.c - the direct (depthwise) convolution kernel sets listed in
 * dispatch.c (ck_select_conv_direct).  A plan takes one of them only for a
 * problem ck_conv_direct_supports accepts; each set still computes any
 * problem: forward, backward-data and backward-weights run the direct
 * arch kernels where they apply (conv-direct.h; backward-weights NCHW
 * only) and the GEMM path of the same ISA otherwise; backward-bias is the
 * GEMM path's.  At the
 * scalar ISA the direct set is the reference loop. */
#include "conv-direct/conv-direct.h"
#include "conv-gemm/conv-gemm.h" /* ck_conv_gemm_backward_bias */

bool ck_conv_direct_supports(const ck_conv_problem_t *p)
{
    return ck_dw_forward_layout(p) != CK_DW_NONE;
}

/* A direct set of one ISA: the direct arch kernels where they apply, that
 * ISA's GEMM set (`gemm`) for the rest. */
#define CK_CONV_DIRECT_SET(tag, ISA, NAME, SUFFIX, gemm)                                      \
    static void ck_##tag##_forward(const ck_conv_problem_t *p, const float *src,             \
                                   const float *weight, const float *bias,                   \
                                   const float *residual, float *dst, int64_t begin,         \
                                   int64_t end)                                              \
    {                                                                                         \
        (ck_dw_forward_layout(p) != CK_DW_NONE ? ck_f32_dwconv_forward_##SUFFIX               \
                                               : gemm.forward)(p, src, weight, bias,          \
                                                               residual, dst, begin, end);    \
    }                                                                                         \
    static void ck_##tag##_backward_data(const ck_conv_problem_t *p, const float *grad_dst,  \
                                         const float *weight, float *grad_src,               \
                                         int64_t begin, int64_t end)                         \
    {                                                                                         \
        (ck_dw_backward_data_layout(p) != CK_DW_NONE ? ck_f32_dwconv_backward_data_##SUFFIX   \
                                                     : gemm.backward_data)(                   \
            p, grad_dst, weight, grad_src, begin, end);                                       \
    }                                                                                         \
    static void ck_##tag##_backward_weights(const ck_conv_problem_t *p, const float *src,    \
                                            const float *grad_dst, float *grad_weight,       \
                                            int64_t begin, int64_t end)                      \
    {                                                                                         \
        if (!ck_f32_dwconv_backward_weights_##SUFFIX(p, src, grad_dst, grad_weight, begin,    \
                                                      end))                                   \
            gemm.backward_weights(p, src, grad_dst, grad_weight, begin, end);                 \
    }                                                                                         \
    const ck_conv_kernels_t ck_##tag##_kernels = {                                           \
        ISA, NAME, ck_##tag##_forward, ck_##tag##_backward_data,                              \
        ck_##tag##_backward_weights, ck_conv_gemm_backward_bias};

#if defined(__x86_64__) || defined(_M_X64)
CK_CONV_DIRECT_SET(conv_direct_avx512, CONVKIT_ISA_AVX512, "direct-dw-16", 16__avx512f,
                   ck_conv_gemm_avx512_kernels)
CK_CONV_DIRECT_SET(conv_direct_avx2, CONVKIT_ISA_AVX2, "direct-dw-8", 8__avx2,
                   ck_conv_gemm_avx2_kernels)
#endif

/* The scalar cap: the reference loops are already the direct algorithm. */
static void ck_direct_ref_forward(const ck_conv_problem_t *p, const float *src,
                                  const float *weight, const float *bias,
                                  const float *residual, float *dst, int64_t begin,
                                  int64_t end)
{
    ck_ref_conv_kernels.forward(p, src, weight, bias, residual, dst, begin, end);
}
static void ck_direct_ref_backward_data(const ck_conv_problem_t *p, const float *grad_dst,
                                        const float *weight, float *grad_src, int64_t begin,
                                        int64_t end)
{
    ck_ref_conv_kernels.backward_data(p, grad_dst, weight, grad_src, begin, end);
}
static void ck_direct_ref_backward_weights(const ck_conv_problem_t *p, const float *src,
                                           const float *grad_dst, float *grad_weight,
                                           int64_t begin, int64_t end)
{
    ck_ref_conv_kernels.backward_weights(p, src, grad_dst, grad_weight, begin, end);
}
static void ck_direct_ref_backward_bias(const ck_conv_problem_t *p, const float *grad_dst,
                                        float *grad_bias, int64_t begin, int64_t end)
{
    ck_ref_conv_kernels.backward_bias(p, grad_dst, grad_bias, begin, end);
}

const ck_conv_kernels_t ck_conv_direct_scalar_kernels = {
    CONVKIT_ISA_SCALAR, "direct-ref", ck_direct_ref_forward, ck_direct_ref_backward_data,
    ck_direct_ref_backward_weights, ck_direct_ref_backward_bias};
