package io.qvirt.virtctl;

import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code virtctl restart VM}: {@code PUT .../virtualmachines/VM/restart} with KubeVirt's {@code RestartOptions}. */
@Command(name = "restart", description = "Restart a virtual machine.", mixinStandardHelpOptions = true,
        footer = {"", "Example:", "  # Restart a virtual machine called 'myvm':", "  virtctl restart myvm"})
final class RestartCommand extends BaseCommand {
    @Parameters(index = "0", paramLabel = "VM", description = "the VirtualMachine")
    String name;

    @Option(names = "--grace-period", paramLabel = "SECONDS",
            description = "Period of time in seconds given to the VMI to terminate gracefully. Can only be set to 0 when --force is true (force deletion).")
    Long gracePeriod;

    @Option(names = "--force", arity = "0..1",
            description = "Only used when grace-period=0. If true, immediately remove VMI pod from API and bypass graceful deletion.")
    boolean force;

    @Option(names = "--dry-run", arity = "0..1", description = "If true, the command is executed without performing any changes.")
    boolean dryRun;

    @Override
    int doCall() throws VirtctlException {
        if ((gracePeriod != null) != force) {
            throw new VirtctlException.Usage("Must both use --force=true and set --grace-period.");
        }
        if (dryRun) {
            out().println("Dry Run execution");
        }
        ObjectNode options = Resources.options(dryRun);
        if (force) {
            options.put("gracePeriodSeconds", gracePeriod);
        }
        try (Cluster c = cluster()) {
            c.subresource(Resources.VMS, name, "restart", options, Resources.VM);
        } catch (VirtctlException.Api e) {
            throw e.prefixed(force ? "error force restarting VirtualMachine: " : "error restarting VirtualMachine: ");
        }
        out().printf("VM %s was scheduled to restart%n", name);
        return ExitCodes.OK;
    }
}
