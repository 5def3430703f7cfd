package io.qvirt.launcher.cli;

import io.qvirt.launcher.control.VmControl;
import io.qvirt.launcher.control.VmState;
import io.qvirt.launcher.runtime.LauncherInfo;
import picocli.CommandLine.Command;

@Command(name = "status", mixinStandardHelpOptions = true, description = "Prints the VM's state as QEMU reports it.")
final class StatusCommand extends VmCommand {
    @Override
    int onVm(VmControl ctl) {
        VmState s = ctl.state();
        LauncherInfo i = info();
        out().println("VM " + vm.display() + ": " + s.describe());
        if (i != null) {
            out().println("  qemu pid " + i.qemuPid() + ", started by " + i.mode()
                    + (i.launcherPid() != 0 ? " (launcher pid " + i.launcherPid() + ")" : "")
                    + ", accelerator " + i.accelerator() + " (" + i.acceleratorReason() + ")");
            if (i.ipAddress() != null) {
                out().println("  ipAddress " + i.ipAddress() + " (pod network, masquerade: reach the guest through the forwards)");
            }
            i.forwards().forEach(f -> out().println("  forward " + f));
        }
        out().println("  directory " + paths().dir());
        return ExitCodes.OK;
    }
}
