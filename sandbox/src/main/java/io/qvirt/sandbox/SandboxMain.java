package io.qvirt.sandbox;

import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code qvirt-sandbox up | down | status}: a KubeVirt-shaped cluster on one machine, for tests and trying things. */
@Command(name = "qvirt-sandbox", mixinStandardHelpOptions = true, version = "qvirt-sandbox 0.1.0",
        subcommands = {SandboxMain.Up.class, SandboxMain.Down.class, SandboxMain.Status.class, SandboxMain.Daemon.class},
        description = {
            "A one-machine test cluster for qvirt. Plainly:",
            "  - its API server is fabric8's MOCK API server in CRUD mode (an in-memory",
            "    store with watches), NOT a kube-apiserver: no authentication, RBAC,",
            "    admission, garbage collection or field selectors;",
            "  - its node agents are FAKE: they play the scheduler and the kubelet,",
            "    running each pod's containers as local processes (no container",
            "    runtime, no isolation), pod IPs 127.0.<node>.<n>;",
            "  - virt-controller and one virt-handler per node are the REAL programs",
            "    (bin/virt-controller, bin/virt-handler); a launcher pod's compute",
            "    container is the real `launcher exec`, which becomes the real QEMU.",
            "Clients reach the mock through the rig's front door:",
            "  export KUBECONFIG=DIR/kubeconfig",
            "Exit codes: 0 ok, 1 runtime failure (or: a sandbox already runs in DIR),",
            "2 invalid usage. See sandbox/README.md."})
public final class SandboxMain implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    static final String DEFAULT_DIR = "/tmp/qvirt-sandbox";

    public static void main(String[] args) {
        System.exit(run(args));
    }

    static int run(String... args) {
        return new CommandLine(new SandboxMain())
                .setExitCodeExceptionMapper(e -> e instanceof CommandLine.ParameterException ? 2 : 1).execute(args);
    }

    /** No command: the usage, exit 2. */
    @Override
    public Integer call() {
        spec.commandLine().usage(System.err);
        return 2;
    }

    static Path defaultDir() {
        String env = System.getenv("QVIRT_SANDBOX_DIR");
        return Path.of(env != null && !env.isEmpty() ? env : DEFAULT_DIR);
    }

    /** This checkout: {@code -Dqvirt.root}, {@code $QVIRT_ROOT}, else three levels above this jar (sandbox/target/x.jar). */
    static Path root() {
        String prop = System.getProperty("qvirt.root");
        if (prop == null || prop.isEmpty()) {
            prop = System.getenv("QVIRT_ROOT");
        }
        if (prop != null && !prop.isEmpty()) {
            return Path.of(prop).toAbsolutePath().normalize();
        }
        try {
            Path here = Path.of(SandboxMain.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            return here.getParent().getParent().getParent().toAbsolutePath().normalize();
        } catch (java.net.URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    abstract static class DirCommand {
        @Option(names = "--dir", paramLabel = "DIR",
                description = "the sandbox's directory (default: $QVIRT_SANDBOX_DIR or " + DEFAULT_DIR + ")")
        Path dir;

        Sandbox.Layout layout() {
            return new Sandbox.Layout((dir != null ? dir : defaultDir()).toAbsolutePath().normalize());
        }
    }

    /** The pid of the daemon running in the directory (its lock is held), or -1. */
    static long runningDaemon(Sandbox.Layout l) throws IOException {
        if (!Files.exists(l.lockFile())) {
            return -1;
        }
        try (FileChannel ch = FileChannel.open(l.lockFile(), StandardOpenOption.WRITE)) {
            FileLock lock = ch.tryLock();
            if (lock != null) {
                lock.release();
                return -1;
            }
        }
        try {
            long pid = Long.parseLong(Files.readString(l.pidFile()).trim());
            return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false) ? pid : 0;
        } catch (IOException | NumberFormatException e) {
            return 0;
        }
    }

    @Command(name = "up", mixinStandardHelpOptions = true,
            description = {"Start a sandbox in the background and return once it is ready: fabric8's mock API server (NOT a "
                    + "kube-apiserver) behind the front door, the real virt-controller, one real virt-handler and one FAKE "
                    + "node agent per node. A second `up` on the same DIR says one is running and exits 1."})
    static final class Up extends DirCommand implements Callable<Integer> {
        @Option(names = "--nodes", paramLabel = "N", defaultValue = "1", description = "nodes sandbox-node-1..N, 1..20 (default: ${DEFAULT-VALUE})")
        int nodes;

        @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "180",
                description = "give up if not ready by then (default: ${DEFAULT-VALUE})")
        int timeout;

        @Override
        public Integer call() throws Exception {
            if (nodes < 1 || nodes > 20 || timeout < 10) {
                System.err.println("qvirt-sandbox: --nodes must be 1..20, --timeout >= 10");
                return 2;
            }
            Sandbox.Layout l = layout();
            Path root = root();
            for (String m : List.of("controller", "handler", "launcher")) {
                if (!Files.isRegularFile(root.resolve(m + "/target/qvirt-" + m + ".jar"))) {
                    System.err.println("qvirt-sandbox: " + m + " is not built (" + root.resolve(m + "/target/qvirt-" + m + ".jar")
                            + "): mvn -B -pl " + m + " -am package -DskipTests");
                    return 1;
                }
            }
            Files.createDirectories(l.logs());
            long pid = runningDaemon(l);
            if (pid >= 0) {
                System.err.println("qvirt-sandbox: a sandbox is already running in " + l.dir()
                        + (pid > 0 ? " (pid " + pid + ")" : "") + "; `qvirt-sandbox down --dir " + l.dir() + "` stops it");
                return 1;
            }
            if (l.dir().resolve("nodes/sandbox-node-1/run/default/0123456789abcdef0123456789abcdef/qmp.sock").toString().length() > 107) {
                System.err.println("qvirt-sandbox: warning: " + l.dir() + " is long: Unix socket paths under it may exceed 107 bytes");
            }
            Files.deleteIfExists(l.readyFile());
            String java = ProcessHandle.current().info().command().orElse("java");
            List<String> cmd = new ArrayList<>(List.of("setsid", java, "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                    "-Xmx512m", "-Djnr.ffi.asm.enabled=false", "-Dqvirt.root=" + root,
                    "-cp", System.getProperty("java.class.path"), SandboxMain.class.getName(), "daemon",
                    "--dir", l.dir().toString(), "--nodes", Integer.toString(nodes), "--timeout", Integer.toString(timeout)));
            Path out = l.logs().resolve("sandbox-daemon.out");
            Process daemon = new ProcessBuilder(cmd).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(out.toFile()))
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
            System.err.println("qvirt-sandbox: starting in " + l.dir() + " (" + nodes + " node(s)), daemon pid " + daemon.pid()
                    + "; log " + l.logs().resolve("sandbox.log"));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeout + 30L);
            while (System.nanoTime() < deadline) {
                if (Files.exists(l.readyFile())) {
                    String who = Files.readString(l.readyFile()).trim();
                    if (who.equals(Long.toString(daemon.pid()))) {
                        printReady(l, daemon.pid(), nodes);
                        return 0;
                    }
                }
                if (!daemon.isAlive()) {
                    System.err.println("qvirt-sandbox: the daemon exited (" + daemon.exitValue() + ") before it was ready:");
                    System.err.println(tail(out, 30));
                    System.err.println(tail(l.logs().resolve("sandbox.log"), 20));
                    return 1;
                }
                Thread.sleep(100);
            }
            System.err.println("qvirt-sandbox: not ready within " + (timeout + 30) + " s; stopping it. Its log:");
            System.err.println(tail(l.logs().resolve("sandbox.log"), 30));
            daemon.destroy();
            daemon.waitFor(60, TimeUnit.SECONDS);
            return 1;
        }

        private static void printReady(Sandbox.Layout l, long pid, int nodes) {
            System.out.println("qvirt-sandbox is up in " + l.dir() + " (daemon pid " + pid + ", " + nodes + " node(s)).");
            System.out.println("  API server: fabric8's mock API server (CRUD mode) -- NOT a kube-apiserver; node agents are FAKE.");
            System.out.println("  Use it:     export KUBECONFIG=" + l.kubeconfig());
            System.out.println("              (kubectl or any client; e.g. apply testdata/testvm.yaml with running: true)");
            System.out.println("  Logs:       " + l.logs() + "/");
            System.out.println("  Status:     bin/qvirt-sandbox status --dir " + l.dir());
            System.out.println("  Stop:       bin/qvirt-sandbox down --dir " + l.dir());
        }
    }

    static String tail(Path file, int lines) {
        try {
            List<String> all = Files.readAllLines(file, StandardCharsets.ISO_8859_1);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(no " + file + ")";
        }
    }

    @Command(name = "down", mixinStandardHelpOptions = true,
            description = "Stop the sandbox in DIR: pods (SIGTERM, SIGKILL after at most 10 s), handlers, controller, then "
                    + "the mock. Afterwards no process, QEMU or mount of the sandbox is left (checked; leftovers are killed "
                    + "and named). Exit 0 also when none was running.")
    static final class Down extends DirCommand implements Callable<Integer> {
        @Override
        public Integer call() throws Exception {
            Sandbox.Layout l = layout();
            long pid = runningDaemon(l);
            if (pid > 0) {
                ProcessHandle h = ProcessHandle.of(pid).orElse(null);
                if (h != null) {
                    System.err.println("qvirt-sandbox: stopping the sandbox in " + l.dir() + " (pid " + pid + ")");
                    h.destroy();
                    try {
                        h.onExit().get(60, TimeUnit.SECONDS);
                    } catch (java.util.concurrent.TimeoutException e) {
                        System.err.println("qvirt-sandbox: the daemon did not stop within 60 s: SIGKILL (its children die with it)");
                        h.destroyForcibly();
                        h.onExit().get(10, TimeUnit.SECONDS);
                    }
                }
            } else if (pid == 0) {
                System.err.println("qvirt-sandbox: the sandbox in " + l.dir() + " holds its lock but its pid is unknown");
            } else {
                System.err.println("qvirt-sandbox: no sandbox running in " + l.dir());
            }
            List<String> left = leftovers(l.dir(), true);
            List<String> mounts = mounts(l.dir());
            if (!left.isEmpty()) {
                System.err.println("qvirt-sandbox: killed leftover processes: " + String.join("; ", left));
            }
            if (!mounts.isEmpty()) {
                System.err.println("qvirt-sandbox: mounts under " + l.dir() + " remain: " + mounts);
                return 1;
            }
            List<String> still = leftovers(l.dir(), false);
            if (!still.isEmpty()) {
                System.err.println("qvirt-sandbox: processes remain: " + still);
                return 1;
            }
            System.err.println("qvirt-sandbox: down; no process, QEMU or mount of " + l.dir() + " left");
            return 0;
        }
    }

    /**
     * Processes other than this one and its ancestors whose command line mentions {@code dir}: pid -> command line.
     * Ancestors are left out because whoever ran {@code down} may name DIR too (a script's {@code bash -c "... --dir
     * DIR"}, a benchmark's {@code -D...=DIR}): {@code down} must not kill its caller.
     */
    static java.util.SortedMap<Long, String> mentioning(Path dir) {
        java.util.SortedMap<Long, String> out = new java.util.TreeMap<>();
        String needle = dir.toString();
        java.util.Set<Long> callers = new java.util.HashSet<>();
        for (Optional<ProcessHandle> h = Optional.of(ProcessHandle.current()); h.isPresent(); h = h.get().parent()) {
            callers.add(h.get().pid());
        }
        try (Stream<Path> s = Files.list(Path.of("/proc"))) {
            for (Path p : s.toList()) {
                String name = p.getFileName().toString();
                if (!name.chars().allMatch(Character::isDigit) || callers.contains(Long.parseLong(name))) {
                    continue;
                }
                try {
                    String cmdline = new String(Files.readAllBytes(p.resolve("cmdline")), StandardCharsets.UTF_8).replace('\0', ' ').trim();
                    if (cmdline.contains(needle + "/") || cmdline.endsWith(needle) || cmdline.contains(needle + " ")) {
                        out.put(Long.parseLong(name), cmdline);
                    }
                } catch (IOException e) {
                    // gone meanwhile
                }
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot scan /proc", e);
        }
        return out;
    }

    /**
     * Processes of the rig ({@link #ours}) whose command line mentions {@code dir}; with {@code kill}, each gets
     * SIGKILL (and is waited for, at most 5 s). "pid: cmdline" each.
     */
    static List<String> leftovers(Path dir, boolean kill) {
        List<String> out = new ArrayList<>();
        for (Map.Entry<Long, String> e : mentioning(dir).entrySet()) {
            if (!ours(Path.of("/proc/" + e.getKey()))) {
                continue;
            }
            String cmdline = e.getValue();
            out.add(e.getKey() + ": " + (cmdline.length() > 160 ? cmdline.substring(0, 160) + "..." : cmdline));
            if (kill) {
                ProcessHandle.of(e.getKey()).ifPresent(h -> {
                    h.destroyForcibly();
                    try {
                        h.onExit().get(5, TimeUnit.SECONDS);
                    } catch (Exception ex) {
                        // reported by the second scan
                    }
                });
            }
        }
        return out;
    }

    /**
     * Only programs the rig starts are killed: QEMU, Java (handlers, controller, launcher), shells, setpriv, sleep,
     * cat (a disk container's FIFO reader).
     */
    private static boolean ours(Path proc) {
        try {
            String exe = Files.readSymbolicLink(proc.resolve("exe")).getFileName().toString();
            return exe.startsWith("qemu-system") || List.of("java", "sleep", "sh", "dash", "bash", "setpriv", "cat").contains(exe);
        } catch (IOException e) {
            return false;
        }
    }

    static List<String> mounts(Path dir) {
        List<String> out = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/mounts"))) {
                String[] f = line.split(" ");
                if (f.length > 1 && (f[1].equals(dir.toString()) || f[1].startsWith(dir + "/"))) {
                    out.add(f[1]);
                }
            }
        } catch (IOException e) {
            out.add("cannot read /proc/self/mounts: " + e);
        }
        return out;
    }

    @Command(name = "status", mixinStandardHelpOptions = true,
            description = "List the sandbox's components (pid, alive, restarts, log) and pods (node, phase, podIP, QEMU pid). "
                    + "Exit 1 if no sandbox runs in DIR.")
    static final class Status extends DirCommand implements Callable<Integer> {
        @Override
        @SuppressWarnings("unchecked")
        public Integer call() throws Exception {
            Sandbox.Layout l = layout();
            long pid = runningDaemon(l);
            if (pid < 0) {
                System.out.println("no sandbox running in " + l.dir());
                return 1;
            }
            if (!Files.exists(l.statusFile())) {
                System.out.println("sandbox in " + l.dir() + " (pid " + pid + ") is starting; see " + l.logs().resolve("sandbox.log"));
                return 0;
            }
            Map<String, Object> st = Serialization.unmarshal(Files.readString(l.statusFile()), Map.class);
            System.out.println("sandbox in " + l.dir() + " (daemon pid " + pid + (Files.exists(l.readyFile()) ? ", ready" : ", not ready")
                    + "), API server: fabric8's mock (NOT a kube-apiserver) via the front door " + st.get("frontDoor"));
            System.out.println("  export KUBECONFIG=" + st.get("kubeconfig"));
            System.out.println();
            System.out.printf("%-32s %-8s %-6s %-8s %s%n", "COMPONENT", "PID", "ALIVE", "RESTARTS", "LOG");
            for (Map<String, Object> c : (List<Map<String, Object>>) st.get("components")) {
                long p = ((Number) c.get("pid")).longValue();
                boolean alive = p > 0 && ProcessHandle.of(p).map(ProcessHandle::isAlive).orElse(false);
                System.out.printf("%-32s %-8s %-6s %-8s %s%n", c.get("name"), p > 0 ? p : "-", alive ? "yes" : "no",
                        c.get("restarts"), c.get("log"));
            }
            System.out.println();
            System.out.printf("%-44s %-16s %-10s %-14s %s%n", "POD", "NODE", "PHASE", "POD IP", "QEMU PID");
            for (Map<String, Object> p : (List<Map<String, Object>>) st.get("pods")) {
                Map<String, Object> pids = (Map<String, Object>) p.get("pids");
                String qemu = "-";
                for (Object v : pids.values()) {
                    long q = ((Number) v).longValue();
                    if (q > 0 && isQemu(q)) {
                        qemu = Long.toString(q);
                    }
                }
                System.out.printf("%-44s %-16s %-10s %-14s %s%n", p.get("namespace") + "/" + p.get("name"), p.get("node"),
                        p.get("phase"), p.get("podIP"), qemu);
            }
            return 0;
        }
    }

    /** Whether /proc/PID/exe is a qemu-system binary. */
    static boolean isQemu(long pid) {
        try {
            return Files.readSymbolicLink(Path.of("/proc/" + pid + "/exe")).getFileName().toString().startsWith("qemu-system");
        } catch (IOException e) {
            return false;
        }
    }

    @Command(name = "daemon", hidden = true, description = "Run the sandbox in the foreground (what `up` starts).")
    static final class Daemon extends DirCommand implements Callable<Integer> {
        @Option(names = "--nodes", defaultValue = "1")
        int nodes;

        @Option(names = "--timeout", defaultValue = "180")
        int timeout;

        @Override
        public Integer call() throws Exception {
            Sandbox sandbox = new Sandbox(layout().dir(), nodes, root(), Duration.ofSeconds(timeout));
            if (!sandbox.lock()) {
                System.err.println("qvirt-sandbox: a sandbox is already running in " + layout().dir());
                return 1;
            }
            Runtime.getRuntime().addShutdownHook(new Thread(sandbox::close, "sandbox-shutdown"));
            try {
                sandbox.start();
            } catch (Exception e) {
                System.err.println("qvirt-sandbox: cannot start: " + e.getMessage());
                e.printStackTrace();
                return 1;
            }
            sandbox.awaitStop();
            return 0;
        }
    }
}
