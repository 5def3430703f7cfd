package io.qvirt.virtctl;

import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code virtctl reset VMI}: {@code PUT .../virtualmachineinstances/VMI/reset}, no body (as KubeVirt's client). */
@Command(name = "reset", description = "Reset a virtual machine instance.", mixinStandardHelpOptions = true,
        footer = {"", "Example:", "  # Reset a virtualmachineinstance called 'myvmi':", "  virtctl reset myvmi"})
final class ResetCommand extends BaseCommand {
    @Parameters(index = "0", paramLabel = "VMI", description = "the VirtualMachineInstance")
    String name;

    @Override
    int doCall() throws VirtctlException {
        try (Cluster c = cluster()) {
            c.subresource(Resources.VMIS, name, "reset", null, Resources.VMI);
        } catch (VirtctlException.Api e) {
            throw e.prefixed("Error resetting VirtualMachineInstance " + name + ": ");
        }
        out().printf("VMI %s was scheduled to reset%n", name);
        return ExitCodes.OK;
    }
}
