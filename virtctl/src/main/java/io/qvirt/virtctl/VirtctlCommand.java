package io.qvirt.virtctl;

import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code virtctl}: KubeVirt's CLI. Every call goes to the API server named by the kubeconfig (the
 * {@code subresources.kubevirt.io} group for start, stop, restart, pause, unpause, reset, console, port-forward (and
 * ssh through it), migrate), never to a node or a socket.
 */
@Command(name = "virtctl", mixinStandardHelpOptions = true, versionProvider = VersionCommand.Provider.class,
        description = {"virtctl controls virtual machine related operations on your kubernetes cluster.",
            "Exit codes: 0 ok, 1 runtime failure, 2 invalid input or usage."})
public final class VirtctlCommand implements Runnable {
    /** Environment variable naming the program in help and completion ({@code kubectl virt} as a kubectl plugin). */
    static final String PROGRAM_NAME_ENV = "QVIRT_VIRTCTL_NAME";

    /** Every verb, in the order help lists them (a holder: read only when a command line is made). */
    static final class Verbs {
        static final java.util.Map<String, Class<?>> ALL = verbs();
    }

    /** Options of the root that take a value as the next argument (to find the verb without parsing). */
    static final java.util.Set<String> VALUE_OPTIONS = java.util.Set.of("--kubeconfig", "--context", "-n", "--namespace",
            "--request-timeout");

    private static java.util.Map<String, Class<?>> verbs() {
        java.util.Map<String, Class<?>> m = new java.util.LinkedHashMap<>();
        for (Class<?> c : java.util.List.of(StartCommand.class, StopCommand.class, RestartCommand.class, PauseCommand.class,
                UnpauseCommand.class, ResetCommand.class, ConsoleCommand.class, PortForwardCommand.class, SshCommand.class,
                MigrateCommand.class, MigrateCancelCommand.class, ExposeCommand.class,
                CreateCommand.class, VersionCommand.class, GuestOsInfoCommand.class, CompletionCommand.class,
                CompleteCommand.class)) {
            m.put(c.getAnnotation(Command.class).name(), c);
        }
        return java.util.Collections.unmodifiableMap(m);
    }

    @Option(names = "--kubeconfig", scope = CommandLine.ScopeType.INHERIT, paramLabel = "FILE",
            description = "Path to the kubeconfig file to use for CLI requests (default $KUBECONFIG, then ~/.kube/config, then the in-cluster config).")
    String kubeconfig;

    @Option(names = "--context", scope = CommandLine.ScopeType.INHERIT, paramLabel = "NAME",
            description = "The name of the kubeconfig context to use.")
    String context;

    @Option(names = {"-n", "--namespace"}, scope = CommandLine.ScopeType.INHERIT, paramLabel = "NAMESPACE",
            description = "If present, the namespace scope for this CLI request (default: the context's).")
    String namespace;

    @Option(names = "--request-timeout", scope = CommandLine.ScopeType.INHERIT, paramLabel = "SECONDS",
            description = "How long to wait for the API server to answer one request (default ${DEFAULT-VALUE} s; connecting: at most 5 s).",
            defaultValue = "10")
    int requestTimeoutSeconds = 10;

    @Option(names = "--debug", scope = CommandLine.ScopeType.INHERIT, description = "Print stack traces of failures.")
    boolean debug;

    Io io;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing command (see --help)");
    }

    Duration requestTimeout() {
        return Duration.ofSeconds(Math.max(1, requestTimeoutSeconds));
    }

    /** A command line reading and writing {@code io}, with qvirt's exit codes and every verb. */
    public static CommandLine create(Io io) {
        return create(io, Verbs.ALL.values());
    }

    /**
     * As {@link #create(Io)} with only the verb {@code args} name, when they name one (and it is not
     * {@code completion} or {@code __complete}, which read them all): picocli reads the annotations of every command it is given, so a
     * short command does not pay for the twelve others (start-up). Help, no verb or an unknown one: all verbs.
     */
    public static CommandLine createFor(Io io, String... args) {
        String verb = null;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--")) {
                break;
            }
            if (a.startsWith("-")) {
                if (VALUE_OPTIONS.contains(a)) {
                    i++;
                }
                continue;
            }
            verb = a;
            break;
        }
        Class<?> only = verb == null || verb.equals("completion") || verb.equals(CompleteCommand.NAME) ? null : Verbs.ALL.get(verb);
        return create(io, only == null ? Verbs.ALL.values() : java.util.List.of(only));
    }

    private static CommandLine create(Io io, java.util.Collection<Class<?>> verbs) {
        VirtctlCommand root = new VirtctlCommand();
        root.io = io;
        CommandLine cl = new CommandLine(root);
        for (Class<?> verb : verbs) {
            cl.addSubcommand(verb);
        }
        String name = io.env(PROGRAM_NAME_ENV);
        if (name != null && !name.isBlank()) {
            cl.setCommandName(name);
        }
        cl.setOut(io.out());
        cl.setErr(io.err());
        cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            io.err().println("error: " + ExitCodes.message(ex));
            if (root.debug) {
                ex.printStackTrace(io.err());
            }
            io.err().flush();
            return ExitCodes.of(ex);
        });
        cl.setParameterExceptionHandler((ex, args) -> {
            io.err().println("error: " + ex.getMessage());
            CommandLine where = ex.getCommandLine();
            io.err().println("see: " + where.getCommandSpec().qualifiedName() + " --help");
            io.err().flush();
            return ExitCodes.INVALID;
        });
        return cl;
    }

    /** As {@link #create(Io)} with text writers only (tests): stdin empty, not a terminal. */
    public static CommandLine create(PrintWriter out, PrintWriter err, java.util.Map<String, String> env) {
        return create(Io.of(out, err, env));
    }

    /**
     * Whether stdin is a terminal (as KubeVirt's {@code term.IsTerminal(stdin)}); {@code System.console()} would also
     * ask stdout, and {@code virtctl console vm > log} still has a keyboard.
     */
    static boolean stdinIsTerminal() {
        try {
            String target = java.nio.file.Files.readSymbolicLink(java.nio.file.Path.of("/proc/self/fd/0")).toString();
            return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty") || target.equals("/dev/console");
        } catch (java.io.IOException | RuntimeException e) {
            return System.console() != null;
        }
    }

    /** The process: real stdin/stdout/stderr and environment. */
    static int run(String[] args) {
        OutputStream rawOut = new FileOutputStream(FileDescriptor.out);
        PrintWriter out = new PrintWriter(new java.io.OutputStreamWriter(rawOut, StandardCharsets.UTF_8), true);
        PrintWriter err = new PrintWriter(new java.io.OutputStreamWriter(System.err, StandardCharsets.UTF_8), true);
        Io io = new Io(new FileInputStream(FileDescriptor.in), rawOut, out, err, System.getenv(), stdinIsTerminal());
        int code = createFor(io, args).execute(args);
        out.flush();
        err.flush();
        return code;
    }
}
