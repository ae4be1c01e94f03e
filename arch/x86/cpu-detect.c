/* cpu-detect.c - x86 ISA detection from cpuid leaf 1/7 bits and XCR0. */
#include <cpuid.h>

#include "cpu.h"

/* cpuid leaf 1 ecx */
#define CK_FMA_BIT (1u << 12)
#define CK_OSXSAVE_BIT (1u << 27)
#define CK_AVX_BIT (1u << 28)
/* cpuid leaf 7 subleaf 0 ebx */
#define CK_AVX2_BIT (1u << 5)
#define CK_AVX512F_BIT (1u << 16)
#define CK_AVX512DQ_BIT (1u << 17)
#define CK_AVX512BW_BIT (1u << 30)
#define CK_AVX512VL_BIT (1u << 31)
/* XCR0 state components */
#define CK_XCR0_SSE_YMM 0x6ull            /* XMM (bit 1) and YMM upper halves (bit 2) */
#define CK_XCR0_OPMASK_ZMM 0xe0ull        /* opmask (5), ZMM0-15 upper (6), ZMM16-31 (7) */

uint32_t ck_x86_isa_mask(const ck_cpu_probe_t *probe)
{
    uint32_t mask = 1u << CONVKIT_ISA_SCALAR;
    ck_cpuid_regs_t r0 = {0}, r1 = {0}, r7 = {0};
    probe->cpuid(0, 0, &r0);
    if (r0.eax < 1) return mask;
    probe->cpuid(1, 0, &r1);
    if (r0.eax >= 7) probe->cpuid(7, 0, &r7);
    if (!(r1.ecx & CK_OSXSAVE_BIT)) return mask; /* xgetbv itself would fault */
    uint64_t xcr0 = probe->xgetbv0();
    bool os_ymm = (xcr0 & CK_XCR0_SSE_YMM) == CK_XCR0_SSE_YMM;
    bool os_zmm = os_ymm && (xcr0 & CK_XCR0_OPMASK_ZMM) == CK_XCR0_OPMASK_ZMM;
    bool avx2 = (r1.ecx & CK_AVX_BIT) && (r1.ecx & CK_FMA_BIT) && (r7.ebx & CK_AVX2_BIT);
    const uint32_t avx512_bits = CK_AVX512F_BIT | CK_AVX512DQ_BIT | CK_AVX512BW_BIT | CK_AVX512VL_BIT;
    bool avx512 = avx2 && (r7.ebx & avx512_bits) == avx512_bits;
    if (avx2 && os_ymm) mask |= 1u << CONVKIT_ISA_AVX2;
    if (avx512 && os_zmm) mask |= 1u << CONVKIT_ISA_AVX512;
    return mask;
}

static void ck_native_cpuid(uint32_t leaf, uint32_t subleaf, ck_cpuid_regs_t *out)
{
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (!__get_cpuid_count(leaf, subleaf, &a, &b, &c, &d)) a = b = c = d = 0;
    out->eax = a, out->ebx = b, out->ecx = c, out->edx = d;
}

static uint64_t ck_native_xgetbv0(void)
{
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

static const ck_cpu_probe_t ck_native_probe = {ck_native_cpuid, ck_native_xgetbv0};

const ck_cpu_probe_t *ck_native_cpu_probe(void) { return &ck_native_probe; }

uint32_t ck_detect_isa_mask(void) { return ck_x86_isa_mask(&ck_native_probe); }
