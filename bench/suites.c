/*
 * suites.c - the table of suites, and the helpers the suite files share
 * (suite-common.h).
 */
#define _POSIX_C_SOURCE 200809L

#include "suites.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "suite-common.h"

#ifdef CONVKIT_BENCH_HAVE_ONEDNN
#include "peer-onednn.h"
#endif

const ckb_suite_t *const ckb_suites[] = {
    &ckb_suite_conv_fwd,
    &ckb_suite_conv_fwd_mobilenet,
    &ckb_suite_conv_fwd_dilated,
    &ckb_suite_conv_bwd_data,
    &ckb_suite_conv_bwd_weights,
    &ckb_suite_pool_fwd,
    &ckb_suite_pool_bwd,
    &ckb_suite_unfold,
    &ckb_suite_fold,
    &ckb_suite_pad,
    &ckb_suite_gemm_ukernel,
    NULL,
};

bool ckb_have_torch(void)
{
#ifdef CONVKIT_BENCH_HAVE_TORCH
    return true;
#else
    return false;
#endif
}

bool ckb_have_onednn(void)
{
#ifdef CONVKIT_BENCH_HAVE_ONEDNN
    return true;
#else
    return false;
#endif
}

/* ---- case resources ------------------------------------------------------------ */

/* Resources of set-up cases stay below this many bytes (plus the case being
 * set up): enough for dozens of ResNet-50 mb8 layers, so the interleaved
 * peers of a problem rarely evict each other. */
#ifndef CKB_RESIDENT_BUDGET
#define CKB_RESIDENT_BUDGET ((size_t)1536 << 20)
#endif

static ckb_item_t *g_items;
static size_t g_resident;
static uint64_t g_clock;
static bool g_atexit_done;

static void teardown_item(ckb_item_t *it)
{
    if (!it->ready)
        return;
    it->teardown(it);
    it->ready = false;
    g_resident -= it->bytes < g_resident ? it->bytes : g_resident;
}

static void items_cleanup(void)
{
    ckb_item_t *it = g_items;
    g_items = NULL;
    while (it != NULL) {
        ckb_item_t *next = it->next;
        teardown_item(it);
        it->destroy(it);
        it = next;
    }
    g_resident = 0;
#ifdef CONVKIT_BENCH_HAVE_ONEDNN
    ckb_onednn_shutdown();
#endif
}

void ckb_item_add(ckb_item_t *it)
{
    if (!g_atexit_done) {
        atexit(items_cleanup);
        g_atexit_done = true;
    }
    it->ready = false;
    it->last_use = 0;
    it->next = g_items;
    g_items = it;
}

void ckb_item_fail(ckb_item_t *it, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(it->error, sizeof it->error, fmt, ap);
    va_end(ap);
    it->failed = true;
}

/* Tears down the least recently used set-up cases until `need` more bytes
 * fit in the budget (or nothing else is resident). */
static void make_room(size_t need, const ckb_item_t *keep)
{
    while (g_resident + need > CKB_RESIDENT_BUDGET) {
        ckb_item_t *oldest = NULL;
        for (ckb_item_t *it = g_items; it != NULL; it = it->next)
            if (it->ready && it != keep && (oldest == NULL || it->last_use < oldest->last_use))
                oldest = it;
        if (oldest == NULL)
            return;
        teardown_item(oldest);
    }
}

void ckb_item_case_fn(ckb_state_t *s, void *user)
{
    ckb_item_t *it = user;
    if (!ckb_item_acquire(s, it))
        return;
    while (ckb_keep_running(s)) {
        if (it->run(it) != 0) {
            ckb_skip_with_error(s, it->error);
            break;
        }
    }
}

int ckb_item_convkit_status(ckb_item_t *it, convkit_status_t status)
{
    if (status == CONVKIT_SUCCESS)
        return 0;
    snprintf(it->error, sizeof it->error, "convkit: %s: %s",
             convkit_status_string(status), convkit_last_error());
    return -1;
}

bool ckb_item_acquire(ckb_state_t *s, ckb_item_t *it)
{
    if (it->failed) {
        ckb_skip_with_error(s, it->error);
        return false;
    }
    it->last_use = ++g_clock;
    if (it->ready)
        return true;
    make_room(it->bytes, it);
    if (it->setup(it, it->error, sizeof it->error) != 0) {
        it->teardown(it);
        it->failed = true; /* the same failure would repeat: report it every time */
        ckb_skip_with_error(s, it->error);
        return false;
    }
    it->ready = true;
    g_resident += it->bytes;
    return true;
}

/* ---- buffers --------------------------------------------------------------------- */

static void *alloc_bytes(int64_t n, size_t elem)
{
    if (n < 0 || (uint64_t)n > (SIZE_MAX - 64) / elem / 2)
        return NULL;
    size_t bytes = (size_t)(n > 0 ? n : 1) * elem;
    bytes = (bytes + 63) & ~(size_t)63;
    return aligned_alloc(64, bytes);
}

float *ckb_random_floats(int64_t n, uint32_t seed)
{
    float *p = alloc_bytes(n, sizeof(float));
    if (p == NULL)
        return NULL;
    uint32_t x = seed * 2654435761u + 0x6a09e667u;
    if (x == 0)
        x = 1;
    for (int64_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        p[i] = (float)(x >> 8) * (2.0f / 16777216.0f) - 1.0f;
    }
    return p;
}

float *ckb_zero_floats(int64_t n)
{
    float *p = alloc_bytes(n, sizeof(float));
    if (p != NULL)
        memset(p, 0, (size_t)(n > 0 ? n : 1) * sizeof(float));
    return p;
}

int64_t *ckb_zero_i64(int64_t n)
{
    int64_t *p = alloc_bytes(n, sizeof(int64_t));
    if (p != NULL)
        memset(p, 0, (size_t)(n > 0 ? n : 1) * sizeof(int64_t));
    return p;
}

/* ---- shapes and names --------------------------------------------------------- */

int ckb_load_shapes(const ckb_options_t *opts, const char *const files[], bool is_pool,
                    void (*builtin)(int64_t mb, ckb_shape_list_t *list), ckb_shape_list_t *out)
{
    out->items = NULL;
    out->count = 0;
    if (opts->shapes_dir == NULL) {
        if (builtin == NULL)
            return 0;
        ckb_shape_list_t all = {NULL, 0};
        builtin(0, &all);
        int keep = opts->max_cases > 0 && opts->max_cases < all.count ? opts->max_cases : all.count;
        out->items = all.items;
        out->count = keep;
        return 0;
    }
    for (int f = 0; files[f] != NULL; f++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", opts->shapes_dir, files[f]);
        ckb_shape_list_t one = {NULL, 0};
        if (ckb_shapes_read(path, is_pool, 0, &one) != 0) {
            ckb_shapes_free(&one);
            ckb_shapes_free(out);
            return -1;
        }
        int keep = opts->max_cases > 0 && opts->max_cases < one.count ? opts->max_cases : one.count;
        if (keep > 0) {
            ckb_shape_t *grown = realloc(out->items, (size_t)(out->count + keep) * sizeof *grown);
            if (grown == NULL) {
                fprintf(stderr, "convkit-bench: out of memory reading %s\n", path);
                ckb_shapes_free(&one);
                ckb_shapes_free(out);
                return -1;
            }
            memcpy(grown + out->count, one.items, (size_t)keep * sizeof *grown);
            out->items = grown;
            out->count += keep;
        }
        ckb_shapes_free(&one);
    }
    return 0;
}

void ckb_problem_name(char *out, size_t n, const ckb_shape_t *s, int64_t mb)
{
    char base[sizeof s->name];
    snprintf(base, sizeof base, "%s", s->name);
    /* drop the "*K" repeat-count suffix */
    char *star = strrchr(base, '*');
    if (star != NULL && star[1] != '\0' && strspn(star + 1, "0123456789") == strlen(star + 1))
        *star = '\0';
    if (base[0] == '\0')
        snprintf(base, sizeof base, "g%lldic%lldih%lldiw%lldoc%lldkh%lldkw%lldsh%lldsw%lld",
                 (long long)s->g, (long long)s->ic, (long long)s->ih, (long long)s->iw,
                 (long long)s->oc, (long long)s->kh, (long long)s->kw, (long long)s->sh,
                 (long long)s->sw);
    snprintf(out, n, "%s/mb%lld", base, (long long)mb);
}

int ckb_name_set_add(ckb_name_set_t *set, const char *name)
{
    for (int i = 0; i < set->count; i++)
        if (strcmp(set->names[i], name) == 0)
            return -1;
    if (set->count == set->cap) {
        int cap = set->cap > 0 ? 2 * set->cap : 64;
        char **grown = realloc(set->names, (size_t)cap * sizeof *grown);
        if (grown == NULL)
            return 0; /* cannot track it; duplicates are only a naming nuisance */
        set->names = grown;
        set->cap = cap;
    }
    char *copy = strdup(name);
    if (copy != NULL)
        set->names[set->count++] = copy;
    return 0;
}

void ckb_name_set_free(ckb_name_set_t *set)
{
    for (int i = 0; i < set->count; i++)
        free(set->names[i]);
    free(set->names);
    set->names = NULL;
    set->count = set->cap = 0;
}

void ckb_register_case(const char *suite, const char *problem, const char *peer, ckb_fn fn,
                       ckb_item_t *user, double flops, double bytes, const ckb_options_t *opts,
                       int64_t iterations)
{
    char name[512];
    snprintf(name, sizeof name, "%s/%s/%s", suite, problem, peer);
    ckb_case_t c;
    memset(&c, 0, sizeof c);
    c.name = name;
    c.fn = fn;
    c.user = user;
    c.flops = flops;
    c.bytes = bytes;
    /* Google Benchmark takes a fixed iteration count or a minimum time, not both */
    c.min_time = iterations > 0 ? 0.0 : opts->min_time;
    c.iterations = iterations;
    ckb_register(&c);
}

int64_t ckb_slow_case_iterations(double est_seconds, const ckb_options_t *opts)
{
    double min_time = opts->min_time > 0 ? opts->min_time : 0.5;
    return est_seconds >= 0.2 * min_time ? 1 : 0;
}

/* ---- the PyTorch peer ------------------------------------------------------------ */

#ifdef CONVKIT_BENCH_HAVE_TORCH
typedef struct torch_case {
    ckb_item_t item;
    ckb_torch_t *torch;
} torch_case_t;

static int torch_setup(ckb_item_t *it, char *err, size_t n)
{
    return ckb_torch_setup(((torch_case_t *)it)->torch, err, n);
}

static void torch_teardown(ckb_item_t *it)
{
    torch_case_t *c = (torch_case_t *)it;
    if (c->torch != NULL)
        ckb_torch_release(c->torch);
}

static void torch_destroy(ckb_item_t *it)
{
    ckb_torch_destroy(((torch_case_t *)it)->torch);
    free(it);
}

static int torch_run(ckb_item_t *it)
{
    return ckb_torch_run(((torch_case_t *)it)->torch, it->error, sizeof it->error);
}

int ckb_register_torch_case(const char *suite, const char *problem, const char *peer,
                            const ckb_torch_problem_t *tp, const int64_t want_out[4],
                            double flops, double bytes, const ckb_options_t *opts)
{
    torch_case_t *c = calloc(1, sizeof *c);
    if (c == NULL)
        return -1;
    c->item.setup = torch_setup;
    c->item.teardown = torch_teardown;
    c->item.run = torch_run;
    c->item.destroy = torch_destroy;
    ckb_item_add(&c->item);
    char err[256];
    c->torch = ckb_torch_create(tp, err, sizeof err);
    if (c->torch == NULL) {
        ckb_item_fail(&c->item, "%s", err);
    } else {
        int64_t od[4];
        ckb_torch_out_dims(c->torch, od);
        if (want_out != NULL && memcmp(od, want_out, sizeof od) != 0) {
            ckb_item_fail(&c->item,
                          "PyTorch output %lldx%lldx%lldx%lld differs from convkit's "
                          "%lldx%lldx%lldx%lld",
                          (long long)od[0], (long long)od[1], (long long)od[2], (long long)od[3],
                          (long long)want_out[0], (long long)want_out[1], (long long)want_out[2],
                          (long long)want_out[3]);
        }
        c->item.bytes = ckb_torch_footprint(c->torch);
    }
    ckb_register_case(suite, problem, peer, ckb_item_case_fn, &c->item, flops, bytes, opts, 0);
    return 1;
}
#endif
