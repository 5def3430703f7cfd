package io.qvirt.launcher.plan.config;

import io.qvirt.launcher.plan.PlanContext;
import io.qvirt.launcher.plan.QemuConfigurator;

/** A pvpanic device, so a guest kernel panic reaches QEMU (GUEST_PANICKED) and the VMI fails with it. */
public final class PvpanicConfigurator implements QemuConfigurator {
    @Override
    public void configure(PlanContext ctx) {
        ctx.arg("-device", "pvpanic");
    }
}
