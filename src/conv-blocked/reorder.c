/* reorder.c - conversions between the public channel-blocked formats
 * (CONVKIT_FORMAT_NCHW16C / NCHW8C) and dense NCHW, for the conv paths
 * that do not read blocked data themselves (conv-blocked.h). */
#include "conv-blocked/conv-blocked.h"

int64_t ck_blocked_count(const int64_t dims[4], int64_t block)
{
    return dims[0] * ((dims[1] + block - 1) / block) * dims[2] * dims[3] * block;
}

void ck_blocked_to_plain(const float *blocked, float *plain, const int64_t dims[4], int64_t block)
{
    const int64_t C = dims[1], HW = dims[2] * dims[3], cb = (C + block - 1) / block;
    for (int64_t n = 0; n < dims[0]; n++)
        for (int64_t c = 0; c < C; c++) {
            const float *in = blocked + ((n * cb + c / block) * HW) * block + c % block;
            float *out = plain + (n * C + c) * HW;
            for (int64_t i = 0; i < HW; i++) out[i] = in[i * block];
        }
}

void ck_plain_to_blocked(const float *plain, float *blocked, const int64_t dims[4], int64_t block)
{
    const int64_t C = dims[1], HW = dims[2] * dims[3], cb = (C + block - 1) / block;
    for (int64_t n = 0; n < dims[0]; n++)
        for (int64_t b = 0; b < cb; b++) {
            float *out = blocked + (n * cb + b) * HW * block;
            for (int64_t l = 0; l < block; l++) {
                const int64_t c = b * block + l;
                const float *in = plain + (n * C + c) * HW;
                if (c < C)
                    for (int64_t i = 0; i < HW; i++) out[i * block + l] = in[i];
                else
                    for (int64_t i = 0; i < HW; i++) out[i * block + l] = 0.0f;
            }
        }
}
