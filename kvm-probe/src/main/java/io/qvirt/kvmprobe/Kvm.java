package io.qvirt.kvmprobe;

/** The parts of linux/kvm.h and asm/kvm.h (x86-64) the probe uses: requests, sizes, offsets. */
final class Kvm {
    private Kvm() {
    }

    static final int KVMIO = 0xAE;
    static final int API_VERSION = 12;

    static final int SIZEOF_CPUID2_HEADER = 8; // struct kvm_cpuid2 { u32 nent; u32 padding; entries[] }
    static final int SIZEOF_CPUID_ENTRY2 = 40; // function, index, flags, eax, ebx, ecx, edx, padding[3]
    static final int SIZEOF_USERSPACE_MEMORY_REGION = 32;
    static final int SIZEOF_REGS = 144;
    static final int SIZEOF_SREGS = 312;

    static final long GET_API_VERSION = Ioctl.io(KVMIO, 0x00);
    static final long CREATE_VM = Ioctl.io(KVMIO, 0x01);
    static final long CHECK_EXTENSION = Ioctl.io(KVMIO, 0x03);
    static final long GET_VCPU_MMAP_SIZE = Ioctl.io(KVMIO, 0x04);
    static final long GET_SUPPORTED_CPUID = Ioctl.iowr(KVMIO, 0x05, SIZEOF_CPUID2_HEADER);
    static final long CREATE_VCPU = Ioctl.io(KVMIO, 0x41);
    static final long SET_USER_MEMORY_REGION = Ioctl.iow(KVMIO, 0x46, SIZEOF_USERSPACE_MEMORY_REGION);
    static final long RUN = Ioctl.io(KVMIO, 0x80);
    static final long GET_REGS = Ioctl.ior(KVMIO, 0x81, SIZEOF_REGS);
    static final long SET_REGS = Ioctl.iow(KVMIO, 0x82, SIZEOF_REGS);
    static final long GET_SREGS = Ioctl.ior(KVMIO, 0x83, SIZEOF_SREGS);
    static final long SET_SREGS = Ioctl.iow(KVMIO, 0x84, SIZEOF_SREGS);
    static final long SET_CPUID2 = Ioctl.iow(KVMIO, 0x90, SIZEOF_CPUID2_HEADER);

    // struct kvm_regs: rax rbx rcx rdx rsi rdi rsp rbp r8..r15 rip rflags (u64 each)
    static final int REGS_RDX = 24;
    static final int REGS_RSP = 48;
    static final int REGS_RIP = 128;
    static final int REGS_RFLAGS = 136;

    // struct kvm_sregs: cs ds es fs gs ss tr ldt (struct kvm_segment, 24 bytes each), gdt idt, cr0...
    static final int SIZEOF_SEGMENT = 24; // u64 base; u32 limit; u16 selector; u8 type, present, ...
    static final int SEG_BASE = 0;
    static final int SEG_SELECTOR = 12;

    // struct kvm_run
    static final int RUN_IMMEDIATE_EXIT = 1;
    static final int RUN_EXIT_REASON = 8;
    static final int RUN_EXIT_UNION = 32;
    static final int RUN_IO_DIRECTION = 32;
    static final int RUN_IO_SIZE = 33;
    static final int RUN_IO_PORT = 34;
    static final int RUN_IO_COUNT = 36;
    static final int RUN_IO_DATA_OFFSET = 40;
    static final int RUN_INTERNAL_SUBERROR = 32;
    static final int RUN_INTERNAL_NDATA = 36;
    static final int RUN_INTERNAL_DATA = 40;
    static final int RUN_FAIL_ENTRY_REASON = 32;
    static final int RUN_MMIO_PHYS_ADDR = 32;

    static final int IO_OUT = 1;

    static final int EXIT_UNKNOWN = 0;
    static final int EXIT_EXCEPTION = 1;
    static final int EXIT_IO = 2;
    static final int EXIT_DEBUG = 4;
    static final int EXIT_HLT = 5;
    static final int EXIT_MMIO = 6;
    static final int EXIT_SHUTDOWN = 8;
    static final int EXIT_FAIL_ENTRY = 9;
    static final int EXIT_INTR = 10;
    static final int EXIT_INTERNAL_ERROR = 17;
    static final int EXIT_SYSTEM_EVENT = 24;

    static final int INTERNAL_ERROR_EMULATION = 1;
    static final int INTERNAL_ERROR_SIMUL_EX = 2;
    static final int INTERNAL_ERROR_DELIVERY_EV = 3;
    static final int INTERNAL_ERROR_UNEXPECTED_EXIT_REASON = 4;
    static final long EMULATION_FLAG_INSTRUCTION_BYTES = 1;

    static String exitName(int reason) {
        return switch (reason) {
            case EXIT_UNKNOWN -> "KVM_EXIT_UNKNOWN";
            case EXIT_EXCEPTION -> "KVM_EXIT_EXCEPTION";
            case EXIT_IO -> "KVM_EXIT_IO";
            case EXIT_DEBUG -> "KVM_EXIT_DEBUG";
            case EXIT_HLT -> "KVM_EXIT_HLT";
            case EXIT_MMIO -> "KVM_EXIT_MMIO";
            case EXIT_SHUTDOWN -> "KVM_EXIT_SHUTDOWN";
            case EXIT_FAIL_ENTRY -> "KVM_EXIT_FAIL_ENTRY";
            case EXIT_INTR -> "KVM_EXIT_INTR";
            case EXIT_INTERNAL_ERROR -> "KVM_EXIT_INTERNAL_ERROR";
            case EXIT_SYSTEM_EVENT -> "KVM_EXIT_SYSTEM_EVENT";
            default -> "exit reason " + reason;
        };
    }

    static String internalErrorName(int suberror) {
        return switch (suberror) {
            case INTERNAL_ERROR_EMULATION -> "emulation failure";
            case INTERNAL_ERROR_SIMUL_EX -> "exception while delivering an exception";
            case INTERNAL_ERROR_DELIVERY_EV -> "event delivery failure";
            case INTERNAL_ERROR_UNEXPECTED_EXIT_REASON -> "unexpected exit reason";
            default -> "suberror " + suberror;
        };
    }
}
