package io.qvirt.launcher.cli;

import io.qvirt.launcher.control.VmControl;
import picocli.CommandLine.Command;

@Command(name = "pause", mixinStandardHelpOptions = true, description = "Pauses the guest's CPUs.")
final class PauseCommand extends VmCommand {
    @Override
    int onVm(VmControl ctl) {
        out().println("VM " + vm.display() + ": " + ctl.pause().describe());
        return ExitCodes.OK;
    }
}
