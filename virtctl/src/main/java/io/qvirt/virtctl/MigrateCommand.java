package io.qvirt.virtctl;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code virtctl migrate VM}: {@code PUT .../virtualmachines/VM/migrate} with KubeVirt's {@code MigrateOptions}. */
@Command(name = "migrate", description = {"Migrate a virtual machine.",
    "virt-api creates a VirtualMachineInstanceMigration; the controller starts a target launcher pod on another",
    "node and the two nodes' handlers move the running guest (follow it with",
    "`kubectl get virtualmachineinstancemigrations`; `virtctl migrate-cancel` stops it)."}, mixinStandardHelpOptions = true,
        footer = {"", "Example:", "  # Migrate a virtual machine called 'myvm':", "  virtctl migrate myvm"})
final class MigrateCommand extends BaseCommand {
    @Parameters(index = "0", paramLabel = "VM", description = "the VirtualMachine")
    String name;

    @Option(names = "--addedNodeSelector", split = ",", paramLabel = "KEY=VALUE",
            description = "An additional node selector for this one migration attempt (key=value1,key2=value2).")
    Map<String, String> addedNodeSelector;

    @Option(names = "--dry-run", arity = "0..1", description = "If true, the command is executed without performing any changes.")
    boolean dryRun;

    @Override
    int doCall() throws VirtctlException {
        if (dryRun) {
            out().println("Dry Run execution");
        }
        ObjectNode options = Resources.options(dryRun);
        if (addedNodeSelector != null && !addedNodeSelector.isEmpty()) {
            ObjectNode sel = options.putObject("addedNodeSelector");
            addedNodeSelector.forEach(sel::put);
        }
        try (Cluster c = cluster()) {
            c.subresource(Resources.VMS, name, "migrate", options, Resources.VM);
        } catch (VirtctlException.Api e) {
            throw e.prefixed("Error migrating VirtualMachine ");
        }
        out().printf("VM %s was scheduled to migrate%n", name);
        return ExitCodes.OK;
    }
}
