/*
 * shapes.c - benchdnn problem descriptors (shared/shapes/benchdnn/README.md)
 * turned into PyTorch-style conv / pool problems, and a built-in ResNet-50
 * list for when no shape folder is available.
 *
 * A descriptor is a run of <key><integer> pairs, optionally separated by
 * '_', ended by an optional name n<name> or n"<name>" (everything after the
 * 'n' is the name).  A line may also carry option tokens ("--batch=file",
 * "--strides=...": shapes_mem_strided puts one before the descriptor); they
 * are ignored with a note on stderr.  '#' starts a comment.
 *
 * Derivation, per spatial dim (shown for H):
 *   ek = (kh - 1) * (dh + 1) + 1              dh is zero-based in the file
 *   oh absent:          ph defaults to 0, oh = (ih - ek + 2*ph) / sh + 1
 *   oh given, ph absent: ph = ((oh - 1)*sh - ih + ek) / 2
 *                       (C division, as benchdnn's conv_aux.cpp does; for a
 *                       non-negative numerator that is the README's floor)
 *   implied bottom pad:  ph_r = (oh - 1)*sh - ih + ek - ph
 * The bottom padding stored (pb) is chosen so that, for every shape this
 * file returns, oh == (ih + pt + pb - ek) / sh + 1 holds exactly with
 * pb >= 0 (PyTorch's floor-mode arithmetic) and the windows are the ones
 * benchdnn computes (rows past the last window are never read, so any pb
 * that keeps oh is the same computation):
 *   ph_r >= ph: pb = ph_r (symmetric when equal; larger is asymmetric
 *               padding, i.e. PyTorch's ceil_mode=True for pooling);
 *   ph_r <  ph: pb = ph if symmetric padding gives oh (ordinary floor mode,
 *               the usual case), else pb = max(ph_r, 0) if that gives oh;
 *               else (ph_r <= -sh: benchdnn crops the output, which PyTorch
 *               cannot express) the line is skipped with a note.
 * Later duplicates of a key win, as in benchdnn.
 * Square rule: a line that does not describe W copies every W value from
 * H after the deduction above.  A line that describes only W is 1-D:
 * ih = kh = oh = 1, sh = 1, no H padding, dh = 1.  Any D key makes the line
 * 3-D: skipped silently.  "Describes a dim" follows benchdnn's parsers
 * (conv_aux.cpp, pool_aux.cpp) rather than the README's shorter wording:
 * a size key (i, k, o) with a non-zero value, a stride other than 1 or a
 * padding above 0; dilation counts for conv but not for pool, so
 * pool/shapes_2d's "mb1ic8_ih3oh3_kh3ph1_dh2dw2" is square with dw = dh,
 * as oneDNN reads it.  A zero size counts as absent (oh0 = compute oh).
 * A dim that is described needs its input and kernel sizes.
 */
#define _POSIX_C_SOURCE 200809L

#include "shapes.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    K_G, K_MB, K_IC, K_OC,
    K_ID, K_IH, K_IW,
    K_OD, K_OH, K_OW,
    K_KD, K_KH, K_KW,
    K_SD, K_SH, K_SW,
    K_PD, K_PH, K_PW,
    K_DD, K_DH, K_DW,
    K_COUNT
};

static const char *const key_names[K_COUNT] = {
    "g",  "mb", "ic", "oc", "id", "ih", "iw", "od", "oh", "ow", "kd",
    "kh", "kw", "sd", "sh", "sw", "pd", "ph", "pw", "dd", "dh", "dw",
};

typedef struct parsed {
    int64_t v[K_COUNT];
    int given[K_COUNT];
    char name[sizeof(((ckb_shape_t *)0)->name)];
} parsed_t;

/* Reason of the last parse failure or skip, for the file reader's message. */
static char g_reason[160];

/* build_shape() results besides 0 and -1. */
#define SKIP_3D 1
#define SKIP_CROP 2

static int fail(const char *fmt, const char *arg)
{
    snprintf(g_reason, sizeof g_reason, fmt, arg);
    return -1;
}

static int lookup_key(const char *s, size_t len)
{
    for (int k = 0; k < K_COUNT; k++)
        if (strlen(key_names[k]) == len && strncmp(key_names[k], s, len) == 0)
            return k;
    return -1;
}

/* Parses one descriptor starting at *pp; stops after the name (end of the
 * line) or at whitespace.  Returns 0 or -1. */
static int parse_descriptor(const char **pp, parsed_t *d)
{
    const char *p = *pp;
    memset(d, 0, sizeof *d);
    int pairs = 0;
    while (*p != '\0' && !isspace((unsigned char)*p)) {
        if (*p == '_') {
            p++;
            continue;
        }
        if (*p == 'n') { /* the name: the rest of the line */
            const char *s = p + 1;
            size_t len = strlen(s);
            while (len > 0 && isspace((unsigned char)s[len - 1]))
                len--;
            if (len > 0 && s[0] == '"') {
                if (len < 2 || s[len - 1] != '"')
                    return fail("unterminated quoted name %s", s);
                s++;
                len -= 2;
            }
            snprintf(d->name, sizeof d->name, "%.*s", (int)len, s);
            p += strlen(p);
            break;
        }
        const char *k0 = p;
        while (*p >= 'a' && *p <= 'z')
            p++;
        int key = lookup_key(k0, (size_t)(p - k0));
        if (key < 0) {
            char buf[24];
            snprintf(buf, sizeof buf, "%.*s", (int)(p - k0 > 0 ? (p - k0) : 1), k0);
            return fail("unknown key '%s'", buf);
        }
        if (!isdigit((unsigned char)*p))
            return fail("key '%s' without a non-negative integer value", key_names[key]);
        errno = 0;
        char *end;
        long long val = strtoll(p, &end, 10);
        if (errno != 0 || val > ((int64_t)1 << 40))
            return fail("value of '%s' out of range", key_names[key]);
        d->given[key] = 1;
        d->v[key] = (int64_t)val;
        p = end;
        pairs++;
    }
    if (pairs == 0)
        return fail("%s", "no <key><integer> pairs");
    *pp = p;
    return 0;
}

/* Output size and paddings of one spatial dim; see the comment at the top.
 * `which` names the dim ("h" or "w") for messages. */
static int derive_dim(const char *which, int64_t i, int o_given, int64_t o, int64_t k, int64_t s,
                      int p_given, int64_t p, int64_t d0, int64_t out[4] /* o, pt, pb, d */)
{
    if (i < 1 || k < 1 || s < 1)
        return fail("input, kernel and stride in %s must be >= 1", which);
    int64_t ek = (k - 1) * (d0 + 1) + 1;
    if (!o_given) {
        if (!p_given)
            p = 0;
        int64_t num = i - ek + 2 * p;
        if (num < 0)
            return fail("kernel extent exceeds the padded input in %s (output < 1)", which);
        o = num / s + 1;
    } else {
        if (o < 1)
            return fail("output size in %s must be >= 1", which);
        if (!p_given)
            p = ((o - 1) * s - i + ek) / 2;
    }
    if (p < 0)
        return fail("negative padding deduced in %s", which);
    int64_t pr = (o - 1) * s - i + ek - p;
    int64_t pb;
    if (pr >= p) {
        pb = pr;
    } else {
        pb = p;
        if (i + p + pb - ek < 0 || (i + p + pb - ek) / s + 1 != o)
            pb = pr > 0 ? pr : 0;
        if (i + p + pb - ek < 0 || (i + p + pb - ek) / s + 1 != o) {
            snprintf(g_reason, sizeof g_reason,
                     "skipped: output size in %s needs cropping (implied %s pad %lld)", which,
                     which[0] == 'h' ? "bottom" : "right", (long long)pr);
            return SKIP_CROP;
        }
    }
    out[0] = o;
    out[1] = p;
    out[2] = pb;
    out[3] = d0 + 1;
    return 0;
}

static int build_shape(const parsed_t *d, bool is_pool, ckb_shape_t *out)
{
    if (d->given[K_ID] || d->given[K_OD] || d->given[K_KD] || d->given[K_SD] || d->given[K_PD] ||
        d->given[K_DD])
        return SKIP_3D;
    if (is_pool && (d->given[K_G] || d->given[K_OC]))
        return fail("%s", "pool descriptors take no 'g' or 'oc'");

    ckb_shape_t r;
    memset(&r, 0, sizeof r);
    snprintf(r.name, sizeof r.name, "%s", d->name);
    r.mb = d->given[K_MB] ? d->v[K_MB] : 2;
    r.g = d->given[K_G] ? d->v[K_G] : 1;
    if (!d->given[K_IC])
        return fail("%s", "'ic' is required");
    r.ic = d->v[K_IC];
    if (is_pool) {
        r.oc = r.ic;
    } else {
        if (!d->given[K_OC])
            return fail("%s", "'oc' is required");
        r.oc = d->v[K_OC];
    }
    if (r.mb < 1 || r.ic < 1 || r.oc < 1 || r.g < 1)
        return fail("%s", "mb, ic, oc and g must be >= 1");
    if (r.ic % r.g != 0 || r.oc % r.g != 0)
        return fail("%s", "g must divide ic and oc");

    /* Which dims the line describes, by benchdnn's test (conv_aux.cpp,
     * pool_aux.cpp): a size, a non-default stride or a positive padding;
     * dilation counts for conv, not for pool. */
    const int has_h = d->v[K_IH] > 0 || d->v[K_KH] > 0 || d->v[K_OH] > 0 ||
                      (!is_pool && d->v[K_DH] > 0) || (d->given[K_SH] && d->v[K_SH] != 1) ||
                      d->v[K_PH] > 0;
    const int has_w = d->v[K_IW] > 0 || d->v[K_KW] > 0 || d->v[K_OW] > 0 ||
                      (!is_pool && d->v[K_DW] > 0) || (d->given[K_SW] && d->v[K_SW] != 1) ||
                      d->v[K_PW] > 0;
    int64_t hd[4], wd[4];
    if (has_h) {
        if (d->v[K_IH] < 1 || d->v[K_KH] < 1)
            return fail("%s", "'ih' and 'kh' are required");
        int st = derive_dim("h", d->v[K_IH], d->v[K_OH] > 0, d->v[K_OH], d->v[K_KH],
                            d->given[K_SH] ? d->v[K_SH] : 1, d->given[K_PH], d->v[K_PH],
                            d->v[K_DH], hd);
        if (st != 0)
            return st;
        r.ih = d->v[K_IH];
        r.kh = d->v[K_KH];
        r.sh = d->given[K_SH] ? d->v[K_SH] : 1;
    } else if (has_w) { /* 1-D */
        r.ih = 1;
        r.kh = 1;
        r.sh = 1;
        hd[0] = 1, hd[1] = 0, hd[2] = 0, hd[3] = 1;
    } else {
        return fail("%s", "no spatial sizes");
    }
    r.oh = hd[0], r.pt = hd[1], r.pb = hd[2], r.dh = hd[3];

    if (has_w) {
        if (d->v[K_IW] < 1 || d->v[K_KW] < 1)
            return fail("%s", "a line with W keys needs 'iw' and 'kw'");
        int st = derive_dim("w", d->v[K_IW], d->v[K_OW] > 0, d->v[K_OW], d->v[K_KW],
                            d->given[K_SW] ? d->v[K_SW] : 1, d->given[K_PW], d->v[K_PW],
                            d->v[K_DW], wd);
        if (st != 0)
            return st;
        r.iw = d->v[K_IW];
        r.kw = d->v[K_KW];
        r.sw = d->given[K_SW] ? d->v[K_SW] : 1;
        r.ow = wd[0], r.pl = wd[1], r.pr = wd[2], r.dw = wd[3];
    } else { /* square: every W value from H (a lone dw is overridden, as in benchdnn) */
        r.iw = r.ih, r.kw = r.kh, r.sw = r.sh;
        r.ow = r.oh, r.pl = r.pt, r.pr = r.pb, r.dw = r.dh;
    }
    *out = r;
    return 0;
}

int ckb_shape_parse(const char *line, bool is_pool, ckb_shape_t *out)
{
    const char *p = line;
    while (isspace((unsigned char)*p))
        p++;
    parsed_t d;
    if (parse_descriptor(&p, &d) != 0)
        return -1;
    while (isspace((unsigned char)*p))
        p++;
    if (*p != '\0')
        return fail("trailing text after the descriptor: %s", p);
    int st = build_shape(&d, is_pool, out);
    return st > 0 ? 1 : st;
}

static int list_append(ckb_shape_list_t *list, const ckb_shape_t *s)
{
    int n = list->count;
    if (n == 0 || (n >= 8 && (n & (n - 1)) == 0)) { /* capacity: 8, 16, 32, ... */
        size_t cap = n == 0 ? 8 : (size_t)n * 2;
        ckb_shape_t *items = realloc(list->items, cap * sizeof *items);
        if (items == NULL)
            return -1;
        list->items = items;
    }
    list->items[n] = *s;
    list->count = n + 1;
    return 0;
}

int ckb_shapes_read(const char *path, bool is_pool, int64_t mb_override, ckb_shape_list_t *list)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, "shapes: cannot open %s: %s\n", path, strerror(errno));
        return -1;
    }
    char *line = NULL;
    size_t cap = 0;
    int lineno = 0, rc = 0;
    while (getline(&line, &cap, f) >= 0) {
        lineno++;
        char *hash = strchr(line, '#');
        if (hash != NULL)
            *hash = '\0';
        const char *p = line;
        for (;;) {
            while (isspace((unsigned char)*p))
                p++;
            if (*p == '\0')
                break;
            if (p[0] == '-' && p[1] == '-') { /* an option token: not ours */
                const char *e = p;
                while (*e != '\0' && !isspace((unsigned char)*e))
                    e++;
                fprintf(stderr, "shapes: %s:%d: option '%.*s' ignored\n", path, lineno,
                        (int)(e - p), p);
                p = e;
                continue;
            }
            parsed_t d;
            ckb_shape_t s;
            int st = parse_descriptor(&p, &d);
            if (st == 0)
                st = build_shape(&d, is_pool, &s);
            if (st < 0) {
                fprintf(stderr, "shapes: %s:%d: %s\n", path, lineno, g_reason);
                rc = -1;
                break;
            }
            if (st == SKIP_CROP)
                fprintf(stderr, "shapes: %s:%d: %s\n", path, lineno, g_reason);
            if (st != 0)
                continue; /* 3-D, or not expressible */
            if (mb_override > 0)
                s.mb = mb_override;
            if (list_append(list, &s) != 0) {
                fprintf(stderr, "shapes: out of memory reading %s\n", path);
                rc = -1;
                break;
            }
        }
        if (rc != 0)
            break;
    }
    free(line);
    fclose(f);
    return rc;
}

/* The built-in lists are written as descriptors and go through the same
 * parser, so they obey exactly the same rules as the files. */
static void builtin(const char *const *descs, int n, bool is_pool, int64_t mb,
                    ckb_shape_list_t *list)
{
    for (int i = 0; i < n; i++) {
        ckb_shape_t s;
        if (ckb_shape_parse(descs[i], is_pool, &s) != 0) {
            fprintf(stderr, "shapes: built-in '%s': %s\n", descs[i], g_reason);
            abort();
        }
        s.mb = mb > 0 ? mb : 2;
        if (list_append(list, &s) != 0) {
            fprintf(stderr, "shapes: out of memory\n");
            abort();
        }
    }
}

/* ResNet-50 v1 (224x224 input; the stride-2 1x1 convs of stages 3-5 as in
 * the original model), one entry per distinct layer. */
void ckb_shapes_builtin_resnet50_conv(int64_t mb, ckb_shape_list_t *list)
{
    static const char *const descs[] = {
        "ic3ih224oc64kh7sh2ph3n\"resnet_50:conv1\"",
        "ic64ih56oc64kh1n\"resnet_50:res2a_branch2a\"",
        "ic64ih56oc64kh3ph1n\"resnet_50:res2a_branch2b\"",
        "ic64ih56oc256kh1n\"resnet_50:res2a_branch1\"",
        "ic256ih56oc64kh1n\"resnet_50:res2b_branch2a\"",
        "ic256ih56oc128kh1sh2n\"resnet_50:res3a_branch2a\"",
        "ic256ih56oc512kh1sh2n\"resnet_50:res3a_branch1\"",
        "ic128ih28oc128kh3ph1n\"resnet_50:res3a_branch2b\"",
        "ic128ih28oc512kh1n\"resnet_50:res3a_branch2c\"",
        "ic512ih28oc1024kh1sh2n\"resnet_50:res4a_branch1\"",
        "ic256ih14oc256kh3ph1n\"resnet_50:res4a_branch2b\"",
        "ic1024ih14oc256kh1n\"resnet_50:res4b_branch2a\"",
        "ic1024ih14oc2048kh1sh2n\"resnet_50:res5a_branch1\"",
        "ic512ih7oc512kh3ph1n\"resnet_50:res5a_branch2b\"",
        "ic512ih7oc2048kh1n\"resnet_50:res5a_branch2c\"",
    };
    builtin(descs, (int)(sizeof descs / sizeof descs[0]), false, mb, list);
}

/* The stem max-pool on 64x112x112: the original model's 3x3 s2 without
 * padding in ceil mode (56x56), and torchvision's 3x3 s2 p1 (also 56x56). */
void ckb_shapes_builtin_resnet50_pool(int64_t mb, ckb_shape_list_t *list)
{
    static const char *const descs[] = {
        "ic64ih112oh56kh3sh2n\"resnet_50:max_pool1\"",
        "ic64ih112kh3sh2ph1n\"resnet_50:max_pool1_p1\"",
    };
    builtin(descs, (int)(sizeof descs / sizeof descs[0]), true, mb, list);
}

void ckb_shapes_free(ckb_shape_list_t *list)
{
    free(list->items);
    list->items = NULL;
    list->count = 0;
}
