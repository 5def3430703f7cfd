package io.qvirt.launcher.plan.config;

import io.qvirt.launcher.plan.PlanContext;
import io.qvirt.launcher.plan.QemuConfigurator;
import io.qvirt.launcher.plan.QemuOpts;

/** {@code -name guest=<namespace>_<name>}: what ps, logs and QEMU's own messages show. */
public final class NamesConfigurator implements QemuConfigurator {
    @Override
    public void configure(PlanContext ctx) {
        String ns = ctx.vmi().getMetadata().getNamespace();
        String name = ctx.vmi().getMetadata().getName();
        ctx.arg("-name", QemuOpts.keys().put("guest", ns + "_" + name).put("debug-threads", "on"));
    }
}
