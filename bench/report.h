/*
 * report.h - turns the collected results into one table per suite (layer,
 * shape, convkit time, GFLOP/s or GB/s, % of peak, x oneDNN, x oneDNN NCHW,
 * x scalar, x PyTorch, and in the pool suites x PyTorch NHWC and x convkit
 * NHWC; in the conv forward suites blocked ms, blocked GFLOP/s and x oneDNN
 * blk for convkit on its channel-blocked layout; a column shows only where
 * its peer ran) and a JSON summary of medians and ratios that the
 * regression checker reads.  A ratio "x peer" is peer_time / convkit_time
 * of the medians over the repetitions: above 1 means convkit is faster.
 * "x oneDNN blk" is onednn_any time / convkit_blocked time: oneDNN on the
 * layouts it prefers against convkit on the one it prefers (the "x oneDNN"
 * and "x oneDNN NCHW" columns stay against convkit on NCHW).
 */
#ifndef CONVKIT_BENCH_REPORT_H
#define CONVKIT_BENCH_REPORT_H

#include <stdio.h>

#include "machine.h"
#include "suites.h"

/* Per-case metadata the suites record at registration (for the table). */
void ckb_report_note_case(const char *suite, const char *problem, const char *shape_text,
                          double flops, double bytes, unsigned isa);

/* Prints the tables to `out` and writes the JSON summary to `json_path`
 * (if not NULL).  Returns 0 on success.  The summary:
 *   {"schema": 1, "convkit_version", "isa" (the cap), "threads", "repetitions",
 *    "machine": {"peak_gflops": {"<isa>": GFLOP/s, ...}, "copy_gbps"},
 *    "cases": [{"suite", "problem", "shape", "convkit_seconds", "gflops"|null,
 *               "gbps"|null, "peak_fraction"|null,
 *               "peer_seconds": {"<peer>": s}, "ratios": {"<peer>": peer s / convkit s}}],
 *    "errors": [{"suite", "problem", "peer", "message"}]}
 * Times are medians over the repetitions.  convkit_blocked (conv forward)
 * has its time in "peer_seconds" but no "ratios" entry of its own (blocked
 * s / convkit s would fall as the blocked engine gets faster, the opposite
 * of every other ratio); instead "ratios" holds "onednn_any_vs_blocked" =
 * onednn_any s / convkit_blocked s (above 1: convkit blocked faster).  A case whose convkit run is
 * absent or errored is not in "cases"; an absent or errored peer is not in
 * its case's "peer_seconds"/"ratios"; every errored run is in "errors". */
int ckb_report(FILE *out, const char *json_path, const ckb_machine_t *m);

#endif /* CONVKIT_BENCH_REPORT_H */
