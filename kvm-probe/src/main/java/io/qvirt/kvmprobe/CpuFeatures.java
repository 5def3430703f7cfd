package io.qvirt.kvmprobe;

import java.util.ArrayList;
import java.util.List;

/**
 * Decodes the guest-visible CPU features from {@code KVM_GET_SUPPORTED_CPUID} into libvirt-style names
 * (the names KubeVirt's {@code cpu-feature.node.kubevirt.io/<name>} labels use).
 */
final class CpuFeatures {
    private CpuFeatures() {
    }

    /** One CPUID bit: leaf, subleaf (-1 = any), register, bit, name. */
    private record Bit(int leaf, int subleaf, char reg, int bit, String name) {
    }

    private static final List<Bit> BITS = new ArrayList<>();

    private static void bits(int leaf, int subleaf, char reg, Object... pairs) {
        for (int i = 0; i < pairs.length; i += 2) {
            BITS.add(new Bit(leaf, subleaf, reg, (Integer) pairs[i], (String) pairs[i + 1]));
        }
    }

    static {
        bits(1, -1, 'd', 0, "fpu", 1, "vme", 2, "de", 3, "pse", 4, "tsc", 5, "msr", 6, "pae", 7, "mce",
                8, "cx8", 9, "apic", 11, "sep", 12, "mtrr", 13, "pge", 14, "mca", 15, "cmov", 16, "pat",
                17, "pse36", 19, "clflush", 23, "mmx", 24, "fxsr", 25, "sse", 26, "sse2", 27, "ss", 28, "ht");
        bits(1, -1, 'c', 0, "pni", 1, "pclmuldq", 3, "monitor", 5, "vmx", 6, "smx", 9, "ssse3", 12, "fma",
                13, "cx16", 17, "pcid", 19, "sse4.1", 20, "sse4.2", 21, "x2apic", 22, "movbe", 23, "popcnt",
                24, "tsc-deadline", 25, "aes", 26, "xsave", 28, "avx", 29, "f16c", 30, "rdrand",
                31, "hypervisor");
        bits(7, 0, 'b', 0, "fsgsbase", 1, "tsc_adjust", 3, "bmi1", 4, "hle", 5, "avx2", 7, "smep",
                8, "bmi2", 9, "erms", 10, "invpcid", 11, "rtm", 16, "avx512f", 17, "avx512dq", 18, "rdseed",
                19, "adx", 20, "smap", 21, "avx512ifma", 23, "clflushopt", 24, "clwb", 28, "avx512cd",
                29, "sha-ni", 30, "avx512bw", 31, "avx512vl");
        bits(7, 0, 'c', 1, "avx512vbmi", 2, "umip", 3, "pku", 5, "waitpkg", 6, "avx512vbmi2", 8, "gfni",
                9, "vaes", 10, "vpclmulqdq", 11, "avx512vnni", 12, "avx512bitalg", 14, "avx512-vpopcntdq",
                16, "la57", 22, "rdpid", 27, "movdiri", 28, "movdir64b");
        bits(7, 0, 'd', 4, "fsrm", 10, "md-clear", 14, "serialize", 26, "spec-ctrl", 27, "stibp",
                29, "arch-capabilities", 31, "ssbd");
        bits(0xd, 1, 'a', 0, "xsaveopt", 1, "xsavec", 2, "xgetbv1", 3, "xsaves");
        bits(0x80000001, -1, 'c', 0, "lahf_lm", 1, "cmp_legacy", 2, "svm", 5, "abm", 6, "sse4a",
                7, "misalignsse", 8, "3dnowprefetch", 11, "xop", 16, "fma4", 21, "tbm", 22, "topoext");
        bits(0x80000001, -1, 'd', 11, "syscall", 20, "nx", 22, "mmxext", 25, "fxsr_opt", 26, "pdpe1gb",
                27, "rdtscp", 29, "lm");
    }

    /** One CPUID entry as KVM reports it. */
    record Entry(int function, int index, int eax, int ebx, int ecx, int edx) {
        int reg(char r) {
            return switch (r) {
                case 'a' -> eax;
                case 'b' -> ebx;
                case 'c' -> ecx;
                default -> edx;
            };
        }
    }

    /** Feature names present in {@code entries}, in table order. */
    static List<String> decode(List<Entry> entries) {
        List<String> out = new ArrayList<>();
        for (Bit b : BITS) {
            for (Entry e : entries) {
                if (e.function() == b.leaf() && (b.subleaf() < 0 || e.index() == b.subleaf())) {
                    if ((e.reg(b.reg()) & (1 << b.bit())) != 0) {
                        out.add(b.name());
                    }
                    break;
                }
            }
        }
        return out;
    }
}
