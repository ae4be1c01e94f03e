/*
 * report.c - the tables and the JSON summary.
 *
 * Every result of the shim is named "<suite>/<problem>/<peer>" (suites.h);
 * the suite ends at the first '/', the peer starts after the last one, and
 * the problem (which may itself contain '/') is what lies between.  For each
 * (suite, problem) the repetitions of each peer are reduced to their median;
 * a peer with any errored repetition counts as errored and is left out of
 * the ratios (its message is listed under the table and in the JSON's
 * "errors").  A ratio "x peer" is peer median / convkit median.
 */
#define _POSIX_C_SOURCE 200809L

#include "report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "convkit.h"
#include "shim.h"

typedef struct peer_data {
    char *name;
    double *secs; /* non-errored repetitions */
    int n, cap;
    int runs; /* all repetitions, errored or not */
    char *error; /* first error message, or NULL */
} peer_data_t;

typedef struct problem {
    char *suite, *problem, *shape;
    double flops, bytes;
    unsigned isa;
    peer_data_t *peers;
    int npeers;
} problem_t;

static problem_t *g_problems;
static int g_nproblems, g_capproblems;

static char *dup_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d == NULL) {
        fprintf(stderr, "report: out of memory\n");
        abort();
    }
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

static char *dup_s(const char *s) { return dup_n(s != NULL ? s : "", s != NULL ? strlen(s) : 0); }

static void *grow(void *p, int *cap, int need, size_t elem)
{
    if (need <= *cap)
        return p;
    int nc = *cap > 0 ? *cap * 2 : 16;
    while (nc < need)
        nc *= 2;
    void *q = realloc(p, (size_t)nc * elem);
    if (q == NULL) {
        fprintf(stderr, "report: out of memory\n");
        abort();
    }
    *cap = nc;
    return q;
}

static problem_t *find_problem(const char *suite, size_t suite_len, const char *prob,
                               size_t prob_len, int create)
{
    for (int i = 0; i < g_nproblems; i++) {
        problem_t *p = &g_problems[i];
        if (strlen(p->suite) == suite_len && strncmp(p->suite, suite, suite_len) == 0 &&
            strlen(p->problem) == prob_len && strncmp(p->problem, prob, prob_len) == 0)
            return p;
    }
    if (!create)
        return NULL;
    g_problems = grow(g_problems, &g_capproblems, g_nproblems + 1, sizeof *g_problems);
    problem_t *p = &g_problems[g_nproblems++];
    memset(p, 0, sizeof *p);
    p->suite = dup_n(suite, suite_len);
    p->problem = dup_n(prob, prob_len);
    p->shape = dup_s("");
    return p;
}

void ckb_report_note_case(const char *suite, const char *problem, const char *shape_text,
                          double flops, double bytes, unsigned isa)
{
    problem_t *p = find_problem(suite, strlen(suite), problem, strlen(problem), 1);
    free(p->shape);
    p->shape = dup_s(shape_text);
    p->flops = flops;
    p->bytes = bytes;
    p->isa = isa;
}

static peer_data_t *find_peer(problem_t *p, const char *name)
{
    for (int i = 0; i < p->npeers; i++)
        if (strcmp(p->peers[i].name, name) == 0)
            return &p->peers[i];
    peer_data_t *np = realloc(p->peers, (size_t)(p->npeers + 1) * sizeof *np);
    if (np == NULL) {
        fprintf(stderr, "report: out of memory\n");
        abort();
    }
    p->peers = np;
    peer_data_t *d = &p->peers[p->npeers++];
    memset(d, 0, sizeof *d);
    d->name = dup_s(name);
    return d;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y ? 1 : 0;
}

/* Median seconds of a peer, or NAN if it is absent, errored or empty. */
static double peer_median(problem_t *p, const char *name)
{
    for (int i = 0; i < p->npeers; i++) {
        peer_data_t *d = &p->peers[i];
        if (strcmp(d->name, name) != 0)
            continue;
        if (d->error != NULL || d->n == 0)
            return NAN;
        qsort(d->secs, (size_t)d->n, sizeof *d->secs, cmp_double);
        return d->n % 2 ? d->secs[d->n / 2] : 0.5 * (d->secs[d->n / 2 - 1] + d->secs[d->n / 2]);
    }
    return NAN;
}

static int collect(void)
{
    int reps = 0;
    for (int i = 0; i < ckb_result_count(); i++) {
        const ckb_result_t *r = ckb_result_at(i);
        const char *first = strchr(r->name, '/');
        const char *last = strrchr(r->name, '/');
        if (first == NULL || last == first)
            continue; /* not "<suite>/<problem>/<peer>" */
        problem_t *p = find_problem(r->name, (size_t)(first - r->name), first + 1,
                                    (size_t)(last - first - 1), 1);
        peer_data_t *d = find_peer(p, last + 1);
        d->runs++;
        if (d->runs > reps)
            reps = d->runs;
        if (r->error || !(r->seconds_per_iter > 0)) {
            if (d->error == NULL)
                d->error = dup_s(r->error ? r->error_message : "no time measured");
            continue;
        }
        d->secs = grow(d->secs, &d->cap, d->n + 1, sizeof *d->secs);
        d->secs[d->n++] = r->seconds_per_iter;
    }
    return reps;
}

static const ckb_suite_t *suite_info(const char *name)
{
    for (int i = 0; ckb_suites[i] != NULL; i++)
        if (strcmp(ckb_suites[i]->name, name) == 0)
            return ckb_suites[i];
    return NULL;
}

static bool suite_is_compute(const char *name)
{
    const ckb_suite_t *s = suite_info(name);
    if (s != NULL)
        return s->is_compute;
    return strncmp(name, "conv", 4) == 0;
}

/* Throughput (GFLOP/s or GB/s) and fraction of the machine's limit. */
static void throughput(const problem_t *p, double sec, const ckb_machine_t *m, double *gflops,
                       double *gbps, double *fraction)
{
    *gflops = p->flops > 0 && sec > 0 ? p->flops / sec * 1e-9 : NAN;
    *gbps = p->bytes > 0 && sec > 0 ? p->bytes / sec * 1e-9 : NAN;
    *fraction = NAN;
    if (suite_is_compute(p->suite)) {
        double peak = p->isa < 5 ? m->peak_gflops[p->isa] : 0.0;
        if (peak > 0 && isfinite(*gflops))
            *fraction = *gflops / peak;
    } else if (m->copy_gbps > 0 && isfinite(*gbps)) {
        *fraction = *gbps / m->copy_gbps;
    }
}

/* ---- text tables ------------------------------------------------------- */

/* What a column shows of a problem: text, or a number from the median of
 * `peer` - its time, its throughput, its fraction of the machine's limit -
 * or the ratio of the medians peer / base. */
typedef enum col_kind { KIND_TEXT, KIND_TIME, KIND_RATE, KIND_FRACTION, KIND_RATIO } col_kind_t;

typedef struct col_def {
    const char *header;     /* in the compute suites */
    const char *header_mem; /* in the memory-bound ones (NULL: the same) */
    col_kind_t kind;
    const char *peer;
    const char *base;    /* KIND_RATIO: the denominator */
    const char *show_if; /* shown only in suites where this peer ran (NULL: always) */
    const char *json;    /* KIND_RATIO with base != convkit: its key in the JSON "ratios" */
} col_def_t;

/* The first two columns are the text ones. */
enum { COL_LAYER, COL_SHAPE };
static const col_def_t cols[] = {
    {"layer", NULL, KIND_TEXT, NULL, NULL, NULL, NULL},
    {"shape", NULL, KIND_TEXT, NULL, NULL, NULL, NULL},
    {"convkit ms", NULL, KIND_TIME, CKB_PEER_CONVKIT, NULL, NULL, NULL},
    {"GFLOP/s", "GB/s", KIND_RATE, CKB_PEER_CONVKIT, NULL, NULL, NULL},
    {"% peak", "% copy bw", KIND_FRACTION, CKB_PEER_CONVKIT, NULL, NULL, NULL},
    {"x oneDNN", NULL, KIND_RATIO, CKB_PEER_ONEDNN_ANY, CKB_PEER_CONVKIT, NULL, NULL},
    /* in the conv suites always (print_suite), elsewhere where it ran */
    {"x oneDNN NCHW", NULL, KIND_RATIO, CKB_PEER_ONEDNN_NCHW, CKB_PEER_CONVKIT,
     CKB_PEER_ONEDNN_NCHW, NULL},
    {"x scalar", NULL, KIND_RATIO, CKB_PEER_SCALAR, CKB_PEER_CONVKIT, NULL, NULL},
    {"x PyTorch", NULL, KIND_RATIO, CKB_PEER_TORCH, CKB_PEER_CONVKIT, CKB_PEER_TORCH, NULL},
    {"x PyTorch NHWC", NULL, KIND_RATIO, CKB_PEER_TORCH_NHWC, CKB_PEER_CONVKIT,
     CKB_PEER_TORCH_NHWC, NULL},
    {"x convkit NHWC", NULL, KIND_RATIO, CKB_PEER_CONVKIT_NHWC, CKB_PEER_CONVKIT,
     CKB_PEER_CONVKIT_NHWC, NULL},
    /* convkit on its channel-blocked layout, against oneDNN on its own */
    {"blocked ms", NULL, KIND_TIME, CKB_PEER_CONVKIT_BLOCKED, NULL, CKB_PEER_CONVKIT_BLOCKED,
     NULL},
    {"blocked GFLOP/s", "blocked GB/s", KIND_RATE, CKB_PEER_CONVKIT_BLOCKED, NULL,
     CKB_PEER_CONVKIT_BLOCKED, NULL},
    {"x oneDNN blk", NULL, KIND_RATIO, CKB_PEER_ONEDNN_ANY, CKB_PEER_CONVKIT_BLOCKED,
     CKB_PEER_CONVKIT_BLOCKED, "onednn_any_vs_blocked"},
};
#define NCOLS ((int)(sizeof cols / sizeof cols[0]))

/* convkit's own configurations that peers are measured against (a ratio's
 * denominator): not themselves divided by convkit's time in the JSON. */
static bool is_subject(const char *peer)
{
    for (int c = 0; c < NCOLS; c++)
        if (cols[c].base != NULL && strcmp(cols[c].base, peer) == 0)
            return true;
    return false;
}

typedef struct table {
    char *(*cells)[NCOLS];
    int rows, cap;
} table_t;

/* kind 0: milliseconds; 1: a rate or percentage; 2: a ratio.  About three
 * significant digits, never a misleading 0.00. */
static char *fmt_num(double v, int kind)
{
    char buf[48];
    if (!isfinite(v))
        return dup_s("-");
    if (v >= 1000)
        snprintf(buf, sizeof buf, "%.0f", v);
    else if (v >= 100)
        snprintf(buf, sizeof buf, kind == 0 ? "%.1f" : "%.0f", v);
    else if (v >= 10)
        snprintf(buf, sizeof buf, kind == 0 ? "%.2f" : "%.1f", v);
    else if (v >= 1 || (kind != 0 && v >= 0.1) || v == 0)
        snprintf(buf, sizeof buf, kind == 0 ? "%.3f" : "%.2f", v);
    else
        snprintf(buf, sizeof buf, kind == 0 ? "%.4f" : "%.2g", v);
    return dup_s(buf);
}

/* The number column c shows for problem p (NAN when a peer is missing). */
static double cell_value(problem_t *p, int c, bool compute, const ckb_machine_t *m)
{
    const col_def_t *d = &cols[c];
    if (d->kind == KIND_TEXT)
        return NAN;
    const double sec = peer_median(p, d->peer);
    double gflops, gbps, frac;
    switch (d->kind) {
    case KIND_TIME:
        return sec * 1e3;
    case KIND_RATE:
    case KIND_FRACTION:
        throughput(p, sec, m, &gflops, &gbps, &frac);
        return d->kind == KIND_FRACTION ? frac * 100 : compute ? gflops : gbps;
    case KIND_RATIO:
        return sec / peer_median(p, d->base);
    case KIND_TEXT:
        break;
    }
    return NAN;
}

static void table_add(table_t *t, char *row[NCOLS])
{
    t->cells = grow(t->cells, &t->cap, t->rows + 1, sizeof *t->cells);
    for (int c = 0; c < NCOLS; c++)
        t->cells[t->rows][c] = row[c];
    t->rows++;
}

static void table_free(table_t *t)
{
    for (int r = 0; r < t->rows; r++)
        for (int c = 0; c < NCOLS; c++)
            free(t->cells[r][c]);
    free(t->cells);
    t->cells = NULL;
    t->rows = t->cap = 0;
}

/* Row 0 is the header, underlined; text columns left-aligned, numbers right. */
static void table_print(FILE *out, const table_t *t, const bool show[NCOLS])
{
    int w[NCOLS] = {0};
    int total = 0;
    for (int c = 0; c < NCOLS; c++) {
        if (!show[c])
            continue;
        for (int r = 0; r < t->rows; r++)
            if ((int)strlen(t->cells[r][c]) > w[c])
                w[c] = (int)strlen(t->cells[r][c]);
        total += w[c] + (total > 0 ? 2 : 0);
    }
    for (int r = 0; r < t->rows; r++) {
        const char *sep = "";
        for (int c = 0; c < NCOLS; c++) {
            if (!show[c])
                continue;
            const bool left = cols[c].kind == KIND_TEXT;
            fprintf(out, left ? "%s%-*s" : "%s%*s", sep, w[c], t->cells[r][c]);
            sep = "  ";
        }
        fputc('\n', out);
        if (r == 0) {
            for (int i = 0; i < total; i++)
                fputc('-', out);
            fputc('\n', out);
        }
    }
}

static bool has_peer(const problem_t *p, const char *name)
{
    for (int k = 0; k < p->npeers; k++)
        if (strcmp(p->peers[k].name, name) == 0)
            return true;
    return false;
}

static void print_suite(FILE *out, const char *suite, int reps, const ckb_machine_t *m)
{
    const ckb_suite_t *info = suite_info(suite);
    const bool compute = suite_is_compute(suite);
    const bool conv = strncmp(suite, "conv", 4) == 0;
    double logsum[NCOLS] = {0};
    int logn[NCOLS] = {0};
    int problems = 0, errors = 0;
    bool seen[NCOLS] = {false}; /* a problem has the column's show_if peer */
    bool nhwc = false, blocked = false;
    bool avx512 = false; /* a problem's plan runs AVX-512 (the blocked format) */

    table_t t = {0};
    char *row[NCOLS];
    for (int c = 0; c < NCOLS; c++)
        row[c] = dup_s(!compute && cols[c].header_mem != NULL ? cols[c].header_mem
                                                              : cols[c].header);
    table_add(&t, row);
    for (int i = 0; i < g_nproblems; i++) {
        problem_t *p = &g_problems[i];
        if (strcmp(p->suite, suite) != 0 || p->npeers == 0)
            continue;
        problems++;
        avx512 = avx512 || p->isa == CONVKIT_ISA_AVX512;
        nhwc = nhwc || has_peer(p, CKB_PEER_CONVKIT_NHWC);
        blocked = blocked || has_peer(p, CKB_PEER_CONVKIT_BLOCKED);
        row[COL_LAYER] = dup_s(p->problem);
        row[COL_SHAPE] = dup_s(p->shape);
        for (int c = COL_SHAPE + 1; c < NCOLS; c++) {
            const double v = cell_value(p, c, compute, m);
            row[c] = fmt_num(v, cols[c].kind == KIND_TIME ? 0 : cols[c].kind == KIND_RATIO ? 2 : 1);
            if (cols[c].kind == KIND_RATIO && isfinite(v) && v > 0) {
                logsum[c] += log(v);
                logn[c]++;
            }
            seen[c] = seen[c] || (cols[c].show_if != NULL && has_peer(p, cols[c].show_if));
        }
        table_add(&t, row);
        for (int k = 0; k < p->npeers; k++)
            errors += p->peers[k].error != NULL;
    }
    if (problems == 0) {
        table_free(&t);
        return;
    }
    for (int c = 0; c < NCOLS; c++) {
        const double geo = logn[c] > 0 ? exp(logsum[c] / logn[c]) : NAN;
        row[c] = c == COL_LAYER                ? dup_s("geomean")
                 : cols[c].kind == KIND_RATIO ? fmt_num(geo, 2)
                                              : dup_s("");
    }
    table_add(&t, row);

    fprintf(out, "\n%s", suite);
    if (info != NULL && info->description != NULL)
        fprintf(out, " - %s", info->description);
    fprintf(out, "\n(%d problem%s; medians of %d repetition%s; x peer = peer time / convkit "
                 "time, above 1 = convkit faster)\n",
            problems, problems == 1 ? "" : "s", reps, reps == 1 ? "" : "s");
    bool show[NCOLS];
    for (int c = 0; c < NCOLS; c++)
        show[c] = cols[c].show_if == NULL || seen[c];
    for (int c = 0; c < NCOLS; c++) /* x oneDNN NCHW: in every conv suite */
        show[c] = show[c] || (conv && cols[c].kind == KIND_RATIO &&
                              strcmp(cols[c].peer, CKB_PEER_ONEDNN_NCHW) == 0);
    if (nhwc)
        fprintf(out, "(x convkit NHWC = convkit NHWC time / convkit NCHW time: at most 1 when NHWC "
                     "is as fast; x PyTorch NHWC = PyTorch channels-last time / convkit NCHW "
                     "time)\n");
    if (blocked)
        fprintf(out, "(blocked = convkit on %s src/dst, weights packed at setup; a first "
                     "layer's src (C_in < 8) NCHW; NCHW for grouped layers other than depthwise "
                     "with multiplier 1.\n x oneDNN blk = oneDNN time (its preferred layouts) / "
                     "blocked time)\n",
                avx512 ? "nChw16c" : "nChw8c");
    table_print(out, &t, show);
    table_free(&t);
    if (errors > 0) {
        fprintf(out, "errors:\n");
        for (int i = 0; i < g_nproblems; i++) {
            problem_t *p = &g_problems[i];
            if (strcmp(p->suite, suite) != 0)
                continue;
            for (int k = 0; k < p->npeers; k++)
                if (p->peers[k].error != NULL) {
                    fprintf(out, "  %s [%s]: ", p->problem, p->peers[k].name);
                    for (const char *c = p->peers[k].error; *c != '\0'; c++)
                        fputc(*c == '\n' || *c == '\r' ? ' ' : *c, out); /* one line each */
                    fputc('\n', out);
                }
        }
    }
}

/* ---- JSON ---------------------------------------------------------------- */

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        switch (*p) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\t': fputs("\\t", f); break;
        case '\r': fputs("\\r", f); break;
        default:
            if (*p < 0x20)
                fprintf(f, "\\u%04x", *p);
            else
                fputc(*p, f);
        }
    }
    fputc('"', f);
}

static void json_num(FILE *f, double v)
{
    if (isfinite(v))
        fprintf(f, "%.9g", v);
    else
        fputs("null", f);
}

static int write_json(const char *path, int reps, const ckb_machine_t *m)
{
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        perror(path);
        return -1;
    }
    const char *isa = convkit_isa_name(convkit_get_max_isa());
    fprintf(f, "{\"schema\": 1, \"convkit_version\": ");
    json_str(f, convkit_version());
    fprintf(f, ", \"isa\": ");
    json_str(f, isa != NULL ? isa : "unknown");
    fprintf(f, ", \"threads\": %d, \"repetitions\": %d,\n", convkit_get_num_threads(), reps);
    fprintf(f, " \"machine\": {\"peak_gflops\": {");
    int first = 1;
    for (unsigned i = 0; i < 5; i++) {
        if (!(m->peak_gflops[i] > 0) || convkit_isa_name(i) == NULL)
            continue;
        fprintf(f, "%s", first ? "" : ", ");
        json_str(f, convkit_isa_name(i));
        fprintf(f, ": ");
        json_num(f, m->peak_gflops[i]);
        first = 0;
    }
    fprintf(f, "}, \"copy_gbps\": ");
    json_num(f, m->copy_gbps);
    fprintf(f, "},\n \"cases\": [");
    first = 1;
    for (int i = 0; i < g_nproblems; i++) {
        problem_t *p = &g_problems[i];
        double sec = peer_median(p, CKB_PEER_CONVKIT);
        if (!isfinite(sec))
            continue; /* absent or errored: listed under "errors" */
        double gflops, gbps, frac;
        throughput(p, sec, m, &gflops, &gbps, &frac);
        fprintf(f, "%s\n  {\"suite\": ", first ? "" : ",");
        first = 0;
        json_str(f, p->suite);
        fprintf(f, ", \"problem\": ");
        json_str(f, p->problem);
        fprintf(f, ", \"shape\": ");
        json_str(f, p->shape);
        fprintf(f, ", \"convkit_seconds\": ");
        json_num(f, sec);
        fprintf(f, ", \"gflops\": ");
        json_num(f, gflops);
        fprintf(f, ", \"gbps\": ");
        json_num(f, gbps);
        fprintf(f, ", \"peak_fraction\": ");
        json_num(f, frac);
        for (int pass = 0; pass < 2; pass++) {
            fprintf(f, pass == 0 ? ",\n   \"peer_seconds\": {" : ", \"ratios\": {");
            int pf = 1;
            for (int k = 0; k < p->npeers; k++) {
                const char *name = p->peers[k].name;
                if (strcmp(name, CKB_PEER_CONVKIT) == 0 || (pass == 1 && is_subject(name)))
                    continue;
                double ps = peer_median(p, name);
                if (!isfinite(ps))
                    continue;
                fprintf(f, "%s", pf ? "" : ", ");
                json_str(f, name);
                fprintf(f, ": ");
                json_num(f, pass == 0 ? ps : ps / sec);
                pf = 0;
            }
            /* the ratios against another subject, under their own key */
            for (int c = 0; pass == 1 && c < NCOLS; c++) {
                double r = cols[c].json != NULL ? cell_value(p, c, true, m) : NAN;
                if (!isfinite(r))
                    continue;
                fprintf(f, "%s", pf ? "" : ", ");
                json_str(f, cols[c].json);
                fprintf(f, ": ");
                json_num(f, r);
                pf = 0;
            }
            fprintf(f, "}");
        }
        fprintf(f, "}");
    }
    fprintf(f, "\n ],\n \"errors\": [");
    first = 1;
    for (int i = 0; i < g_nproblems; i++) {
        problem_t *p = &g_problems[i];
        for (int k = 0; k < p->npeers; k++) {
            if (p->peers[k].error == NULL)
                continue;
            fprintf(f, "%s\n  {\"suite\": ", first ? "" : ",");
            first = 0;
            json_str(f, p->suite);
            fprintf(f, ", \"problem\": ");
            json_str(f, p->problem);
            fprintf(f, ", \"peer\": ");
            json_str(f, p->peers[k].name);
            fprintf(f, ", \"message\": ");
            json_str(f, p->peers[k].error);
            fprintf(f, "}");
        }
    }
    fprintf(f, "%s]}\n", first ? "" : "\n ");
    if (fclose(f) != 0) {
        perror(path);
        return -1;
    }
    return 0;
}

int ckb_report(FILE *out, const char *json_path, const ckb_machine_t *m)
{
    int reps = collect();

    /* Suites in table order, then any others in order of appearance. */
    for (int i = 0; ckb_suites[i] != NULL; i++)
        print_suite(out, ckb_suites[i]->name, reps, m);
    for (int i = 0; i < g_nproblems; i++) {
        const char *s = g_problems[i].suite;
        if (suite_info(s) != NULL)
            continue;
        int seen = 0;
        for (int j = 0; j < i; j++)
            seen |= strcmp(g_problems[j].suite, s) == 0;
        if (!seen)
            print_suite(out, s, reps, m);
    }
    fflush(out);
    if (json_path != NULL && write_json(json_path, reps, m) != 0)
        return -1;
    return 0;
}
