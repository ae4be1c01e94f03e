/* sizes.c - checked int64 size arithmetic and the sliding-window length rule. */
#include "internal.h"

bool ck_mul(int64_t a, int64_t b, int64_t *out) { return !__builtin_mul_overflow(a, b, out); }

bool ck_add(int64_t a, int64_t b, int64_t *out) { return !__builtin_add_overflow(a, b, out); }

bool ck_count(const int64_t *dims, int n, size_t elem_size, int64_t *out)
{
    int64_t p = 1;
    for (int i = 0; i < n; i++)
        if (!ck_mul(p, dims[i], &p)) return false;
    size_t bytes;
    if ((uint64_t)p > SIZE_MAX || __builtin_mul_overflow((size_t)p, elem_size, &bytes))
        return false;
    *out = p;
    return true;
}

bool ck_window_out(int64_t in, int64_t lo, int64_t hi, int64_t k, int64_t s, int64_t dil,
                   bool ceil_mode, int64_t *out)
{
    int64_t span, padded, num;
    /* span = dil * (k - 1) + 1 */
    if (!ck_mul(dil, k - 1, &span) || !ck_add(span, 1, &span)) return false;
    if (!ck_add(in, lo, &padded) || !ck_add(padded, hi, &padded)) return false;
    if (!ck_add(padded, -span, &num)) return false;
    if (num < 0) {
        /* The window does not fit; with ceil_mode PyTorch still makes one
         * window when ceil(num / s) == 0, i.e. -s < num < 0. */
        *out = ceil_mode && num > -s ? 1 : 0;
        return true;
    }
    int64_t steps = num / s;
    if (ceil_mode && num % s != 0) {
        steps++;
        /* PyTorch's rule: the last window must start inside the input or
         * the left padding. */
        int64_t start;
        if (!ck_mul(steps, s, &start)) return false;
        if (start >= in + lo) steps--;
    }
    int64_t o = steps + 1;
    *out = o;
    return true;
}
