/*
 * shim.h - a small C interface to Google Benchmark (implemented in
 * shim.cc), so every benchmark in convkit is written in C.
 *
 * Register cases, then ckb_run() runs them with the usual --benchmark_*
 * flags (filter, repetitions, random interleaving, JSON out, ...) and keeps
 * every per-repetition result for the report.
 */
#ifndef CONVKIT_BENCH_SHIM_H
#define CONVKIT_BENCH_SHIM_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ckb_state ckb_state_t; /* wraps benchmark::State */
typedef void (*ckb_fn)(ckb_state_t *state, void *user);

typedef struct ckb_case {
    const char *name; /* unique; copied */
    ckb_fn fn;
    void *user;       /* passed to fn; owned by the caller, alive until ckb_run returns */
    double flops;     /* per iteration (0: not a compute case) -> "FLOPS" rate counter */
    double bytes;     /* bytes read + written per iteration -> "BYTES" rate counter */
    double min_time;  /* seconds per repetition; 0 = Google Benchmark's default */
    int64_t iterations; /* fixed iteration count; 0 = chosen by Google Benchmark */
} ckb_case_t;

void ckb_register(const ckb_case_t *c);

/* The timing loop: `while (ckb_keep_running(s)) { ...work... }`. */
bool ckb_keep_running(ckb_state_t *s);
void ckb_pause_timing(ckb_state_t *s);
void ckb_resume_timing(ckb_state_t *s);
/* Marks the case failed with a message (e.g. a peer refused the shape);
 * the function must then return without calling ckb_keep_running. */
void ckb_skip_with_error(ckb_state_t *s, const char *message);
/* An extra user counter reported with the run. */
void ckb_set_counter(ckb_state_t *s, const char *name, double value);

/* Parses and removes the --benchmark_* flags from argv, runs every
 * registered case (console output as usual, JSON through
 * --benchmark_out=FILE), and keeps the results.  Returns 0 on success;
 * non-zero, without running anything, if a --benchmark_* flag is left that
 * Google Benchmark did not recognise.  Other arguments stay in argv. */
int ckb_run(int *argc, char **argv);

/* One measured repetition of one case (aggregates are not kept). */
typedef struct ckb_result {
    const char *name;       /* the case name as registered */
    int repetition;         /* 0-based */
    double seconds_per_iter; /* wall-clock (real) time */
    int64_t iterations;
    bool error;
    const char *error_message;
} ckb_result_t;

int ckb_result_count(void);
const ckb_result_t *ckb_result_at(int i);

#ifdef __cplusplus
}
#endif

#endif /* CONVKIT_BENCH_SHIM_H */
