/*
 * main.c - convkit-bench: the benchmark suites through Google Benchmark,
 * with the peers in the same process, then one table per suite and a JSON
 * summary (see usage() below).
 */
#define _XOPEN_SOURCE 700 /* realpath */

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "convkit.h"
#include "machine.h"
#include "report.h"
#include "shim.h"
#include "suites.h"
#ifdef CONVKIT_BENCH_HAVE_TORCH
#include "peer-torch.h"
#endif

#define PROG "convkit-bench"
#define CWD_SHAPES_DIR "../shared/shapes/benchdnn"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: " PROG " [options] [--benchmark_* flags]\n"
            "  --shapes DIR         benchdnn shape folder (default: " CWD_SHAPES_DIR
            " from the\n"
            "                       current directory, else the one next to the source tree,\n"
            "                       else a built-in ResNet-50 list)\n"
            "  --suite LIST         comma-separated suite names, or 'all', or 'default'\n"
            "                       (default: the suites marked * by --list)\n"
            "  --mb LIST            minibatches, up to 3, comma-separated (default: 1,8)\n"
            "  --max-cases N        at most N problems per suite and shape file (0 = all)\n"
            "  --threads N          threads for convkit, oneDNN and PyTorch (default: 1)\n"
            "  --min-time S         seconds per repetition of each case (default: 0.1;\n"
            "                       Google Benchmark's own 0.5 makes the default run\n"
            "                       take over 10 minutes)\n"
            "  --no-onednn          do not run the oneDNN peers\n"
            "  --no-scalar          do not run the scalar-reference peer\n"
            "  --no-torch           do not run the PyTorch peers\n"
            "  --json FILE          JSON summary (default: convkit-bench.json)\n"
            "  --list               list the suites and exit\n"
            "  --smoke              a few cases of every suite: --suite all --max-cases 2\n"
            "                       --mb 1 --min-time 0.01 (explicit options win)\n"
            "  --benchmark_*        passed to Google Benchmark, e.g. --benchmark_repetitions=5\n"
            "                       (default 1; with more than 1, random interleaving is on\n"
            "                       unless --benchmark_enable_random_interleaving is given),\n"
            "                       --benchmark_filter=REGEX, --benchmark_out=FILE\n");
}

static int is_dir(const char *path)
{
    struct stat st;
    return path != NULL && stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Cores' worth of CPU time used by everything else (this process sleeps)
 * over `seconds`, from /proc/stat; 0 if unavailable. */
static double other_cpu_use(double seconds)
{
    double t[2] = {0, 0}, idle[2] = {0, 0};
    for (int k = 0; k < 2; k++) {
        if (k == 1) {
            struct timespec ts = {0, (long)(seconds * 1e9)};
            nanosleep(&ts, NULL);
        }
        FILE *f = fopen("/proc/stat", "r");
        if (f == NULL)
            return 0;
        unsigned long long v[8] = {0};
        int n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
                       &v[3], &v[4], &v[5], &v[6], &v[7]);
        fclose(f);
        if (n < 4)
            return 0;
        for (int i = 0; i < 8; i++)
            t[k] += (double)v[i];
        idle[k] = (double)v[3] + (double)v[4];
    }
    double total = t[1] - t[0];
    if (total <= 0)
        return 0;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    return (1.0 - (idle[1] - idle[0]) / total) * (double)(cores > 0 ? cores : 1);
}

static int parse_int(const char *opt, const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi) {
        fprintf(stderr, PROG ": %s: '%s' is not an integer in [%ld, %ld]\n", opt, s, lo, hi);
        return -1;
    }
    *out = v;
    return 0;
}

static const ckb_suite_t *find_suite(const char *name, size_t len)
{
    for (int i = 0; ckb_suites[i] != NULL; i++)
        if (strlen(ckb_suites[i]->name) == len && strncmp(ckb_suites[i]->name, name, len) == 0)
            return ckb_suites[i];
    return NULL;
}

/* Marks the selected suites in sel[] (indexed like ckb_suites). */
static int select_suites(const char *list, bool *sel)
{
    const char *p = list;
    while (*p != '\0') {
        const char *e = strchr(p, ',');
        size_t len = e != NULL ? (size_t)(e - p) : strlen(p);
        if (len == 3 && strncmp(p, "all", 3) == 0) {
            for (int i = 0; ckb_suites[i] != NULL; i++)
                sel[i] = true;
        } else if (len == 7 && strncmp(p, "default", 7) == 0) {
            for (int i = 0; ckb_suites[i] != NULL; i++)
                sel[i] = sel[i] || ckb_suites[i]->in_default;
        } else if (len > 0) {
            const ckb_suite_t *s = find_suite(p, len);
            if (s == NULL) {
                fprintf(stderr, PROG ": --suite: no suite '%.*s' (try --list)\n", (int)len, p);
                return -1;
            }
            for (int i = 0; ckb_suites[i] != NULL; i++)
                if (ckb_suites[i] == s)
                    sel[i] = true;
        }
        p += len + (e != NULL);
    }
    return 0;
}

static void list_suites(void)
{
    printf("suites (* = run by default):\n");
    for (int i = 0; ckb_suites[i] != NULL; i++)
        printf("  %c %-18s %s\n", ckb_suites[i]->in_default ? '*' : ' ', ckb_suites[i]->name,
               ckb_suites[i]->description != NULL ? ckb_suites[i]->description : "");
}

static bool has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Google Benchmark's argv copy; freed at exit so every return path of main
 * (usage errors, --help, --list) leaves nothing behind. */
static char **gb_argv;
static void free_gb_argv(void) { free(gb_argv); }

int main(int argc, char **argv)
{
    const double t_start = now_seconds();
    const char *shapes_opt = NULL, *suite_opt = NULL, *mb_opt = NULL, *json_path = NULL;
    long max_cases = -1, threads = 1;
    double min_time = -1;
    bool no_onednn = false, no_scalar = false, no_torch = false, list = false, smoke = false;
    bool gb_reps_given = false, gb_interleave_given = false, gb_list_tests = false;
    long gb_reps = 1;

    /* Google Benchmark's argv: argv[0], the --benchmark_* flags, two injected. */
    gb_argv = calloc((size_t)argc + 3, sizeof *gb_argv);
    if (gb_argv == NULL)
        return 1;
    atexit(free_gb_argv);
    int gb_argc = 0;
    gb_argv[gb_argc++] = argv[0];

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (has_prefix(a, "--benchmark_")) {
            gb_argv[gb_argc++] = argv[i];
            if (has_prefix(a, "--benchmark_repetitions=")) {
                gb_reps_given = true;
                if (parse_int("--benchmark_repetitions", a + strlen("--benchmark_repetitions="),
                              1, INT_MAX, &gb_reps) != 0)
                    return 2;
            } else if (has_prefix(a, "--benchmark_enable_random_interleaving")) {
                gb_interleave_given = true;
            } else if (has_prefix(a, "--benchmark_list_tests") &&
                       strcmp(a, "--benchmark_list_tests=false") != 0) {
                gb_list_tests = true;
            }
            continue;
        }
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        }
        if (strcmp(a, "--no-onednn") == 0) {
            no_onednn = true;
            continue;
        }
        if (strcmp(a, "--no-scalar") == 0) {
            no_scalar = true;
            continue;
        }
        if (strcmp(a, "--no-torch") == 0) {
            no_torch = true;
            continue;
        }
        if (strcmp(a, "--list") == 0) {
            list = true;
            continue;
        }
        if (strcmp(a, "--smoke") == 0) {
            smoke = true;
            continue;
        }
        /* Options with a value: "--opt VALUE" or "--opt=VALUE". */
        static const char *const valued[] = {"--shapes", "--suite",   "--mb",   "--max-cases",
                                             "--threads", "--min-time", "--json"};
        const char *opt = NULL, *val = NULL;
        for (size_t k = 0; k < sizeof valued / sizeof valued[0]; k++) {
            size_t n = strlen(valued[k]);
            if (strncmp(a, valued[k], n) == 0 && (a[n] == '\0' || a[n] == '=')) {
                opt = valued[k];
                if (a[n] == '=') {
                    val = a + n + 1;
                } else if (i + 1 < argc) {
                    val = argv[++i];
                } else {
                    fprintf(stderr, PROG ": %s needs a value\n", opt);
                    return 2;
                }
                break;
            }
        }
        if (opt == NULL) {
            fprintf(stderr, PROG ": unknown argument '%s'\n", a);
            usage(stderr);
            return 2;
        }
        if (strcmp(opt, "--shapes") == 0) {
            shapes_opt = val;
        } else if (strcmp(opt, "--suite") == 0) {
            suite_opt = val;
        } else if (strcmp(opt, "--mb") == 0) {
            mb_opt = val;
        } else if (strcmp(opt, "--max-cases") == 0) {
            if (parse_int(opt, val, 0, INT_MAX, &max_cases) != 0)
                return 2;
        } else if (strcmp(opt, "--threads") == 0) {
            if (parse_int(opt, val, 1, 4096, &threads) != 0)
                return 2;
        } else if (strcmp(opt, "--min-time") == 0) {
            char *end;
            min_time = strtod(val, &end);
            if (end == val || *end != '\0' || !(min_time > 0 && min_time < 1e4)) {
                fprintf(stderr, PROG ": --min-time: '%s' is not a positive number of seconds\n",
                        val);
                return 2;
            }
        } else if (strcmp(opt, "--json") == 0) {
            json_path = val;
        }
    }

    if (list) {
        list_suites();
        return 0;
    }

    /* ---- options ---------------------------------------------------------- */
    ckb_options_t opts;
    memset(&opts, 0, sizeof opts);
    if (mb_opt == NULL)
        mb_opt = smoke ? "1" : "1,8";
    {
        int n = 0;
        const char *p = mb_opt;
        while (*p != '\0') {
            char buf[32];
            const char *e = strchr(p, ',');
            size_t len = e != NULL ? (size_t)(e - p) : strlen(p);
            long v;
            snprintf(buf, sizeof buf, "%.*s", (int)(len < sizeof buf ? len : sizeof buf - 1), p);
            if (n == 3) {
                fprintf(stderr, PROG ": --mb: at most 3 minibatches\n");
                return 2;
            }
            if (parse_int("--mb", buf, 1, 1 << 20, &v) != 0)
                return 2;
            opts.minibatches[n++] = v;
            p += len + (e != NULL);
        }
        if (n == 0) {
            fprintf(stderr, PROG ": --mb: no minibatch given\n");
            return 2;
        }
    }
    opts.max_cases = (int)(max_cases >= 0 ? max_cases : smoke ? 2 : 0);
    opts.min_time = min_time > 0 ? min_time : smoke ? 0.01 : 0.1;
    opts.with_onednn = ckb_have_onednn() && !no_onednn;
    opts.with_scalar = !no_scalar;
    opts.with_torch = ckb_have_torch() && !no_torch;
    if (json_path == NULL)
        json_path = "convkit-bench.json";

    int nsuites = 0;
    while (ckb_suites[nsuites] != NULL)
        nsuites++;
    bool *sel = calloc((size_t)nsuites + 1, sizeof *sel);
    if (sel == NULL)
        return 1;
    if (select_suites(suite_opt != NULL ? suite_opt : smoke ? "all" : "default", sel) != 0)
        return 2;

    /* Shapes: --shapes, else ../shared/shapes/benchdnn from here, else the one
     * next to the source tree, else the built-in list. */
    char shapes_abs[PATH_MAX];
    const char *shapes_note;
    if (shapes_opt != NULL) {
        if (!is_dir(shapes_opt)) {
            fprintf(stderr, PROG ": --shapes: '%s' is not a directory\n", shapes_opt);
            return 2;
        }
        opts.shapes_dir = shapes_opt;
        shapes_note = "(--shapes)";
    } else if (is_dir(CWD_SHAPES_DIR)) {
        opts.shapes_dir = CWD_SHAPES_DIR;
        shapes_note = "(" CWD_SHAPES_DIR " from the current directory)";
#ifdef CKB_SOURCE_SHAPES_DIR
    } else if (is_dir(CKB_SOURCE_SHAPES_DIR)) {
        opts.shapes_dir = CKB_SOURCE_SHAPES_DIR;
        shapes_note = "(next to the source tree)";
#endif
    } else {
        opts.shapes_dir = NULL;
        shapes_note = NULL;
    }
    if (opts.shapes_dir != NULL && realpath(opts.shapes_dir, shapes_abs) != NULL)
        opts.shapes_dir = shapes_abs;

    /* Threads for convkit, for oneDNN's OpenMP runtime and for ATen (this thread runs
     * every case: Google Benchmark runs single-threaded cases on the main
     * thread). */
    if (convkit_set_num_threads((int)threads) != CONVKIT_SUCCESS) {
        fprintf(stderr, PROG ": convkit_set_num_threads(%ld): %s\n", threads,
                convkit_last_error());
        return 1;
    }
#ifdef _OPENMP
    omp_set_num_threads((int)threads);
#endif
#ifdef CONVKIT_BENCH_HAVE_TORCH
    if (opts.with_torch)
        ckb_torch_init((int)threads); /* ATen's intra-op pool, same count; warm heap */
#endif

    /* ---- header ------------------------------------------------------------- */
    const char *detected = convkit_isa_name(convkit_cpu_isa());
    const char *cap = convkit_isa_name(convkit_get_max_isa());
    printf(PROG ": convkit %s\n", convkit_version());
    printf("  ISA:      detected %s, cap %s%s\n", detected != NULL ? detected : "?",
           cap != NULL ? cap : "?", getenv("CONVKIT_MAX_ISA") != NULL ? " (CONVKIT_MAX_ISA)" : "");
    printf("  threads:  %d\n", convkit_get_num_threads());
    printf("  oneDNN:   %s\n", !ckb_have_onednn() ? "absent (built without libdnnl-dev)"
                               : no_onednn       ? "present, not run (--no-onednn)"
                                                 : "present");
#ifdef CONVKIT_BENCH_HAVE_TORCH
    if (no_torch)
        printf("  PyTorch:  present, not run (--no-torch)\n");
    else
        printf("  PyTorch:  present (libtorch %s, ATen; its results allocated from a kept "
               "heap)\n",
               ckb_torch_version());
#else
    printf("  PyTorch:  absent (built without libtorch-dev)\n");
#endif
    printf("  scalar:   %s\n", no_scalar ? "not run (--no-scalar)" : "convkit's scalar reference");
    if (opts.shapes_dir != NULL)
        printf("  shapes:   %s %s\n", opts.shapes_dir, shapes_note);
    else
        printf("  shapes:   built-in ResNet-50 list (no benchdnn folder at " CWD_SHAPES_DIR
               " from the current directory"
#ifdef CKB_SOURCE_SHAPES_DIR
               " or at " CKB_SOURCE_SHAPES_DIR
#endif
               ")\n");
    printf("  suites:  ");
    for (int i = 0; i < nsuites; i++)
        if (sel[i])
            printf(" %s", ckb_suites[i]->name);
    printf("\n  minibatches:");
    for (int i = 0; i < 4 && opts.minibatches[i] > 0; i++)
        printf(" %lld", (long long)opts.minibatches[i]);
    printf("; max cases per suite and file: ");
    if (opts.max_cases > 0)
        printf("%d", opts.max_cases);
    else
        printf("all");
    printf("; repetitions: %ld", gb_reps_given ? gb_reps : 1L);
    if (opts.min_time > 0)
        printf("; min time %g s\n", opts.min_time);
    else
        printf("; min time: Google Benchmark's default\n");
    fflush(stdout);

    /* Every figure assumes an otherwise idle machine (docs: check `uptime`):
     * sample what other processes use while this one sleeps 0.2 s. */
    double busy_cores = other_cpu_use(0.2);
    if (busy_cores >= 0.3)
        printf("  warning:  other processes are using %.1f cores: peaks, times and ratios will be\n"
               "            noisy (check `uptime`, wait for an idle machine)\n",
               busy_cores);
    fflush(stdout);

    ckb_machine_t machine;
    ckb_measure_machine(&machine);
    printf("  machine (one core): fp32 peak");
    for (unsigned i = 0; i < 5; i++)
        if (machine.peak_gflops[i] > 0)
            printf(" %s %.1f GFLOP/s,", convkit_isa_name(i), machine.peak_gflops[i]);
    printf(" copy bandwidth %.1f GB/s (read + write)\n\n", machine.copy_gbps);
    fflush(stdout);

    /* ---- register and run --------------------------------------------------- */
    int ncases = 0;
    for (int i = 0; i < nsuites; i++) {
        if (!sel[i])
            continue;
        int n = ckb_suites[i]->register_cases(&opts);
        if (n < 0) {
            fprintf(stderr, PROG ": suite %s could not register its cases\n",
                    ckb_suites[i]->name);
            return 2;
        }
        ncases += n;
    }
    if (ncases == 0)
        fprintf(stderr, PROG ": warning: no cases registered\n");

    static char reps_flag[] = "--benchmark_repetitions=1";
    static char interleave_flag[] = "--benchmark_enable_random_interleaving=true";
    if (!gb_reps_given)
        gb_argv[gb_argc++] = reps_flag;
    if (gb_reps > 1 && !gb_interleave_given)
        gb_argv[gb_argc++] = interleave_flag;
    gb_argv[gb_argc] = NULL;

    if (ckb_run(&gb_argc, gb_argv) != 0)
        return 1;
    if (gb_list_tests)
        return 0;

    /* ---- report ------------------------------------------------------------- */
    int status = ckb_report(stdout, json_path, &machine) == 0 ? 0 : 1;
    printf("\nJSON summary: %s\n", json_path);

    int convkit_errors = 0;
    for (int i = 0; i < ckb_result_count(); i++) {
        const ckb_result_t *r = ckb_result_at(i);
        const char *peer = strrchr(r->name, '/');
        if (r->error && peer != NULL &&
            (strcmp(peer + 1, CKB_PEER_CONVKIT) == 0 ||
             strcmp(peer + 1, CKB_PEER_CONVKIT_BLOCKED) == 0))
            convkit_errors++;
    }
    if (convkit_errors > 0) {
        fprintf(stderr, PROG ": %d convkit run%s failed (see the errors under the tables)\n",
                convkit_errors, convkit_errors == 1 ? "" : "s");
        status = 1;
    }
    printf("total time %.0f s\n", now_seconds() - t_start);
    free(sel);
    return status;
}
