package io.qvirt.launcher.cli;

import io.qvirt.launcher.control.VmControl;
import picocli.CommandLine.Command;

@Command(name = "reset", mixinStandardHelpOptions = true, description = "Resets the guest (the reset button).")
final class ResetCommand extends VmCommand {
    @Override
    int onVm(VmControl ctl) {
        ctl.reset();
        out().println("VM " + vm.display() + ": reset; " + ctl.state().describe());
        return ExitCodes.OK;
    }
}
