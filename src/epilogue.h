/*
 * epilogue.h - the fused forward epilogue of convolution (convkit.h,
 * CONVKIT_ACTIVATION_*): per output element
 *     dst = act(acc + bias) [+ residual]
 * where acc is the convolution sum.  Declares the scalar activation (the
 * reference every vector activation is checked against) and the per-ISA
 * row kernels the GEMM path runs on each output tile as soon as the GEMM
 * has finished it (src/conv-gemm/forward.c).  The vector activations
 * themselves are inline, one header per ISA
 * (arch/x86/avx512/f32-activation-avx512f.h: ck_act_f32x16,
 * arch/x86/avx2/f32-activation-avx2.h: ck_act_f32x8), so that kernels
 * apply them to accumulators in registers.
 *
 * Every implementation evaluates the same float formulas in the same
 * order (no contraction into FMA: the library is built as ISO C11, where
 * GCC does not contract), and differs only in the exp / tanh / erf it
 * calls: libm's in the scalar code, SLEEF's u10 functions of the plan's
 * ISA in the vector code.
 */
#ifndef CONVKIT_EPILOGUE_H
#define CONVKIT_EPILOGUE_H

#include <stddef.h>

#include "kernels.h"

/* The constants of the GELU formulas, as PyTorch 1.13 rounds them to float. */
#define CK_GELU_TANH_BETA 0.7978845608028654f  /* sqrt(2 / pi) */
#define CK_GELU_TANH_KAPPA 0.044715f
#define CK_GELU_ERF_ALPHA 0.7071067811865476f /* 1 / sqrt(2) */

/* ---- the scalar activation (src/ref/activation-ref.c) ---------------------- */

/* act(x) for e->activation, in float:
 *   NONE       x
 *   RELU       x < 0 ? +0 : x              (NaN and -0 pass unchanged)
 *   CLAMP      y = x < alpha ? alpha : x; y > beta ? beta : y   (NaN passes)
 *   SIGMOID    1 / (1 + expf(-x))
 *   TANH       tanhf(x)
 *   SILU       x / (1 + expf(-x))          (= x * sigmoid(x), as PyTorch
 *                                           computes it: -inf -> NaN)
 *   GELU_TANH  0.5 x (1 + tanhf(BETA (x + KAPPA x x x)))
 *   GELU_ERF   x 0.5 (1 + erff(x ALPHA))
 * RELU and CLAMP are max/min with the second operand of x86's maxps /
 * minps, which is what torch.relu and torch.clamp return. */
CK_INTERNAL float ck_ref_activation(float x, const ck_conv_epilogue_t *e);

/* ---- row kernels ---------------------------------------------------------- */

/*
 * m contiguous rows of n output floats each (row i at acc + i * acc_stride,
 * dst + i * dst_stride, and res + i * dst_stride: the residual has dst's
 * strides):
 *   dst[i][j] = act(acc[i][j] + b_ij) + res[i][j]      for i < m, j < n
 * channels-first rows (row i: one channel, n pixels): b_ij = bias[i];
 * channels-last rows  (row i: one pixel, n channels): b_ij = bias[j].
 * bias == NULL: no bias add (acc passes as is, -0 included); res == NULL: no
 * residual add.  acc may be dst (in place, same strides); res may be dst,
 * and then acc is not.  Nothing outside the n elements of each row is
 * accessed (masked tails).  The activation is resolved once per call.  No
 * allocation, no checks, no threads.
 */
typedef void (*ck_f32_epilogue_fn)(const ck_conv_epilogue_t *e, size_t m, size_t n,
                                   const float *acc, size_t acc_stride, const float *bias,
                                   const float *res, float *dst, size_t dst_stride);

typedef struct ck_epilogue_kernels {
    uint32_t isa;     /* CONVKIT_ISA_* the kernels need */
    const char *name; /* "simd-16", "simd-8", "ref" */
    ck_f32_epilogue_fn rows_cf; /* channels-first rows (a bias per row) */
    ck_f32_epilogue_fn rows_cl; /* channels-last rows (a bias per column) */
} ck_epilogue_kernels_t;

#define CK_EPILOGUE_SET(sym) CK_INTERNAL extern const ck_epilogue_kernels_t sym;
#include "epilogue-kernels.inc"
#undef CK_EPILOGUE_SET
/* The scalar set (src/ref/f32-epilogue-ref.c), last in the list. */
CK_INTERNAL extern const ck_epilogue_kernels_t ck_ref_epilogue_kernels;

/* Selection (dispatch.c): the best set whose ISA ranks at or below `isa`
 * (never NULL: the scalar set is last); the GEMM path picks it by its GEMM
 * kernel's ISA.  count / at: the sets this CPU runs, best first (tests). */
CK_INTERNAL const ck_epilogue_kernels_t *ck_select_epilogue(uint32_t isa);
CK_INTERNAL int ck_epilogue_kernel_count(void);
CK_INTERNAL const ck_epilogue_kernels_t *ck_epilogue_kernel_at(int i);

#endif /* CONVKIT_EPILOGUE_H */
