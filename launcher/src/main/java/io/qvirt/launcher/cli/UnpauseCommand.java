package io.qvirt.launcher.cli;

import io.qvirt.launcher.control.VmControl;
import picocli.CommandLine.Command;

@Command(name = "unpause", mixinStandardHelpOptions = true,
        description = "Resumes a paused guest, or starts one that QEMU holds before its first instruction (-S).")
final class UnpauseCommand extends VmCommand {
    @Override
    int onVm(VmControl ctl) {
        out().println("VM " + vm.display() + ": " + ctl.unpause().describe());
        return ExitCodes.OK;
    }
}
