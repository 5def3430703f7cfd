package io.qvirt.launcher.runtime;

import io.qvirt.api.VirtualMachineInstance;
import io.qvirt.launcher.control.ShutdownOutcome;
import io.qvirt.launcher.control.VmControl;
import io.qvirt.launcher.control.VmPhase;
import io.qvirt.launcher.control.VmState;
import io.qvirt.launcher.plan.Accelerator;
import io.qvirt.launcher.plan.HostForward;
import io.qvirt.launcher.plan.PlanOptions;
import io.qvirt.launcher.plan.ResolvedVolumes;
import io.qvirt.launcher.plan.RuntimePaths;
import io.qvirt.launcher.plan.VmPlan;
import io.qvirt.launcher.plan.VmPlanner;
import io.qvirt.launcher.process.Child;
import io.qvirt.launcher.process.ExitStatus;
import io.qvirt.launcher.process.Signals;
import io.qvirt.launcher.process.SpawnSpec;
import io.qvirt.launcher.process.Spawner;
import io.qvirt.qmp.EventWaiter;
import io.qvirt.qmp.KvmInfo;
import io.qvirt.qmp.QmpClient;
import io.qvirt.qmp.QmpOptions;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;

/**
 * {@code launcher run}: the resident owner of one QEMU. It prepares the VM, spawns QEMU under
 * {@code setpriv --pdeathsig KILL} from a thread that lives as long as QEMU (so QEMU dies with this
 * process whatever kills it), drives it over its private QMP monitor, and reports how it ended.
 */
public final class VmRunner {
    /**
     * @param root      runtime root
     * @param accel     what the user asked for
     * @param console   attach the serial console to in/out
     * @param keep      keep the VM's directory after it stops
     * @param grace     graceful shutdown period (null: the spec's terminationGracePeriodSeconds)
     * @param in        console input (when interactive)
     * @param out       console output
     * @param interactive in is a terminal: raw mode, Ctrl-] detaches and shuts down
     * @param images      fetches the VMI's images (containerDisks, kernelBoot) once the spec is known to be
     *                    valid: (vmi, fieldPrefix) -> what the planner is handed
     * @param claims      persistentVolumeClaim / ephemeral disks by volume name ({@code --pvc-dir}); empty without
     * @param overcommitPercent how far guest memory may go beyond MemAvailable ({@link HostFitCheck})
     */
    public record RunOptions(Path root, AccelMode accel, boolean console, boolean keep, Duration grace,
                             InputStream in, OutputStream out, boolean interactive,
                             BiFunction<VirtualMachineInstance, String, ResolvedVolumes> images,
                             Map<String, ResolvedVolumes.ClaimDisk> claims, int overcommitPercent) {
    }

    /** How the VM ended. */
    public record Result(VmPhase phase, String reason, int exitCode) {
    }

    private final Path qemu;
    private final AcceleratorChooser chooser;
    private final Log log;
    private final CompletableFuture<String> stopRequest = new CompletableFuture<>();

    public VmRunner(Path qemu, AcceleratorChooser chooser, Log log) {
        this.qemu = qemu;
        this.chooser = chooser;
        this.log = log;
    }

    /** Asks a running {@link #run} to shut the VM down gracefully (signal handlers, console detach). */
    public void requestStop(String why) {
        stopRequest.complete(why);
    }

    /**
     * Runs the VM until it stops.
     *
     * @param vmi         defaulted and validated
     * @param fieldPrefix how field paths are named for this document
     * @throws io.qvirt.api.ValidationException before anything is made, if qvirt cannot run the spec or the
     *                                          guest cannot fit this host ({@link HostFitCheck})
     * @throws LauncherException on a runtime failure before the guest started (an image that cannot be
     *                           fetched: {@link io.qvirt.launcher.image.ImageException})
     */
    public Result run(VirtualMachineInstance vmi, String fieldPrefix, RunOptions o) {
        Accelerator accel = chooser.choose(o.accel(), o.accel() != AccelMode.KVM);
        if (!accel.isKvm() && o.accel() == AccelMode.AUTO) {
            log.warn("KVM not usable, running under TCG emulation (slow): " + accel.reason());
        }
        String ns = vmi.getMetadata().getNamespace();
        String name = vmi.getMetadata().getName();
        RuntimePaths paths = RuntimeDir.paths(o.root(), ns, name);
        VmPlanner planner = new VmPlanner(qemu);
        HostPorts ports = new HostPorts(InetAddress.getLoopbackAddress());
        // Planned once with stand-in image paths first, so an invalid spec is refused before anything is pulled.
        VmPlan draft = planner.plan(vmi, new PlanOptions(paths, accel, true, true, fieldPrefix, "127.0.0.1", p -> p,
                PlanOptions.SPAWN_FIRST_FD, ResolvedVolumes.placeholders(vmi).withClaims(o.claims())));
        // A guest the host cannot hold is refused before anything is pulled, made or spawned.
        new HostFitCheck(HostFacts.host(chooser::kvmMaxVcpus), o.overcommitPercent()).check(vmi, draft, fieldPrefix);
        ResolvedVolumes volumes = o.images().apply(vmi, fieldPrefix).withClaims(o.claims());
        VmPlan plan = planner.plan(vmi, new PlanOptions(paths, accel, true, true, fieldPrefix,
                "127.0.0.1", ports, PlanOptions.SPAWN_FIRST_FD, volumes));
        Duration grace = o.grace() != null ? o.grace() : Duration.ofSeconds(
                vmi.getSpec().getTerminationGracePeriodSeconds() != null ? vmi.getSpec().getTerminationGracePeriodSeconds() : 30);

        PreparedVm prepared = VmPreparer.prepare(o.root(), plan, vmi);
        // The QMP session is set up on our end of the socketpair before QEMU exists: Netty's and Jackson's
        // first use (class loading, the epoll library) then costs nothing between QEMU's start and cont.
        // If QEMU never starts, its end closes below and this future fails with a disconnect.
        CompletableFuture<QmpClient> session = QmpClient.connectFd(prepared.ownerEnd().release(),
                QmpOptions.defaults().withConnectTimeout(Duration.ofSeconds(30)));
        Child child;
        try {
            child = Spawner.spawn(new SpawnSpec(qemu, plan.argv(), qemuEnv(), prepared.childFds(), null, null,
                    paths.qemuStderr(), true, "qemu-owner-" + name));
        } catch (RuntimeException e) {
            prepared.close();
            session.thenAccept(QmpClient::close);
            VmPreparer.cleanup(plan);
            throw new LauncherException("cannot start " + qemu + ": " + e.getMessage(), e);
        } finally {
            prepared.closeChildFds();
        }
        QmpClient qmp = null;
        try {
            try {
                qmp = session.get(30, TimeUnit.SECONDS);
            } catch (Exception e) {
                child.signal(Signals.SIGKILL);
                ExitStatus st = awaitExit(child, Duration.ofSeconds(5));
                throw new LauncherException("QEMU did not come up (" + (st != null ? st.describe() : "no QMP greeting")
                        + "): " + lastLines(paths.qemuStderr(), 5), e);
            }
            try (VmControl ctl = new VmControl(qmp)) {
                writeInfo(plan, child.pid(), qmp);
                verifyAccelerator(qmp, accel, child);
                EventWaiter stopped = qmp.expectEvent("SHUTDOWN", e -> true);
                EventWaiter panicked = qmp.expectEvent("GUEST_PANICKED", e -> true);
                try {
                    ctl.cont();
                } catch (RuntimeException e) {
                    // QEMU dying during setup makes cont fail too: name what killed it, not the QMP symptom.
                    ExitStatus st = awaitExit(child, Duration.ofSeconds(2));
                    if (st != null) {
                        String why = "QEMU " + st.describe() + " while starting; last stderr: " + lastLines(paths.qemuStderr(), 5);
                        log.error("VM failed: " + why);
                        return new Result(VmPhase.FAILED, why, 1);
                    }
                    throw e;
                }
                log.info("VM " + ns + "/" + name + " running: QEMU pid " + child.pid() + ", accelerator "
                        + accel.name() + " (" + accel.reason() + "), " + paths.dir());
                for (HostForward f : plan.forwards()) {
                    log.info("forward " + f);
                }
                ConsoleClient console = o.console() ? ConsoleClient.attach(paths, "launcher run") : null;
                Terminal term = null;
                if (console != null) {
                    console.pumpOutput(o.out());
                    if (o.interactive()) {
                        term = Terminal.raw();
                        Thread t = new Thread(() -> {
                            if (console.pumpInput(o.in())) {
                                requestStop("console detached (Ctrl-])");
                            }
                        }, "console-in");
                        t.setDaemon(true);
                        t.start();
                    }
                }
                ConsoleLogCap logCap = ConsoleLogCap.every(paths.consoleLog(), ConsoleLogCap.DEFAULT_MAX_BYTES, 2000);
                try {
                    return supervise(ctl, child, stopped, panicked, grace, paths);
                } finally {
                    logCap.close();
                    if (term != null) {
                        term.close();
                    }
                    if (console != null) {
                        // Let the last console bytes (the power-off line) reach the user.
                        sleepQuietly(100);
                        console.close();
                    }
                }
            }
        } finally {
            if (qmp != null) {
                qmp.close();
            }
            if (child.isAlive()) {
                child.signal(Signals.SIGKILL);
                awaitExit(child, Duration.ofSeconds(5));
            }
            if (!o.keep()) {
                VmPreparer.cleanup(plan);
            }
        }
    }

    private Result supervise(VmControl ctl, Child child, EventWaiter stopped, EventWaiter panicked, Duration grace,
                             RuntimePaths paths) {
        CompletableFuture<Object> any = CompletableFuture.anyOf(child.exit(), stopped.future(), panicked.future(), stopRequest);
        try {
            any.get();
        } catch (Exception e) {
            // Which one completed is read below; a failed future means QMP went away, as QEMU's exit shows.
        }
        // A waiter also completes (exceptionally) when QMP drops because QEMU died: only a real event counts.
        boolean sawShutdown = happened(stopped);
        boolean sawPanic = happened(panicked);
        if (stopRequest.isDone() && child.isAlive() && !sawShutdown && !sawPanic) {
            String why = stopRequest.getNow("stop requested");
            log.info("stopping the VM (" + why + "): ACPI power button, up to " + grace.toSeconds() + " s");
            ShutdownOutcome out = ctl.shutdown(grace, () -> child.signal(Signals.SIGKILL));
            awaitExit(child, Duration.ofSeconds(10));
            log.info("VM stopped: " + out.how() + " (" + out.detail() + ")");
            return new Result(VmPhase.SUCCEEDED, out.detail(), 0);
        }
        if (sawPanic && child.isAlive()) {
            VmState s = safeState(ctl, VmState.fromQemu("guest-panicked", null, "pvpanic"));
            ctl.quitOrKill(() -> child.signal(Signals.SIGKILL));
            awaitExit(child, Duration.ofSeconds(10));
            log.error("VM failed: " + s.reason());
            return new Result(VmPhase.FAILED, s.reason(), 1);
        }
        Result moved = migratedAway(sawShutdown || !child.isAlive(), ctl, child, paths);
        if (moved != null) {
            return moved;
        }
        if (sawShutdown && child.isAlive()) {
            String reason = stopped.future().join().data().path("reason").asText("guest-shutdown");
            ctl.quitOrKill(() -> child.signal(Signals.SIGKILL));
            awaitExit(child, Duration.ofSeconds(10));
            log.info("VM succeeded: " + reason);
            return new Result(VmPhase.SUCCEEDED, reason, 0);
        }
        // QEMU is gone. An event it sent just before going (SHUTDOWN when another manager powered it off and
        // sent quit) is read before the connection drops, but may trail the exit status: wait for the drop.
        settle(stopped);
        settle(panicked);
        ExitStatus st = awaitExit(child, Duration.ofSeconds(10));
        if (happened(panicked)) {
            log.error("VM failed: guest-panicked (QEMU " + (st != null ? st.describe() : "vanished") + ")");
            return new Result(VmPhase.FAILED, "guest-panicked", 1);
        }
        if (happened(stopped) && st != null && !st.bySignal() && st.code() == 0) {
            String reason = stopped.future().join().data().path("reason").asText("guest-shutdown");
            log.info("VM succeeded: " + reason + " (QEMU quit by another manager)");
            return new Result(VmPhase.SUCCEEDED, reason, 0);
        }
        String why = "QEMU " + (st != null ? st.describe() : "vanished") + "; last stderr: " + lastLines(paths.qemuStderr(), 5);
        log.error("VM failed: " + why);
        return new Result(VmPhase.FAILED, why, 1);
    }

    /**
     * A VM that {@code launcher migrate} moved away: its QEMU here quit after the migration completed, as the
     * marker the migration left says; the VM itself runs on elsewhere.
     */
    private Result migratedAway(boolean quit, VmControl ctl, Child child, RuntimePaths paths) {
        String where = quit ? io.qvirt.launcher.migrate.MigratedMarker.read(paths) : null;
        if (where == null) {
            return null;
        }
        if (child.isAlive()) {
            ctl.quitOrKill(() -> child.signal(Signals.SIGKILL));
        }
        awaitExit(child, Duration.ofSeconds(10));
        log.info("VM migrated to " + where + "; its QEMU here has quit");
        return new Result(VmPhase.SUCCEEDED, "migrated to " + where, 0);
    }

    /** Waits (bounded) until the waiter has an outcome: its event, or the connection's end. */
    private static void settle(EventWaiter w) {
        try {
            w.future().get(2, TimeUnit.SECONDS);
        } catch (Exception e) {
            // Completed exceptionally (disconnected) or still open after 2 s: either way, judged by happened().
        }
    }

        private static boolean happened(EventWaiter w) {
        return w.future().isDone() && !w.future().isCompletedExceptionally();
    }

    private static VmState safeState(VmControl ctl, VmState fallback) {
        try {
            return ctl.state();
        } catch (RuntimeException e) {
            return fallback;
        }
    }

    private void verifyAccelerator(QmpClient qmp, Accelerator accel, Child child) {
        try {
            KvmInfo kvm = qmp.commands().queryKvm().get(10, TimeUnit.SECONDS);
            if (accel.isKvm() != kvm.enabled()) {
                throw new LauncherException("QEMU reports KVM " + (kvm.enabled() ? "enabled" : "disabled")
                        + " but " + accel.name() + " was chosen");
            }
        } catch (LauncherException e) {
            child.signal(Signals.SIGKILL);
            throw e;
        } catch (Exception e) {
            child.signal(Signals.SIGKILL);
            throw new LauncherException("query-kvm failed: " + e.getMessage(), e);
        }
    }

    private void writeInfo(VmPlan plan, long qemuPid, QmpClient qmp) {
        LauncherInfos.write(plan.paths(), new LauncherInfo(plan.namespace(), plan.name(), "run", qemuPid,
                ProcessHandle.current().pid(), plan.accelerator().name(), plan.accelerator().reason(), qemu.toString(),
                Version.QVIRT, Instant.now().toString(), plan.forwards(), plan.podAddress()));
    }

    static Map<String, String> qemuEnv() {
        String path = System.getenv().getOrDefault("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
        return Map.of("PATH", path, "LC_ALL", "C");
    }

    static ExitStatus awaitExit(Child child, Duration d) {
        try {
            return child.exit().get(d.toMillis(), TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            return null;
        }
    }

    /** The last {@code n} lines of a file, joined by " | ", or "(none)". */
    static String lastLines(Path file, int n) {
        try {
            List<String> lines = Files.readAllLines(file);
            List<String> tail = lines.subList(Math.max(0, lines.size() - n), lines.size());
            return tail.isEmpty() ? "(none)" : String.join(" | ", tail);
        } catch (IOException e) {
            return "(none)";
        }
    }

    private static void sleepQuietly(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
