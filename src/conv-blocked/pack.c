/* pack.c - the copies the channel-blocked direct engine makes
 * (conv-blocked.h): weights into [ocb][icc][kh][kw][kc][B], and an input
 * without unit channel stride into the chunked layout. */
#include "conv-blocked/conv-blocked.h"

typedef struct ck_cb_pack_call {
    const ck_cb_geom_t *g;
    const ck_conv_problem_t *p;
    const float *weight;
    float *packed;
} ck_cb_pack_call_t;

/* Output-channel blocks [begin, end) of the packed weights. */
static void ck_cb_pack_range(void *ctx, int64_t begin, int64_t end)
{
    const ck_cb_pack_call_t *c = ctx;
    const ck_cb_geom_t *g = c->g;
    const float *weight = c->weight;
    const int64_t B = g->lanes, kc = g->kc;
    const int64_t *ws = c->p->weight.strides;
    float *out = c->packed + begin * g->w_ocb;
    for (int64_t ob = begin; ob < end; ob++) {
        const int64_t lanes = g->out_c - ob * B < B ? g->out_c - ob * B : B;
        for (int64_t cc = 0; cc < g->icc; cc++)
            for (int64_t r = 0; r < g->kh; r++)
                for (int64_t q = 0; q < g->kw; q++)
                    for (int64_t i = 0; i < kc; i++, out += B) {
                        const int64_t ci = cc * kc + i;
                        int64_t l = 0;
                        if (ci < g->in_c && lanes > 0) {
                            const float *w =
                                weight + ob * B * ws[0] + ci * ws[1] + r * ws[2] + q * ws[3];
                            for (; l < lanes; l++) out[l] = w[l * ws[0]];
                        }
                        for (; l < B; l++) out[l] = 0.0f;
                    }
    }
}

void ck_cb_pack_weights(const ck_cb_geom_t *g, const ck_conv_problem_t *p, const float *weight,
                        float *packed)
{
    ck_cb_pack_call_t c = {g, p, weight, packed};
    ck_parallel_for(g->ocb, g->w_ocb, ck_cb_pack_range, &c);
}

void ck_cb_reorder_src(const ck_cb_geom_t *g, const ck_conv_problem_t *p, const float *src,
                       float *chunked, int64_t begin, int64_t end)
{
    const int64_t kc = g->kc, H = g->in_h, W = g->in_w;
    const int64_t *ss = p->src.strides;
    for (int64_t item = begin; item < end; item++) {
        const int64_t h = item % H, cc = item / H % g->icc, n = item / H / g->icc;
        {
            {
                float *row = chunked + n * g->s_n + cc * g->s_cc + h * g->s_h;
                for (int64_t i = 0; i < kc; i++) {
                    const int64_t ci = cc * kc + i;
                    if (ci >= g->in_c) {
                        for (int64_t w = 0; w < W; w++) row[w * kc + i] = 0.0f;
                        continue;
                    }
                    const float *in = src + n * ss[0] + ci * ss[1] + h * ss[2];
                    for (int64_t w = 0; w < W; w++) row[w * kc + i] = in[w * ss[3]];
                }
            }
        }
    }
}
