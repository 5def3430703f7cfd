package io.qvirt.launcher.plan.config;

import io.qvirt.launcher.plan.InheritedFd;
import io.qvirt.launcher.plan.PlanContext;
import io.qvirt.launcher.plan.QemuConfigurator;
import io.qvirt.launcher.plan.QemuOpts;

/**
 * QMP monitors, on sockets qvirt made before QEMU starts (so nothing waits for a socket file): the
 * owner's private one (a connected socket-pair end) when there is an owner, and {@code qmp.sock}
 * (a listening socket) for any manager: the handler, or {@code launcher status|pause|...}.
 */
public final class MonitorConfigurator implements QemuConfigurator {
    @Override
    public void configure(PlanContext ctx) {
        if (ctx.options().ownerMonitor()) {
            int fd = ctx.inherit(InheritedFd.OWNER_QMP);
            ctx.arg("-chardev", QemuOpts.of("socket").put("id", "qmp-owner").put("fd", fd));
            ctx.arg("-mon", QemuOpts.keys().put("chardev", "qmp-owner").put("mode", "control"));
        }
        int fd = ctx.inherit(InheritedFd.MANAGER_QMP);
        ctx.arg("-chardev", QemuOpts.of("socket").put("id", "qmp").put("fd", fd).put("server", "on").put("wait", "off"));
        ctx.arg("-mon", QemuOpts.keys().put("chardev", "qmp").put("mode", "control"));
    }
}
