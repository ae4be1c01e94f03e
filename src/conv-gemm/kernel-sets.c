/* kernel-sets.c - the GEMM-path kernel sets registered in dispatch.c: one
 * conv set per GEMM microkernel ISA (the set's functions run the portable
 * drivers of this directory with the best GEMM kernel of that ISA), and the
 * blocked unfold/fold set built on the same row primitives. */
#include "conv-gemm/conv-gemm.h"

#define CK_CONV_GEMM_SET(tag, ISA, NAME)                                                      \
    static void ck_##tag##_forward(const ck_conv_problem_t *p, const float *src,             \
                                   const float *weight, const float *bias,                   \
                                   const float *residual, float *dst, int64_t begin,         \
                                   int64_t end)                                              \
    {                                                                                         \
        ck_conv_gemm_forward(ck_select_gemm(ISA), p, src, weight, bias, residual, dst, begin, \
                             end);                                                            \
    }                                                                                         \
    static void ck_##tag##_backward_data(const ck_conv_problem_t *p, const float *grad_dst,  \
                                         const float *weight, float *grad_src,               \
                                         int64_t begin, int64_t end)                         \
    {                                                                                         \
        ck_conv_gemm_backward_data(ck_select_gemm(ISA), p, grad_dst, weight, grad_src, begin, \
                                   end);                                                      \
    }                                                                                         \
    static void ck_##tag##_backward_weights(const ck_conv_problem_t *p, const float *src,    \
                                            const float *grad_dst, float *grad_weight,       \
                                            int64_t begin, int64_t end)                      \
    {                                                                                         \
        ck_conv_gemm_backward_weights(ck_select_gemm(ISA), p, src, grad_dst, grad_weight,     \
                                      begin, end);                                            \
    }                                                                                         \
    const ck_conv_kernels_t ck_##tag##_kernels = {                                           \
        ISA, NAME, ck_##tag##_forward, ck_##tag##_backward_data,                              \
        ck_##tag##_backward_weights, ck_conv_gemm_backward_bias};

#if defined(__x86_64__) || defined(_M_X64)
CK_CONV_GEMM_SET(conv_gemm_avx512, CONVKIT_ISA_AVX512, "gemm-14x32")
CK_CONV_GEMM_SET(conv_gemm_avx2, CONVKIT_ISA_AVX2, "gemm-6x16")
#endif
CK_CONV_GEMM_SET(conv_gemm_scalar, CONVKIT_ISA_SCALAR, "gemm-4x8")
