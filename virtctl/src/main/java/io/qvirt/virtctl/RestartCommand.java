package io.qvirt.virtctl;

import picocli.CommandLine.Command;

/** {@code virtctl restart VM}: {@code PUT .../virtualmachines/VM/restart} with KubeVirt's {@code RestartOptions}. */
@Command(name = "restart", description = "Restart a virtual machine.", mixinStandardHelpOptions = true,
        footer = {"", "Example:", "  # Restart a virtual machine called 'myvm':", "  virtctl restart myvm"})
final class RestartCommand extends ForcibleVmCommand {
    @Override
    String verb() {
        return "restart";
    }

    @Override
    String gracePeriodField() {
        return "gracePeriodSeconds";
    }

    @Override
    String errorPrefix(boolean forced) {
        return forced ? "error force restarting VirtualMachine: " : "error restarting VirtualMachine: ";
    }
}
