package io.qvirt.kvmprobe;

import io.qvirt.kvmprobe.guest.SmokeGuests;
import jnr.ffi.Pointer;

import java.util.HexFormat;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Runs one smoke guest on a fresh VM with one vCPU through the raw KVM API, under a timeout: a watchdog
 * thread sets {@code kvm_run.immediate_exit} and signals the vCPU thread with SIGPIPE (which the JVM
 * handles by ignoring it) until {@code KVM_RUN} returns, so a guest that never exits becomes a
 * {@code timeout} result instead of a hang.
 */
final class SmokeRunner {
    static final long GUEST_MEMORY = 2L << 20; // 2 MiB: identity-mapped by the long-mode guest's 2 MiB page
    private static final int MAX_EXITS = 10_000;

    private final Native nat;
    private final int kvmFd;
    private final int vcpuMmapSize;
    private final Pointer cpuid; // struct kvm_cpuid2 from KVM_GET_SUPPORTED_CPUID, or null

    SmokeRunner(Native nat, int kvmFd, int vcpuMmapSize, Pointer cpuid) {
        this.nat = nat;
        this.kvmFd = kvmFd;
        this.vcpuMmapSize = vcpuMmapSize;
        this.cpuid = cpuid;
    }

    /** Mutable state of one run, turned into a {@link SmokeResult} at the end. */
    private static final class Run {
        int stage;
        int code = -1;
        long rip = -1;
        int exits;
    }

    SmokeResult run(String name, byte[] code, long timeoutMillis) {
        long t0 = System.nanoTime();
        Run st = new Run();
        int vmFd = -1;
        int vcpuFd = -1;
        Pointer mem = null;
        Pointer run = null;
        String outcome;
        String detail;
        try {
            vmFd = nat.ioctl(kvmFd, Kvm.CREATE_VM, 0, "KVM_CREATE_VM");
            mem = nat.mmap(GUEST_MEMORY, Native.PROT_READ | Native.PROT_WRITE,
                    Native.MAP_PRIVATE | Native.MAP_ANONYMOUS | Native.MAP_NORESERVE, -1, 0, "guest memory");
            mem.put(SmokeGuests.LOAD_ADDRESS, code, 0, code.length);
            Pointer region = nat.allocate(Kvm.SIZEOF_USERSPACE_MEMORY_REGION);
            region.putInt(0, 0); // slot
            region.putInt(4, 0); // flags
            region.putLong(8, 0); // guest_phys_addr
            region.putLong(16, GUEST_MEMORY); // memory_size
            region.putLong(24, mem.address()); // userspace_addr
            nat.ioctl(vmFd, Kvm.SET_USER_MEMORY_REGION, region, "KVM_SET_USER_MEMORY_REGION");
            vcpuFd = nat.ioctl(vmFd, Kvm.CREATE_VCPU, 0, "KVM_CREATE_VCPU");
            run = nat.mmap(vcpuMmapSize, Native.PROT_READ | Native.PROT_WRITE, Native.MAP_SHARED, vcpuFd, 0,
                    "kvm_run");
            if (cpuid != null) {
                nat.ioctl(vcpuFd, Kvm.SET_CPUID2, cpuid, "KVM_SET_CPUID2");
            }
            Pointer sregs = nat.allocate(Kvm.SIZEOF_SREGS);
            nat.ioctl(vcpuFd, Kvm.GET_SREGS, sregs, "KVM_GET_SREGS");
            for (int seg = 0; seg < 6; seg++) { // cs ds es fs gs ss: selector 0, base 0 (real mode)
                sregs.putLong(seg * Kvm.SIZEOF_SEGMENT + Kvm.SEG_BASE, 0);
                sregs.putShort(seg * Kvm.SIZEOF_SEGMENT + Kvm.SEG_SELECTOR, (short) 0);
            }
            nat.ioctl(vcpuFd, Kvm.SET_SREGS, sregs, "KVM_SET_SREGS");
            Pointer regs = nat.allocate(Kvm.SIZEOF_REGS);
            regs.putLong(Kvm.REGS_RIP, SmokeGuests.LOAD_ADDRESS);
            regs.putLong(Kvm.REGS_RSP, SmokeGuests.LOAD_ADDRESS);
            regs.putLong(Kvm.REGS_RDX, 0x80); // boot drive, as a BIOS passes it
            regs.putLong(Kvm.REGS_RFLAGS, 2);
            nat.ioctl(vcpuFd, Kvm.SET_REGS, regs, "KVM_SET_REGS");
        } catch (NativeException e) {
            cleanup(run, vcpuFd, vmFd, mem);
            return new SmokeResult(name, false, "setup-error", e.getMessage(), 0, stageName(0), -1, -1, 0,
                    ms(t0));
        }

        AtomicBoolean done = new AtomicBoolean();
        AtomicBoolean timedOut = new AtomicBoolean();
        final Pointer kvmRun = run;
        final long vcpuThread = nat.pthreadSelf();
        Thread watchdog = new Thread(() -> {
            long deadline = t0 + timeoutMillis * 1_000_000L;
            synchronized (done) {
                long left;
                while (!done.get() && (left = deadline - System.nanoTime()) > 0) {
                    try {
                        done.wait(Math.max(1, left / 1_000_000L));
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }
            if (done.get()) {
                return;
            }
            timedOut.set(true);
            while (!done.get()) { // repeat: a signal that lands just before KVM_RUN enters the guest is lost
                kvmRun.putByte(Kvm.RUN_IMMEDIATE_EXIT, (byte) 1);
                nat.pthreadKill(vcpuThread, Native.SIGPIPE);
                try {
                    Thread.sleep(2);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "kvm-probe-watchdog-" + name);
        watchdog.setDaemon(true);
        watchdog.start();
        try {
            String[] res = loop(vcpuFd, run, st, timedOut, timeoutMillis);
            outcome = res[0];
            detail = res[1];
        } finally {
            synchronized (done) {
                done.set(true);
                done.notifyAll();
            }
            try {
                watchdog.join(1000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            cleanup(run, vcpuFd, vmFd, mem);
        }
        return new SmokeResult(name, outcome.equals("passed"), outcome, detail, st.stage, stageName(st.stage),
                st.code, st.rip, st.exits, ms(t0));
    }

    private String[] loop(int vcpuFd, Pointer run, Run st, AtomicBoolean timedOut, long timeoutMillis) {
        while (true) {
            if (st.exits >= MAX_EXITS) {
                return new String[] {"unexpected-exit", "more than " + MAX_EXITS + " exits without a result"};
            }
            try {
                nat.ioctl(vcpuFd, Kvm.RUN, 0, "KVM_RUN");
            } catch (NativeException e) {
                if (e.is(jnr.constants.platform.Errno.EINTR) || e.is(jnr.constants.platform.Errno.EAGAIN)) {
                    if (timedOut.get()) {
                        readRip(vcpuFd, st);
                        return timeout(st, timeoutMillis);
                    }
                    continue; // a stray signal
                }
                return new String[] {"internal-error", e.getMessage()};
            }
            st.exits++;
            int reason = run.getInt(Kvm.RUN_EXIT_REASON);
            switch (reason) {
                case Kvm.EXIT_IO -> {
                    int dir = run.getByte(Kvm.RUN_IO_DIRECTION);
                    int port = run.getShort(Kvm.RUN_IO_PORT) & 0xffff;
                    long off = run.getLong(Kvm.RUN_IO_DATA_OFFSET);
                    if (dir == Kvm.IO_OUT) {
                        int value = run.getByte(off) & 0xff;
                        if (port == SmokeGuests.STAGE_PORT) {
                            st.stage = value;
                        } else if (port == SmokeGuests.RESULT_PORT) {
                            st.code = value;
                        }
                    } else {
                        int size = run.getByte(Kvm.RUN_IO_SIZE);
                        for (int i = 0; i < size; i++) {
                            run.putByte(off + i, (byte) 0xff);
                        }
                    }
                }
                case Kvm.EXIT_HLT -> {
                    readRip(vcpuFd, st);
                    if (st.code == SmokeGuests.SUCCESS) {
                        return new String[] {"passed", "guest reported success and halted"};
                    }
                    if (st.code < 0) {
                        return new String[] {"guest-failure", "guest halted without reporting a result"};
                    }
                    return new String[] {"guest-failure", String.format("guest check failed: code 0x%02x, %s",
                            st.code, SmokeGuests.describeCode(st.code))};
                }
                case Kvm.EXIT_INTR -> {
                    if (timedOut.get()) {
                        readRip(vcpuFd, st);
                        return timeout(st, timeoutMillis);
                    }
                }
                case Kvm.EXIT_INTERNAL_ERROR -> {
                    readRip(vcpuFd, st);
                    int sub = run.getInt(Kvm.RUN_INTERNAL_SUBERROR);
                    String what = "KVM internal error, " + Kvm.internalErrorName(sub) + " (suberror " + sub + ")";
                    String insn = sub == Kvm.INTERNAL_ERROR_EMULATION ? instructionBytes(run) : "";
                    return new String[] {sub == Kvm.INTERNAL_ERROR_EMULATION ? "emulation-failure" : "internal-error",
                            what + at(st) + insn};
                }
                case Kvm.EXIT_FAIL_ENTRY -> {
                    long hw = run.getLong(Kvm.RUN_FAIL_ENTRY_REASON);
                    return new String[] {"fail-entry",
                            String.format("KVM_EXIT_FAIL_ENTRY: hardware entry failure reason 0x%x", hw) + at(st)};
                }
                case Kvm.EXIT_SHUTDOWN -> {
                    readRip(vcpuFd, st);
                    return new String[] {"shutdown", "KVM_EXIT_SHUTDOWN (triple fault)" + at(st)};
                }
                case Kvm.EXIT_MMIO -> {
                    readRip(vcpuFd, st);
                    return new String[] {"mmio", String.format("KVM_EXIT_MMIO: access to unmapped address 0x%x",
                            run.getLong(Kvm.RUN_MMIO_PHYS_ADDR)) + at(st)};
                }
                default -> {
                    readRip(vcpuFd, st);
                    return new String[] {"unexpected-exit", Kvm.exitName(reason) + at(st)};
                }
            }
        }
    }

    private static String[] timeout(Run st, long timeoutMillis) {
        return new String[] {"timeout", "guest did not finish within " + timeoutMillis + " ms" + at(st)};
    }

    private static String at(Run st) {
        StringBuilder sb = new StringBuilder();
        if (st.stage > 0) {
            sb.append(" in stage ").append(st.stage).append(" (").append(stageName(st.stage)).append(')');
        }
        if (st.rip >= 0) {
            sb.append(String.format(" at RIP 0x%x", st.rip));
        }
        return sb.toString();
    }

    /** Instruction bytes KVM attaches to an emulation failure (KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES). */
    private static String instructionBytes(Pointer run) {
        int ndata = run.getInt(Kvm.RUN_INTERNAL_NDATA);
        if (ndata < 2) {
            return "";
        }
        long flags = run.getLong(Kvm.RUN_INTERNAL_DATA);
        if ((flags & Kvm.EMULATION_FLAG_INSTRUCTION_BYTES) == 0) {
            return "";
        }
        int size = Math.min(run.getByte(Kvm.RUN_INTERNAL_DATA + 8) & 0xff, 15);
        byte[] insn = new byte[Math.min(size, 8)];
        run.get(Kvm.RUN_INTERNAL_DATA + 9, insn, 0, insn.length);
        return insn.length == 0 ? "" : ", instruction bytes " + HexFormat.ofDelimiter(" ").formatHex(insn);
    }

    private void readRip(int vcpuFd, Run st) {
        try {
            Pointer regs = nat.allocate(Kvm.SIZEOF_REGS);
            nat.ioctl(vcpuFd, Kvm.GET_REGS, regs, "KVM_GET_REGS");
            st.rip = regs.getLong(Kvm.REGS_RIP);
        } catch (NativeException e) {
            st.rip = -1;
        }
    }

    static String stageName(int stage) {
        return stage >= 0 && stage < SmokeGuests.STAGES.size() ? SmokeGuests.STAGES.get(stage) : "stage " + stage;
    }

    private void cleanup(Pointer run, int vcpuFd, int vmFd, Pointer mem) {
        nat.munmapQuietly(run);
        nat.closeQuietly(vcpuFd);
        nat.closeQuietly(vmFd);
        nat.munmapQuietly(mem);
    }

    private static double ms(long t0) {
        return (System.nanoTime() - t0) / 1e6;
    }
}
