package io.qvirt.qmp;

import io.qvirt.testdata.Qemu;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import jnr.constants.platform.OpenFlags;
import jnr.posix.POSIX;
import jnr.posix.POSIXFactory;
import jnr.posix.SpawnFileAction;

/**
 * A real {@code qemu-system-x86_64 -S -nodefaults} under TCG for integration tests, with QMP monitors
 * on Unix sockets in a private temp dir. {@link #close()} kills and reaps it; use try-with-resources.
 */
final class QemuProcess implements AutoCloseable {
    private static final POSIX POSIX = POSIXFactory.getNativePOSIX();

    final Path dir;
    private final List<String> args = new ArrayList<>();
    private final List<Path> serverSockets = new ArrayList<>();
    private Process process;
    private long spawnedPid = -1;
    private boolean reaped;

    QemuProcess() throws IOException {
        dir = Files.createTempDirectory("qvirt-qmp-it");
        args.addAll(List.of(Qemu.binary().toString(), "-S", "-nodefaults", "-no-user-config", "-display", "none",
                "-accel", "tcg", "-m", "128"));
    }

    /** Adds a QMP server monitor and returns its socket path. */
    Path addQmpServer(String id) {
        Path p = dir.resolve(id + ".sock");
        args.addAll(List.of("-chardev", "socket,id=" + id + ",path=" + p + ",server=on,wait=off",
                "-mon", "chardev=" + id + ",mode=control"));
        serverSockets.add(p);
        return p;
    }

    /** Adds a QMP monitor whose socket QEMU connects out to (we listen). */
    void addQmpClient(String id, Path listening) {
        args.addAll(List.of("-chardev", "socket,id=" + id + ",path=" + listening,
                "-mon", "chardev=" + id + ",mode=control"));
    }

    /** Adds a QMP monitor on an inherited, already-connected socket fd. */
    void addQmpFd(String id, int fd) {
        args.addAll(List.of("-chardev", "socket,id=" + id + ",fd=" + fd, "-mon", "chardev=" + id + ",mode=control"));
    }

    QemuProcess arg(String... more) {
        args.addAll(List.of(more));
        return this;
    }

    Path log() {
        return dir.resolve("qemu.log");
    }

    /** Starts QEMU with ProcessBuilder (which closes fds above 2) and waits for its server sockets. */
    QemuProcess start() throws Exception {
        process = new ProcessBuilder(args).redirectErrorStream(true).redirectOutput(log().toFile()).start();
        awaitSockets();
        return this;
    }

    /** Starts QEMU with stdout as a pipe (for {@code -serial stdio}); the caller reads {@link #stdout()}. */
    QemuProcess startWithStdout() throws Exception {
        process = new ProcessBuilder(args).redirectError(log().toFile()).start();
        awaitSockets();
        return this;
    }

    java.io.InputStream stdout() {
        return process.getInputStream();
    }

    /**
     * Starts QEMU with posix_spawn, which (unlike ProcessBuilder) lets it inherit descriptors that are
     * not close-on-exec, such as one end of a socketpair.
     */
    QemuProcess spawnInheriting() throws Exception {
        List<SpawnFileAction> actions = List.of(
                SpawnFileAction.open(log().toString(), 1, OpenFlags.O_WRONLY.intValue() | OpenFlags.O_CREAT.intValue()
                        | OpenFlags.O_TRUNC.intValue(), 0644),
                SpawnFileAction.dup(1, 2));
        List<String> env = new ArrayList<>();
        for (Map.Entry<String, String> e : System.getenv().entrySet()) {
            env.add(e.getKey() + "=" + e.getValue());
        }
        long pid = POSIX.posix_spawnp(args.get(0), actions, args, env);
        if (pid <= 0) {
            throw new IOException("posix_spawnp " + args.get(0) + " failed: errno " + POSIX.errno());
        }
        spawnedPid = pid;
        awaitSockets();
        return this;
    }

    private void awaitSockets() throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        for (Path s : serverSockets) {
            while (!Files.exists(s)) {
                if (!alive()) {
                    throw new IllegalStateException("QEMU exited early: " + logText());
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("QEMU did not create " + s + ": " + logText());
                }
                Thread.sleep(10);
            }
        }
    }

    long pid() {
        return process != null ? process.pid() : spawnedPid;
    }

    boolean alive() {
        if (process != null) {
            return process.isAlive();
        }
        if (reaped) {
            return false;
        }
        int[] status = new int[1];
        int r = POSIX.waitpid((int) spawnedPid, status, 1 /* WNOHANG */);
        if (r == spawnedPid) {
            reaped = true;
            return false;
        }
        return true;
    }

    /** Waits for QEMU to exit on its own, up to {@code timeout}. */
    boolean awaitExit(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (alive()) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.sleep(10);
        }
        return true;
    }

    /** SIGKILL and reap. */
    void kill() throws InterruptedException {
        if (process != null) {
            process.destroyForcibly();
            process.waitFor();
        } else if (spawnedPid > 0 && !reaped) {
            POSIX.kill((int) spawnedPid, 9);
            int[] status = new int[1];
            POSIX.waitpid((int) spawnedPid, status, 0);
            reaped = true;
        }
    }

    String logText() {
        try {
            return Files.exists(log()) ? Files.readString(log()) : "(no log)";
        } catch (IOException e) {
            return "(log unreadable: " + e + ")";
        }
    }

    @Override
    public void close() throws Exception {
        try {
            kill();
        } finally {
            try (Stream<Path> s = Files.walk(dir)) {
                for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }
}
