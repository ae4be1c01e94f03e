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

enum { COL_LAYER, COL_SHAPE, COL_TIME, COL_RATE, COL_PEAK, COL_ONEDNN, COL_NCHW, COL_SCALAR,
       COL_TORCH, COL_TORCH_NHWC, COL_CONVKIT_NHWC, NCOLS };
/* The ratio columns, from COL_ONEDNN on, and their peers. */
#define NRATIOS (NCOLS - COL_ONEDNN)
static const char *const ratio_peers[NRATIOS] = {CKB_PEER_ONEDNN_ANY, CKB_PEER_ONEDNN_NCHW,
                                                 CKB_PEER_SCALAR, CKB_PEER_TORCH,
                                                 CKB_PEER_TORCH_NHWC, CKB_PEER_CONVKIT_NHWC};

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
            const bool left = c == COL_LAYER || c == COL_SHAPE;
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

static void print_suite(FILE *out, const char *suite, int reps, const ckb_machine_t *m)
{
    const ckb_suite_t *info = suite_info(suite);
    const bool compute = suite_is_compute(suite);
    const bool conv = strncmp(suite, "conv", 4) == 0;
    double logsum[NRATIOS] = {0};
    int logn[NRATIOS] = {0};
    int problems = 0, errors = 0;
    bool seen[NRATIOS] = {false};

    table_t t = {0};
    char *hdr[NCOLS] = {dup_s("layer"), dup_s("shape"), dup_s("convkit ms"),
                        dup_s(compute ? "GFLOP/s" : "GB/s"),
                        dup_s(compute ? "% peak" : "% copy bw"), dup_s("x oneDNN"),
                        dup_s("x oneDNN NCHW"), dup_s("x scalar"), dup_s("x PyTorch"),
                        dup_s("x PyTorch NHWC"), dup_s("x convkit NHWC")};
    table_add(&t, hdr);
    for (int i = 0; i < g_nproblems; i++) {
        problem_t *p = &g_problems[i];
        if (strcmp(p->suite, suite) != 0 || p->npeers == 0)
            continue;
        problems++;
        double sec = peer_median(p, CKB_PEER_CONVKIT);
        double gflops, gbps, frac;
        throughput(p, sec, m, &gflops, &gbps, &frac);
        char *row[NCOLS];
        row[COL_LAYER] = dup_s(p->problem);
        row[COL_SHAPE] = dup_s(p->shape);
        row[COL_TIME] = fmt_num(sec * 1e3, 0);
        row[COL_RATE] = fmt_num(compute ? gflops : gbps, 1);
        row[COL_PEAK] = fmt_num(frac * 100, 1);
        for (int k = 0; k < NRATIOS; k++) {
            double ratio = peer_median(p, ratio_peers[k]) / sec;
            row[COL_ONEDNN + k] = fmt_num(ratio, 2);
            if (isfinite(ratio) && ratio > 0) {
                logsum[k] += log(ratio);
                logn[k]++;
            }
        }
        table_add(&t, row);
        for (int k = 0; k < p->npeers; k++) {
            errors += p->peers[k].error != NULL;
            for (int r = 0; r < NRATIOS; r++)
                seen[r] = seen[r] || strcmp(p->peers[k].name, ratio_peers[r]) == 0;
        }
    }
    if (problems == 0) {
        table_free(&t);
        return;
    }
    char *geo[NCOLS] = {dup_s("geomean"), dup_s(""), dup_s(""), dup_s(""), dup_s("")};
    for (int k = 0; k < NRATIOS; k++)
        geo[COL_ONEDNN + k] = fmt_num(logn[k] > 0 ? exp(logsum[k] / logn[k]) : NAN, 2);
    table_add(&t, geo);

    fprintf(out, "\n%s", suite);
    if (info != NULL && info->description != NULL)
        fprintf(out, " - %s", info->description);
    fprintf(out, "\n(%d problem%s; medians of %d repetition%s; x peer = peer time / convkit "
                 "time, above 1 = convkit faster)\n",
            problems, problems == 1 ? "" : "s", reps, reps == 1 ? "" : "s");
    if (seen[COL_CONVKIT_NHWC - COL_ONEDNN])
        fprintf(out, "(x convkit NHWC = convkit NHWC time / convkit NCHW time: at most 1 when NHWC "
                     "is as fast; x PyTorch NHWC = PyTorch channels-last time / convkit NCHW "
                     "time)\n");
    bool show[NCOLS];
    for (int c = 0; c < NCOLS; c++)
        show[c] = true;
    show[COL_NCHW] = conv || seen[COL_NCHW - COL_ONEDNN]; /* conv suites, and any that ran it */
    /* the newer peers: only where they ran (PyTorch everywhere but gemm_ukernel, the NHWC
     * peers in the pool suites) */
    for (int c = COL_TORCH; c < NCOLS; c++)
        show[c] = seen[c - COL_ONEDNN];
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
                if (strcmp(p->peers[k].name, CKB_PEER_CONVKIT) == 0)
                    continue;
                double ps = peer_median(p, p->peers[k].name);
                if (!isfinite(ps))
                    continue;
                fprintf(f, "%s", pf ? "" : ", ");
                json_str(f, p->peers[k].name);
                fprintf(f, ": ");
                json_num(f, pass == 0 ? ps : ps / sec);
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
