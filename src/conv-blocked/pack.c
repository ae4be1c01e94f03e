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
    for (int64_t ob = begin; ob < end; ob++) {
        float *blk = c->packed + ob * g->w_ocb;
        const int64_t lanes = g->out_c - ob * B < B ? g->out_c - ob * B : B;
        if (lanes < B || g->icc * kc != g->in_c) /* tails: zeros first */
            for (int64_t k = 0; k < g->w_ocb; k++) blk[k] = 0.0f;
        /* Input channel and tap in the source's (ci, r, q) order, so each of
         * the block's output channels is read as one forward stream (OIHW),
         * and every packed line of B lanes is written whole at once. */
        for (int64_t ci = 0; ci < g->in_c; ci++) {
            float *o = blk + (ci / kc) * g->w_icc + (ci % kc) * B;
            const float *wi = weight + ob * B * ws[0] + ci * ws[1];
            for (int64_t r = 0; r < g->kh; r++)
                for (int64_t q = 0; q < g->kw; q++) {
                    float *line = o + (r * g->kw + q) * kc * B;
                    const float *w = wi + r * ws[2] + q * ws[3];
                    for (int64_t l = 0; l < lanes; l++) line[l] = w[l * ws[0]];
                }
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
    const int64_t kc = g->kc, H = g->copy_h, W = g->copy_w;
    const int64_t *ss = p->src.strides;
    for (int64_t item = begin; item < end; item++) {
        const int64_t h = item % H, cc = item / H % g->icc, n = item / H / g->icc;
        {
            {
                float *row = chunked + n * g->s_n + cc * g->s_cc + h * W * kc;
                for (int64_t i = 0; i < kc; i++) {
                    const int64_t ci = cc * kc + i;
                    if (ci >= g->in_c) {
                        for (int64_t w = 0; w < W; w++) row[w * kc + i] = 0.0f;
                        continue;
                    }
                    const float *in = src + n * ss[0] + ci * ss[1] + h * g->sub_h * ss[2];
                    const int64_t step = g->sub_w * ss[3];
                    for (int64_t w = 0; w < W; w++) row[w * kc + i] = in[w * step];
                }
            }
        }
    }
}
