/*
 * pad-ref.c - the scalar reference F.pad over the last two dims: every dst
 * element (oh, ow) reads src (oh - pad_top, ow - pad_left) mapped through
 * the padding mode by ck_ref_pad_index (reflect, replicate, circular), or
 * takes the fill value in constant mode where that position lies outside
 * the source.  Negative constant amounts crop: the shifted position is then
 * simply further inside the source.
 */
#include "kernels.h"

static void ck_ref_pad(const ck_pad_problem_t *p, const float *src, float *dst, int64_t begin,
                       int64_t end)
{
    for (int64_t item = begin; item < end; item++) {
        const int64_t n = item / p->channels, c = item % p->channels;
        for (int64_t oh = 0; oh < p->out_h; oh++) {
            const int64_t ih = ck_ref_pad_index(oh - p->pad_top, p->in_h, p->mode);
            for (int64_t ow = 0; ow < p->out_w; ow++) {
                const int64_t iw = ck_ref_pad_index(ow - p->pad_left, p->in_w, p->mode);
                dst[ck_off(&p->dst, n, c, oh, ow)] =
                    ih >= 0 && iw >= 0 ? src[ck_off(&p->src, n, c, ih, iw)] : p->value;
            }
        }
    }
}

const ck_pad_kernels_t ck_ref_pad_kernels = {
    .isa = CONVKIT_ISA_SCALAR,
    .name = "ref",
    .pad = ck_ref_pad,
};
