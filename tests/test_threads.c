/*
 * test_threads.c - results are bitwise identical for any thread count
 * (1, 2, 3) for every operation and direction, on shapes with enough
 * work items that the threads really split the work; the thread-count
 * setting; the thread-local error message; one plan per thread in
 * concurrent use.
 */
#include <criterion/criterion.h>
#include <omp.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "test_support.h"

static const int thread_counts[] = {1, 2, 3};

/* Runs `body` (which writes into `out`) once per thread count and checks
 * that every run equals the single-threaded one bit for bit. */
#define SAME_FOR_ALL_THREADS(out, what, body)                                                 \
    do {                                                                                      \
        tk_tensor_t first_ = (out)->elem == 8 ? tk_tensor_i64((out)->dims, (out)->kind) \
                                              : tk_tensor_f32((out)->dims, (out)->kind);                      \
        for (int t_ = 0; t_ < 3; t_++) {                                                      \
            cr_assert_eq(convkit_set_num_threads(thread_counts[t_]), CONVKIT_SUCCESS);        \
            cr_assert_eq(convkit_get_num_threads(), thread_counts[t_]);                       \
            tk_fill_sentinel(out);                                                            \
            body;                                                                             \
            char msg_[200];                                                                   \
            if (t_ == 0) {                                                                    \
                memcpy(first_.mem, (out)->mem, (size_t)(out)->nalloc * (out)->elem);         \
            } else {                                                                          \
                cr_expect(memcmp(first_.mem, (out)->mem, (size_t)(out)->nalloc * (out)->elem) == 0, \
                          "%s: %d threads differ from 1 thread", what, thread_counts[t_]);     \
            }                                                                                 \
            cr_expect(tk_gaps_intact(out, msg_, sizeof msg_), "%s: %s", what, msg_);          \
        }                                                                                     \
        tk_tensor_free(&first_);                                                              \
    } while (0)

#define OKCALL(call) cr_assert_eq((call), CONVKIT_SUCCESS, "%s: %s", #call, convkit_last_error())

Test(threads, conv_all_directions)
{
    /* Work per call above CK_PARALLEL_MIN_WORK (64K operations, below which
     * the library stays on one thread): forward 16 items x 256 x 36,
     * backward-data 16 x 256 x 36, backward-weights 8 x 2*256 x 36. */
    tk_conv_cfg_t c = {2, 8, 16, 16, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2, CONVKIT_PADDING_REFLECT};
    int64_t sd[4], wd[4], dd[4];
    tk_conv_dims(&c, sd, wd, dd);
    tk_rng_t r;
    tk_rng_seed(&r, 42);
    tk_tensor_t x = tk_tensor_f32(sd, TK_NHWC), w = tk_tensor_f32(wd, TK_NCHW);
    tk_tensor_t y = tk_tensor_f32(dd, TK_PADDED), gy = tk_tensor_f32(dd, TK_PADDED);
    tk_tensor_t gx = tk_tensor_f32(sd, TK_NHWC), gw = tk_tensor_f32(wd, TK_NCHW);
    const int64_t bd[4] = {1, 1, 1, 8};
    tk_tensor_t gb = tk_tensor_f32(bd, TK_NCHW);
    tk_fill_uniform(&x, &r, -1, 1);
    tk_fill_uniform(&w, &r, -1, 1);
    tk_fill_uniform(&gy, &r, -1, 1);
    float bias[8];
    for (int i = 0; i < 8; i++) bias[i] = tk_rng_float(&r, -1, 1);
    convkit_conv2d_params_t p = tk_conv2d_params(&c, true);
    p.src_layout = x.layout;
    p.weight_layout = w.layout;
    p.dst_layout = y.layout;
    convkit_plan_t *plan = NULL;
    OKCALL(convkit_conv2d_create(&p, &plan));
    SAME_FOR_ALL_THREADS(&y, "conv forward",
                         OKCALL(convkit_conv_forward(plan, tk_fdata(&x), tk_fdata(&w), bias,
                                                     tk_fdata(&y))));
    SAME_FOR_ALL_THREADS(&gx, "conv backward_data",
                         OKCALL(convkit_conv_backward_data(plan, tk_fdata(&gy), tk_fdata(&w),
                                                           tk_fdata(&gx))));
    SAME_FOR_ALL_THREADS(&gw, "conv backward_weights",
                         OKCALL(convkit_conv_backward_weights(plan, tk_fdata(&x), tk_fdata(&gy),
                                                              tk_fdata(&gw))));
    SAME_FOR_ALL_THREADS(&gb, "conv backward_bias (small: one thread)",
                         OKCALL(convkit_conv_backward_bias(plan, tk_fdata(&gy), tk_fdata(&gb))));
    convkit_plan_destroy(plan);
    tk_tensor_t *all[] = {&x, &w, &y, &gy, &gx, &gw, &gb};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) tk_tensor_free(all[i]);
}

Test(threads, conv_backward_bias_large)
{
    /* backward-bias work is C_out x N*H_out*W_out = 16 x 4*1152 */
    tk_conv_cfg_t c = {4, 2, 32, 36, 16, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, CONVKIT_PADDING_ZEROS};
    int64_t sd[4], wd[4], dd[4];
    tk_conv_dims(&c, sd, wd, dd);
    tk_rng_t r;
    tk_rng_seed(&r, 47);
    tk_tensor_t gy = tk_tensor_f32(dd, TK_NHWC);
    const int64_t bd[4] = {1, 1, 1, 16};
    tk_tensor_t gb = tk_tensor_f32(bd, TK_NCHW);
    tk_fill_uniform(&gy, &r, -1, 1);
    convkit_conv2d_params_t p = tk_conv2d_params(&c, false);
    p.dst_layout = gy.layout;
    convkit_plan_t *plan = NULL;
    OKCALL(convkit_conv2d_create(&p, &plan));
    SAME_FOR_ALL_THREADS(&gb, "conv backward_bias",
                         OKCALL(convkit_conv_backward_bias(plan, tk_fdata(&gy), tk_fdata(&gb))));
    convkit_plan_destroy(plan);
    tk_tensor_free(&gy);
    tk_tensor_free(&gb);
}

Test(threads, conv1d_forward)
{
    /* 64 items x 512 x 20 */
    tk_conv_cfg_t c = {4, 8, 1, 512, 16, 1, 5, 1, 1, 0, 0, 2, 2, 1, 1, 2, CONVKIT_PADDING_ZEROS};
    int64_t sd[4], wd[4], dd[4];
    tk_conv_dims(&c, sd, wd, dd);
    tk_rng_t r;
    tk_rng_seed(&r, 43);
    tk_tensor_t x = tk_tensor_f32(sd, TK_NCHW), w = tk_tensor_f32(wd, TK_NCHW);
    tk_tensor_t y = tk_tensor_f32(dd, TK_NCHW);
    tk_fill_uniform(&x, &r, -1, 1);
    tk_fill_uniform(&w, &r, -1, 1);
    convkit_conv1d_params_t p = tk_conv1d_params(&c, false);
    convkit_plan_t *plan = NULL;
    OKCALL(convkit_conv1d_create(&p, &plan));
    SAME_FOR_ALL_THREADS(&y, "conv1d forward",
                         OKCALL(convkit_conv_forward(plan, tk_fdata(&x), tk_fdata(&w), NULL,
                                                     tk_fdata(&y))));
    convkit_plan_destroy(plan);
    tk_tensor_free(&x);
    tk_tensor_free(&w);
    tk_tensor_free(&y);
}

Test(threads, max_pool_forward_and_backward)
{
    /* forward 24 items x 33*33*9, backward 24 x (64*64 + 33*33) */
    tk_pool_cfg_t c = {3, 8, 64, 64, 3, 3, 2, 2, 1, 1, 1, 1, true};
    int64_t oh, ow;
    tk_pool_out_dims(&c, &oh, &ow);
    const int64_t sd[4] = {3, 8, 64, 64}, dd[4] = {3, 8, oh, ow};
    tk_rng_t r;
    tk_rng_seed(&r, 44);
    tk_tensor_t x = tk_tensor_f32(sd, TK_NCHW), y = tk_tensor_f32(dd, TK_NHWC);
    tk_tensor_t idx = tk_tensor_i64(dd, TK_NCHW), gy = tk_tensor_f32(dd, TK_NHWC);
    tk_tensor_t gx = tk_tensor_f32(sd, TK_NCHW);
    tk_fill_ints(&x, &r, -3, 3);
    tk_fill_uniform(&gy, &r, -1, 1);
    convkit_pool2d_params_t p = tk_pool2d_params(&c);
    p.dst_layout = y.layout;
    convkit_plan_t *plan = NULL;
    OKCALL(convkit_max_pool2d_create(&p, &plan));
    SAME_FOR_ALL_THREADS(&y, "pool forward values",
                         OKCALL(convkit_max_pool_forward(plan, tk_fdata(&x), tk_fdata(&y), NULL)));
    tk_tensor_t y2 = tk_tensor_f32(dd, TK_NHWC);
    SAME_FOR_ALL_THREADS(&idx, "pool forward indices",
                         OKCALL(convkit_max_pool_forward(plan, tk_fdata(&x), tk_fdata(&y2),
                                                         tk_idata(&idx))));
    SAME_FOR_ALL_THREADS(&gx, "pool backward",
                         OKCALL(convkit_max_pool_backward(plan, tk_fdata(&gy), tk_idata(&idx),
                                                          tk_fdata(&gx))));
    convkit_plan_destroy(plan);
    tk_tensor_t *all[] = {&x, &y, &y2, &idx, &gy, &gx};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) tk_tensor_free(all[i]);
}

Test(threads, unfold_fold_pad)
{
    /* 16 items x 32*32 blocks x 9 */
    tk_fold_cfg_t f = {2, 8, 32, 32, 3, 3, 1, 1, 1, 1, 1, 1};
    int64_t id[4], cd[4];
    tk_fold_dims(&f, id, cd);
    tk_rng_t r;
    tk_rng_seed(&r, 45);
    tk_tensor_t img = tk_tensor_f32(id, TK_NCHW), col = tk_tensor_f32(cd, TK_NCHW);
    tk_tensor_t back = tk_tensor_f32(id, TK_PERMUTED);
    tk_fill_uniform(&img, &r, -1, 1);
    convkit_fold_params_t up = tk_fold_params(&f, false), fp = tk_fold_params(&f, true);
    fp.image_layout = back.layout;
    convkit_plan_t *u = NULL, *fo = NULL;
    OKCALL(convkit_unfold_create(&up, &u));
    OKCALL(convkit_fold_create(&fp, &fo));
    SAME_FOR_ALL_THREADS(&col, "unfold", OKCALL(convkit_fold_execute(u, tk_fdata(&img), tk_fdata(&col))));
    SAME_FOR_ALL_THREADS(&back, "fold", OKCALL(convkit_fold_execute(fo, tk_fdata(&col), tk_fdata(&back))));
    convkit_plan_destroy(u);
    convkit_plan_destroy(fo);

    for (uint32_t mode = 0; mode < 4; mode++) {
        tk_pad_cfg_t c = {2, 8, 32, 32, 20, 23, 31, 17, mode, 0.25f}; /* src: img; 16 x 80*75 */
        int64_t oh, ow;
        tk_pad_out_dims(&c, &oh, &ow);
        const int64_t dd[4] = {c.n, c.c, oh, ow};
        tk_tensor_t y = tk_tensor_f32(dd, TK_NHWC);
        convkit_pad_params_t p = tk_pad_params(&c);
        p.dst_layout = y.layout;
        convkit_plan_t *plan = NULL;
        OKCALL(convkit_pad_create(&p, &plan));
        SAME_FOR_ALL_THREADS(&y, "pad", OKCALL(convkit_pad_execute(plan, tk_fdata(&img), tk_fdata(&y))));
        convkit_plan_destroy(plan);
        tk_tensor_free(&y);
    }
    tk_tensor_free(&img);
    tk_tensor_free(&col);
    tk_tensor_free(&back);
}

Test(threads, pool_backward_index_error_is_the_same_for_any_thread_count)
{
    /* Several bad indices in different planes: the reported one must not
     * depend on which thread found its bad index first. */
    /* 8 planes x 16384 outputs (k 1): the index check splits across threads */
    enum { L = 16384, PLANES = 8, COUNT = PLANES * L };
    convkit_pool1d_params_t p = CONVKIT_POOL1D_PARAMS_INIT;
    p.batch = 2;
    p.channels = 4;
    p.in_length = L;
    convkit_plan_t *plan = NULL;
    OKCALL(convkit_max_pool1d_create(&p, &plan));
    const int64_t dims[4] = {1, 1, 1, COUNT};
    tk_tensor_t idx = tk_tensor_i64(dims, TK_NCHW), gy = tk_tensor_f32(dims, TK_NCHW);
    tk_tensor_t gx = tk_tensor_f32(dims, TK_NCHW);
    tk_fill_const(&gy, 1.0f);
    for (int64_t i = 0; i < COUNT; i++) tk_idata(&idx)[i] = i % L;
    tk_idata(&idx)[1 * L + 5] = L;        /* plane 1 */
    tk_idata(&idx)[5 * L + 17] = 99999;   /* plane 5 */
    tk_idata(&idx)[7 * L + L - 1] = -3;   /* plane 7 */
    char first[512] = "";
    for (int t = 0; t < 3; t++) {
        convkit_set_num_threads(thread_counts[t]);
        tk_fill_sentinel(&gx);
        cr_expect_eq(convkit_max_pool_backward(plan, tk_fdata(&gy), tk_idata(&idx), tk_fdata(&gx)),
                     CONVKIT_ERROR_INDEX_OUT_OF_RANGE);
        cr_expect(tk_untouched(&gx), "%d threads: grad_src written", thread_counts[t]);
        if (t == 0) snprintf(first, sizeof first, "%s", convkit_last_error());
        else
            cr_expect_str_eq(convkit_last_error(), first, "%d threads report another index",
                             thread_counts[t]);
    }
    cr_expect(strstr(first, "= 16384") != NULL, "the first bad index (plane 1) is reported: %s",
              first);
    tk_tensor_free(&idx);
    tk_tensor_free(&gy);
    tk_tensor_free(&gx);
    convkit_plan_destroy(plan);
}

Test(threads, num_threads_setting)
{
    cr_expect_eq(convkit_set_num_threads(3), CONVKIT_SUCCESS);
    cr_expect_eq(convkit_get_num_threads(), 3);
    cr_expect_eq(convkit_set_num_threads(1), CONVKIT_SUCCESS);
    cr_expect_eq(convkit_get_num_threads(), 1);
    cr_expect_eq(convkit_set_num_threads(0), CONVKIT_SUCCESS);
    cr_expect_eq(convkit_get_num_threads(), omp_get_max_threads(), "0 restores the default");
    cr_expect_eq(convkit_set_num_threads(-5), CONVKIT_SUCCESS);
    cr_expect_eq(convkit_get_num_threads(), omp_get_max_threads(), "<0 restores the default");
    cr_expect(convkit_get_num_threads() >= 1);
}

static void *fail_in_thread(void *arg)
{
    (void)arg;
    convkit_conv2d_params_t p = CONVKIT_CONV2D_PARAMS_INIT;
    p.stride_h = 0;
    convkit_plan_t *plan = NULL;
    convkit_status_t st = convkit_conv2d_create(&p, &plan);
    static char copy[512];
    snprintf(copy, sizeof copy, "%d %s", (int)st, convkit_last_error());
    return copy;
}

Test(threads, last_error_is_thread_local)
{
    convkit_pool2d_params_t p = CONVKIT_POOL2D_PARAMS_INIT;
    p.channels = 0;
    convkit_plan_t *plan = NULL;
    cr_assert_eq(convkit_max_pool2d_create(&p, &plan), CONVKIT_ERROR_INVALID_ARGUMENT);
    char mine[512];
    snprintf(mine, sizeof mine, "%s", convkit_last_error());
    cr_assert(strstr(mine, "channels") != NULL, "%s", mine);
    pthread_t th;
    void *ret = NULL;
    cr_assert_eq(pthread_create(&th, NULL, fail_in_thread, NULL), 0);
    pthread_join(th, &ret);
    cr_expect(strstr((const char *)ret, "stride_h") != NULL, "other thread's message: %s",
              (const char *)ret);
    cr_expect_str_eq(convkit_last_error(), mine, "another thread's failure changed this thread's message");
}

/* One plan per thread, run concurrently: every thread gets the same bits. */
typedef struct worker {
    const tk_tensor_t *x, *w;
    tk_tensor_t y;
    convkit_status_t st;
} worker_t;

static tk_conv_cfg_t worker_cfg = {2, 3, 8, 8, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0};

static void *run_worker(void *arg)
{
    worker_t *wk = arg;
    convkit_conv2d_params_t p = tk_conv2d_params(&worker_cfg, false);
    convkit_plan_t *plan = NULL;
    wk->st = convkit_conv2d_create(&p, &plan);
    if (wk->st != CONVKIT_SUCCESS) return NULL;
    for (int rep = 0; rep < 5 && wk->st == CONVKIT_SUCCESS; rep++)
        wk->st = convkit_conv_forward(plan, tk_fdata(wk->x), tk_fdata(wk->w), NULL, tk_fdata(&wk->y));
    convkit_plan_destroy(plan);
    return NULL;
}

Test(threads, one_plan_per_thread_concurrently)
{
    int64_t sd[4], wd[4], dd[4];
    tk_conv_dims(&worker_cfg, sd, wd, dd);
    tk_rng_t r;
    tk_rng_seed(&r, 46);
    tk_tensor_t x = tk_tensor_f32(sd, TK_NCHW), w = tk_tensor_f32(wd, TK_NCHW);
    tk_fill_uniform(&x, &r, -1, 1);
    tk_fill_uniform(&w, &r, -1, 1);
    convkit_set_num_threads(1);
    worker_t wk[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        wk[i].x = &x;
        wk[i].w = &w;
        wk[i].y = tk_tensor_f32(dd, TK_NCHW);
        cr_assert_eq(pthread_create(&th[i], NULL, run_worker, &wk[i]), 0);
    }
    for (int i = 0; i < 4; i++) pthread_join(th[i], NULL);
    for (int i = 0; i < 4; i++) {
        cr_expect_eq(wk[i].st, CONVKIT_SUCCESS, "worker %d", i);
        char msg[200];
        if (i > 0)
            cr_expect(tk_bitwise_equal(&wk[0].y, &wk[i].y, msg, sizeof msg), "worker %d: %s", i, msg);
    }
    for (int i = 0; i < 4; i++) tk_tensor_free(&wk[i].y);
    tk_tensor_free(&x);
    tk_tensor_free(&w);
}

/* ck_parallel_for: every item exactly once; small work stays on the calling
 * thread in one call; large work is split when threads are allowed. */
typedef struct ranges {
    pthread_mutex_t lock;
    int calls;
    int64_t begin[64], end[64];
    unsigned char seen[1000];
    int distinct_threads;
    int thread_ids[64];
} ranges_t;

static void record(void *ctx, int64_t begin, int64_t end)
{
    ranges_t *r = ctx;
    pthread_mutex_lock(&r->lock);
    if (r->calls < 64) {
        r->begin[r->calls] = begin;
        r->end[r->calls] = end;
        r->thread_ids[r->calls] = omp_get_thread_num();
    }
    r->calls++;
    for (int64_t i = begin; i < end && i < 1000; i++) r->seen[i]++;
    pthread_mutex_unlock(&r->lock);
}

static void run_ranges(ranges_t *r, int64_t n, int64_t cost)
{
    memset(r, 0, sizeof *r);
    pthread_mutex_init(&r->lock, NULL);
    ck_parallel_for(n, cost, record, r);
    pthread_mutex_destroy(&r->lock);
    for (int64_t i = 0; i < n; i++)
        cr_expect_eq(r->seen[i], 1, "n %lld cost %lld: item %lld processed %d times", (long long)n,
                     (long long)cost, (long long)i, r->seen[i]);
}

Test(threads, parallel_for_partition)
{
    ranges_t r;
    convkit_set_num_threads(2);
    run_ranges(&r, 10, 1); /* tiny: inline */
    cr_expect_eq(r.calls, 1, "tiny work split into %d calls", r.calls);
    cr_expect(r.begin[0] == 0 && r.end[0] == 10);
    run_ranges(&r, 10, INT64_C(1) << 20); /* large: both threads */
    cr_expect_eq(r.calls, 2, "large work on 2 threads made %d calls", r.calls);
    run_ranges(&r, 10, INT64_MAX); /* the cost product saturates */
    cr_expect_eq(r.calls, 2);
    run_ranges(&r, 1, INT64_C(1) << 40); /* one item cannot be split */
    cr_expect_eq(r.calls, 1);
    convkit_set_num_threads(3);
    run_ranges(&r, 7, INT64_C(1) << 20);
    cr_expect_eq(r.calls, 3, "3 threads made %d calls", r.calls);
    convkit_set_num_threads(1);
    run_ranges(&r, 999, INT64_C(1) << 30);
    cr_expect_eq(r.calls, 1, "1 thread made %d calls", r.calls);
    run_ranges(&r, 0, 100);
    cr_expect_eq(r.calls, 0, "n = 0 called the function");
}
