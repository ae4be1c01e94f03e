/*
 * peak-scalar.c - the scalar fp32 peak: 12 independent chains of
 * acc = acc * m + c.  Compiled with the baseline flags and without
 * auto-vectorisation (bench/CMakeLists.txt), this is what convkit's scalar
 * reference kernels can reach: on baseline x86-64 (no FMA in the ISA, and
 * ISO C mode does not contract) a mulss and an addss per multiply-add, on
 * aarch64 an fmadd.  fmaf() is not used: without -mfma it is a libm call,
 * which measures the call, not the core.
 */
#include "peak.h"

double ckb_peak_loop_scalar(int64_t iters, float *sink)
{
    const volatile float mv = 0.999f, cv = 0.001f;
    const float m = mv, c = cv;
    float a0 = 0.10f, a1 = 0.11f, a2 = 0.12f, a3 = 0.13f, a4 = 0.14f, a5 = 0.15f;
    float a6 = 0.16f, a7 = 0.17f, a8 = 0.18f, a9 = 0.19f, a10 = 0.20f, a11 = 0.21f;
    for (int64_t i = 0; i < iters; i++) {
        a0 = a0 * m + c;
        a1 = a1 * m + c;
        a2 = a2 * m + c;
        a3 = a3 * m + c;
        a4 = a4 * m + c;
        a5 = a5 * m + c;
        a6 = a6 * m + c;
        a7 = a7 * m + c;
        a8 = a8 * m + c;
        a9 = a9 * m + c;
        a10 = a10 * m + c;
        a11 = a11 * m + c;
    }
    *sink = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11;
    return 2.0 * CKB_PEAK_CHAINS * (double)iters;
}
