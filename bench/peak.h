/*
 * peak.h - the fp32 multiply-add loops machine.c times, one file per ISA,
 * each compiled with that ISA's flags (peak-avx2.c: -mavx2 -mfma,
 * peak-avx512.c: -mavx512f; peak-scalar.c: baseline flags, no
 * auto-vectorisation).  Each runs `iters` iterations of CKB_PEAK_CHAINS
 * independent multiply-add chains (each started from a different value so
 * the compiler cannot merge them), stores a value depending on every chain
 * in *sink, and returns the floating-point operations done
 * (2 * lanes * chains * iters).  Call a SIMD loop only when
 * convkit_isa_supported() says its ISA runs here.
 */
#ifndef CONVKIT_BENCH_PEAK_H
#define CONVKIT_BENCH_PEAK_H

#include <stdint.h>

#define CKB_PEAK_CHAINS 12

double ckb_peak_loop_scalar(int64_t iters, float *sink);
#if defined(__x86_64__) || defined(_M_X64)
double ckb_peak_loop_avx2(int64_t iters, float *sink);
double ckb_peak_loop_avx512(int64_t iters, float *sink);
#endif

#endif /* CONVKIT_BENCH_PEAK_H */
