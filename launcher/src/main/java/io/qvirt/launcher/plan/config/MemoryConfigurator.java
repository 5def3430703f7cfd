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
            // KubeVirt's VMI-create rule, at its path and in its words (a VM without memory is accepted and its VMI refused).
            ctx.refuse("domain.resources.requests.memory", "no memory requested, at least one of '"
                    + ctx.field("domain.memory.guest") + "', '" + ctx.field("domain.memory.hugepages.pageSize") + "' or '"
                    + ctx.field("domain.resources.requests.memory") + "' must be set");
            return;
        }
        if (d.getMemory() != null && d.getMemory().getHugepages() != null) {
            ctx.refuse("domain.memory.hugepages", "not supported by qvirt");
        }
        ctx.arg("-m", ((bytes + MIB - 1) / MIB) + "M");
    }
}
