/*
 * convkit.h - the one public header of convkit, a C11 library of SIMD CPU
 * kernels for the sliding-window operators of deep learning.
 *
 * Everything here is ABI: a later 0.x release only appends fields to the end
 * of parameter structs and adds functions, status codes and constants.
 *
 * Conventions
 *   - Every operation works on plans: create(params) validates everything,
 *     picks the algorithm and ISA and sizes the workspace; the execute
 *     functions only compute; destroy frees the plan.  A plan may be executed
 *     many times, but not from two threads at once (create one per thread).
 *   - Parameter structs begin with `uint32_t struct_size`.  Initialise them
 *     with their CONVKIT_*_INIT macro, which sets struct_size and the usual
 *     defaults.  The library reads only the bytes struct_size covers and
 *     treats later fields as zero, so a caller built against an older (shorter)
 *     struct keeps working.  Reserved fields must be zero.
 *   - Sizes are int64_t, in elements.  Tensors are described by a
 *     convkit_layout_t: dense NCHW (the default), dense NHWC, or explicit
 *     element strides in (N, C, H, W) order (any as_strided view; an output
 *     view must not overlap itself).  1-D operators use (N, C, L) with L in
 *     the W position.
 *   - All data is fp32; max-pool indices are int64.
 *   - Semantics follow PyTorch's CPU operators (F.conv2d, F.max_pool2d with
 *     return_indices=True, F.unfold, F.fold, F.pad).  Where this library
 *     deliberately differs, the function's documentation says so.
 *   - Every function checks its arguments before touching memory.  A failing
 *     call returns a non-zero convkit_status_t, sets a thread-local message
 *     (convkit_last_error) naming the argument and its values, and writes
 *     nothing to the caller's buffers.
 */
#ifndef CONVKIT_H
#define CONVKIT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(CONVKIT_BUILDING_LIBRARY) && (defined(__GNUC__) || defined(__clang__))
#define CONVKIT_API __attribute__((visibility("default")))
#else
#define CONVKIT_API
#endif

#define CONVKIT_VERSION_MAJOR 0
#define CONVKIT_VERSION_MINOR 1
#define CONVKIT_VERSION_PATCH 0

/* ------------------------------------------------------------------------ */
/* Status codes (fixed values, never renumbered)                            */
/* ------------------------------------------------------------------------ */

typedef enum convkit_status {
    CONVKIT_SUCCESS = 0,
    CONVKIT_ERROR_INVALID_ARGUMENT = 1, /* a value out of its legal range      */
    CONVKIT_ERROR_NULL_POINTER = 2,     /* a required pointer is NULL          */
    CONVKIT_ERROR_SHAPE_MISMATCH = 3,   /* sizes that must agree do not        */
    CONVKIT_ERROR_UNSUPPORTED_ISA = 4,  /* ISA unknown or absent on this CPU   */
    CONVKIT_ERROR_OUT_OF_MEMORY = 5,    /* allocation failed                   */
    CONVKIT_ERROR_OVERFLOW = 6,         /* a size product overflows int64/size_t */
    CONVKIT_ERROR_INDEX_OUT_OF_RANGE = 7, /* a max-pool index outside its plane */
    CONVKIT_ERROR_WRONG_PLAN = 8,       /* the plan is for another operation    */
    CONVKIT_ERROR_STRUCT_SIZE = 9,      /* struct_size too small or too large   */
    CONVKIT_ERROR_RESERVED_NONZERO = 10 /* a reserved field or flag bit is set  */
} convkit_status_t;

/* A static English name for a status ("CONVKIT_ERROR_NULL_POINTER: ..."). */
CONVKIT_API const char *convkit_status_string(convkit_status_t status);

/* The message of the last failing call on this thread ("" if none yet).
 * Valid until the next convkit call on the same thread. */
CONVKIT_API const char *convkit_last_error(void);

/* ------------------------------------------------------------------------ */
/* Version, ISA and threads                                                  */
/* ------------------------------------------------------------------------ */

/* "MAJOR.MINOR.PATCH" of the library actually loaded. */
CONVKIT_API const char *convkit_version(void);

/* Instruction-set levels.  DEFAULT (0) in a plan means "the process cap".
 * AVX512 means AVX-512 F+BW+VL+DQ with the OS saving ZMM state; AVX2 means
 * AVX2+FMA with the OS saving YMM state.  NEON is the aarch64 baseline. */
#define CONVKIT_ISA_DEFAULT 0u
#define CONVKIT_ISA_SCALAR 1u
#define CONVKIT_ISA_AVX2 2u
#define CONVKIT_ISA_AVX512 3u
#define CONVKIT_ISA_NEON 4u

/* Best ISA this CPU and OS support (detected once, via cpuid and XCR0). */
CONVKIT_API uint32_t convkit_cpu_isa(void);
/* 1 if this CPU and OS can run kernels of `isa`, else 0. */
CONVKIT_API int convkit_isa_supported(uint32_t isa);
/* Lower-case name: "scalar", "avx2", "avx512", "neon" (NULL if unknown). */
CONVKIT_API const char *convkit_isa_name(uint32_t isa);

/* The process-wide ISA cap applied to plans created afterwards.  It starts
 * as the detected ISA, lowered by the environment variable CONVKIT_MAX_ISA
 * (scalar|avx2|avx512|neon) if set; an unusable value of the variable is
 * ignored.  convkit_set_max_isa fails with CONVKIT_ERROR_UNSUPPORTED_ISA for
 * an ISA this CPU cannot run (never a SIGILL later); DEFAULT resets the cap
 * to the detected ISA. */
CONVKIT_API convkit_status_t convkit_set_max_isa(uint32_t isa);
CONVKIT_API uint32_t convkit_get_max_isa(void);

/* Threads used by every operation (OpenMP).  n <= 0 restores the default
 * (the OpenMP default, normally the number of cores).  Results are bitwise
 * identical for any thread count. */
CONVKIT_API convkit_status_t convkit_set_num_threads(int n);
CONVKIT_API int convkit_get_num_threads(void);

/* ------------------------------------------------------------------------ */
/* Tensor layouts                                                            */
/* ------------------------------------------------------------------------ */

#define CONVKIT_FORMAT_NCHW 0u    /* dense, W fastest; the default             */
#define CONVKIT_FORMAT_NHWC 1u    /* dense, C fastest                          */
#define CONVKIT_FORMAT_STRIDED 2u /* strides[] below, in (N, C, H, W) order    */
/* Channel-blocked activation layouts, for convolution src/dst only (and the
 * residual, which has dst's layout): element (n, c, h, w) of a tensor with
 * Cb = ceil(C / B) blocks sits at
 *     ((n * Cb + c / B) * H + h) * W + w) * B + c % B       (B = 16 or 8)
 * i.e. oneDNN's nChw16c / nChw8c.  A buffer holds N * Cb * H * W * B
 * floats; the lanes of the last block past C are padding: they are never
 * read, and a convolution writes them as zeros.  A chain of convolutions
 * with blocked dst feeding blocked src runs without any reorder; B = 16
 * suits the AVX-512 kernels, B = 8 the AVX2 ones (either works on every
 * ISA).  Other operations reject these formats. */
#define CONVKIT_FORMAT_NCHW16C 3u
#define CONVKIT_FORMAT_NCHW8C 4u

/* How one operand sits in memory.  For weights the dims are
 * (C_out, C_in/groups, kH, kW), so NCHW = OIHW and NHWC = OHWI.  For the
 * unfold column tensor (N, C*kh*kw, L) the dims are (N, C*kh*kw, 1, L).
 * For 1-D operators the dims are (N, C, 1, L).  Strides are in elements
 * and may be zero or negative where a call only reads the operand (a
 * broadcast or flipped view); an operand a call writes must have positive
 * strides that give every element its own address.  Layouts a plan both reads and writes (conv src,
 * weight and dst serve forward and backward) are checked by the execute
 * call that writes them, which fails with CONVKIT_ERROR_INVALID_ARGUMENT. */
typedef struct convkit_layout {
    uint32_t format;
    uint32_t reserved; /* must be 0 */
    int64_t strides[4];
} convkit_layout_t;

#define CONVKIT_LAYOUT_NCHW_INIT {CONVKIT_FORMAT_NCHW, 0, {0, 0, 0, 0}}

/* ------------------------------------------------------------------------ */
/* Plans                                                                     */
/* ------------------------------------------------------------------------ */

typedef struct convkit_plan convkit_plan_t;

/* Frees a plan; NULL is a no-op. */
CONVKIT_API void convkit_plan_destroy(convkit_plan_t *plan);

/* What the plan runs, e.g. "conv2d:ref:scalar" or "max_pool2d:ref:scalar".
 * Owned by the plan. */
CONVKIT_API const char *convkit_plan_impl_name(const convkit_plan_t *plan);

/* The ISA the plan's kernels use (a CONVKIT_ISA_* value; 0 for NULL). */
CONVKIT_API uint32_t convkit_plan_isa(const convkit_plan_t *plan);

/* The shape of the plan's forward output, in the layout dims described
 * above: conv (N, C_out, H_out, W_out); pool (N, C, H_out, W_out); unfold
 * (N, C*kh*kw, 1, L); fold (N, C, H, W); pad (N, C, H_out, W_out). */
CONVKIT_API convkit_status_t convkit_plan_output_dims(const convkit_plan_t *plan,
                                                      int64_t dims[4]);

/* ------------------------------------------------------------------------ */
/* Convolution                                                               */
/* ------------------------------------------------------------------------ */

#define CONVKIT_PADDING_ZEROS 0u
#define CONVKIT_PADDING_REFLECT 1u
#define CONVKIT_PADDING_REPLICATE 2u
#define CONVKIT_PADDING_CIRCULAR 3u

/* Activations fused into the convolution forward (the params' `activation`
 * field).  Forward computes, per output element,
 *     dst = act(conv(src, weight) + bias) [+ residual]
 * in registers before the store, as PyTorch's F.conv2d followed by:
 *   NONE       identity
 *   RELU       F.relu: max(x, 0) (NaN stays NaN)
 *   CLAMP      torch.clamp(x, alpha, beta): relu6 is alpha 0, beta 6
 *   SIGMOID    torch.sigmoid: 1 / (1 + exp(-x))
 *   TANH       torch.tanh
 *   SILU       F.silu: x * sigmoid(x)
 *   GELU_TANH  F.gelu(approximate="tanh"):
 *              0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
 *   GELU_ERF   F.gelu: 0.5 x (1 + erf(x / sqrt(2)))
 * The transcendental ones use SLEEF's vector functions of the plan's ISA;
 * each is within these bounds of the exact value (tested on every 1000th
 * float in [-20, 20], measured maxima in parentheses; see the README):
 * SIGMOID 2.5 ulp (2.22), SILU 2.5 ulp (1.98), TANH 1 ulp (0.999; at the
 * scalar cap glibc's tanhf, 2.5 ulp (2.10)), GELU_TANH and GELU_ERF 2 ulp
 * for x >= 0 (1.91, 1.53) and 2^-23 |x| absolute for x < 0, where
 * 1 + tanh and 1 + erf cancel in float as in PyTorch's formula (1.16 and
 * 0.79 x 2^-24 |x|); all plus 2^-120 absolute, since exp(-x) overflows
 * below x = -88.7 (SILU then gives -0 for results above -2.6e-37, as
 * PyTorch does).  RELU and CLAMP are exact.  The backward directions
 * compute the convolution's gradients only: they ignore the activation. */
#define CONVKIT_ACTIVATION_NONE 0u
#define CONVKIT_ACTIVATION_RELU 1u
#define CONVKIT_ACTIVATION_CLAMP 2u
#define CONVKIT_ACTIVATION_SIGMOID 3u
#define CONVKIT_ACTIVATION_TANH 4u
#define CONVKIT_ACTIVATION_SILU 5u
#define CONVKIT_ACTIVATION_GELU_TANH 6u
#define CONVKIT_ACTIVATION_GELU_ERF 7u

/* Convolution algorithms (the params' `algorithm` field; see below). */
#define CONVKIT_CONV_ALGORITHM_AUTO 0u
#define CONVKIT_CONV_ALGORITHM_GEMM 1u
#define CONVKIT_CONV_ALGORITHM_DIRECT 2u

/* 2-D convolution (cross-correlation, as F.conv2d):
 *   dst[n, co, oh, ow] = bias[co] + sum_{ci in group, kh, kw}
 *       src[n, g*Cin_g + ci, oh*sh - pt + kh*dh, ow*sw - pl + kw*dw]
 *       * weight[co, ci, kh, kw]
 * with H_out = floor((H + pad_top + pad_bottom - dh*(kH-1) - 1) / sh) + 1
 * (likewise W_out).  Padding may be asymmetric; padding_mode reflect,
 * replicate and circular behave as F.pad(src, mode) followed by a zero-pad
 * convolution (reflect needs pad < size, circular pad <= size).
 * groups divides in_channels and out_channels; depthwise is
 * groups == in_channels with out_channels any multiple of it.
 * batch may be 0 (nothing to compute; backward-weights/-bias write zeros).
 *
 * Algorithm (the `algorithm` field, chosen when the plan is created;
 * convkit_plan_impl_name names the choice, e.g. "conv2d:direct-16:avx512",
 * "conv2d:direct-dw-16:avx512" or "conv2d:gemm-14x32:avx512"):
 *   CONVKIT_CONV_ALGORITHM_GEMM    im2col + GEMM; every problem.
 *   CONVKIT_CONV_ALGORITHM_DIRECT  direct kernels, for padding_mode
 *       CONVKIT_PADDING_ZEROS and either
 *       - groups == 1 ("direct-16" on AVX-512, "direct-8" on AVX2): the
 *         forward runs register tiles of 16 (8) output channels by up to 28
 *         (12) output pixels over channel-blocked data.  A blocked or
 *         NHWC-like src (unit channel stride) is read in place, as is any
 *         src of at most 3 channels (a first layer); any other src is
 *         copied into a blocked buffer per call; blocked and
 *         NHWC-like dst are written in place, NCHW-like dst (unit W stride)
 *         through a small transpose; a dst with neither unit stride does
 *         not qualify.  Backward-data of a stride-1 problem whose paddings
 *         are at most dilation*(kernel-1) runs as the direct forward of the
 *         transposed problem (flipped weights, packed per call or by
 *         convkit_conv_set_weights); the other backward directions run the
 *         GEMM path's kernels.  At the scalar ISA: the reference loop.
 *       - or depthwise (groups == in_channels, any channel multiplier
 *         out_channels / groups), with src and dst both unit stride along W
 *         (NCHW-like) or both unit stride along C (NHWC-like), or with a
 *         blocked src or dst (then groups > 1) whose other operand is
 *         blocked or NCHW-like (with multiplier 1 also NHWC-like, and
 *         kH*kW <= 64); other strides, the weight
 *         layout, kernel size, stride, dilation and padding are free
 *         ("direct-dw-16", "direct-dw-8").  Forward, backward-data and
 *         backward-weights run direct, except backward-data of an
 *         NCHW-like problem with stride > 1 and backward-weights of an
 *         NHWC-like one, which run the GEMM path's kernels of the same
 *         ISA, as does backward-bias.  With multiplier 1 and kH*kW <= 64,
 *         blocked and NHWC-like src and dst are read and written in place
 *         by the forward (one vector of 16 (8) channels per pixel; an
 *         AVX-512 plan on nChw8c data runs the AVX2 kernel,
 *         "direct-dw-8"); other blocked operands, and every blocked
 *         operand of the backward directions, go through dense NCHW
 *         copies.
 *       Any other problem fails with CONVKIT_ERROR_INVALID_ARGUMENT naming
 *       `algorithm`.
 *   CONVKIT_CONV_ALGORITHM_AUTO (0, the default)  at AVX2 or AVX-512:
 *       depthwise direct for the depthwise problems it takes (they have one
 *       input channel per group, so a GEMM's reduction is only kH*kW long);
 *       for groups == 1 and zero padding, direct when src or dst is
 *       blocked, when src and dst are NHWC-like, or when the kernel is
 *       larger than 1x1 or strided (an im2col GEMM would copy kH*kW values
 *       per input element) and batch * H_out * W_out >= 128 (below that,
 *       packing the weights on every call costs as much as the
 *       convolution); GEMM otherwise (a 1x1 stride-1 NCHW convolution is a
 *       plain matrix product), and for grouped problems and other padding
 *       modes.  At the scalar ISA: the GEMM path.
 * Both algorithms give results within the documented error bound; they
 * may differ from each other in the last bits (different summation
 * order).  At the scalar ISA the direct algorithm is the reference loop. */
typedef struct convkit_conv2d_params {
    uint32_t struct_size;
    uint32_t isa; /* CONVKIT_ISA_*: cap for this plan; 0 = process cap */
    int64_t batch;
    int64_t in_channels;
    int64_t in_height;
    int64_t in_width;
    int64_t out_channels;
    int64_t kernel_h;
    int64_t kernel_w;
    int64_t stride_h;   /* >= 1 */
    int64_t stride_w;   /* >= 1 */
    int64_t pad_top;    /* >= 0 */
    int64_t pad_bottom; /* >= 0 */
    int64_t pad_left;   /* >= 0 */
    int64_t pad_right;  /* >= 0 */
    int64_t dilation_h; /* >= 1 */
    int64_t dilation_w; /* >= 1 */
    int64_t groups;     /* >= 1 */
    int64_t bias_length; /* 0: forward takes no bias (pass NULL); else == out_channels */
    uint32_t padding_mode; /* CONVKIT_PADDING_* */
    uint32_t flags;        /* reserved, must be 0 */
    convkit_layout_t src_layout;    /* src and grad_src      (N, C_in, H, W)      */
    convkit_layout_t weight_layout; /* weight and grad_weight (C_out, C_in/G, kH, kW) */
    convkit_layout_t dst_layout;    /* dst and grad_dst      (N, C_out, H_out, W_out) */
    uint32_t algorithm;             /* CONVKIT_CONV_ALGORITHM_*; 0 = AUTO */
    uint32_t reserved32;            /* must be 0 */
    uint64_t reserved[3];           /* must be 0 */
    /* Added in 0.2 (a 0.1 caller's shorter struct reads as NONE): */
    uint32_t activation;      /* CONVKIT_ACTIVATION_*, fused into forward */
    float activation_alpha;   /* CLAMP: lower bound */
    float activation_beta;    /* CLAMP: upper bound (>= alpha) */
    uint32_t reserved_tail;   /* must be 0 */
} convkit_conv2d_params_t;

#define CONVKIT_CONV2D_PARAMS_INIT                                                      \
    {(uint32_t)sizeof(convkit_conv2d_params_t), 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, \
     1, 1, 1, 0, 0, 0, CONVKIT_LAYOUT_NCHW_INIT, CONVKIT_LAYOUT_NCHW_INIT,               \
     CONVKIT_LAYOUT_NCHW_INIT, CONVKIT_CONV_ALGORITHM_AUTO, 0, {0, 0, 0},                \
     CONVKIT_ACTIVATION_NONE, 0.0f, 0.0f, 0}

/* 1-D convolution (F.conv1d) on (N, C, L) tensors; weight (C_out, C_in/G, k).
 * Layout dims are (N, C, 1, L); NHWC means (N, L, C). */
typedef struct convkit_conv1d_params {
    uint32_t struct_size;
    uint32_t isa;
    int64_t batch;
    int64_t in_channels;
    int64_t in_length;
    int64_t out_channels;
    int64_t kernel;
    int64_t stride;
    int64_t pad_left;
    int64_t pad_right;
    int64_t dilation;
    int64_t groups;
    int64_t bias_length; /* 0 or out_channels, as for conv2d */
    uint32_t padding_mode;
    uint32_t flags; /* reserved, must be 0 */
    convkit_layout_t src_layout;
    convkit_layout_t weight_layout;
    convkit_layout_t dst_layout;
    uint32_t algorithm;  /* CONVKIT_CONV_ALGORITHM_*, as for conv2d */
    uint32_t reserved32; /* must be 0 */
    uint64_t reserved[3];
    /* Added in 0.2, as for conv2d: */
    uint32_t activation;
    float activation_alpha;
    float activation_beta;
    uint32_t reserved_tail; /* must be 0 */
} convkit_conv1d_params_t;

#define CONVKIT_CONV1D_PARAMS_INIT                                              \
    {(uint32_t)sizeof(convkit_conv1d_params_t), 0, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 0, 0, 0, \
     CONVKIT_LAYOUT_NCHW_INIT, CONVKIT_LAYOUT_NCHW_INIT, CONVKIT_LAYOUT_NCHW_INIT, \
     CONVKIT_CONV_ALGORITHM_AUTO, 0, {0, 0, 0}, CONVKIT_ACTIVATION_NONE, 0.0f, 0.0f, 0}

CONVKIT_API convkit_status_t convkit_conv2d_create(const convkit_conv2d_params_t *params,
                                                   convkit_plan_t **plan);
CONVKIT_API convkit_status_t convkit_conv1d_create(const convkit_conv1d_params_t *params,
                                                   convkit_plan_t **plan);

/* The execute functions below take a conv2d or conv1d plan.  The same plan
 * serves every direction. */

/* dst = conv(src, weight) + bias.  bias is bias_length contiguous floats:
 * required when the plan's bias_length is out_channels, and must be NULL
 * when it is 0. */
CONVKIT_API convkit_status_t convkit_conv_forward(convkit_plan_t *plan, const float *src,
                                                  const float *weight, const float *bias,
                                                  float *dst);

/* dst = act(conv(src, weight) + bias) + residual: forward with the add of a
 * residual tensor fused into the store.  residual has dst's dims and
 * layout and may be dst itself (accumulate in place); NULL means no add
 * (then this is convkit_conv_forward). */
CONVKIT_API convkit_status_t convkit_conv_forward_residual(convkit_plan_t *plan,
                                                           const float *src,
                                                           const float *weight,
                                                           const float *bias,
                                                           const float *residual, float *dst);

/* Packs weight (in the plan's weight_layout) once into the plan's own
 * internal layout (for the direct kernels: 16 or 8 output channels
 * interleaved per input channel and tap) and keeps the copy in the plan.
 * Afterwards the forward calls accept weight == NULL and use the copy;
 * a non-NULL weight is still used as given.  Call again whenever the
 * weights change.  convkit_conv_backward_data accepts weight == NULL too
 * (then it uses the copy, packed for it where it runs direct).  On the
 * GEMM path the copy is dense OIHW: with another weight_layout the sums
 * may then differ in the last bits from passing the weights (still
 * within the error bound). */
CONVKIT_API convkit_status_t convkit_conv_set_weights(convkit_plan_t *plan, const float *weight);

/* grad_src = d(loss)/d(src) given grad_dst (PyTorch's grad_input).  With the
 * roles read the other way this is the transposed convolution
 * (ConvTranspose2d without bias): its input is grad_dst (N, C_out, H_out,
 * W_out), its output grad_src (N, C_in, H, W); choose in_height/in_width to
 * express output_padding.  grad_src is overwritten. */
CONVKIT_API convkit_status_t convkit_conv_backward_data(convkit_plan_t *plan,
                                                        const float *grad_dst,
                                                        const float *weight, float *grad_src);

/* grad_weight = sum over batch and space of src * grad_dst (overwritten). */
CONVKIT_API convkit_status_t convkit_conv_backward_weights(convkit_plan_t *plan,
                                                           const float *src,
                                                           const float *grad_dst,
                                                           float *grad_weight);

/* grad_bias[co] = sum over n, oh, ow of grad_dst[n, co, oh, ow]; grad_bias
 * is C_out contiguous floats (overwritten). */
CONVKIT_API convkit_status_t convkit_conv_backward_bias(convkit_plan_t *plan,
                                                        const float *grad_dst,
                                                        float *grad_bias);

/* ------------------------------------------------------------------------ */
/* Max pooling with int64 argmax indices                                     */
/* ------------------------------------------------------------------------ */

/* max_pool2d (F.max_pool2d(return_indices=True)).  H_out as for conv with
 * pad_top = pad_bottom = pad_h; with ceil_mode round up, then drop the last
 * window if it starts in the right padding.  pad_h <= (dilation_h*(kh-1)+1)/2
 * (likewise w).  stride 0 means stride = kernel.
 * A window is scanned row-major; v replaces the max when v > max or v is
 * NaN: ties keep the first maximum, NaN propagates, the last NaN's index
 * wins.  indices[...] = ih*W + iw in the unpadded plane of that (n, c).
 * Differs from PyTorch: a window with no element inside the input (possible
 * with dilation and padding) gives -inf and index -1. */
typedef struct convkit_pool2d_params {
    uint32_t struct_size;
    uint32_t isa;
    int64_t batch;
    int64_t channels;
    int64_t in_height;
    int64_t in_width;
    int64_t kernel_h;
    int64_t kernel_w;
    int64_t stride_h; /* 0 = kernel_h */
    int64_t stride_w; /* 0 = kernel_w */
    int64_t pad_h;
    int64_t pad_w;
    int64_t dilation_h;
    int64_t dilation_w;
    uint32_t ceil_mode; /* 0 or 1 */
    uint32_t flags;     /* reserved, must be 0 */
    convkit_layout_t src_layout;     /* src and grad_src */
    convkit_layout_t dst_layout;     /* dst and grad_dst */
    convkit_layout_t indices_layout; /* indices (same dims as dst) */
    uint64_t reserved[4];
} convkit_pool2d_params_t;

#define CONVKIT_POOL2D_PARAMS_INIT                                                        \
    {(uint32_t)sizeof(convkit_pool2d_params_t), 0, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 0, 0, \
     CONVKIT_LAYOUT_NCHW_INIT, CONVKIT_LAYOUT_NCHW_INIT, CONVKIT_LAYOUT_NCHW_INIT,         \
     {0, 0, 0, 0}}

/* max_pool1d on (N, C, L); layout dims (N, C, 1, L). */
typedef struct convkit_pool1d_params {
    uint32_t struct_size;
    uint32_t isa;
    int64_t batch;
    int64_t channels;
    int64_t in_length;
    int64_t kernel;
    int64_t stride; /* 0 = kernel */
    int64_t pad;
    int64_t dilation;
    uint32_t ceil_mode;
    uint32_t flags; /* reserved, must be 0 */
    convkit_layout_t src_layout;
    convkit_layout_t dst_layout;
    convkit_layout_t indices_layout;
    uint64_t reserved[4];
} convkit_pool1d_params_t;

#define CONVKIT_POOL1D_PARAMS_INIT                                                    \
    {(uint32_t)sizeof(convkit_pool1d_params_t), 0, 1, 1, 1, 1, 0, 0, 1, 0, 0,          \
     CONVKIT_LAYOUT_NCHW_INIT, CONVKIT_LAYOUT_NCHW_INIT, CONVKIT_LAYOUT_NCHW_INIT,     \
     {0, 0, 0, 0}}

CONVKIT_API convkit_status_t convkit_max_pool2d_create(const convkit_pool2d_params_t *params,
                                                       convkit_plan_t **plan);
CONVKIT_API convkit_status_t convkit_max_pool1d_create(const convkit_pool1d_params_t *params,
                                                       convkit_plan_t **plan);

/* dst = max over each window; indices (may be NULL) = argmax as above. */
CONVKIT_API convkit_status_t convkit_max_pool_forward(convkit_plan_t *plan, const float *src,
                                                      float *dst, int64_t *indices);

/* grad_src = 0, then grad_src[plane of (n,c)][indices[..]] += grad_dst[..]
 * for every output element.  Index -1 is skipped; any other index outside
 * [0, H*W) fails with CONVKIT_ERROR_INDEX_OUT_OF_RANGE before anything is
 * written. */
CONVKIT_API convkit_status_t convkit_max_pool_backward(convkit_plan_t *plan,
                                                       const float *grad_dst,
                                                       const int64_t *indices,
                                                       float *grad_src);

/* ------------------------------------------------------------------------ */
/* Unfold (im2col) and fold (col2im), F.unfold / F.fold layout               */
/* ------------------------------------------------------------------------ */

/* unfold: image (N, C, H, W) -> columns (N, C*kh*kw, L), L = H_out*W_out with
 * the conv output-size formula and symmetric padding pad_h/pad_w; row
 * index c*kh*kw + i*kw + j; zero where the window leaves the image.
 * fold is the inverse layout: columns -> image, overlapping blocks summed,
 * uncovered positions 0.  For fold, channels is the image's C, and
 * col_channels / col_length are the column tensor's dims 1 and 2 as the
 * caller has them: col_channels must equal C*kh*kw and col_length L (they
 * are checked, like F.fold checks its input).  For unfold leave them 0. */
typedef struct convkit_fold_params {
    uint32_t struct_size;
    uint32_t isa;
    int64_t batch;
    int64_t channels;
    int64_t height; /* image height (unfold input, fold output) */
    int64_t width;
    int64_t kernel_h;
    int64_t kernel_w;
    int64_t dilation_h;
    int64_t dilation_w;
    int64_t pad_h;
    int64_t pad_w;
    int64_t stride_h;
    int64_t stride_w;
    int64_t col_channels; /* fold only: dim 1 of the columns */
    int64_t col_length;   /* fold only: dim 2 of the columns */
    convkit_layout_t image_layout;  /* (N, C, H, W) */
    convkit_layout_t column_layout; /* (N, C*kh*kw, 1, L) */
    uint64_t reserved[4];
} convkit_fold_params_t;

#define CONVKIT_FOLD_PARAMS_INIT                                                        \
    {(uint32_t)sizeof(convkit_fold_params_t), 0, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 0, 0, \
     CONVKIT_LAYOUT_NCHW_INIT, CONVKIT_LAYOUT_NCHW_INIT, {0, 0, 0, 0}}

CONVKIT_API convkit_status_t convkit_unfold_create(const convkit_fold_params_t *params,
                                                   convkit_plan_t **plan);
CONVKIT_API convkit_status_t convkit_fold_create(const convkit_fold_params_t *params,
                                                 convkit_plan_t **plan);

/* unfold plan: src = image, dst = columns.  fold plan: src = columns,
 * dst = image (overwritten). */
CONVKIT_API convkit_status_t convkit_fold_execute(convkit_plan_t *plan, const float *src,
                                                  float *dst);

/* ------------------------------------------------------------------------ */
/* Padding (F.pad) of the last two dims of (N, C, H, W)                      */
/* ------------------------------------------------------------------------ */

#define CONVKIT_PAD_CONSTANT 0u
#define CONVKIT_PAD_REFLECT 1u
#define CONVKIT_PAD_REPLICATE 2u
#define CONVKIT_PAD_CIRCULAR 3u

/* dst (N, C, H + top + bottom, W + left + right).  constant: any fill value,
 * negative amounts crop.  reflect: 0 <= pad < size.  replicate: pad >= 0,
 * size >= 1.  circular: 0 <= pad <= size.  For a 1-D pad of (N, C, L) use
 * height 1 and top = bottom = 0. */
typedef struct convkit_pad_params {
    uint32_t struct_size;
    uint32_t isa;
    int64_t batch;
    int64_t channels;
    int64_t height;
    int64_t width;
    int64_t pad_left;
    int64_t pad_right;
    int64_t pad_top;
    int64_t pad_bottom;
    uint32_t mode; /* CONVKIT_PAD_* */
    float value;   /* fill value for CONVKIT_PAD_CONSTANT */
    convkit_layout_t src_layout;
    convkit_layout_t dst_layout;
    uint64_t reserved[4];
} convkit_pad_params_t;

#define CONVKIT_PAD_PARAMS_INIT                                                    \
    {(uint32_t)sizeof(convkit_pad_params_t), 0, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0.0f,     \
     CONVKIT_LAYOUT_NCHW_INIT, CONVKIT_LAYOUT_NCHW_INIT, {0, 0, 0, 0}}

CONVKIT_API convkit_status_t convkit_pad_create(const convkit_pad_params_t *params,
                                                convkit_plan_t **plan);
CONVKIT_API convkit_status_t convkit_pad_execute(convkit_plan_t *plan, const float *src,
                                                 float *dst);

#ifdef __cplusplus
}
#endif

#endif /* CONVKIT_H */
