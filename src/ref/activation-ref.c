/*
 * activation-ref.c - the scalar activation of the fused forward epilogue
 * (epilogue.h, convkit.h CONVKIT_ACTIVATION_*): the reference for the
 * vector activations of arch/x86/{avx2,avx512}/f32-activation-*.h, which
 * evaluate the same float expressions with SLEEF in place of libm.
 */
#include <math.h>

#include "epilogue.h"

float ck_ref_activation(float x, const ck_conv_epilogue_t *e)
{
    switch (e->activation) {
    case CONVKIT_ACTIVATION_RELU: return x < 0.0f ? 0.0f : x;
    case CONVKIT_ACTIVATION_CLAMP: {
        const float y = x < e->alpha ? e->alpha : x;
        return y > e->beta ? e->beta : y;
    }
    case CONVKIT_ACTIVATION_SIGMOID: return 1.0f / (1.0f + expf(-x));
    case CONVKIT_ACTIVATION_TANH: return tanhf(x);
    case CONVKIT_ACTIVATION_SILU: return x / (1.0f + expf(-x));
    case CONVKIT_ACTIVATION_GELU_TANH:
        return 0.5f * x *
               (1.0f + tanhf(CK_GELU_TANH_BETA * (x + CK_GELU_TANH_KAPPA * (x * x * x))));
    case CONVKIT_ACTIVATION_GELU_ERF: return x * 0.5f * (1.0f + erff(x * CK_GELU_ERF_ALPHA));
    default: return x;
    }
}
