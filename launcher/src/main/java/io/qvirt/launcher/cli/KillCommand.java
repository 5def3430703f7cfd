package io.qvirt.launcher.cli;

import io.qvirt.launcher.control.VmControl;
import picocli.CommandLine.Command;

@Command(name = "kill", mixinStandardHelpOptions = true,
        description = "Stops QEMU at once: QMP quit, then SIGKILL if it does not go within 5 s.")
final class KillCommand extends VmCommand {
    @Override
    int onVm(VmControl ctl) {
        ctl.quitOrKill(killer());
        out().println("VM " + vm.display() + ": killed");
        cleanupIfUnowned();
        return ExitCodes.OK;
    }
}
