/*
 * machine.h - this machine's measured limits, taken at start-up so every
 * figure can be quoted as a fraction of them: single-core fp32 FMA peak per
 * ISA (an FMA loop with many independent accumulators, one per ISA in its
 * own file compiled with that ISA's flags) and single-core streaming
 * bandwidth (bytes read + written by a large copy-scale loop).
 */
#ifndef CONVKIT_BENCH_MACHINE_H
#define CONVKIT_BENCH_MACHINE_H

#include <stdint.h>

typedef struct ckb_machine {
    double peak_gflops[5]; /* indexed by CONVKIT_ISA_*; 0 where not supported */
    double copy_gbps;      /* streaming read + write, one thread */
} ckb_machine_t;

/* Measures (about a second in all) and returns the figures. */
void ckb_measure_machine(ckb_machine_t *m);

#endif /* CONVKIT_BENCH_MACHINE_H */
