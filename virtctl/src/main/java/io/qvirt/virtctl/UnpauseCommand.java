package io.qvirt.virtctl;

import picocli.CommandLine.Command;

/** {@code virtctl unpause vm|vmi NAME}: {@code PUT .../virtualmachineinstances/NAME/unpause} with {@code UnpauseOptions}. */
@Command(name = "unpause", description = {"Unpause a virtual machine.",
    "TYPE: vm (virtualmachine) or vmi (virtualmachineinstance), case insensitive, singular or plural."},
        mixinStandardHelpOptions = true,
        footer = {"", "Example:", "  # Unpause a virtualmachine called 'myvm':", "  virtctl unpause vm myvm"})
final class UnpauseCommand extends PauseCommand {
    @Override
    String verb() {
        return "unpause";
    }

    @Override
    String doing() {
        return "unpausing";
    }
}
