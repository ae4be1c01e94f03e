/*
 * f32-epilogue-ref.c - the scalar row kernels of the fused forward epilogue
 * (epilogue.h): dst = act(acc + bias) + res, one element at a time through
 * ck_ref_activation.  The set of the scalar ISA cap, and the scalar
 * equivalent of arch/x86/avx2/f32-epilogue-8-avx2.c and
 * arch/x86/avx512/f32-epilogue-16-avx512f.c.
 */
#include "epilogue.h"

/* bias of element (i, j): bias[i * bias_row + j * bias_col] */
static void ck_ref_epilogue_rows(const ck_conv_epilogue_t *e, size_t m, size_t n,
                                 const float *acc, size_t acc_stride, const float *bias,
                                 size_t bias_row, size_t bias_col, const float *res,
                                 float *dst, size_t dst_stride)
{
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++) {
            float v = acc[i * acc_stride + j];
            if (bias != NULL) v += bias[i * bias_row + j * bias_col];
            v = ck_ref_activation(v, e);
            if (res != NULL) v += res[i * dst_stride + j];
            dst[i * dst_stride + j] = v;
        }
}

static void ck_ref_f32_epilogue_cf(const ck_conv_epilogue_t *e, size_t m, size_t n,
                                   const float *acc, size_t acc_stride, const float *bias,
                                   const float *res, float *dst, size_t dst_stride)
{
    ck_ref_epilogue_rows(e, m, n, acc, acc_stride, bias, 1, 0, res, dst, dst_stride);
}

static void ck_ref_f32_epilogue_cl(const ck_conv_epilogue_t *e, size_t m, size_t n,
                                   const float *acc, size_t acc_stride, const float *bias,
                                   const float *res, float *dst, size_t dst_stride)
{
    ck_ref_epilogue_rows(e, m, n, acc, acc_stride, bias, 0, 1, res, dst, dst_stride);
}

const ck_epilogue_kernels_t ck_ref_epilogue_kernels = {
    .isa = CONVKIT_ISA_SCALAR,
    .name = "ref",
    .rows_cf = ck_ref_f32_epilogue_cf,
    .rows_cl = ck_ref_f32_epilogue_cl,
};
