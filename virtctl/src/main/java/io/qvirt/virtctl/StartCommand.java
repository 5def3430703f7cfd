package io.qvirt.virtctl;

import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code virtctl start VM}: {@code PUT .../virtualmachines/VM/start} with KubeVirt's {@code StartOptions}. */
@Command(name = "start", description = "Start a virtual machine.", mixinStandardHelpOptions = true,
        footer = {"", "Example:", "  # Start a virtual machine called 'myvm':", "  virtctl start myvm"})
final class StartCommand extends BaseCommand {
    @Parameters(index = "0", paramLabel = "VM", description = "the VirtualMachine")
    String name;

    @Option(names = "--paused", arity = "0..1", description = "If set to true, start virtual machine in paused state.")
    boolean paused;

    @Option(names = "--dry-run", arity = "0..1", description = "If true, the command is executed without performing any changes.")
    boolean dryRun;

    @Override
    int doCall() throws VirtctlException {
        if (dryRun) {
            out().println("Dry Run execution");
        }
        ObjectNode options = Resources.options(dryRun);
        if (paused) {
            options.put("paused", true);
        }
        try (Cluster c = cluster()) {
            c.subresource(Resources.VMS, name, "start", options, Resources.VM);
        } catch (VirtctlException.Api e) {
            throw e.prefixed("Error starting VirtualMachine ");
        }
        out().printf("VM %s was scheduled to start%n", name);
        return ExitCodes.OK;
    }
}
