/* views.c - the GEMM views of one image and group of a convolution problem
 * (conv-gemm.h), the tap order, and the per-call scratch allocation. */
#include <pthread.h>
#include <stdlib.h>

#include "conv-gemm/conv-gemm.h"

void ck_conv_gemm_im2col(const ck_conv_problem_t *p, const float *src, int64_t n, int64_t g,
                         bool hwc, ck_im2col_t *v)
{
    const int64_t cig = p->in_channels / p->groups;
    const int64_t *st = p->src.strides;
    v->src = src + n * st[0] + g * cig * st[1];
    v->sc = st[1];
    v->sh = st[2];
    v->sw = st[3];
    v->in_h = p->in_h;
    v->in_w = p->in_w;
    v->out_w = p->out_w;
    v->kh = p->kernel_h;
    v->kw = p->kernel_w;
    v->cig = cig;
    v->stride_h = p->stride_h;
    v->stride_w = p->stride_w;
    v->dil_h = p->dilation_h;
    v->dil_w = p->dilation_w;
    v->pad_t = p->pad_top;
    v->pad_l = p->pad_left;
    v->mode = p->padding_mode;
    v->hwc = hwc;
}

void ck_conv_gemm_weight(const ck_conv_problem_t *p, const float *weight, int64_t g,
                         ck_weight_view_t *v)
{
    const int64_t cog = p->out_channels / p->groups;
    const int64_t *st = p->weight.strides;
    v->w = weight + g * cog * st[0];
    v->so = st[0];
    v->si = st[1];
    v->sr = st[2];
    v->ss = st[3];
    v->kh = p->kernel_h;
    v->kw = p->kernel_w;
    v->cig = p->in_channels / p->groups;
    v->hwc = ck_conv_gemm_hwc(p);
}

bool ck_conv_gemm_hwc(const ck_conv_problem_t *p)
{
    ck_weight_view_t v = {
        .so = p->weight.strides[0], .si = p->weight.strides[1], .sr = p->weight.strides[2],
        .ss = p->weight.strides[3], .kh = p->kernel_h, .kw = p->kernel_w,
        .cig = p->in_channels / p->groups, .hwc = false,
    };
    if (ck_weight_taps_linear(&v)) return false;
    v.hwc = true;
    if (ck_weight_taps_linear(&v)) return true;
    /* Neither order is linear: channel-minor if channels are the weight's
     * (or failing that the input's) unit stride. */
    return v.si == 1 || (v.ss != 1 && p->src.strides[1] == 1);
}

/* Each thread keeps its largest scratch block (freed when the thread
 * ends), so repeated calls neither allocate nor fault pages in again. */
typedef struct ck_scratch {
    void *mem;
    size_t bytes;
} ck_scratch_t;

static pthread_key_t ck_scratch_key;
static pthread_once_t ck_scratch_once = PTHREAD_ONCE_INIT;
static bool ck_scratch_key_ok;

static void ck_scratch_free(void *p)
{
    ck_scratch_t *s = p;
    free(s->mem);
    free(s);
}

static void ck_scratch_init(void)
{
    ck_scratch_key_ok = pthread_key_create(&ck_scratch_key, ck_scratch_free) == 0;
}

void *ck_conv_gemm_scratch(size_t bytes)
{
    pthread_once(&ck_scratch_once, ck_scratch_init);
    if (!ck_scratch_key_ok) return NULL;
    ck_scratch_t *s = pthread_getspecific(ck_scratch_key);
    if (s == NULL) {
        s = calloc(1, sizeof *s);
        if (s == NULL) return NULL;
        if (pthread_setspecific(ck_scratch_key, s) != 0) {
            free(s);
            return NULL;
        }
    }
    if (s->bytes < bytes || s->mem == NULL) {
        void *mem = NULL;
        if (posix_memalign(&mem, 64, bytes > 64 ? bytes : 64) != 0) return NULL;
        free(s->mem);
        s->mem = mem;
        s->bytes = bytes;
    }
    return s->mem;
}

ck_gemm_blocking_t ck_conv_gemm_blocking(const ck_gemm_kernel_t *gk)
{
    int64_t l1, l2, l3;
    ck_gemm_cache_sizes(&l1, &l2, &l3);
    ck_gemm_blocking_t b = ck_gemm_blocking_for(gk, l1, l2, l3);
    const int64_t nc = l2 / 2 / ((int64_t)sizeof(float) * b.kc) / gk->nr * gk->nr;
    if (nc >= gk->nr && nc < b.nc) b.nc = nc;
    return b;
}
