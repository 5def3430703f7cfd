package io.qvirt.kvmprobe;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Request numbers computed with the _IO macros must equal what linux/kvm.h yields (values from gcc). */
class IoctlTest {
    @Test
    void kvmRequestNumbersMatchTheKernelHeaders() {
        assertEquals(0xae00L, Kvm.GET_API_VERSION);
        assertEquals(0xae01L, Kvm.CREATE_VM);
        assertEquals(0xae03L, Kvm.CHECK_EXTENSION);
        assertEquals(0xae04L, Kvm.GET_VCPU_MMAP_SIZE);
        assertEquals(0xc008ae05L, Kvm.GET_SUPPORTED_CPUID);
        assertEquals(0xae41L, Kvm.CREATE_VCPU);
        assertEquals(0x4020ae46L, Kvm.SET_USER_MEMORY_REGION);
        assertEquals(0xae80L, Kvm.RUN);
        assertEquals(0x8090ae81L, Kvm.GET_REGS);
        assertEquals(0x4090ae82L, Kvm.SET_REGS);
        assertEquals(0x8138ae83L, Kvm.GET_SREGS);
        assertEquals(0x4138ae84L, Kvm.SET_SREGS);
        assertEquals(0x4008ae90L, Kvm.SET_CPUID2);
    }

    @Test
    void capabilityNumbersMatchTheKernelHeaders() {
        assertEquals(3, KvmCapability.USER_MEMORY.number());
        assertEquals(66, KvmCapability.MAX_VCPUS.number());
        assertEquals(51, KvmCapability.X86_ROBUST_SINGLESTEP.number());
        assertEquals(157, KvmCapability.NESTED_STATE.number());
        assertEquals(136, KvmCapability.IMMEDIATE_EXIT.number());
        assertEquals(60, KvmCapability.TSC_CONTROL.number());
    }

    @Test
    void oversizedArgumentIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> Ioctl.ior(Kvm.KVMIO, 1, 1 << 14));
    }
}
