/* cpu-detect.c - aarch64: Advanced SIMD (NEON) is part of the baseline. */
#include "cpu.h"

const ck_cpu_probe_t *ck_native_cpu_probe(void) { return NULL; }

uint32_t ck_detect_isa_mask(void)
{
    return (1u << CONVKIT_ISA_SCALAR) | (1u << CONVKIT_ISA_NEON);
}
