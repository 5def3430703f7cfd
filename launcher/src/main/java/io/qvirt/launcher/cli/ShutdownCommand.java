package io.qvirt.launcher.cli;

import io.qvirt.launcher.control.ShutdownOutcome;
import io.qvirt.launcher.control.VmControl;
import java.time.Duration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "shutdown", mixinStandardHelpOptions = true,
        description = {"Graceful shutdown: the ACPI power button, then up to the grace period for the guest to",
            "power off, then quit, then SIGKILL."})
final class ShutdownCommand extends VmCommand {
    @Option(names = "--grace", paramLabel = "SECONDS", description = "grace period (default 30)")
    long graceSeconds = 30;

    @Override
    int onVm(VmControl ctl) {
        if (graceSeconds < 0) {
            throw new IllegalArgumentException("--grace: must be >= 0 seconds");
        }
        ShutdownOutcome o = ctl.shutdown(Duration.ofSeconds(graceSeconds), killer());
        out().println("VM " + vm.display() + ": " + o.how() + " (" + o.detail() + ")");
        cleanupIfUnowned();
        return ExitCodes.OK;
    }
}
