package io.qvirt.launcher.plan.config;

import io.qvirt.launcher.plan.InheritedFd;
import io.qvirt.launcher.plan.PlanContext;
import io.qvirt.launcher.plan.QemuConfigurator;
import io.qvirt.launcher.plan.QemuOpts;

/**
 * The serial console (ttyS0), unless {@code autoattachSerialConsole: false}: a listening socket at
 * {@code console.sock} (one client at a time, as QEMU serves a socket chardev) whose output QEMU also
 * appends to {@code console.log}.
 */
public final class SerialConsoleConfigurator implements QemuConfigurator {
    @Override
    public void configure(PlanContext ctx) {
        var dev = ctx.spec().getDomain().getDevices();
        if (dev != null && Boolean.FALSE.equals(dev.getAutoattachSerialConsole())) {
            return;
        }
        int fd = ctx.inherit(InheritedFd.CONSOLE);
        ctx.arg("-chardev", QemuOpts.of("socket").put("id", "serial0").put("fd", fd).put("server", "on")
                .put("wait", "off").put("logfile", ctx.paths().consoleLog().toString()).put("logappend", "on"));
        ctx.arg("-serial", "chardev:serial0");
    }
}
