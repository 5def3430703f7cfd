package io.qvirt.launcher.cli;

import java.io.PrintWriter;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code launcher}: one VM from YAML to a running QEMU, without a cluster.
 *
 * <p>The subcommands are listed in {@link #SUBCOMMANDS} rather than in {@code @Command(subcommands = ...)}:
 * picocli reads every registered command's annotations when the command line is built (a third of
 * `validate`'s CPU here), so {@link #main} registers only the one its command line names.
 */
@Command(name = "launcher", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
        description = {"Runs one KubeVirt VM or VMI manifest with QEMU on this machine and controls running VMs.",
            "Exit codes: 0 ok, 1 runtime failure, 2 invalid input or usage."})
public final class LauncherCommand implements Runnable {
    /** Every subcommand, in the order {@code --help} lists them. */
    static final List<Class<?>> SUBCOMMANDS = List.of(RunCommand.class, ExecCommand.class, ValidateCommand.class,
            RenderCommand.class, ListCommand.class, StatusCommand.class, PauseCommand.class, UnpauseCommand.class,
            ShutdownCommand.class, KillCommand.class, ResetCommand.class, ConsoleCommand.class, MigrateCommand.class);

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
                + "list, status, pause, unpause, shutdown, kill, reset, console, migrate (see --help)");
    }

    /** A command line with every subcommand, whose output goes to {@code out} and {@code err}, with qvirt's exit codes. */
    public static CommandLine create(PrintWriter out, PrintWriter err) {
        return create(out, err, null);
    }

    /**
     * As {@link #create(PrintWriter, PrintWriter)}, for executing {@code args} only: when {@code args} name a
     * subcommand after nothing but the root's own options, only that subcommand is registered (picocli would
     * dispatch to it anyway); otherwise, or with {@code args} null, all are (usage, errors, suggestions).
     */
    public static CommandLine create(PrintWriter out, PrintWriter err, String[] args) {
        CommandLine cl = new CommandLine(new LauncherCommand());
        Class<?> only = args == null ? null : namedSubcommand(args);
        for (Class<?> c : SUBCOMMANDS) {
            if (only == null || only == c) {
                cl.addSubcommand(c);
            }
        }
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
        cl.setParameterExceptionHandler((ex, badArgs) -> {
            err.println("error: " + ex.getMessage());
            err.println("see: launcher " + (ex.getCommandLine().getCommandName().equals("launcher") ? "" : ex.getCommandLine().getCommandName() + " ") + "--help");
            err.flush();
            return ExitCodes.INVALID;
        });
        return cl;
    }

    /**
     * The subcommand {@code args} run: its name is the first argument, after only {@code --debug} and
     * {@code --log-format[=]VALUE}; null if there is none such (then the root command handles the line).
     */
    static Class<?> namedSubcommand(String[] args) {
        String name = commandWord(args);
        for (Class<?> c : SUBCOMMANDS) {
            if (name != null && c.getAnnotation(Command.class).name().equals(name)) {
                return c;
            }
        }
        return null;
    }

    /** The first argument after only {@code --debug} and {@code --log-format[=]VALUE}, or null. */
    static String commandWord(String[] args) {
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--debug") || a.startsWith("--log-format=")) {
                continue;
            }
            if (a.equals("--log-format")) {
                i++;
                continue;
            }
            return a;
        }
        return null;
    }

    /** The subcommands that read a manifest first thing (see {@link ManifestWarmUp}). */
    private static final List<String> READ_A_MANIFEST = List.of("run", "exec", "validate", "render");

    /**
     * Lookups that find nothing read every jar of the class path (63 here, ~70 ms of CPU the first time):
     * picocli looks for Groovy's Closure class unless told not to, and SLF4J (fabric8's model logs through it)
     * searches every jar for providers unless one is named (slf4j-nop: the CLI prints its own messages).
     */
    static void avoidClassPathScans() {
        System.setProperty("picocli.disable.closures", "true");
        if (System.getProperty("slf4j.provider") == null) {
            System.setProperty("slf4j.provider", "org.slf4j.nop.NOPServiceProvider");
            // Else SLF4J says on stderr, at its INFO level, that it loads the provider named.
            System.setProperty("slf4j.internal.verbosity", "WARN");
        }
    }

    public static void main(String[] args) {
        avoidClassPathScans();
        // Before picocli loads: by name, as picocli would dispatch (ManifestWarmUp only prepares caches).
        if (READ_A_MANIFEST.contains(commandWord(args))) {
            ManifestWarmUp.start();
        }
        PrintWriter out = new PrintWriter(System.out, true);
        PrintWriter err = new PrintWriter(System.err, true);
        int code = create(out, err, args).execute(args);
        out.flush();
        err.flush();
        if ("migrate".equals(commandWord(args))) {
            // A migrated VM's target QEMU outlives this command, and the thread that started it waits for it in
            // waitpid: System.exit would wait up to 300 ms for that native call (HotSpot's exit protocol). Nothing
            // is left to run at exit (the launcher registers no shutdown hook; its output is flushed above).
            Runtime.getRuntime().halt(code);
        }
        System.exit(code);
    }
}
