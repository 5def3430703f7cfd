package io.qvirt.launcher.runtime;

import io.qvirt.launcher.plan.RuntimePaths;
import io.qvirt.launcher.plan.VmPlan;
import io.qvirt.launcher.process.Fd;
import java.util.List;

/**
 * A VM's directory made and its sockets open, QEMU not started yet.
 *
 * @param plan     the plan
 * @param childFds the fds QEMU inherits, in the plan's order (3, 4, ...)
 * @param ownerEnd this side of the owner's QMP socket pair, or null without an owner monitor
 */
public record PreparedVm(VmPlan plan, List<Fd> childFds, Fd ownerEnd) implements AutoCloseable {
    public RuntimePaths paths() {
        return plan.paths();
    }

    /** Closes this process's copies of the child's fds (after spawn, QEMU holds its own). */
    public void closeChildFds() {
        childFds.forEach(Fd::close);
    }

    @Override
    public void close() {
        closeChildFds();
        if (ownerEnd != null) {
            ownerEnd.close();
        }
    }
}
