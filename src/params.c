/* params.c - reading versioned parameter structs and resolving layouts. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

convkit_status_t ck_read_params(void *dst, const void *params, size_t size_min,
                                size_t size_full, const char *what)
{
    if (params == NULL) return ck_fail(CONVKIT_ERROR_NULL_POINTER, "%s: params is NULL", what);
    uint32_t size;
    memcpy(&size, params, sizeof size);
    if (size < size_min)
        return ck_fail(CONVKIT_ERROR_STRUCT_SIZE,
                       "%s: struct_size %u is smaller than the oldest version (%zu bytes); "
                       "initialise the struct with its _INIT macro",
                       what, size, size_min);
    if (size > size_full) {
        /* A newer caller: accept it only if the fields this library does not
         * know are all zero. */
        const unsigned char *extra = (const unsigned char *)params + size_full;
        for (size_t i = 0; i < size - size_full; i++)
            if (extra[i] != 0)
                return ck_fail(CONVKIT_ERROR_STRUCT_SIZE,
                               "%s: struct_size %u is larger than this library's %zu bytes "
                               "and byte %zu beyond it is not zero",
                               what, size, size_full, size_full + i);
        size = (uint32_t)size_full;
    }
    memset(dst, 0, size_full);
    memcpy(dst, params, size);
    return CONVKIT_SUCCESS;
}

convkit_status_t ck_check_reserved(const uint64_t *words, int n, const char *what)
{
    for (int i = 0; i < n; i++)
        if (words[i] != 0)
            return ck_fail(CONVKIT_ERROR_RESERVED_NONZERO, "%s[%d] must be 0, got %llu", what, i,
                           (unsigned long long)words[i]);
    return CONVKIT_SUCCESS;
}

int64_t ck_tensor_numel(const ck_tensor_t *t)
{
    return t->dims[0] * t->dims[1] * t->dims[2] * t->dims[3];
}

/* True if distinct indices of t map to distinct offsets: with the dims of
 * size > 1 sorted by stride, each stride must exceed the span of the
 * smaller ones.  Requires positive strides on those dims. */
static bool ck_no_self_overlap(const ck_tensor_t *t)
{
    int order[4], n = 0;
    for (int d = 0; d < 4; d++)
        if (t->dims[d] > 1) {
            if (t->strides[d] <= 0) return false;
            order[n++] = d;
        }
    for (int i = 1; i < n; i++) /* insertion sort by stride */
        for (int j = i; j > 0 && t->strides[order[j]] < t->strides[order[j - 1]]; j--) {
            int tmp = order[j];
            order[j] = order[j - 1];
            order[j - 1] = tmp;
        }
    int64_t span = 0; /* largest offset reachable with the smaller dims */
    for (int i = 0; i < n; i++) {
        int d = order[i];
        if (t->strides[d] <= span) return false;
        span += t->strides[d] * (t->dims[d] - 1); /* bounded: checked by caller */
    }
    return true;
}

convkit_status_t ck_tensor_from_layout(ck_tensor_t *t, const int64_t dims[4],
                                       const convkit_layout_t *layout, const char *what,
                                       bool is_output)
{
    if (layout->reserved != 0)
        return ck_fail(CONVKIT_ERROR_RESERVED_NONZERO, "%s.reserved must be 0, got %u", what,
                       layout->reserved);
    for (int d = 0; d < 4; d++) {
        if (dims[d] < 0)
            return ck_fail(CONVKIT_ERROR_INVALID_ARGUMENT, "%s: dimension %d is negative (%lld)",
                           what, d, (long long)dims[d]);
        t->dims[d] = dims[d];
    }
    int64_t count;
    if (!ck_count(dims, 4, sizeof(float), &count))
        return ck_fail(CONVKIT_ERROR_OVERFLOW,
                       "%s: %lld x %lld x %lld x %lld elements overflow the address space", what,
                       (long long)dims[0], (long long)dims[1], (long long)dims[2],
                       (long long)dims[3]);
    if (layout->format != CONVKIT_FORMAT_STRIDED)
        for (int d = 0; d < 4; d++)
            if (layout->strides[d] != 0)
                return ck_fail(CONVKIT_ERROR_INVALID_ARGUMENT,
                               "%s.strides[%d] = %lld must be 0 unless format is "
                               "CONVKIT_FORMAT_STRIDED",
                               what, d, (long long)layout->strides[d]);
    switch (layout->format) {
    case CONVKIT_FORMAT_NCHW:
        t->strides[3] = 1;
        t->strides[2] = dims[3];
        t->strides[1] = dims[2] * dims[3];
        t->strides[0] = dims[1] * dims[2] * dims[3];
        for (int d = 0; d < 4; d++) if (t->strides[d] == 0) t->strides[d] = 1;
        return CONVKIT_SUCCESS;
    case CONVKIT_FORMAT_NHWC:
        t->strides[1] = 1;
        t->strides[3] = dims[1];
        t->strides[2] = dims[3] * dims[1];
        t->strides[0] = dims[2] * dims[3] * dims[1];
        for (int d = 0; d < 4; d++) if (t->strides[d] == 0) t->strides[d] = 1;
        return CONVKIT_SUCCESS;
    case CONVKIT_FORMAT_STRIDED:
        break;
    default:
        return ck_fail(CONVKIT_ERROR_INVALID_ARGUMENT,
                       "%s.format must be CONVKIT_FORMAT_NCHW, _NHWC or _STRIDED, got %u (the "
                       "blocked formats _NCHW16C and _NCHW8C are for conv src and dst only)",
                       what,
                       layout->format);
    }
    /* Explicit strides: the farthest element must be addressable. */
    int64_t span = 0;
    for (int d = 0; d < 4 && count > 0; d++) {
        int64_t s = layout->strides[d], ext;
        if (s == INT64_MIN || !ck_mul(s < 0 ? -s : s, dims[d] - 1, &ext) ||
            !ck_add(span, ext, &span) || span > (int64_t)(SIZE_MAX / sizeof(float) / 2))
            return ck_fail(CONVKIT_ERROR_OVERFLOW,
                           "%s: strides (%lld, %lld, %lld, %lld) address beyond the address space",
                           what, (long long)layout->strides[0], (long long)layout->strides[1],
                           (long long)layout->strides[2], (long long)layout->strides[3]);
    }
    for (int d = 0; d < 4; d++) t->strides[d] = layout->strides[d];
    if (is_output) CK_TRY(ck_tensor_check_output(t, what));
    return CONVKIT_SUCCESS;
}

convkit_status_t ck_tensor_check_output(const ck_tensor_t *t, const char *what)
{
    if (ck_tensor_numel(t) == 0 || ck_no_self_overlap(t)) return CONVKIT_SUCCESS;
    return ck_fail(CONVKIT_ERROR_INVALID_ARGUMENT,
                   "%s: strides (%lld, %lld, %lld, %lld) with sizes (%lld, %lld, %lld, %lld) "
                   "make an output overlap itself (outputs need distinct, positive-stride "
                   "addresses)",
                   what, (long long)t->strides[0], (long long)t->strides[1],
                   (long long)t->strides[2], (long long)t->strides[3], (long long)t->dims[0],
                   (long long)t->dims[1], (long long)t->dims[2], (long long)t->dims[3]);
}
