package io.qvirt.kvmprobe;

/** The KVM capabilities the probe asks {@code KVM_CHECK_EXTENSION} about (numbers from linux/kvm.h). */
public enum KvmCapability {
    IRQCHIP(0),
    HLT(1),
    USER_MEMORY(3),
    SET_TSS_ADDR(4),
    EXT_CPUID(7),
    NR_VCPUS(9),
    NR_MEMSLOTS(10),
    MP_STATE(14),
    COALESCED_MMIO(15),
    SYNC_MMU(16),
    IRQFD(32),
    PIT2(33),
    IOEVENTFD(36),
    ADJUST_CLOCK(39),
    INTERNAL_ERROR_DATA(40),
    VCPU_EVENTS(41),
    HYPERV(44),
    DEBUGREGS(50),
    X86_ROBUST_SINGLESTEP(51),
    XSAVE(55),
    XCRS(56),
    TSC_CONTROL(60),
    GET_TSC_KHZ(61),
    MAX_VCPUS(66),
    ONE_REG(70),
    TSC_DEADLINE_TIMER(72),
    KVMCLOCK_CTRL(76),
    READONLY_MEM(81),
    X86_SMM(117),
    SPLIT_IRQCHIP(121),
    MAX_VCPU_ID(128),
    X2APIC_API(129),
    IMMEDIATE_EXIT(136),
    X86_DISABLE_EXITS(143),
    NESTED_STATE(157),
    EXCEPTION_PAYLOAD(164);

    private final int number;

    KvmCapability(int number) {
        this.number = number;
    }

    /** The KVM_CAP_* number. */
    public int number() {
        return number;
    }

    /** The name as in linux/kvm.h, e.g. {@code KVM_CAP_USER_MEMORY}. */
    public String kernelName() {
        return "KVM_CAP_" + name();
    }
}
