package io.qvirt.virtctl;

import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code virtctl completion bash|zsh}: the shell completion script (picocli's, bash; zsh through bashcompinit). */
@Command(name = "completion", mixinStandardHelpOptions = true,
        description = {"Print the shell completion script for bash or zsh.",
            "  source <(virtctl completion bash)", "  source <(virtctl completion zsh)"})
final class CompletionCommand extends BaseCommand {
    @Parameters(index = "0", paramLabel = "SHELL", description = "bash or zsh")
    String shell;

    @Override
    int doCall() throws VirtctlException {
        CommandLine top = spec.root().commandLine();
        String name = top.getCommandName();
        String script = AutoComplete.bash(name.replace(' ', '-'), top);
        switch (shell) {
            case "bash" -> out().print(script);
            case "zsh" -> out().print("#compdef " + name + "\nautoload -U +X compinit && compinit\n"
                    + "autoload -U +X bashcompinit && bashcompinit\n" + script);
            default -> throw new VirtctlException.Usage("unsupported shell \"" + shell + "\": bash or zsh");
        }
        out().flush();
        return ExitCodes.OK;
    }
}
