package io.qvirt.launcher.plan.config;

import io.qvirt.launcher.plan.PlanContext;
import io.qvirt.launcher.plan.QemuConfigurator;

/**
 * What every qvirt QEMU runs with: no default devices or config files, stay alive after the guest
 * stops (so a manager can read the state and reason, then {@code quit}), timestamps on QEMU's messages,
 * seccomp that forbids obsolete syscalls, privilege changes, spawning and resource control, no display,
 * and a guest panic that pauses (status {@code guest-panicked}) instead of vanishing.
 */
public final class HardeningConfigurator implements QemuConfigurator {
    @Override
    public void configure(PlanContext ctx) {
        if (ctx.options().startPaused()) {
            ctx.flag("-S");
        }
        ctx.flag("-nodefaults").flag("-no-user-config").flag("-no-shutdown");
        ctx.arg("-msg", "timestamp=on");
        ctx.arg("-sandbox", "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny");
        ctx.arg("-display", "none");
        ctx.arg("-action", "panic=pause");
    }
}
