/*
 * kernel-views.h - dense ck_tensor_t views for the suites that call kernel
 * sets directly (test_dispatch.c, test_conv_direct.c) instead of going
 * through the public API.  Needs the library's internal headers (src/),
 * which those suites include first.
 */
#ifndef CK_TEST_KERNEL_VIEWS_H
#define CK_TEST_KERNEL_VIEWS_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "kernels.h"

/* Dense NCHW (nhwc false) or NHWC strides of dims d = (N, C, H, W). */
static inline void tk_dense_view(ck_tensor_t *t, const int64_t d[4], bool nhwc)
{
    memcpy(t->dims, d, sizeof t->dims);
    if (nhwc) t->strides[1] = 1, t->strides[3] = d[1], t->strides[2] = d[3] * d[1];
    else t->strides[3] = 1, t->strides[2] = d[3], t->strides[1] = d[2] * d[3];
    t->strides[0] = d[1] * d[2] * d[3];
}

#endif /* CK_TEST_KERNEL_VIEWS_H */
