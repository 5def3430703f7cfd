package io.qvirt.launcher.plan.config;

import io.qvirt.api.Quantities;
import io.qvirt.api.model.DomainSpec;
import io.qvirt.launcher.plan.PlanContext;
import io.qvirt.launcher.plan.QemuConfigurator;

/**
 * Guest RAM: {@code domain.memory.guest}, else {@code domain.resources.requests.memory} (KubeVirt's
 * default), rounded up to whole MiB as QEMU allocates RAM in pages anyway (64M = 61.04 MiB -> 62M).
 */
public final class MemoryConfigurator implements QemuConfigurator {
    private static final long MIB = 1L << 20;

    /** The guest memory in bytes, or -1 if the spec names none. */
    public static long guestBytes(DomainSpec d) {
        if (d.getMemory() != null && d.getMemory().getGuest() != null) {
            return Quantities.value(Quantities.text(d.getMemory().getGuest()));
        }
        if (d.getResources() != null && d.getResources().getRequests() != null
                && d.getResources().getRequests().get("memory") != null) {
            return Quantities.value(Quantities.text(d.getResources().getRequests().get("memory")));
        }
        return -1;
    }

    @Override
    public void configure(PlanContext ctx) {
        DomainSpec d = ctx.spec().getDomain();
        long bytes = guestBytes(d);
        if (bytes <= 0) {
            ctx.refuse("domain.memory.guest", "no guest memory: set domain.memory.guest or domain.resources.requests.memory");
            return;
        }
        if (d.getMemory() != null && d.getMemory().getHugepages() != null) {
            ctx.refuse("domain.memory.hugepages", "not supported by qvirt");
        }
        ctx.arg("-m", ((bytes + MIB - 1) / MIB) + "M");
    }
}
