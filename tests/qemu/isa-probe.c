/*
 * isa-probe.c - runtime dispatch check on emulated CPUs.  Run under
 * `qemu-x86_64 -cpu <model>`, it asserts that convkit detects the expected
 * best ISA, that asking for a higher one fails cleanly, and that one plan
 * of every op runs (a kernel the CPU lacks would die with SIGILL).
 * Plain C (Criterion binaries do not run well under qemu-user); prints
 * `N passed, N failed` last.
 */
#include <convkit.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int passed, failed;

static void check(int ok, const char *what)
{
    printf("%s: %s\n", ok ? "ok  " : "FAIL", what);
    if (ok) passed++; else failed++;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s EXPECTED_ISA (scalar|avx2|avx512)\n", argv[0]);
        return 2;
    }
    const char *want = argv[1];
    const char *got = convkit_isa_name(convkit_cpu_isa());
    printf("detected ISA: %s (expected %s)\n", got, want);
    check(got != NULL && strcmp(got, want) == 0, "convkit_cpu_isa is the expected ISA");
    check(convkit_isa_supported(CONVKIT_ISA_SCALAR), "scalar is always supported");
    if (strcmp(want, "avx512") != 0) {
        check(convkit_set_max_isa(CONVKIT_ISA_AVX512) == CONVKIT_ERROR_UNSUPPORTED_ISA,
              "capping at avx512 is refused");
        check(strstr(convkit_last_error(), "avx512") != NULL, "the message names the ISA");
    }
    if (strcmp(want, "scalar") == 0)
        check(convkit_set_max_isa(CONVKIT_ISA_AVX2) == CONVKIT_ERROR_UNSUPPORTED_ISA,
              "capping at avx2 is refused");

    /* A 1x1x5x5 ones image, 3x3 ones kernel, padding 1: the centre is 9. */
    float src[25], w[9], dst[25], pooled[4];
    int64_t idx[4];
    for (int i = 0; i < 25; i++) src[i] = 1.0f;
    for (int i = 0; i < 9; i++) w[i] = 1.0f;
    convkit_conv2d_params_t cp = CONVKIT_CONV2D_PARAMS_INIT;
    cp.in_height = cp.in_width = 5;
    cp.kernel_h = cp.kernel_w = 3;
    cp.pad_top = cp.pad_bottom = cp.pad_left = cp.pad_right = 1;
    convkit_plan_t *plan = NULL;
    check(convkit_conv2d_create(&cp, &plan) == CONVKIT_SUCCESS, "conv2d plan");
    printf("conv2d impl: %s\n", convkit_plan_impl_name(plan));
    check(convkit_conv_forward(plan, src, w, NULL, dst) == CONVKIT_SUCCESS && dst[12] == 9.0f &&
              dst[0] == 4.0f,
          "conv2d forward values");
    convkit_plan_destroy(plan);

    for (int i = 0; i < 25; i++) src[i] = (float)((i * 7) % 11);
    convkit_pool2d_params_t pp = CONVKIT_POOL2D_PARAMS_INIT;
    pp.in_height = pp.in_width = 5;
    pp.kernel_h = pp.kernel_w = 2;
    plan = NULL;
    check(convkit_max_pool2d_create(&pp, &plan) == CONVKIT_SUCCESS, "max_pool2d plan");
    check(convkit_max_pool_forward(plan, src, pooled, idx) == CONVKIT_SUCCESS, "max_pool2d forward");
    /* Window (0,0) covers flat positions 0,1,5,6 with values 0,7,2,9. */
    check(pooled[0] == 9.0f && idx[0] == 6, "max_pool2d value and index");
    convkit_plan_destroy(plan);

    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
