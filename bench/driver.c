/*
 * driver.c - convkit's main job for now: print the version, the detected ISA,
 * the ISA cap and the thread count, then create a plan for each operation on
 * a ResNet-50-sized problem, run it once and print its time and throughput
 * (GFLOP/s for convolutions, GB/s of bytes read plus written otherwise).
 *
 * Each figure is a single run, not a benchmark: the Google Benchmark suites
 * replace this driver.  Any failing call ends the program with status 1 and
 * convkit_last_error().
 */
#define _POSIX_C_SOURCE 200809L

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "convkit.h"

#define CHECK(call)                                                                      \
    do {                                                                                 \
        convkit_status_t st_ = (call);                                                   \
        if (st_ != CONVKIT_SUCCESS) {                                                    \
            fprintf(stderr, "convkit-driver: %s failed: %s\n  %s\n", #call,              \
                    convkit_status_string(st_), convkit_last_error());                   \
            exit(1);                                                                     \
        }                                                                                \
    } while (0)

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* A buffer of n floats filled with a fixed pseudo-random pattern in [-1, 1). */
static float *random_floats(int64_t n, uint32_t seed)
{
    float *p = malloc((size_t)(n > 0 ? n : 1) * sizeof *p);
    if (p == NULL) {
        fprintf(stderr, "convkit-driver: out of memory (%lld floats)\n", (long long)n);
        exit(1);
    }
    uint32_t x = seed * 2654435761u + 1u;
    for (int64_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        p[i] = (float)(x >> 8) * (2.0f / 16777216.0f) - 1.0f;
    }
    return p;
}

static int64_t numel(const int64_t d[4]) { return d[0] * d[1] * d[2] * d[3]; }

/* One line: what ran, the plan's implementation, time, throughput. */
static void report(const char *what, const convkit_plan_t *plan, double seconds, double amount,
                   const char *unit)
{
    printf("  %-44s %-26s %9.3f ms %9.2f %s\n", what, convkit_plan_impl_name(plan),
           seconds * 1e3, amount / seconds * 1e-9, unit);
}

/* res3a_b of ResNet-50: 128x28x28 -> 128, 3x3, stride 1, pad 1, batch 1. */
static void run_conv2d(void)
{
    convkit_conv2d_params_t p = CONVKIT_CONV2D_PARAMS_INIT;
    p.batch = 1;
    p.in_channels = 128;
    p.in_height = 28;
    p.in_width = 28;
    p.out_channels = 128;
    p.kernel_h = p.kernel_w = 3;
    p.pad_top = p.pad_bottom = p.pad_left = p.pad_right = 1;
    p.bias_length = p.out_channels;
    convkit_plan_t *plan = NULL;
    CHECK(convkit_conv2d_create(&p, &plan));
    int64_t od[4];
    CHECK(convkit_plan_output_dims(plan, od));
    const int64_t src_n = p.batch * p.in_channels * p.in_height * p.in_width;
    const int64_t w_n = p.out_channels * p.in_channels * p.kernel_h * p.kernel_w;
    float *src = random_floats(src_n, 1), *w = random_floats(w_n, 2);
    float *bias = random_floats(p.out_channels, 3), *dst = random_floats(numel(od), 4);
    float *gsrc = random_floats(src_n, 5), *gw = random_floats(w_n, 6);
    const double flops = 2.0 * (double)numel(od) * (double)(p.in_channels / p.groups) *
                         (double)(p.kernel_h * p.kernel_w);

    double t = now_seconds();
    CHECK(convkit_conv_forward(plan, src, w, bias, dst));
    report("conv2d forward  res3a_b 128x28x28 3x3 N1", plan, now_seconds() - t, flops,
           "GFLOP/s");
    t = now_seconds();
    CHECK(convkit_conv_backward_data(plan, dst, w, gsrc));
    report("conv2d bwd-data res3a_b", plan, now_seconds() - t, flops, "GFLOP/s");
    t = now_seconds();
    CHECK(convkit_conv_backward_weights(plan, src, dst, gw));
    report("conv2d bwd-wgt  res3a_b", plan, now_seconds() - t, flops, "GFLOP/s");

    convkit_plan_destroy(plan);
    free(src), free(w), free(bias), free(dst), free(gsrc), free(gw);
}

/* conv1d k3 C128 L1024 -> 128, pad 1, batch 1 (small: the scalar reference
 * runs at a fraction of a GFLOP/s). */
static void run_conv1d(void)
{
    convkit_conv1d_params_t p = CONVKIT_CONV1D_PARAMS_INIT;
    p.batch = 1;
    p.in_channels = 128;
    p.in_length = 1024;
    p.out_channels = 128;
    p.kernel = 3;
    p.pad_left = p.pad_right = 1;
    convkit_plan_t *plan = NULL;
    CHECK(convkit_conv1d_create(&p, &plan));
    int64_t od[4];
    CHECK(convkit_plan_output_dims(plan, od));
    float *src = random_floats(p.batch * p.in_channels * p.in_length, 7);
    float *w = random_floats(p.out_channels * p.in_channels * p.kernel, 8);
    float *dst = random_floats(numel(od), 9);
    const double flops = 2.0 * (double)numel(od) * (double)(p.in_channels * p.kernel);

    double t = now_seconds();
    CHECK(convkit_conv_forward(plan, src, w, NULL, dst));
    report("conv1d forward  128xL1024 k3 N1", plan, now_seconds() - t, flops, "GFLOP/s");

    convkit_plan_destroy(plan);
    free(src), free(w), free(dst);
}

/* The max-pool after conv1: 64x112x112, 3x3, stride 2, pad 1, batch 1. */
static void run_max_pool2d(void)
{
    convkit_pool2d_params_t p = CONVKIT_POOL2D_PARAMS_INIT;
    p.batch = 1;
    p.channels = 64;
    p.in_height = p.in_width = 112;
    p.kernel_h = p.kernel_w = 3;
    p.stride_h = p.stride_w = 2;
    p.pad_h = p.pad_w = 1;
    convkit_plan_t *plan = NULL;
    CHECK(convkit_max_pool2d_create(&p, &plan));
    int64_t od[4];
    CHECK(convkit_plan_output_dims(plan, od));
    const int64_t src_n = p.batch * p.channels * p.in_height * p.in_width, dst_n = numel(od);
    float *src = random_floats(src_n, 10), *dst = random_floats(dst_n, 11);
    float *gsrc = random_floats(src_n, 12);
    int64_t *idx = malloc((size_t)dst_n * sizeof *idx);
    if (idx == NULL) exit(1);
    memset(idx, 0, (size_t)dst_n * sizeof *idx);

    double t = now_seconds();
    CHECK(convkit_max_pool_forward(plan, src, dst, idx));
    report("max_pool2d fwd+idx 64x112x112 k3 s2 p1 N1", plan, now_seconds() - t,
           4.0 * (double)src_n + 12.0 * (double)dst_n, "GB/s");
    t = now_seconds();
    CHECK(convkit_max_pool_backward(plan, dst, idx, gsrc));
    report("max_pool2d backward", plan, now_seconds() - t,
           12.0 * (double)dst_n + 4.0 * (double)src_n, "GB/s");

    convkit_plan_destroy(plan);
    free(src), free(dst), free(gsrc), free(idx);
}

/* unfold and fold, 64x56x56, 3x3, pad 1, batch 1 (the im2col of res2a_b). */
static void run_unfold_fold(void)
{
    convkit_fold_params_t p = CONVKIT_FOLD_PARAMS_INIT;
    p.batch = 1;
    p.channels = 64;
    p.height = p.width = 56;
    p.kernel_h = p.kernel_w = 3;
    p.pad_h = p.pad_w = 1;
    convkit_plan_t *unfold = NULL, *fold = NULL;
    CHECK(convkit_unfold_create(&p, &unfold));
    int64_t cd[4];
    CHECK(convkit_plan_output_dims(unfold, cd));
    p.col_channels = cd[1];
    p.col_length = cd[3];
    CHECK(convkit_fold_create(&p, &fold));
    const int64_t img_n = p.batch * p.channels * p.height * p.width, col_n = numel(cd);
    float *img = random_floats(img_n, 13), *col = random_floats(col_n, 14);
    float *img2 = random_floats(img_n, 15);
    const double bytes = 4.0 * (double)(img_n + col_n);

    double t = now_seconds();
    CHECK(convkit_fold_execute(unfold, img, col));
    report("unfold 64x56x56 3x3 p1 N1", unfold, now_seconds() - t, bytes, "GB/s");
    t = now_seconds();
    CHECK(convkit_fold_execute(fold, col, img2));
    report("fold   64x56x56 3x3 p1 N1", fold, now_seconds() - t, bytes, "GB/s");

    convkit_plan_destroy(unfold);
    convkit_plan_destroy(fold);
    free(img), free(col), free(img2);
}

/* Reflect padding by 3 on every side of 64x112x112, batch 1. */
static void run_pad(void)
{
    convkit_pad_params_t p = CONVKIT_PAD_PARAMS_INIT;
    p.batch = 1;
    p.channels = 64;
    p.height = p.width = 112;
    p.pad_left = p.pad_right = p.pad_top = p.pad_bottom = 3;
    p.mode = CONVKIT_PAD_REFLECT;
    convkit_plan_t *plan = NULL;
    CHECK(convkit_pad_create(&p, &plan));
    int64_t od[4];
    CHECK(convkit_plan_output_dims(plan, od));
    const int64_t src_n = p.batch * p.channels * p.height * p.width;
    float *src = random_floats(src_n, 16), *dst = random_floats(numel(od), 17);

    double t = now_seconds();
    CHECK(convkit_pad_execute(plan, src, dst));
    report("pad reflect 3 64x112x112 N1", plan, now_seconds() - t,
           4.0 * (double)(src_n + numel(od)), "GB/s");

    convkit_plan_destroy(plan);
    free(src), free(dst);
}

int main(void)
{
    const uint32_t cpu = convkit_cpu_isa(), cap = convkit_get_max_isa();
    printf("convkit %s\n", convkit_version());
    printf("  detected ISA: %s\n", convkit_isa_name(cpu));
    printf("  ISA cap:      %s%s\n", convkit_isa_name(cap),
           getenv("CONVKIT_MAX_ISA") != NULL ? " (CONVKIT_MAX_ISA)" : "");
    printf("  threads:      %d\n", convkit_get_num_threads());
    printf("one run of each op (fp32, NCHW):\n");
    run_conv2d();
    run_conv1d();
    run_max_pool2d();
    run_unfold_fold();
    run_pad();
    return 0;
}
