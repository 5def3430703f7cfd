package io.qvirt.virtctl;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code virtctl pause vm|vmi NAME} and {@code unpause}: {@code PUT .../virtualmachineinstances/NAME/pause} with
 * {@code PauseOptions}; for {@code vm} the VM is read first, so a VM that is not set to run says so.
 */
@Command(name = "pause", description = {"Pause a virtual machine.",
    "Pauses a virtual machine by freezing it. Machine state is kept in memory.",
    "TYPE: vm (virtualmachine) or vmi (virtualmachineinstance), case insensitive, singular or plural."},
        mixinStandardHelpOptions = true,
        footer = {"", "Example:", "  # Pause a virtualmachine called 'myvm':", "  virtctl pause vm myvm"})
class PauseCommand extends BaseCommand {
    @Parameters(index = "0", paramLabel = "TYPE", description = "vm or vmi")
    String type;

    @Parameters(index = "1", paramLabel = "NAME", description = "the VirtualMachine or VirtualMachineInstance")
    String name;

    @Option(names = "--dry-run", arity = "0..1", description = "If true, the command is executed without performing any changes.")
    boolean dryRun;

    String verb() {
        return "pause";
    }

    String doing() {
        return "pausing";
    }

    @Override
    int doCall() throws VirtctlException {
        boolean vm = Resources.isVm(type, verb());
        if (dryRun) {
            out().println("Dry Run execution");
        }
        try (Cluster c = cluster()) {
            JsonNode vmObject = null;
            if (vm) {
                try {
                    vmObject = c.get(Resources.vmPath(c.namespace(), name), Resources.VM, name);
                } catch (VirtctlException.Api e) {
                    throw e.prefixed("Error getting VirtualMachine " + name + ": ");
                }
            }
            try {
                c.subresource(Resources.VMIS, name, verb(), Resources.options(dryRun), Resources.VMI);
            } catch (VirtctlException.Api e) {
                if (vmObject != null && e.code == 404 && "pause".equals(verb())) {
                    if ("Halted".equals(Resources.runStrategy(vmObject))) {
                        throw new VirtctlException.Api(404, "Error pausing VirtualMachineInstance " + name
                                + ". VirtualMachine " + name + " is not set to run");
                    }
                    throw new VirtctlException.Api(404, "Error pausing VirtualMachineInstance " + name + ", it was not found");
                }
                throw e.prefixed("Error " + doing() + " VirtualMachineInstance " + name + ": ");
            }
        }
        out().printf("VMI %s was scheduled to %s%n", name, verb());
        return ExitCodes.OK;
    }
}
