/*
 * suites.h - the benchmark suites and the options they share.  Each suite
 * registers, for every problem, one case per implementation ("peer"):
 *   convkit      convkit at the process ISA cap (the subject)
 *   onednn_any   oneDNN with the layouts it prefers (conv), or its pooling,
 *                or its dnnl_sgemm (gemm_ukernel)
 *   onednn_nchw  oneDNN on plain NCHW tensors (conv only)
 *   scalar       convkit's own scalar reference (params.isa = SCALAR): the floor
 *                (gemm_ukernel: the scalar 4x8 GEMM kernel)
 *   torch        PyTorch 1.13 (libtorch's ATen, in process) on NCHW tensors
 *                (every suite but gemm_ukernel; peer-torch.h)
 *   torch_nhwc   PyTorch on channels-last tensors (pool suites)
 *   convkit_nhwc convkit at the ISA cap on NHWC tensors (pool suites): its
 *                ratio says how NHWC compares with NCHW
 *   convkit_blocked  convkit at the ISA cap on its channel-blocked layout
 *                (nChw16c / nChw8c) with weights packed at setup (conv forward
 *                suites; suite-conv.c): compared with onednn_any, not with
 *                convkit (report.h)
 * Case names are "<suite>/<problem>/<peer>", e.g.
 *   "conv_fwd/resnet_50:res2a_branch2b/mb1/onednn_nchw"
 * so the report can pair every peer with the convkit case of the same
 * problem.
 */
#ifndef CONVKIT_BENCH_SUITES_H
#define CONVKIT_BENCH_SUITES_H

#include <stdbool.h>
#include <stdint.h>

#include "shapes.h"

#define CKB_PEER_CONVKIT "convkit"
#define CKB_PEER_ONEDNN_ANY "onednn_any"
#define CKB_PEER_ONEDNN_NCHW "onednn_nchw"
#define CKB_PEER_SCALAR "scalar"
#define CKB_PEER_TORCH "torch"
#define CKB_PEER_TORCH_NHWC "torch_nhwc"
#define CKB_PEER_CONVKIT_NHWC "convkit_nhwc"
#define CKB_PEER_CONVKIT_BLOCKED "convkit_blocked"

typedef struct ckb_options {
    const char *shapes_dir; /* benchdnn folder, or NULL: built-in ResNet-50 lists */
    int64_t minibatches[4]; /* e.g. {1, 8}; 0 ends the list */
    int max_cases;          /* per suite and shape file, 0 = all (the smoke run uses a few) */
    double min_time;        /* per repetition, seconds (0 = default) */
    bool with_onednn;       /* oneDNN peers registered (false if built without it) */
    bool with_scalar;       /* the scalar-reference floor registered */
    bool with_torch;        /* PyTorch peers registered (false if built without libtorch) */
} ckb_options_t;

typedef struct ckb_suite {
    const char *name;        /* "conv_fwd", "conv_bwd_data", "conv_bwd_weights", "pool_fwd",
                                "pool_bwd", "unfold", "fold", "pad", "gemm_ukernel" */
    const char *description; /* one line for --list */
    bool is_compute;         /* GFLOP/s and % of FMA peak (else GB/s, % of copy bandwidth) */
    bool in_default;         /* run by the main-job command */
    /* Registers the suite's cases; returns the number registered, or -1
     * with a message on stderr (e.g. a shape file that does not parse). */
    int (*register_cases)(const ckb_options_t *opts);
} ckb_suite_t;

/* All suites, in table order; NULL-terminated. */
extern const ckb_suite_t *const ckb_suites[];

/* The suite of convkit's GEMM internals (suite-gemm.c; the other suites
 * are declared in suite-common.h). */
extern const ckb_suite_t ckb_suite_gemm_ukernel;

/* Whether this binary was built with oneDNN (Debian's libdnnl-dev). */
bool ckb_have_onednn(void);

/* Whether this binary was built with libtorch (Debian's libtorch-dev). */
bool ckb_have_torch(void);

#endif /* CONVKIT_BENCH_SUITES_H */
