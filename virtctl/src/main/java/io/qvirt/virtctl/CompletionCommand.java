package io.qvirt.virtctl;

import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * {@code virtctl completion bash|zsh}: the shell completion script: picocli's (verbs and flags; zsh through
 * bashcompinit), wrapped so that a VM or VMI name is completed from the API server ({@link CompleteCommand}).
 */
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
        String program = name.replace(' ', '-');
        String script = AutoComplete.bash(program, top) + names(program);
        switch (shell) {
            case "bash" -> out().print(script);
            case "zsh" -> out().print("#compdef " + name + "\nautoload -U +X compinit && compinit\n"
                    + "autoload -U +X bashcompinit && bashcompinit\n" + script);
            default -> throw new VirtctlException.Usage("unsupported shell \"" + shell + "\": bash or zsh");
        }
        out().flush();
        return ExitCodes.OK;
    }

    /**
     * The wrapper: asks {@code PROGRAM __complete -- WORDS} (the words up to the cursor, so the same kubeconfig,
     * context and namespace) for names and offers them when there are any; otherwise picocli's function. It replaces
     * the {@code complete} registration picocli's script made.
     */
    static String names(String program) {
        String fn = "_complete_" + program.replace('-', '_') + "_names";
        return """

                # VM and VMI names from the API server: `%1$s __complete -- WORDS` prints those that fit the word being
                # completed when it is a VM or VMI name (same --kubeconfig, --context, --namespace); else verbs and flags.
                function %2$s() {
                  local names
                  names=$("${COMP_WORDS[@]:0:1}" %3$s -- "${COMP_WORDS[@]:1:$COMP_CWORD}" 2>/dev/null)
                  if [[ -n "$names" ]]; then
                    local IFS=$'\n'  # only here: picocli's function below splits its words on blanks
                    COMPREPLY=( $names )
                    return 0
                  fi
                  _complete_%4$s "$@"
                }
                complete -F %2$s -o default %1$s
                """.formatted(program, fn, CompleteCommand.NAME, program);
    }
}
