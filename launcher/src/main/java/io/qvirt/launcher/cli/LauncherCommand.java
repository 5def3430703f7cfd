package io.qvirt.launcher.cli;

import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code launcher}: one VM from YAML to a running QEMU, without a cluster. */
@Command(name = "launcher", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
        description = {"Runs one KubeVirt VM or VMI manifest with QEMU on this machine and controls running VMs.",
            "Exit codes: 0 ok, 1 runtime failure, 2 invalid input or usage."},
        subcommands = {RunCommand.class, ExecCommand.class, ValidateCommand.class, RenderCommand.class,
            ListCommand.class, StatusCommand.class, PauseCommand.class, UnpauseCommand.class, ShutdownCommand.class,
            KillCommand.class, ResetCommand.class, ConsoleCommand.class})
public final class LauncherCommand implements Runnable {
    @Option(names = "--debug", scope = CommandLine.ScopeType.INHERIT, description = "print stack traces of failures")
    boolean debug;

    @Option(names = "--log-format", scope = CommandLine.ScopeType.INHERIT, paramLabel = "text|json",
            description = "messages on stderr as plain text (default) or JSON lines")
    String logFormat = "text";

    boolean jsonLogs() {
        return "json".equals(logFormat);
    }

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing command: run, exec, validate, render, "
                + "list, status, pause, unpause, shutdown, kill, reset, console (see --help)");
    }

    /** A command line whose output goes to {@code out} and {@code err}, with qvirt's exit codes. */
    public static CommandLine create(PrintWriter out, PrintWriter err) {
        CommandLine cl = new CommandLine(new LauncherCommand());
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        cl.setOut(out);
        cl.setErr(err);
        cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            LauncherCommand root = commandLine.getCommandSpec().root().userObject() instanceof LauncherCommand l ? l : null;
            if (root != null && !"text".equals(root.logFormat) && !"json".equals(root.logFormat)) {
                err.println("error: --log-format: '" + root.logFormat + "' is not allowed: text, json");
                return ExitCodes.INVALID;
            }
            err.println("error: " + ExitCodes.message(ex));
            if (root != null && root.debug) {
                ex.printStackTrace(err);
            }
            err.flush();
            return ExitCodes.of(ex);
        });
        cl.setParameterExceptionHandler((ex, args) -> {
            err.println("error: " + ex.getMessage());
            err.println("see: launcher " + (ex.getCommandLine().getCommandName().equals("launcher") ? "" : ex.getCommandLine().getCommandName() + " ") + "--help");
            err.flush();
            return ExitCodes.INVALID;
        });
        return cl;
    }

    public static void main(String[] args) {
        PrintWriter out = new PrintWriter(System.out, true);
        PrintWriter err = new PrintWriter(System.err, true);
        int code = create(out, err).execute(args);
        out.flush();
        err.flush();
        System.exit(code);
    }
}
