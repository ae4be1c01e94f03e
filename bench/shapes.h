/*
 * shapes.h - problem shapes for the benchmark suites, read at run time from
 * benchdnn-format files (syntax: shared/shapes/benchdnn/README.md), with a
 * small built-in list of ResNet-50 layers when no shape folder exists.
 */
#ifndef CONVKIT_BENCH_SHAPES_H
#define CONVKIT_BENCH_SHAPES_H

#include <stdbool.h>
#include <stdint.h>

/* One 2-D (or 1-D: ih = kh = 1) conv or pool problem, in PyTorch terms:
 * dilation is 1-based here (benchdnn's dh + 1) and bottom/right padding is
 * the implied one (may differ from top/left). */
typedef struct ckb_shape {
    char name[96]; /* e.g. "resnet_50:res2a_branch2b*3" (the n"..." text) */
    int64_t mb, g, ic, oc; /* oc = ic for pool shapes */
    int64_t ih, iw, oh, ow, kh, kw, sh, sw;
    int64_t pt, pb, pl, pr; /* top, bottom, left, right padding */
    int64_t dh, dw;         /* 1-based dilation */
} ckb_shape_t;

typedef struct ckb_shape_list {
    ckb_shape_t *items;
    int count;
} ckb_shape_list_t;

/* Parses one benchdnn shape file (conv or pool keys; 3-D lines are
 * skipped).  `mb_override` > 0 replaces every line's minibatch.  Returns 0
 * on success, -1 with a message on stderr if the file cannot be read or a
 * line cannot be parsed.  Appends to *list. */
int ckb_shapes_read(const char *path, bool is_pool, int64_t mb_override, ckb_shape_list_t *list);

/* Parses one descriptor line (no comment, no newline). Returns 0 on success,
 * 1 for a line that is skipped (3-D, or an output size that only cropping
 * could give: benchdnn's bottom/right padding <= -stride), -1 on a syntax
 * error.  Every shape returned satisfies, per dim,
 * oh == (ih + pt + pb - ((kh - 1) * dh + 1)) / sh + 1 with all pads >= 0. */
int ckb_shape_parse(const char *line, bool is_pool, ckb_shape_t *out);

/* The built-in ResNet-50 lists used when the shape folder is absent. */
void ckb_shapes_builtin_resnet50_conv(int64_t mb, ckb_shape_list_t *list);
void ckb_shapes_builtin_resnet50_pool(int64_t mb, ckb_shape_list_t *list);

void ckb_shapes_free(ckb_shape_list_t *list);

#endif /* CONVKIT_BENCH_SHAPES_H */
