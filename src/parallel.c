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

void ck_parallel_for(int64_t n, int64_t item_cost, ck_range_fn fn, void *ctx)
{
    if (n <= 0) return;
    int nt = convkit_get_num_threads();
    if ((int64_t)nt > n) nt = (int)n;
    int64_t work;
    if (!ck_mul(n, item_cost > 0 ? item_cost : 1, &work)) work = INT64_MAX;
    if (work < CK_PARALLEL_MIN_WORK) nt = 1;
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
