package io.qvirt.virtctl;

import picocli.CommandLine.Command;

/** {@code virtctl stop VM}: {@code PUT .../virtualmachines/VM/stop} with KubeVirt's {@code StopOptions}. */
@Command(name = "stop", description = "Stop a virtual machine.", mixinStandardHelpOptions = true,
        footer = {"", "Example:", "  # Stop a virtual machine called 'myvm':", "  virtctl stop myvm"})
final class StopCommand extends ForcibleVmCommand {
    @Override
    String verb() {
        return "stop";
    }

    @Override
    String gracePeriodField() {
        return "gracePeriod";
    }

    @Override
    String errorPrefix(boolean forced) {
        // KubeVirt's own wording, missing colon included.
        return forced ? "error force stopping VirtualMachine: " : "error stopping VirtualMachine ";
    }
}
