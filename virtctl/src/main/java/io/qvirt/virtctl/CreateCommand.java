package io.qvirt.virtctl;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code virtctl create vm}: manifests printed, nothing sent. */
@Command(name = "create", description = "Create a manifest for the specified Kind.", mixinStandardHelpOptions = true,
        subcommands = CreateVmCommand.class)
final class CreateCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing kind: vm (see --help)");
    }
}
