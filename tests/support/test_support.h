/*
 * test_support.h - helpers shared by the Criterion suites: a deterministic
 * RNG, tensor views in every layout the API accepts (with guard zones and
 * sentinel-filled gaps so stray or missing writes show up), and float64
 * reference implementations of every operator written independently of
 * src/ref (different loop structure: conv pads explicitly in double first,
 * backward-data is the adjoint through the padded image, ...).
 *
 * Nothing here calls the library's kernels: expected values never come from
 * the code under test.
 */
#ifndef CK_TEST_SUPPORT_H
#define CK_TEST_SUPPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "convkit.h"

/* ---- guard pages ------------------------------------------------------- */

/* n floats flush against an inaccessible page at their end (at_end) or at
 * their start, with an inaccessible page on the other side too, so that a
 * read or write one element outside faults (ASan does not see masked
 * vector loads; these pages do).  Aborts if the pages cannot be mapped. */
typedef struct tk_guarded {
    void *map;
    size_t len;
    float *data;
} tk_guarded_t;

tk_guarded_t tk_guarded_floats(int64_t n, bool at_end);
void tk_guarded_free(tk_guarded_t *g);

/* ---- deterministic RNG (splitmix64) -------------------------------------- */

typedef struct tk_rng {
    uint64_t state;
} tk_rng_t;

void tk_rng_seed(tk_rng_t *r, uint64_t seed);
uint64_t tk_rng_next(tk_rng_t *r);
/* Uniform integer in [lo, hi] (inclusive). */
int64_t tk_rng_range(tk_rng_t *r, int64_t lo, int64_t hi);
/* Uniform float in [lo, hi). */
float tk_rng_float(tk_rng_t *r, float lo, float hi);

/* ---- sentinels ----------------------------------------------------------- */

/* A quiet NaN with a payload no computation produces; compared bitwise. */
#define TK_SENTINEL_F32_BITS 0x7fc0deadu
#define TK_SENTINEL_I64 INT64_C(0x7eadbeef7eadbeef)

float tk_sentinel_f32(void);
bool tk_is_sentinel_f32(float v);
uint32_t tk_f32_bits(float v);
float tk_f32_from_bits(uint32_t bits);

/* ---- tensor views -------------------------------------------------------- */

/* How a test tensor sits in memory.  The first four are valid for outputs
 * (every element has its own address); NEGATIVE and BROADCAST only for
 * inputs. */
typedef enum tk_kind {
    TK_NCHW = 0,     /* CONVKIT_FORMAT_NCHW, dense                          */
    TK_NHWC = 1,     /* CONVKIT_FORMAT_NHWC, dense                          */
    TK_PADDED = 2,   /* STRIDED, NCHW order with gaps after every dim       */
    TK_PERMUTED = 3, /* STRIDED, memory order H, N, W, C (C fastest), gaps  */
    TK_NEGATIVE = 4, /* STRIDED, W and C strides negative (input only)      */
    TK_BROADCAST = 5 /* STRIDED, N stride 0 (input only)                    */
} tk_kind_t;

#define TK_KIND_COUNT 6
#define TK_OUTPUT_KIND_COUNT 4

const char *tk_kind_name(tk_kind_t kind);

/* Guard elements before and after the addressed span (sentinel-filled). */
#define TK_GUARD 16

typedef struct tk_tensor {
    int64_t dims[4];    /* logical (N, C, H, W) */
    int64_t strides[4]; /* element strides of the view */
    convkit_layout_t layout;
    tk_kind_t kind;
    size_t elem;         /* 4 (float) or 8 (int64) */
    unsigned char *mem;  /* the allocation */
    int64_t nalloc;      /* elements in mem */
    int64_t origin;      /* element index in mem of logical (0, 0, 0, 0) */
} tk_tensor_t;

/* Whether a call may write through t's layout: 1 = it must be accepted,
 * 0 = it must be rejected (elements share addresses: BROADCAST with more
 * than one sample), -1 = either (NEGATIVE: every element has its own
 * address, but the library may require positive output strides). */
int tk_writable(const tk_tensor_t *t);

/* Creates a view of the given dims; the whole allocation holds the sentinel. */
tk_tensor_t tk_tensor_f32(const int64_t dims[4], tk_kind_t kind);
tk_tensor_t tk_tensor_i64(const int64_t dims[4], tk_kind_t kind);
void tk_tensor_free(tk_tensor_t *t);

int64_t tk_numel(const tk_tensor_t *t);
int64_t tk_offset(const tk_tensor_t *t, int64_t n, int64_t c, int64_t h, int64_t w);
/* Pointer to logical element (0, 0, 0, 0), what the library receives. */
float *tk_fdata(const tk_tensor_t *t);
int64_t *tk_idata(const tk_tensor_t *t);
float tk_getf(const tk_tensor_t *t, int64_t n, int64_t c, int64_t h, int64_t w);
void tk_setf(tk_tensor_t *t, int64_t n, int64_t c, int64_t h, int64_t w, float v);
int64_t tk_geti(const tk_tensor_t *t, int64_t n, int64_t c, int64_t h, int64_t w);
void tk_seti(tk_tensor_t *t, int64_t n, int64_t c, int64_t h, int64_t w, int64_t v);

/* Whole allocation := sentinel. */
void tk_fill_sentinel(tk_tensor_t *t);
/* Logical elements := uniform floats in [lo, hi) / integers in [lo, hi]. */
void tk_fill_uniform(tk_tensor_t *t, tk_rng_t *r, float lo, float hi);
void tk_fill_ints(tk_tensor_t *t, tk_rng_t *r, int lo, int hi);
void tk_fill_const(tk_tensor_t *t, float v);
/* Copies logical values (float) from src to dst (same dims). */
void tk_copy_values(tk_tensor_t *dst, const tk_tensor_t *src);

/* True if every element of the allocation still holds the sentinel. */
bool tk_untouched(const tk_tensor_t *t);
/* True if every element outside the view (gaps and guards) still holds the
 * sentinel; otherwise describes the first changed one in msg. */
bool tk_gaps_intact(const tk_tensor_t *t, char *msg, size_t len);
/* True if logical elements of a and b (same dims) are bitwise equal. */
bool tk_bitwise_equal(const tk_tensor_t *a, const tk_tensor_t *b, char *msg, size_t len);

/* ---- float64 reference results ------------------------------------------ */

/* A dense NCHW result: the value, the sum of |terms| (for the error bound)
 * and the number of terms (the reduction length K of that element). */
typedef struct tk_ref {
    int64_t dims[4];
    double *val;
    double *mag;
    int64_t *terms;
    int64_t *index; /* max-pool argmax (else unused, may be NULL) */
} tk_ref_t;

tk_ref_t tk_ref_new(const int64_t dims[4]);
void tk_ref_free(tk_ref_t *r);
int64_t tk_ref_at(const tk_ref_t *r, int64_t n, int64_t c, int64_t h, int64_t w);

/* Max-abs error bound from semantics.md: |got - ref| <= c * K * 2^-24 * sum|x*w|.
 * Returns the number of elements out of bound (NaN must match NaN; a
 * sentinel is always a failure) and describes the first in msg. */
int64_t tk_compare_bound(const tk_tensor_t *got, const tk_ref_t *ref, double c, char *msg,
                         size_t len);
/* got == ref exactly (numerically: -0 == +0; NaN matches NaN). */
int64_t tk_compare_exact(const tk_tensor_t *got, const tk_ref_t *ref, char *msg, size_t len);
/* Bitwise equal to (float)ref, except that any NaN matches a NaN. */
int64_t tk_compare_bits(const tk_tensor_t *got, const tk_ref_t *ref, char *msg, size_t len);
/* int64 view equal to ref->index. */
int64_t tk_compare_index(const tk_tensor_t *got, const tk_ref_t *ref, char *msg, size_t len);

/* ---- shape rules (independent copies of semantics.md) --------------------- */

int64_t tk_conv_out_size(int64_t in, int64_t lo, int64_t hi, int64_t k, int64_t s, int64_t d);
int64_t tk_pool_out_size(int64_t in, int64_t pad, int64_t k, int64_t s, int64_t d, bool ceil);
/* Source index of padded coordinate j (already shifted by pad_lo) under a
 * padding mode (CONVKIT_PAD_* == CONVKIT_PADDING_*), or -1 for constant/zero. */
int64_t tk_pad_source(int64_t j, int64_t size, uint32_t mode);

/* ---- convolution --------------------------------------------------------- */

typedef struct tk_conv_cfg {
    int64_t n, cin, h, w, cout, kh, kw, sh, sw, pt, pb, pl, pr, dh, dw, groups;
    uint32_t mode;
} tk_conv_cfg_t;

void tk_conv_out_dims(const tk_conv_cfg_t *c, int64_t *oh, int64_t *ow);
void tk_conv_dims(const tk_conv_cfg_t *c, int64_t src[4], int64_t weight[4], int64_t dst[4]);
/* Params with NCHW layouts (bias_length = cout if has_bias). */
convkit_conv2d_params_t tk_conv2d_params(const tk_conv_cfg_t *c, bool has_bias);
/* Requires h == kh == sh == dh == 1 and pt == pb == 0. */
convkit_conv1d_params_t tk_conv1d_params(const tk_conv_cfg_t *c, bool has_bias);

/* y (N, C_out, H_out, W_out) = conv(x, w) + bias (bias may be NULL). */
void tk_ref_conv_forward(const tk_conv_cfg_t *c, const tk_tensor_t *x, const tk_tensor_t *w,
                         const float *bias, tk_ref_t *y);
/* gx (N, C_in, H, W): the adjoint, accumulated into the padded image then
 * folded back through the padding map. */
void tk_ref_conv_backward_data(const tk_conv_cfg_t *c, const tk_tensor_t *gy,
                               const tk_tensor_t *w, tk_ref_t *gx);
/* gw (C_out, C_in/G, kH, kW). */
void tk_ref_conv_backward_weights(const tk_conv_cfg_t *c, const tk_tensor_t *x,
                                  const tk_tensor_t *gy, tk_ref_t *gw);
/* gb (1, C_out, 1, 1). */
void tk_ref_conv_backward_bias(const tk_conv_cfg_t *c, const tk_tensor_t *gy, tk_ref_t *gb);

/* ---- max pooling ----------------------------------------------------------- */

typedef struct tk_pool_cfg {
    int64_t n, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw; /* sh/sw: 0 = kernel */
    bool ceil;
} tk_pool_cfg_t;

void tk_pool_out_dims(const tk_pool_cfg_t *c, int64_t *oh, int64_t *ow);
convkit_pool2d_params_t tk_pool2d_params(const tk_pool_cfg_t *c);
/* Requires h == kh == 1 and ph == 0 (dh, sh ignored). */
convkit_pool1d_params_t tk_pool1d_params(const tk_pool_cfg_t *c);
/* y and y->index (dense NCHW) per semantics.md. */
void tk_ref_pool_forward(const tk_pool_cfg_t *c, const tk_tensor_t *x, tk_ref_t *y);
/* gx = scatter-add of gy by idx (skipping -1; indices must be valid). */
void tk_ref_pool_backward(const tk_pool_cfg_t *c, const tk_tensor_t *gy, const tk_tensor_t *idx,
                          tk_ref_t *gx);

/* ---- unfold / fold --------------------------------------------------------- */

typedef struct tk_fold_cfg {
    int64_t n, c, h, w, kh, kw, dh, dw, ph, pw, sh, sw;
} tk_fold_cfg_t;

void tk_fold_blocks(const tk_fold_cfg_t *c, int64_t *oh, int64_t *ow);
/* Image dims (N, C, H, W) and column dims (N, C*kh*kw, 1, L). */
void tk_fold_dims(const tk_fold_cfg_t *c, int64_t image[4], int64_t column[4]);
/* Params for unfold (col_* = 0) or fold (col_* = the column dims). */
convkit_fold_params_t tk_fold_params(const tk_fold_cfg_t *c, bool for_fold);
void tk_ref_unfold(const tk_fold_cfg_t *c, const tk_tensor_t *image, tk_ref_t *col);
void tk_ref_fold(const tk_fold_cfg_t *c, const tk_tensor_t *col, tk_ref_t *image);

/* ---- pad ------------------------------------------------------------------- */

typedef struct tk_pad_cfg {
    int64_t n, c, h, w, pl, pr, pt, pb;
    uint32_t mode;
    float value;
} tk_pad_cfg_t;

void tk_pad_out_dims(const tk_pad_cfg_t *c, int64_t *oh, int64_t *ow);
convkit_pad_params_t tk_pad_params(const tk_pad_cfg_t *c);
void tk_ref_pad(const tk_pad_cfg_t *c, const tk_tensor_t *x, tk_ref_t *y);

/* ---- describing a configuration in messages -------------------------------- */

/* "(n 2 cin 19 5x7 cout 21 k 3x3 s 1,1 pad 1,1,1,1 d 1,1 g 1 mode 0)" into
 * buf (len bytes); returns buf. */
const char *tk_conv_cfg_str(const tk_conv_cfg_t *c, char *buf, size_t len);

#endif /* CK_TEST_SUPPORT_H */
