package io.qvirt.launcher.migrate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.qvirt.api.KubevirtJson;
import io.qvirt.api.VirtualMachineInstance;
import io.qvirt.api.model.Volume;
import io.qvirt.launcher.control.VmControl;
import io.qvirt.launcher.plan.Accelerator;
import io.qvirt.launcher.plan.HostForward;
import io.qvirt.launcher.plan.ImageFormat;
import io.qvirt.launcher.plan.PlanOptions;
import io.qvirt.launcher.plan.ResolvedVolumes;
import io.qvirt.launcher.plan.RuntimePaths;
import io.qvirt.launcher.plan.VmPlan;
import io.qvirt.launcher.plan.VmPlanner;
import io.qvirt.launcher.process.Child;
import io.qvirt.launcher.process.Signals;
import io.qvirt.launcher.process.SpawnSpec;
import io.qvirt.launcher.process.Spawner;
import io.qvirt.launcher.runtime.HostFacts;
import io.qvirt.launcher.runtime.HostFitCheck;
import io.qvirt.launcher.runtime.LauncherInfo;
import io.qvirt.launcher.runtime.LauncherInfos;
import io.qvirt.launcher.runtime.PreparedVm;
import io.qvirt.launcher.runtime.RuntimeDir;
import io.qvirt.launcher.runtime.Version;
import io.qvirt.launcher.runtime.VmPreparer;
import io.qvirt.qmp.QmpClient;
import io.qvirt.qmp.QmpOptions;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * {@code launcher migrate} on one machine: a second QEMU for a running VM in another directory, the
 * {@link Migration} between them, then the source quit and the target left running detached, as
 * {@code launcher exec} leaves QEMU (managed through its qmp.sock by launcher commands on its directory).
 *
 * <p>The source's owner ({@code launcher run}, or nobody after {@code exec}) is asked nothing: this is a
 * client of both QEMUs' {@code qmp.sock}. The target is planned from the source's {@code vmi.json} with the
 * source's accelerator, QEMU binary, images and host ports, and refused before anything is made unless its
 * argv is the source's ({@link QemuCommandLine}). Its host forwards are bound only after the source QEMU has
 * quit (QEMU binds them itself, and the source holds them until then), with HMP {@code hostfwd_add}.
 */
public final class LocalMigration {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration START_TIMEOUT = Duration.ofSeconds(30);

    /**
     * @param source            the running VM's directory
     * @param targetRoot        the runtime root the VM moves to
     * @param targetName        the directory name there (the VM keeps its own name, hostname and cloud-init
     *                          identity; only the directory is named so)
     * @param options           how the migration runs
     * @param overcommitPercent as for {@code run}: the target's memory is checked against the host's
     */
    public record Request(RuntimePaths source, Path targetRoot, String targetName, MigrationOptions options,
                          int overcommitPercent) {
    }

    /**
     * @param target      where the VM runs now
     * @param targetPid   its QEMU's pid
     * @param sourcePid   the QEMU that has quit
     * @param forwards    host forwards the target bound after the source quit
     * @param sourceOwner how the source was started ({@code run}, {@code exec}, ...)
     */
    public record Outcome(MigrationResult result, RuntimePaths target, long targetPid, long sourcePid,
                          List<HostForward> forwards, String sourceOwner) {
    }

    private final Migration.Listener listener;
    private volatile Migration running;
    private volatile String cancelled;

    /** @param listener progress reports and notes; its switchover hook is not used (this class has its own) */
    public LocalMigration(Migration.Listener listener) {
        this.listener = listener;
    }

    /**
     * Cancels a migration in progress (from a signal handler): before the stream starts it stops at the next
     * step; once in postcopy it cannot (false).
     */
    public boolean cancel(String why) {
        cancelled = why;
        Migration m = running;
        return m == null || m.cancel(why);
    }

    /**
     * Migrates the VM.
     *
     * @throws ArgvMismatchException       before anything is made, if the target would not match the source
     * @throws io.qvirt.api.ValidationException if the host cannot hold a second copy of the guest
     * @throws MigrationException          if it failed or was cancelled: the target is removed, the source runs
     */
    public Outcome migrate(Request r) {
        RuntimePaths sp = r.source();
        LauncherInfo info = LauncherInfos.read(sp);
        if (info == null) {
            throw new MigrationException("VM " + sp.dir().getParent().getFileName() + "/" + sp.dir().getFileName()
                    + " is not running here (no " + sp.launcherJson() + ")");
        }
        VirtualMachineInstance vmi;
        try {
            vmi = KubevirtJson.json().readValue(sp.vmiJson().toFile(), VirtualMachineInstance.class);
        } catch (IOException e) {
            throw new MigrationException("cannot read the VM's " + sp.vmiJson() + ": " + e.getMessage(), e);
        }
        String ns = vmi.getMetadata().getNamespace();
        List<String> sourceArgv = QemuCommandLine.ofProcess(info.qemuPid());
        RuntimePaths tp = RuntimeDir.paths(r.targetRoot(), ns, r.targetName());
        if (tp.dir().toAbsolutePath().normalize().equals(sp.dir().toAbsolutePath().normalize())) {
            throw new IllegalArgumentException("--to-runtime-root/--to: the target is the source's own directory "
                    + sp.dir() + "; name another runtime root or another name");
        }
        Path qemu = Path.of(sourceArgv.get(0));
        Accelerator accel = new Accelerator(info.accelerator(), info.acceleratorReason());
        Map<Integer, Integer> hostPorts = new HashMap<>();
        for (HostForward f : info.forwards()) {
            hostPorts.put(f.guestPort(), f.hostPort());
        }
        String bind = info.ipAddress() != null ? info.ipAddress() : "127.0.0.1";
        VmPlan planned = new VmPlanner(qemu).plan(vmi, new PlanOptions(tp, accel, false, true, "spec.", bind,
                p -> hostPorts.getOrDefault(p, p), PlanOptions.SPAWN_FIRST_FD, sourceVolumes(vmi, sp, sourceArgv)));
        QemuCommandLine.requireSameMachine(sourceArgv, sp.dir(), planned.argv(), tp.dir());
        new HostFitCheck(HostFacts.host(() -> -1), r.overcommitPercent()).check(vmi, planned, "spec.");

        QemuCommandLine.WithoutForwards wf = QemuCommandLine.withoutHostForwards(planned.argv());
        List<String> argv = new ArrayList<>(wf.argv());
        argv.add("-incoming");
        argv.add("defer");
        VmPlan plan = new VmPlan(ns, r.targetName(), qemu, argv, planned.fds(), planned.files(), planned.forwards(),
                accel, tp, planned.podAddress());
        List<String> copyNodes = ownDiskNodes(planned.argv(), tp.dir());
        if (cancelled != null) {
            throw new MigrationCancelledException("migration cancelled (" + cancelled + ") before it started");
        }

        // The source's monitor first: if another client holds it, nothing is made for the target.
        QmpClient sourceQmp = connect(sp, Duration.ofSeconds(10), "the source");
        PreparedVm prepared;
        long consoleCopied;
        try {
            prepared = VmPreparer.prepare(r.targetRoot(), plan, vmi);
        } catch (RuntimeException e) {
            sourceQmp.close();
            throw e;
        }
        Child child;
        try {
            consoleCopied = copyFile(sp.consoleLog(), tp.consoleLog(), 0);
            child = Spawner.spawn(new SpawnSpec(qemu, argv, env(), prepared.childFds(), null, null, tp.qemuStderr(),
                    false, "qemu-migration-target"));
        } catch (RuntimeException e) {
            sourceQmp.close();
            prepared.close();
            VmPreparer.cleanup(plan);
            throw e instanceof MigrationException ? e
                    : new MigrationException("cannot start the target QEMU " + qemu + ": " + e.getMessage(), e);
        } finally {
            prepared.closeChildFds();
        }
        boolean done = false;
        QmpClient targetQmp = null;
        try {
            LauncherInfos.write(tp, new LauncherInfo(ns, r.targetName(), "migrate", child.pid(), 0, accel.name(),
                    accel.reason(), qemu.toString(), Version.QVIRT, Instant.now().toString(), info.forwards(),
                    info.ipAddress()));
            targetQmp = connectTarget(tp, child);
            Outcome out;
            try (VmControl src = new VmControl(sourceQmp); VmControl dst = new VmControl(targetQmp)) {
                long[] copied = {consoleCopied};
                // On one machine the source QEMU connects straight to the target's own sockets.
                Path streamSock = tp.dir().resolve("migration.sock");
                Path nbdSock = tp.dir().resolve("nbd.sock");
                Migration m = new Migration(src, new QmpMigrationTarget(dst, streamSock, nbdSock),
                        new Migration.Endpoints(streamSock, nbdSock), copyNodes, r.options(), new Migration.Listener() {
                            @Override
                            public void progress(io.qvirt.qmp.MigrationInfo i) {
                                listener.progress(i);
                            }

                            @Override
                            public void diskProgress(List<io.qvirt.qmp.BlockJobInfo> jobs) {
                                listener.diskProgress(jobs);
                            }

                            @Override
                            public boolean wantsSwitchoverHook() {
                                return true;
                            }

                            @Override
                            public void beforeSwitchover() {
                                // The source's guest is stopped and the target's has not started: the one moment
                                // console.log can be carried over whole, so the target's log is one boot.
                                copied[0] = copyFile(sp.consoleLog(), tp.consoleLog(), copied[0]);
                            }

                            @Override
                            public void note(String line) {
                                listener.note(line);
                            }

                            @Override
                            public void modeChanged(String mode) {
                                listener.modeChanged(mode);
                            }
                        });
                running = m;
                if (cancelled != null) {
                    m.cancel(cancelled);
                }
                MigrationResult result = m.run();
                running = null;
                done = true;
                // From here the VM lives in the target: nothing below may remove it, or leave the source running.
                try {
                    MigratedMarker.write(sp, tp, child.pid());
                } catch (MigrationException e) {
                    listener.note("warning: " + e.getMessage() + " (the source's owner will not know where its VM went)");
                }
                src.quitOrKill(() -> Signals.send(info.qemuPid(), Signals.SIGKILL));
                awaitGone(info.qemuPid(), Duration.ofSeconds(10));
                List<HostForward> bound = bindForwards(dst, wf.forwards(), planned.forwards());
                out = new Outcome(result, tp, child.pid(), info.qemuPid(), bound, info.mode());
            }
            if (info.launcherPid() == 0) {
                // Nobody owns an exec'd (or migrated-in) source's directory: its QEMU is gone, so it goes too.
                RuntimeDir.delete(sp);
            }
            return out;
        } finally {
            running = null;
            sourceQmp.close();
            if (targetQmp != null) {
                targetQmp.close();
            }
            if (!done) {
                removeTarget(child, plan);
            }
        }
    }

    /**
     * What the planner needs from the source instead of pulling: each containerDisk's base (the backing file of
     * the source's overlay, the same read-only file in the shared image cache) and the kernelBoot files.
     */
    private static ResolvedVolumes sourceVolumes(VirtualMachineInstance vmi, RuntimePaths sp, List<String> argv) {
        Map<String, ResolvedVolumes.BaseDisk> disks = new LinkedHashMap<>();
        List<Volume> volumes = vmi.getSpec().getVolumes() == null ? List.of() : vmi.getSpec().getVolumes();
        for (Volume v : volumes) {
            if (v.getContainerDisk() != null) {
                Path overlay = sp.disksDir().resolve(v.getName() + ".qcow2");
                JsonNode img = qemuImgInfo(overlay);
                String backing = img.path("full-backing-filename").asText(img.path("backing-filename").asText(null));
                if (backing == null) {
                    throw new MigrationException("the source's containerDisk overlay " + overlay + " has no backing file");
                }
                String fmt = img.path("backing-filename-format").asText("qcow2");
                disks.put(v.getName(), new ResolvedVolumes.BaseDisk(Path.of(backing),
                        fmt.equals("raw") ? ImageFormat.RAW : ImageFormat.QCOW2));
            }
        }
        return new ResolvedVolumes(disks, argValue(argv, "-kernel"), argValue(argv, "-initrd"));
    }

    private static Path argValue(List<String> argv, String option) {
        int i = argv.indexOf(option);
        return i >= 0 && i + 1 < argv.size() ? Path.of(argv.get(i + 1)) : null;
    }

    private static JsonNode qemuImgInfo(Path image) {
        try {
            // -U: the source QEMU holds the image's lock; reading its header is safe.
            Process p = new ProcessBuilder("qemu-img", "info", "-U", "--output=json", image.toString())
                    .redirectErrorStream(true).start();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
                p.destroyForcibly();
                throw new MigrationException("qemu-img info " + image + " failed: "
                        + new String(out, StandardCharsets.UTF_8).strip());
            }
            return JSON.readTree(out);
        } catch (IOException e) {
            throw new MigrationException("qemu-img info " + image + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new MigrationException("interrupted", e);
        }
    }

    /**
     * The format nodes whose file is written by the VM and lives in its own directory (a containerDisk's
     * overlay, an emptyDisk): not shared, so copied. Read-only files there (the cloud-init ISO) are made again
     * identically for the target; files outside (hostDisk) are shared and not copied.
     */
    public static List<String> ownDiskNodes(List<String> argv, Path vmDir) {
        String dir = vmDir.toAbsolutePath().normalize() + "/";
        Map<String, String> ownFiles = new HashMap<>();
        List<String> nodes = new ArrayList<>();
        for (int i = 0; i + 1 < argv.size(); i++) {
            if (!argv.get(i).equals("-blockdev")) {
                continue;
            }
            String o = argv.get(i + 1);
            String driver = QemuCommandLine.valueOf(o, "driver");
            String node = QemuCommandLine.valueOf(o, "node-name");
            boolean writable = !"on".equals(QemuCommandLine.valueOf(o, "read-only"));
            if ("file".equals(driver)) {
                String f = QemuCommandLine.valueOf(o, "filename");
                if (f != null && f.startsWith(dir) && writable) {
                    ownFiles.put(node, f);
                }
            } else if (node != null && writable && ownFiles.containsKey(QemuCommandLine.valueOf(o, "file"))) {
                nodes.add(node);
            }
        }
        return nodes;
    }

    /** Appends {@code from}'s bytes after {@code offset} to {@code to}; returns the new offset (all of {@code from}). */
    private static long copyFile(Path from, Path to, long offset) {
        if (!Files.exists(from)) {
            return offset;
        }
        try (InputStream in = Files.newInputStream(from);
             OutputStream out = Files.newOutputStream(to, StandardOpenOption.CREATE, StandardOpenOption.APPEND)) {
            long size = Files.size(from);
            // A smaller file was cut by run's console-log cap meanwhile: carry over what it holds now.
            long skip = size >= offset ? offset : 0;
            in.skipNBytes(skip);
            return skip + in.transferTo(out);
        } catch (IOException e) {
            throw new MigrationException("cannot carry over " + from + " to " + to + ": " + e.getMessage(), e);
        }
    }

    private static QmpClient connectTarget(RuntimePaths tp, Child child) {
        CompletableFuture<QmpClient> c = QmpClient.connect(tp.qmpSocket(), QmpOptions.defaults()
                .withConnectTimeout(START_TIMEOUT).withCommandTimeout(Migration.COMMAND_TIMEOUT));
        try {
            CompletableFuture.anyOf(c, child.exit()).get(START_TIMEOUT.toMillis() + 1000, TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            // Judged below: a client, or QEMU's exit, or nothing within the timeout.
        }
        if (c.isDone() && !c.isCompletedExceptionally()) {
            return c.join();
        }
        c.thenAccept(QmpClient::close);
        throw new MigrationException("the target QEMU did not come up (" + (child.exit().isDone()
                ? child.exit().join().describe() : "no QMP greeting within " + START_TIMEOUT.toSeconds() + " s")
                + "): " + lastLines(tp.qemuStderr()));
    }

    private static QmpClient connect(RuntimePaths p, Duration timeout, String what) {
        try {
            return QmpClient.connect(p.qmpSocket(), QmpOptions.defaults().withConnectTimeout(timeout)
                    .withCommandTimeout(Migration.COMMAND_TIMEOUT)).get(timeout.toMillis() + 1000, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            throw new MigrationException(what + "'s qmp.sock did not answer within " + timeout.toSeconds()
                    + " s (another manager may hold it; QEMU serves one client per monitor)", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new MigrationException("interrupted", e);
        } catch (Exception e) {
            Throwable c = e.getCause() != null ? e.getCause() : e;
            throw new MigrationException("cannot talk to " + what + "'s " + p.qmpSocket() + ": " + c.getMessage(), c);
        }
    }

    /**
     * Binds the forwards the source held, now that it has quit: HMP {@code hostfwd_add} (QMP has no command for
     * it). The ports were free for an instant only; one taken meanwhile is reported, not fatal.
     */
    private List<HostForward> bindForwards(VmControl dst, List<QemuCommandLine.HostForwardRule> rules,
                                           List<HostForward> forwards) {
        List<HostForward> bound = new ArrayList<>();
        for (int i = 0; i < rules.size(); i++) {
            QemuCommandLine.HostForwardRule rule = rules.get(i);
            String line = "hostfwd_add " + rule.netdevId() + " " + rule.rule();
            String err = "";
            for (int attempt = 0; attempt < 20; attempt++) {
                try {
                    err = dst.qmp().commands().humanMonitorCommand(line).get(10, TimeUnit.SECONDS).strip();
                } catch (Exception e) {
                    err = String.valueOf(e.getCause() != null ? e.getCause().getMessage() : e.getMessage());
                }
                if (err.isEmpty()) {
                    break;
                }
                sleep(100);
            }
            if (err.isEmpty()) {
                if (i < forwards.size()) {
                    bound.add(forwards.get(i));
                }
            } else {
                listener.note("warning: port forward " + rule.rule() + " could not be bound on the target: " + err);
            }
        }
        return bound;
    }

    /** Quits (or kills) the target QEMU and removes its directory: after a failure, nothing of it stays. */
    private static void removeTarget(Child child, VmPlan plan) {
        if (child.isAlive()) {
            child.signal(Signals.SIGKILL);
        }
        try {
            child.exit().get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            // Reaped by its owner thread; a QEMU that does not die from SIGKILL in 10 s is beyond help here.
        }
        VmPreparer.cleanup(plan);
    }

    private static void awaitGone(long pid, Duration d) {
        long until = System.nanoTime() + d.toNanos();
        while (System.nanoTime() - until < 0 && alive(pid)) {
            sleep(20);
        }
    }

    /** Alive and not a zombie (a zombie holds no sockets any more). */
    private static boolean alive(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            int close = stat.lastIndexOf(')');
            return close > 0 && stat.length() > close + 2 && stat.charAt(close + 2) != 'Z';
        } catch (IOException e) {
            return false;
        }
    }

    private static String lastLines(Path file) {
        try {
            List<String> lines = Files.readAllLines(file);
            return lines.isEmpty() ? "(no stderr)" : String.join(" | ", lines.subList(Math.max(0, lines.size() - 5), lines.size()));
        } catch (IOException e) {
            return "(no stderr)";
        }
    }

    private static Map<String, String> env() {
        String path = System.getenv().getOrDefault("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
        return Map.of("PATH", path, "LC_ALL", "C");
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
