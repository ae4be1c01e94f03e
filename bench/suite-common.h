/*
 * suite-common.h - private helpers shared by the suite-*.c files
 * (implemented in suites.c): lazily set-up case resources kept within a
 * memory budget, buffers of random data, shape loading and naming.
 */
#ifndef CONVKIT_BENCH_SUITE_COMMON_H
#define CONVKIT_BENCH_SUITE_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <convkit.h>

#include "shapes.h"
#include "shim.h"
#include "suites.h"

/* The suites, defined in suite-conv.c, suite-pool.c and suite-memory.c. */
extern const ckb_suite_t ckb_suite_conv_fwd;
extern const ckb_suite_t ckb_suite_conv_fwd_mobilenet;
extern const ckb_suite_t ckb_suite_conv_fwd_dilated;
extern const ckb_suite_t ckb_suite_conv_bwd_data;
extern const ckb_suite_t ckb_suite_conv_bwd_weights;
extern const ckb_suite_t ckb_suite_pool_fwd;
extern const ckb_suite_t ckb_suite_pool_bwd;
extern const ckb_suite_t ckb_suite_unfold;
extern const ckb_suite_t ckb_suite_fold;
extern const ckb_suite_t ckb_suite_pad;

/* ---- case resources ------------------------------------------------------------ */

/* The head of every case's user data.  Buffers, plans and peer objects are
 * made by setup on the case's first run (never inside the timed loop) and
 * kept for later runs; when the cases in memory would exceed a budget, the
 * least recently run ones are torn down first.  Everything is freed at
 * process exit. */
typedef struct ckb_item ckb_item_t;
struct ckb_item {
    /* Returns 0, or -1 with a message in err (the case is then skipped with
     * that message).  teardown must accept a partial setup. */
    int (*setup)(ckb_item_t *it, char *err, size_t err_size);
    void (*teardown)(ckb_item_t *it);
    void (*destroy)(ckb_item_t *it); /* frees what registration made, and it */
    /* One timed execution: 0, or -1 with a message in error[]. */
    int (*run)(ckb_item_t *it);
    size_t bytes;                    /* what setup allocates, about */
    bool failed;                     /* error[] says why; every run skips */
    char error[320];                 /* kept here: the shim may keep the pointer */
    /* bookkeeping */
    bool ready;
    uint64_t last_use;
    ckb_item_t *next;
};

/* Takes ownership of `it` (destroyed at exit). */
void ckb_item_add(ckb_item_t *it);

/* Marks a case failed at registration; its runs skip with this message. */
void ckb_item_fail(ckb_item_t *it, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Before the timing loop: sets the case up if needed.  Returns false after
 * calling ckb_skip_with_error (the case function must then return). */
bool ckb_item_acquire(ckb_state_t *s, ckb_item_t *it);

/* The case function every suite registers (user = the ckb_item_t): sets
 * the item up, then calls it->run once per timed iteration, stopping with
 * its message on the first failure. */
void ckb_item_case_fn(ckb_state_t *s, void *user);

/* it->run's convkit epilogue: 0 on success, else -1 with the status name
 * and convkit_last_error() in it->error. */
int ckb_item_convkit_status(ckb_item_t *it, convkit_status_t status);

/* ---- buffers --------------------------------------------------------------------- */

/* 64-byte aligned buffers (free with free()); NULL when n is absurd or the
 * allocation fails.  ckb_random_floats fills with values in [-1, 1). */
float *ckb_random_floats(int64_t n, uint32_t seed);
float *ckb_zero_floats(int64_t n);
int64_t *ckb_zero_i64(int64_t n);

/* ---- shapes and names --------------------------------------------------------- */

/* Reads `files` (relative to opts->shapes_dir, NULL-terminated), keeping the
 * first opts->max_cases shapes of each file when max_cases > 0.  With
 * shapes_dir NULL, `builtin` (if not NULL) provides the list instead and
 * `files` is ignored.  Returns 0, or -1 with a message on stderr. */
int ckb_load_shapes(const ckb_options_t *opts, const char *const files[], bool is_pool,
                    void (*builtin)(int64_t mb, ckb_shape_list_t *list), ckb_shape_list_t *out);

/* "<name without a trailing *K>/mb<N>"; a shape without a name gets one
 * from its sizes. */
void ckb_problem_name(char *out, size_t n, const ckb_shape_t *s, int64_t mb);

/* Set of names already used in one suite, to keep case names unique: returns
 * 0 and records `name`, or -1 if it was there. */
typedef struct ckb_name_set {
    char **names;
    int count, cap;
} ckb_name_set_t;
int ckb_name_set_add(ckb_name_set_t *set, const char *name);
void ckb_name_set_free(ckb_name_set_t *set);

/* Fills and registers one case "<suite>/<problem>/<peer>". */
void ckb_register_case(const char *suite, const char *problem, const char *peer, ckb_fn fn,
                       ckb_item_t *user, double flops, double bytes, const ckb_options_t *opts,
                       int64_t iterations);

/* Iterations for a case expected to take `est_seconds` per run: 1 when a
 * single run already covers a good part of the minimum time, else 0 (let
 * Google Benchmark choose).  Google Benchmark would discard a first run
 * shorter than min_time and run the case again ~1.4*min_time long, which
 * for the scalar convolutions (up to seconds per run) doubles the suite's
 * time for little gain.  Used for the scalar conv floor, whose speed is
 * known; memory-bound cases keep Google Benchmark's choice, as one run of
 * a few milliseconds would be too noisy. */
int64_t ckb_slow_case_iterations(double est_seconds, const ckb_options_t *opts);

#ifdef CONVKIT_BENCH_HAVE_TORCH
#include "peer-torch.h"

/* Registers the PyTorch case "<suite>/<problem>/<peer>" for `tp` (a case
 * that reports the error when PyTorch cannot run the problem, or when
 * want_out, if not NULL, differs from the output dims PyTorch computes;
 * ckb_torch_out_dims).  Returns the number of cases registered (1), or -1
 * when out of memory. */
int ckb_register_torch_case(const char *suite, const char *problem, const char *peer,
                            const ckb_torch_problem_t *tp, const int64_t want_out[4],
                            double flops, double bytes, const ckb_options_t *opts);
#endif

/* Speed assumed for convkit's scalar conv reference (it measures 0.2-0.5
 * GFLOP/s on one core of a 2.5 GHz AVX2 machine), for
 * ckb_slow_case_iterations. */
#define CKB_SCALAR_FLOPS_ESTIMATE 0.5e9

#endif /* CONVKIT_BENCH_SUITE_COMMON_H */
