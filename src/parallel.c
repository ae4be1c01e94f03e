/* parallel.c - the one parallel-for every operation uses (OpenMP), and the
 * thread-count setting. */
#include <omp.h>
#include <stdatomic.h>

#include "internal.h"

static _Atomic int ck_threads; /* 0 = OpenMP's default */

convkit_status_t convkit_set_num_threads(int n)
{
    atomic_store(&ck_threads, n > 0 ? n : 0);
    ck_clear_error();
    return CONVKIT_SUCCESS;
}

int convkit_get_num_threads(void)
{
    int n = atomic_load(&ck_threads);
    return n > 0 ? n : omp_get_max_threads();
}

void ck_parallel_for(int64_t n, ck_range_fn fn, void *ctx)
{
    if (n <= 0) return;
    int nt = convkit_get_num_threads();
    if ((int64_t)nt > n) nt = (int)n;
    if (nt <= 1) {
        fn(ctx, 0, n);
        return;
    }
#pragma omp parallel num_threads(nt)
    {
        int t = omp_get_thread_num(), team = omp_get_num_threads();
        int64_t begin = n * t / team, end = n * (t + 1) / team;
        if (begin < end) fn(ctx, begin, end);
    }
}
