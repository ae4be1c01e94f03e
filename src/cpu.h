/*
 * cpu.h - CPU feature detection.  The raw cpuid/xgetbv access sits behind
 * a probe struct so tests can feed the detector synthetic register values.
 */
#ifndef CONVKIT_CPU_H
#define CONVKIT_CPU_H

#include "internal.h"

typedef struct ck_cpuid_regs {
    uint32_t eax, ebx, ecx, edx;
} ck_cpuid_regs_t;

typedef struct ck_cpu_probe {
    /* cpuid(leaf, subleaf); unknown leaves return zeros. */
    void (*cpuid)(uint32_t leaf, uint32_t subleaf, ck_cpuid_regs_t *out);
    /* XCR0 (xgetbv(0)); only called when cpuid reports OSXSAVE. */
    uint64_t (*xgetbv0)(void);
} ck_cpu_probe_t;

/* x86: the ISA mask (bit 1u << CONVKIT_ISA_x) the probe's registers allow:
 * scalar always; AVX2 needs AVX, AVX2, FMA, OSXSAVE and XCR0 saving
 * SSE+YMM state; AVX512 needs AVX2's conditions plus AVX-512 F, BW, VL, DQ
 * and XCR0 saving opmask+ZMM state. */
CK_INTERNAL uint32_t ck_x86_isa_mask(const ck_cpu_probe_t *probe);

/* The probe of the real CPU (x86 only; NULL elsewhere). */
CK_INTERNAL const ck_cpu_probe_t *ck_native_cpu_probe(void);

/* The mask of the machine we run on: x86 via the native probe, aarch64
 * scalar + NEON, other architectures scalar only. */
CK_INTERNAL uint32_t ck_detect_isa_mask(void);

#endif /* CONVKIT_CPU_H */
