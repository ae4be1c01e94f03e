/*
 * machine.c - single-core fp32 peak per ISA (the loops of peak-*.c) and
 * single-core streaming bandwidth, measured at start-up.
 *
 * Peak: each loop is calibrated to run about 0.2 s, then timed three times;
 * the best time gives GFLOP/s = flops / time.  Bandwidth: b[i] = 1.5f*a[i]
 * over two 128 MiB arrays (far beyond the caches), best of three passes,
 * counting the bytes read plus the bytes written (the write-allocate reads
 * of b are not counted, as for the kernels' byte counts).
 */
#define _POSIX_C_SOURCE 200809L

#include "machine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "convkit.h"
#include "peak.h"

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef double (*peak_loop_fn)(int64_t iters, float *sink);

static volatile float g_sink;

static double measure_peak(peak_loop_fn loop)
{
    const double target = 0.2; /* seconds per timed run */
    float sink = 0.0f;
    int64_t iters = 1 << 16;
    /* Calibrate: grow until a run takes at least 20 ms, then scale. */
    for (;;) {
        double t0 = now_seconds();
        loop(iters, &sink);
        double t = now_seconds() - t0;
        if (t >= 0.02) {
            iters = (int64_t)((double)iters * target / t) + 1;
            break;
        }
        iters *= 4;
    }
    double best = 0.0;
    for (int rep = 0; rep < 3; rep++) {
        double t0 = now_seconds();
        double flops = loop(iters, &sink);
        double t = now_seconds() - t0;
        double gflops = flops / t * 1e-9;
        if (gflops > best)
            best = gflops;
    }
    g_sink = sink;
    return best;
}

static double measure_copy_gbps(void)
{
    const size_t n = (size_t)128 << 20 >> 2; /* 128 MiB of floats per array */
    float *a = malloc(n * sizeof *a);
    float *b = malloc(n * sizeof *b);
    if (a == NULL || b == NULL) {
        free(a);
        free(b);
        fprintf(stderr, "machine: no memory for the bandwidth test\n");
        return 0.0;
    }
    for (size_t i = 0; i < n; i++)
        a[i] = (float)(i & 1023);
    memset(b, 0, n * sizeof *b); /* fault the pages in before timing */
    double best = 0.0;
    for (int rep = 0; rep < 3; rep++) {
        double t0 = now_seconds();
        for (size_t i = 0; i < n; i++)
            b[i] = 1.5f * a[i];
        double t = now_seconds() - t0;
        g_sink = b[(size_t)rep * 4099];
        double gbps = 2.0 * (double)(n * sizeof *a) / t * 1e-9;
        if (gbps > best)
            best = gbps;
    }
    free(a);
    free(b);
    return best;
}

void ckb_measure_machine(ckb_machine_t *m)
{
    memset(m, 0, sizeof *m);
    m->peak_gflops[CONVKIT_ISA_SCALAR] = measure_peak(ckb_peak_loop_scalar);
#if defined(__x86_64__) || defined(_M_X64)
    if (convkit_isa_supported(CONVKIT_ISA_AVX2))
        m->peak_gflops[CONVKIT_ISA_AVX2] = measure_peak(ckb_peak_loop_avx2);
    if (convkit_isa_supported(CONVKIT_ISA_AVX512))
        m->peak_gflops[CONVKIT_ISA_AVX512] = measure_peak(ckb_peak_loop_avx512);
#endif
    m->copy_gbps = measure_copy_gbps();
}
