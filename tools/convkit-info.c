/*
 * convkit-info - what convkit will do on this machine: the library version,
 * the ISA the CPU and OS support, the cap in force (and CONVKIT_MAX_ISA if
 * set), the thread count, and for a sample of problems the implementation
 * each plan picks at the cap and at every supported lower ISA.
 *
 * Usage: convkit-info [--help]
 * Exit status: 0, or 1 if a sample plan cannot be created (the message of
 * convkit_last_error() is printed in its place).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convkit.h"

static const uint32_t all_isas[] = {CONVKIT_ISA_SCALAR, CONVKIT_ISA_AVX2, CONVKIT_ISA_AVX512,
                                    CONVKIT_ISA_NEON};
#define N_ISAS (sizeof all_isas / sizeof all_isas[0])

/* Order of the levels: NEON is aarch64's baseline, one step above scalar. */
static int isa_rank(uint32_t isa)
{
    switch (isa) {
    case CONVKIT_ISA_SCALAR: return 1;
    case CONVKIT_ISA_AVX2: return 2;
    case CONVKIT_ISA_AVX512: return 3;
    case CONVKIT_ISA_NEON: return 2;
    default: return 0;
    }
}

static const char *isa_label(uint32_t isa)
{
    const char *n = convkit_isa_name(isa);
    return n != NULL ? n : "?";
}

/* One sample problem: creates its plan capped at `isa`. */
typedef struct sample {
    const char *what;
    convkit_status_t (*create)(uint32_t isa, convkit_plan_t **plan);
} sample_t;

static convkit_status_t conv3x3(uint32_t isa, convkit_plan_t **plan)
{
    convkit_conv2d_params_t p = CONVKIT_CONV2D_PARAMS_INIT; /* ResNet-50 res2a_branch2b */
    p.isa = isa;
    p.in_channels = p.out_channels = 64;
    p.in_height = p.in_width = 56;
    p.kernel_h = p.kernel_w = 3;
    p.pad_top = p.pad_bottom = p.pad_left = p.pad_right = 1;
    return convkit_conv2d_create(&p, plan);
}

static convkit_status_t conv1x1(uint32_t isa, convkit_plan_t **plan)
{
    convkit_conv2d_params_t p = CONVKIT_CONV2D_PARAMS_INIT; /* ResNet-50 res2a_branch2a */
    p.isa = isa;
    p.in_channels = 64;
    p.out_channels = 256;
    p.in_height = p.in_width = 56;
    return convkit_conv2d_create(&p, plan);
}

static convkit_status_t conv_dw(uint32_t isa, convkit_plan_t **plan)
{
    convkit_conv2d_params_t p = CONVKIT_CONV2D_PARAMS_INIT; /* MobileNet conv2_1/dw */
    p.isa = isa;
    p.in_channels = p.out_channels = p.groups = 32;
    p.in_height = p.in_width = 112;
    p.kernel_h = p.kernel_w = 3;
    p.pad_top = p.pad_bottom = p.pad_left = p.pad_right = 1;
    return convkit_conv2d_create(&p, plan);
}

static convkit_status_t conv1d(uint32_t isa, convkit_plan_t **plan)
{
    convkit_conv1d_params_t p = CONVKIT_CONV1D_PARAMS_INIT;
    p.isa = isa;
    p.in_channels = p.out_channels = 64;
    p.in_length = 1024;
    p.kernel = 3;
    p.pad_left = p.pad_right = 1;
    return convkit_conv1d_create(&p, plan);
}

static convkit_status_t max_pool2d(uint32_t isa, convkit_plan_t **plan)
{
    convkit_pool2d_params_t p = CONVKIT_POOL2D_PARAMS_INIT; /* ResNet-50 pool1 */
    p.isa = isa;
    p.channels = 64;
    p.in_height = p.in_width = 112;
    p.kernel_h = p.kernel_w = 3;
    p.stride_h = p.stride_w = 2;
    p.pad_h = p.pad_w = 1;
    return convkit_max_pool2d_create(&p, plan);
}

static convkit_status_t unfold(uint32_t isa, convkit_plan_t **plan)
{
    convkit_fold_params_t p = CONVKIT_FOLD_PARAMS_INIT;
    p.isa = isa;
    p.channels = 64;
    p.height = p.width = 56;
    p.kernel_h = p.kernel_w = 3;
    p.pad_h = p.pad_w = 1;
    return convkit_unfold_create(&p, plan);
}

static convkit_status_t fold(uint32_t isa, convkit_plan_t **plan)
{
    convkit_fold_params_t p = CONVKIT_FOLD_PARAMS_INIT;
    p.isa = isa;
    p.channels = 64;
    p.height = p.width = 56;
    p.kernel_h = p.kernel_w = 3;
    p.pad_h = p.pad_w = 1;
    p.col_channels = 64 * 3 * 3;
    p.col_length = 56 * 56;
    return convkit_fold_create(&p, plan);
}

static convkit_status_t pad(uint32_t isa, convkit_plan_t **plan)
{
    convkit_pad_params_t p = CONVKIT_PAD_PARAMS_INIT;
    p.isa = isa;
    p.channels = 64;
    p.height = p.width = 56;
    p.pad_left = p.pad_right = p.pad_top = p.pad_bottom = 1;
    p.mode = CONVKIT_PAD_REFLECT;
    return convkit_pad_create(&p, plan);
}

static const sample_t samples[] = {
    {"conv2d 3x3 64->64 56x56 pad 1", conv3x3},
    {"conv2d 1x1 64->256 56x56", conv1x1},
    {"conv2d 3x3 depthwise 32 112x112", conv_dw},
    {"conv1d k3 64->64 L1024 pad 1", conv1d},
    {"max_pool2d 3x3 s2 pad 1 64x112x112", max_pool2d},
    {"unfold 3x3 pad 1 64x56x56", unfold},
    {"fold 3x3 pad 1 -> 64x56x56", fold},
    {"pad reflect 1 64x56x56", pad},
};
#define N_SAMPLES (sizeof samples / sizeof samples[0])

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("usage: convkit-info\n"
                   "Prints convkit's version, the detected ISA, the ISA cap in force\n"
                   "(CONVKIT_MAX_ISA lowers it), the thread count (OMP_NUM_THREADS), and\n"
                   "the implementation a plan picks for sample problems at each ISA.\n");
            return 0;
        }
        fprintf(stderr, "convkit-info: unknown argument '%s' (try --help)\n", argv[i]);
        return 2;
    }

    uint32_t detected = convkit_cpu_isa();
    uint32_t cap = convkit_get_max_isa();
    const char *env = getenv("CONVKIT_MAX_ISA");

    printf("convkit %s (header %d.%d.%d)\n", convkit_version(), CONVKIT_VERSION_MAJOR,
           CONVKIT_VERSION_MINOR, CONVKIT_VERSION_PATCH);
    printf("detected ISA:  %s\n", isa_label(detected));
    printf("ISA support:  ");
    for (size_t i = 0; i < N_ISAS; i++)
        printf(" %s=%s", isa_label(all_isas[i]), convkit_isa_supported(all_isas[i]) ? "yes" : "no");
    printf("\n");
    if (env != NULL)
        printf("ISA cap:       %s (CONVKIT_MAX_ISA=%s%s)\n", isa_label(cap), env,
               strcmp(env, isa_label(cap)) == 0 ? "" : ": not a usable value here, ignored");
    else
        printf("ISA cap:       %s (the detected ISA; CONVKIT_MAX_ISA not set)\n",
               isa_label(cap));
    const char *omp = getenv("OMP_NUM_THREADS");
    printf("threads:       %d%s%s%s\n", convkit_get_num_threads(),
           omp != NULL ? " (OMP_NUM_THREADS=" : " (OpenMP default)", omp != NULL ? omp : "",
           omp != NULL ? ")" : "");

    /* Columns: the cap, then every supported ISA below it. */
    uint32_t cols[N_ISAS];
    size_t ncols = 0;
    cols[ncols++] = cap;
    for (size_t r = (size_t)isa_rank(cap); r-- > 1;)
        for (size_t i = 0; i < N_ISAS; i++)
            if ((size_t)isa_rank(all_isas[i]) == r && all_isas[i] != cap &&
                convkit_isa_supported(all_isas[i]))
                cols[ncols++] = all_isas[i];

    printf("\nimplementation each plan picks (plan isa = the cap, then each lower ISA):\n");
    printf("  %-36s", "problem");
    for (size_t j = 0; j < ncols; j++) {
        char head[32];
        snprintf(head, sizeof head, "%s%s", isa_label(cols[j]), j == 0 ? " (cap)" : "");
        printf(j + 1 < ncols ? " %-28s" : " %s", head);
    }
    printf("\n");

    int status = 0;
    for (size_t i = 0; i < N_SAMPLES; i++) {
        printf("  %-36s", samples[i].what);
        for (size_t j = 0; j < ncols; j++) {
            convkit_plan_t *plan = NULL;
            convkit_status_t st = samples[i].create(cols[j], &plan);
            if (st != CONVKIT_SUCCESS) {
                printf(" error: %s", convkit_last_error());
                status = 1;
                break;
            }
            printf(j + 1 < ncols ? " %-28s" : " %s", convkit_plan_impl_name(plan));
            convkit_plan_destroy(plan);
        }
        printf("\n");
    }
    return status;
}
