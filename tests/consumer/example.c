#include <stdio.h>
#include <convkit.h>

int main(void)
{
    float x[16], w[9], y[16], z[4]; /* x: 1x1x4x4 image, w: 1x1x3x3 filter */
    int64_t idx[4];
    for (int i = 0; i < 16; i++) x[i] = (float)i;
    for (int i = 0; i < 9; i++) w[i] = 1.0f;

    convkit_conv2d_params_t cp = CONVKIT_CONV2D_PARAMS_INIT; /* N = C_in = C_out = 1 */
    cp.in_height = cp.in_width = 4;
    cp.kernel_h = cp.kernel_w = 3;
    cp.pad_top = cp.pad_bottom = cp.pad_left = cp.pad_right = 1; /* y is 4x4 */
    convkit_pool2d_params_t pp = CONVKIT_POOL2D_PARAMS_INIT;
    pp.in_height = pp.in_width = 4;
    pp.kernel_h = pp.kernel_w = 2; /* stride 0 means stride = kernel: z is 2x2 */

    convkit_plan_t *conv = NULL, *pool = NULL;
    if (convkit_conv2d_create(&cp, &conv) || convkit_max_pool2d_create(&pp, &pool) ||
        convkit_conv_forward(conv, x, w, NULL, y) ||
        convkit_max_pool_forward(pool, y, z, idx)) {
        fprintf(stderr, "convkit: %s\n", convkit_last_error());
        return 1;
    }
    for (int i = 0; i < 4; i++) /* each max and its index ih*4 + iw in y */
        printf("%g@%lld%s", z[i], (long long)idx[i], i < 3 ? " " : "\n");
    convkit_plan_destroy(conv);
    convkit_plan_destroy(pool);
    return 0;
}
