package io.qvirt.launcher.runtime;

import io.qvirt.kvmprobe.KvmCapability;
import io.qvirt.kvmprobe.ProbeCache;
import io.qvirt.kvmprobe.ProbeOptions;
import io.qvirt.kvmprobe.ProbeReport;
import io.qvirt.kvmprobe.Verdict;
import io.qvirt.launcher.plan.Accelerator;
import java.util.function.Supplier;

/**
 * KVM when kvm-probe says FULL; else TCG when emulation is allowed (KubeVirt's {@code useEmulation},
 * or {@code --accel auto}/{@code tcg} on one machine); else a clear failure naming the probe's reason.
 */
public final class AcceleratorChooser {
    private final Supplier<ProbeReport> probe;
    private volatile ProbeReport last;

    /** With kvm-probe's report for /dev/kvm, kept for this boot of the host ({@link ProbeCache}). */
    public AcceleratorChooser() {
        this(() -> ProbeCache.probe(ProbeOptions.defaults()));
    }

    /** With another probe source (tests, a cached report). */
    public AcceleratorChooser(Supplier<ProbeReport> probe) {
        this.probe = probe;
    }

    /**
     * @param mode           what the user asked for
     * @param allowEmulation whether TCG may be used when KVM is not FULL
     * @throws LauncherException (runtime failure) when KVM is required and not FULL
     */
    public Accelerator choose(AccelMode mode, boolean allowEmulation) {
        if (mode == AccelMode.TCG) {
            return new Accelerator(Accelerator.TCG, "tcg requested");
        }
        ProbeReport r = probe.get();
        last = r;
        if (r.verdict() == Verdict.FULL) {
            return new Accelerator(Accelerator.KVM, "kvm-probe: FULL");
        }
        String why = "kvm-probe: " + r.verdict() + " (" + r.reason() + ")";
        if (mode == AccelMode.KVM) {
            throw new LauncherException("KVM requested but not usable here: " + why);
        }
        if (!allowEmulation) {
            throw new LauncherException("KVM is not usable here and emulation is not allowed: " + why
                    + "; allow it with --accel auto or tcg (on a cluster: useEmulation)");
        }
        return new Accelerator(Accelerator.TCG, "emulation: " + why);
    }

    /**
     * KVM's limit of vCPUs per VM from the report {@link #choose} was decided by: {@code KVM_CAP_MAX_VCPUS},
     * else {@code KVM_CAP_NR_VCPUS}, else 4 (the kernel's KVM API document says to assume each in turn);
     * -1 if KVM was not probed or its API not reached.
     */
    public int kvmMaxVcpus() {
        return maxVcpus(last);
    }

    static int maxVcpus(ProbeReport r) {
        if (r == null || r.capabilities().isEmpty()) {
            return -1;
        }
        Integer max = r.capabilities().get(KvmCapability.MAX_VCPUS.name());
        if (max != null && max > 0) {
            return max;
        }
        Integer nr = r.capabilities().get(KvmCapability.NR_VCPUS.name());
        return nr != null && nr > 0 ? nr : 4;
    }
}
