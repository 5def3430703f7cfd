package io.qvirt.bench;

import io.qvirt.testdata.ConsoleWatcher;
import io.qvirt.testdata.GuestMarkers;
import io.qvirt.testdata.RawQmp;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.MatchResult;
import java.util.regex.Pattern;

/**
 * One guest under one contender, from spawn to gone. Every contender runs the same QEMU binary (the
 * spawn-stamp wrapper), the same disk (a fresh overlay), the same device set and RAM; what differs is
 * who starts, drives and stops QEMU. Times are ms from {@link #clock}, taken just before the command.
 */
final class Vm implements AutoCloseable {
    enum Kind {
        RAW("raw QEMU"), RUN("qvirt run"), EXEC("qvirt exec"), LIBVIRT("libvirt");

        final String label;

        Kind(String label) {
            this.label = label;
        }
    }

    static final Duration BOOT_TIMEOUT = Duration.ofSeconds(180);
    private static final Pattern RAW_RUNNING = Pattern.compile("raw-supervisor running ([0-9.]+)");
    private static final Pattern RUN_RUNNING =
            Pattern.compile("\"timestamp\":\"([^\"]+)\"[^\\n]*?\"msg\":\"VM \\S+ running: QEMU pid (\\d+)");

    final Kind kind;
    final String name;
    private final Ctx ctx;
    private final Path dir;
    private final Path disk;
    private final Path spec;
    private Clock clock;
    private Process cmd;
    private ConsoleWatcher console;
    private ConsoleWatcher err;
    private long qemuPid = -1;
    private long shutdownAt;
    private Process shutdownCmd;
    private Thread qmpThread;

    private Vm(Kind kind, String name, Ctx ctx) throws Exception {
        this.kind = kind;
        this.name = name;
        this.ctx = ctx;
        this.dir = ctx.work().resolve(name);
        Procs.deleteTree(dir);
        Files.createDirectories(dir);
        this.disk = ctx.overlay(dir.resolve("disk.qcow2"));
        this.spec = switch (kind) {
            case RUN, EXEC -> ctx.vmYaml(name, disk, dir);
            case LIBVIRT -> ctx.libvirt().domainXml(dir, name, ctx.memMib(), ctx.wrapper(), disk, dir.resolve("serial.log"));
            case RAW -> null;
        };
        Files.deleteIfExists(ctx.stamp(qemuName()));
    }

    /** Makes the VM's files (untimed); {@link #start} spawns it. */
    static Vm prepare(Kind kind, String name, Ctx ctx) throws Exception {
        return new Vm(kind, name, ctx);
    }

    /** The domain XML (libvirt) or VM YAML (qvirt); null for raw. */
    Path spec() {
        return spec;
    }

    private Path rt() {
        return dir.resolve("rt");
    }

    private Path vmDir() {
        return rt().resolve("default").resolve(name);
    }

    /** The name QEMU gets in -name guest=..., which names the spawn stamp. */
    String qemuName() {
        return kind == Kind.RUN || kind == Kind.EXEC ? "default_" + name : name;
    }

    void start() throws IOException {
        List<String> c = new ArrayList<>();
        ProcessBuilder pb = new ProcessBuilder();
        pb.environment().put("QVIRT_QEMU", ctx.wrapper().toString());
        switch (kind) {
            case RAW -> {
                c.addAll(List.of(ctx.supervisor().toString(), dir.toString(), ctx.wrapper().toString()));
                c.addAll(ctx.rawArgv(name, disk, dir));
            }
            case RUN -> c.addAll(List.of(ctx.launcher().toString(), "--log-format=json", "run", spec.toString(),
                    "--console", "--accel", "tcg", "--runtime-root", rt().toString()));
            case EXEC -> {
                c.addAll(List.of(ctx.launcher().toString(), "exec", spec.toString(), "--accel", "tcg", "--autostart",
                        "--runtime-root", rt().toString()));
                pb.redirectErrorStream(true).redirectOutput(dir.resolve("exec.log").toFile());
            }
            case LIBVIRT -> {
                c.addAll(Libvirt.virsh("create", spec.toString()));
                pb.redirectErrorStream(true).redirectOutput(dir.resolve("virsh.log").toFile());
            }
        }
        pb.command(c);
        clock = Clock.now();
        cmd = pb.start();
        afterStart();
    }

    /** For libvirt domains created by {@link Libvirt#createAll} (density), with that batch's clock. */
    void startedExternally(Clock batch) {
        clock = batch;
        afterStart();
    }

    private void afterStart() {
        switch (kind) {
            case RAW, RUN -> {
                console = new ConsoleWatcher(cmd.getInputStream(), name);
                err = new ConsoleWatcher(cmd.getErrorStream(), name + "-err");
            }
            case EXEC -> console = new ConsoleWatcher(new FileFollower(vmDir().resolve("console.log")), name);
            case LIBVIRT -> console = new ConsoleWatcher(new FileFollower(dir.resolve("serial.log")), name);
        }
    }

    Clock clock() {
        return clock;
    }

    /** When QEMU was exec'd (ms), and the CPU ticks its pid had used by then. */
    Clock.Stamp stamp() throws IOException, InterruptedException {
        return Clock.Stamp.await(ctx.stamp(qemuName()), BOOT_TIMEOUT);
    }

    double spawnMs() throws IOException, InterruptedException {
        return clock.msAtEpochMicros(stamp().epochMicros());
    }

    /**
     * When the manager had the guest running (ms): raw, the supervisor's `cont` returned; qvirt run, its
     * "running" log line (logged after `cont` returned); libvirt, `virsh create` returned (libvirt returns
     * after its `cont`). NaN for exec --autostart, whose QEMU runs the guest from its first instruction.
     */
    double runningMs() throws Exception {
        switch (kind) {
            case RAW -> {
                MatchResult m = err.awaitTimed(RAW_RUNNING, BOOT_TIMEOUT).match();
                return clock.msAtEpochMicros(Clock.epochMicros(m.group(1)));
            }
            case RUN -> {
                MatchResult m = err.awaitTimed(RUN_RUNNING, BOOT_TIMEOUT).match();
                qemuPid = Long.parseLong(m.group(2));
                return clock.msAtEpochMicros(Clock.epochMicros(Instant.parse(m.group(1))));
            }
            case LIBVIRT -> {
                if (!cmd.waitFor(BOOT_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
                    throw new IllegalStateException("virsh create " + name + " did not return within " + BOOT_TIMEOUT);
                }
                long t = System.nanoTime();
                if (cmd.exitValue() != 0) {
                    throw new IllegalStateException("virsh create " + name + " failed: "
                            + Files.readString(dir.resolve("virsh.log")));
                }
                return clock.msAtNanos(t);
            }
            default -> {
                return Double.NaN;
            }
        }
    }

    /** The boot marker: when it arrived (ms) and the guest's own uptime then (ms). */
    record Booted(double atMs, double uptimeMs) {
    }

    Booted booted() throws Exception {
        try {
            ConsoleWatcher.TimedMatch m = console.awaitTimed(GuestMarkers.BOOTED, BOOT_TIMEOUT);
            return new Booted(clock.msAtNanos(m.nanoTime()), Double.parseDouble(m.match().group(1)) * 1000);
        } catch (Exception e) {
            throw new IllegalStateException(kind.label + " " + name + ": " + e.getMessage() + diagnostics(), e);
        }
    }

    /** Waits for the guest's shell prompt: by then its acpid runs, so the power button is handled. */
    void awaitReady() throws Exception {
        console.await(GuestMarkers.PROMPT_PATTERN, BOOT_TIMEOUT);
    }

    long qemuPid() throws Exception {
        if (qemuPid > 0) {
            return qemuPid;
        }
        switch (kind) {
            case RAW -> qemuPid = cmd.children().findFirst().map(ProcessHandle::pid).orElse(-1L);
            case RUN -> qemuPid = launcherJsonPid();
            case EXEC -> qemuPid = cmd.pid();
            case LIBVIRT -> qemuPid = Libvirt.qemuPid(name);
        }
        if (qemuPid <= 0) {
            throw new IllegalStateException(kind.label + " " + name + ": QEMU pid not found");
        }
        return qemuPid;
    }

    private long launcherJsonPid() throws Exception {
        Path info = vmDir().resolve("launcher.json");
        long deadline = System.nanoTime() + BOOT_TIMEOUT.toNanos();
        while (!Files.exists(info)) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(name + ": no " + info + " within " + BOOT_TIMEOUT);
            }
            Thread.sleep(5);
        }
        return new com.fasterxml.jackson.databind.ObjectMapper().readTree(info.toFile()).path("qemuPid").asLong(-1);
    }

    /** The managers' QMP socket of a qvirt VM. */
    Path qmpSocket() {
        return vmDir().resolve("qmp.sock");
    }

    /** After shutdown: lets the managing command finish on its own (bounded) rather than killing it. */
    void awaitCommandExit(Duration timeout) throws InterruptedException {
        if (cmd != null && (kind == Kind.RAW || kind == Kind.RUN)) {
            cmd.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    /** Per-VM management processes beside QEMU: the raw supervisor, the `launcher run` JVM; none otherwise. */
    List<Long> mgmtPids() {
        return kind == Kind.RAW || kind == Kind.RUN ? List.of(cmd.pid()) : List.of();
    }

    /** For exec: true if the pid we spawned as `launcher exec` is now QEMU itself with no other process. */
    boolean execBecameQemu() throws IOException {
        String exe = Files.readSymbolicLink(Path.of("/proc", Long.toString(cmd.pid()), "exe")).toString();
        return exe.equals(ctx.realQemu().toString()) && cmd.children().findAny().isEmpty();
    }

    /**
     * Asks for a graceful shutdown the way each manager does it, all ending in QMP system_powerdown: SIGTERM to
     * the raw supervisor and to `launcher run`; for exec, the bench is the manager (system_powerdown on
     * qmp.sock, quit on SHUTDOWN, as the handler does); `virsh shutdown` for libvirt.
     */
    void requestShutdown() throws Exception {
        long pid = qemuPid();
        switch (kind) {
            case RAW, RUN -> {
                shutdownAt = System.nanoTime();
                cmd.destroy();
            }
            case EXEC -> {
                // RawQmp reads block with no timeout, so they all run on this thread; the waits here and the
                // caller's wait for QEMU to go are bounded, and QEMU's exit (or close()'s kill) ends the thread.
                java.util.concurrent.CompletableFuture<Void> negotiated = new java.util.concurrent.CompletableFuture<>();
                java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
                qmpThread = new Thread(() -> {
                    try (RawQmp qmp = RawQmp.connect(vmDir().resolve("qmp.sock"), Duration.ofSeconds(10))) {
                        qmp.negotiate();
                        negotiated.complete(null);
                        if (!go.await(30, TimeUnit.SECONDS)) {
                            return;
                        }
                        qmp.execute("{\"execute\":\"system_powerdown\"}");
                        qmp.awaitEvent("SHUTDOWN");
                        qmp.execute("{\"execute\":\"quit\"}");
                    } catch (IOException e) {
                        // QEMU went away: what the caller waits for (or a connect failure, reported below).
                        negotiated.completeExceptionally(e);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }, "exec-shutdown-" + pid);
                qmpThread.setDaemon(true);
                qmpThread.start();
                // The manager's connection is set up before the clock starts, as the handler keeps one open.
                negotiated.get(15, TimeUnit.SECONDS);
                shutdownAt = System.nanoTime();
                go.countDown();
            }
            case LIBVIRT -> {
                shutdownAt = System.nanoTime();
                shutdownCmd = new ProcessBuilder(Libvirt.virsh("shutdown", name)).redirectErrorStream(true)
                        .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            }
        }
    }

    /** After {@link #requestShutdown}: ms until QEMU's process is gone (or a zombie). */
    double awaitShutdown() throws Exception {
        long gone = Procs.awaitGone(qemuPid(), Duration.ofSeconds(90));
        return (gone - shutdownAt) / 1e6;
    }

    String diagnostics() {
        StringBuilder sb = new StringBuilder();
        if (err != null) {
            sb.append("\nstderr: ").append(tail(err.text()));
        }
        for (String f : List.of("exec.log", "virsh.log")) {
            try {
                sb.append("\n").append(f).append(": ").append(tail(Files.readString(dir.resolve(f))));
            } catch (IOException e) {
                // Not this kind's file.
            }
        }
        return sb.toString();
    }

    private static String tail(String s) {
        return s.length() <= 1500 ? s : s.substring(s.length() - 1500);
    }

    @Override
    public void close() throws Exception {
        try {
            // A libvirt domain whose QEMU is gone (or a zombie) vanishes on its own once reaped; the names are unique
            // per run, so nothing waits for that.
            if (kind == Kind.LIBVIRT && clock != null && (qemuPid <= 0 || !Procs.goneOrZombie(qemuPid))) {
                Libvirt.destroy(name);
            }
            if (qemuPid > 0) {
                Procs.killPid(qemuPid);
            }
            Procs.kill(cmd);
            Procs.kill(shutdownCmd);
            if (qmpThread != null) {
                qmpThread.join(5000);
            }
        } finally {
            if (console != null) {
                console.close();
            }
            if (err != null) {
                err.close();
            }
            Files.deleteIfExists(ctx.stamp(qemuName()));
            Procs.deleteTree(dir);
        }
    }
}
