package io.qvirt.handler.vmi;

import io.fabric8.kubernetes.api.model.Quantity;
import io.qvirt.api.MigrationSettings;
import io.qvirt.api.VirtualMachineInstance;
import io.qvirt.api.model.MigrationState;
import io.qvirt.handler.migration.MigrationProxyClient;
import io.qvirt.launcher.control.VmState;
import io.qvirt.launcher.migrate.LocalMigration;
import io.qvirt.launcher.migrate.Migration;
import io.qvirt.launcher.migrate.MigrationCancelledException;
import io.qvirt.launcher.migrate.MigrationOptions;
import io.qvirt.launcher.migrate.MigrationResult;
import io.qvirt.launcher.migrate.QemuCommandLine;
import io.qvirt.qmp.BlockJobInfo;
import io.qvirt.qmp.MigrationInfo;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The handler as a migration's source (step 5 of the migration flow; KubeVirt's migration-source.go): for a VMI of
 * this node whose {@code migrationState} has a target address and no start yet, it writes the start, opens a session
 * to the target node's migration proxy and runs {@link Migration} between its own QEMU and the proxied target, on a
 * thread of its own (a migration takes minutes; the sync workers never wait for it). On success the target was
 * started (if the guest ran), the proxy is told, the end is written and the source QEMU quits: the VMI is forgotten
 * here (its pod ending is no failure). On failure or an abort the VM runs on here and the end says why.
 *
 * <p>A handler restarted during a migration finds it started and not ended: the proxy that carried it was in the
 * old process, so it is undone ({@link Migration#abandon}), the guest made to run, and the end written failed.
 */
final class MigrationSourceRole {
    private static final Logger LOG = Logger.getLogger(MigrationSourceRole.class.getName());
    static final String HANDLER_RESTARTED = "virt-handler restarted during the migration";
    private static final long GIB = 1L << 30;

    /** A migration this process drives. */
    private static final class Run {
        final String migrationUid;
        volatile Migration migration;
        volatile boolean abortAsked;

        Run(String migrationUid) {
            this.migrationUid = migrationUid;
        }
    }

    private final VmiDriver driver;
    private final MigrationTransport transport;
    private final Map<String, Run> runs = new ConcurrentHashMap<>();
    /**
     * Migration uids whose VMI left this node by them (the cache may not show it yet): while the VMI's migrationState is
     * that migration's it is not this node's (its pod's end is no failure). A later migration back makes it ours again.
     */
    private final Set<String> departed = ConcurrentHashMap.newKeySet();
    /** Migration uids this process ran to their end (the cache may not show the end yet: no restart recovery for them). */
    private final Set<String> endedHere = ConcurrentHashMap.newKeySet();
    /** What stands for "no completion timeout" (completionTimeoutPerGiB 0): a year. */
    static final Duration NO_COMPLETION_TIMEOUT = Duration.ofDays(365);
    private final ExecutorService threads = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "qvirt-migration-source");
        t.setDaemon(true);
        return t;
    });

    MigrationSourceRole(VmiDriver driver, MigrationTransport transport) {
        this.driver = driver;
        this.transport = transport;
    }

    /** Whether the VMI left this node by a migration (this process saw it succeed, or its status says so). */
    boolean departed(VirtualMachineInstance vmi) {
        MigrationState m = vmi.getStatus() == null ? null : vmi.getStatus().getMigrationState();
        return m != null && departed.contains(String.valueOf(m.getMigrationUid()))
                || MigrationStatuses.migratedAway(vmi, driver.nodeName());
    }

    /** Whether a migration of {@code key} runs in this process now (the status sync then writes nothing). */
    boolean running(String key) {
        return runs.containsKey(key);
    }

    /**
     * One pass over a VMI of this node with an attached, open QEMU.
     *
     * @return true if a migration of it is in progress (started now or before): the caller writes no status
     */
    boolean sync(String key, VirtualMachineInstance vmi, Domain d) {
        MigrationState m = vmi.getStatus() == null ? null : vmi.getStatus().getMigrationState();
        Run run = runs.get(key);
        if (run != null) {
            if (m != null && run.migrationUid.equals(m.getMigrationUid()) && Boolean.TRUE.equals(m.getAbortRequested())
                    && !run.abortAsked) {
                run.abortAsked = true;
                Migration mig = run.migration;
                boolean cancelled = mig == null || mig.cancel("abortRequested");
                LOG.info(key + ": migration " + run.migrationUid + ": source: abort requested; "
                        + (cancelled ? "cancelling" : "too late to cancel (postcopy)"));
            }
            return true;
        }
        if (m == null || m.getMigrationUid() == null || MigrationStatuses.ended(m)
                || !driver.nodeName().equals(m.getSourceNode() != null ? m.getSourceNode() : driver.nodeName())) {
            return false;
        }
        String muid = m.getMigrationUid();
        if (endedHere.contains(muid)) {
            return false; // its end is written; the cache has not caught up
        }
        if (m.getStartTimestamp() != null) {
            recoverAfterRestart(key, vmi, d, muid);
            return false;
        }
        if (Boolean.TRUE.equals(m.getAbortRequested())) {
            LOG.info(key + ": migration " + muid + ": source: aborted before it started");
            driver.writeStatus(vmi, f -> MigrationStatuses.finished(f, muid, true, MigrationStatuses.ABORTED, driver.now()));
            return false;
        }
        if (m.getTargetNodeAddress() == null || m.getTargetDirectMigrationNodePorts() == null
                || m.getTargetDirectMigrationNodePorts().isEmpty()) {
            return false; // the target is not ready yet
        }
        String host = m.getTargetNodeAddress();
        int port;
        try {
            port = Integer.parseInt(m.getTargetDirectMigrationNodePorts().keySet().iterator().next());
        } catch (NumberFormatException e) {
            driver.writeStatus(vmi, f -> MigrationStatuses.finished(f, muid, true, "the target's migration port "
                    + m.getTargetDirectMigrationNodePorts() + " is not a number", driver.now()));
            return false;
        }
        VirtualMachineInstance started = driver.writeStatus(vmi, f -> MigrationStatuses.started(f, muid, driver.now()));
        if (started == null || MigrationStatuses.of(started, muid) == null
                || MigrationStatuses.of(started, muid).getStartTimestamp() == null) {
            return false; // not written (gone, or another migration now): the next sync decides
        }
        Run r = new Run(muid);
        runs.put(key, r);
        LOG.info(key + ": migration " + muid + ": source: wrote startTimestamp; migrating to " + m.getTargetNode()
                + " at " + host + ":" + port);
        threads.execute(() -> migrate(key, started, d, r, host, port));
        return true;
    }

    /** The migration, on its own thread: session, {@link Migration#run}, the end written, the source quit on success. */
    private void migrate(String key, VirtualMachineInstance vmi, Domain d, Run r, String host, int port) {
        String muid = r.migrationUid;
        MigrationProxyClient.Session session = null;
        boolean succeeded = false;
        String failure = null;
        try {
            session = transport.open(host, port, muid, d.paths.dir());
            LOG.info(key + ": migration " + muid + ": source: connected to the target's migration proxy at " + host + ":" + port);
            List<String> argv = QemuCommandLine.ofProcess(d.qemuPid());
            List<String> copyNodes = LocalMigration.ownDiskNodes(argv, d.paths.dir());
            MigrationSettings settings = settings(key, muid, vmi, transport.settings());
            MigrationOptions options = options(vmi, settings);
            MigrationState state = MigrationStatuses.of(vmi, muid);
            String policy = state == null ? null : state.getMigrationPolicyName();
            LOG.info(key + ": migration " + muid + ": source: starting (disks copied: "
                    + (copyNodes.isEmpty() ? "none" : String.join(", ", copyNodes)) + "; bandwidth "
                    + (options.maxBandwidth() == 0 ? "unlimited" : options.maxBandwidth() + " B/s") + "; timeout "
                    + options.timeout().toSeconds() + " s, then " + options.onTimeout().name().toLowerCase(java.util.Locale.ROOT)
                    + (policy == null ? "" : "; MigrationPolicy " + policy) + ")");
            Migration mig = new Migration(d.control, session.target(), session.endpoints(), copyNodes, options,
                    listener(key, muid, r, settings.progressTimeout(), mode -> writeMode(key, vmi, muid, mode)));
            r.migration = mig;
            if (r.abortAsked) {
                mig.cancel("abortRequested");
            }
            MigrationResult res = mig.run();
            succeeded = true;
            LOG.info(key + ": migration " + muid + ": source: completed (" + res.totalMs() + " ms, downtime "
                    + res.downtimeMs() + " ms, " + res.passes() + " passes over RAM, disks " + res.diskCopyMs()
                    + " ms); the VM runs on the target");
        } catch (MigrationCancelledException e) {
            failure = r.abortAsked ? MigrationStatuses.ABORTED : e.getMessage();
        } catch (RuntimeException e) {
            failure = e.getMessage() == null ? e.toString() : e.getMessage();
            LOG.log(Level.FINE, key + ": migration " + muid + " failed", e);
        }
        // The end is computed from the freshest copy there is (an abortRequested written meanwhile decides abortStatus).
        VirtualMachineInstance latest = driver.cached(vmi);
        try {
            if (session != null) {
                try {
                    session.finish(succeeded);
                } catch (RuntimeException e) {
                    // On success the target holds the VM already; it finds that itself (its QEMU left inmigrate).
                    LOG.warning(key + ": migration " + muid + ": source: telling the target finish(" + succeeded
                            + ") failed: " + e.getMessage());
                }
            }
            if (succeeded) {
                departed.add(muid);
                driver.writeStatus(latest, f -> MigrationStatuses.finished(f, muid, false, null, driver.now()));
                LOG.info(key + ": migration " + muid + ": source: wrote completed; quitting the source QEMU and "
                        + "forgetting the VMI");
                driver.quitAndDetach(key, d);
            } else {
                String why = failure;
                driver.writeStatus(latest, f -> MigrationStatuses.finished(f, muid, true, why, driver.now()));
                LOG.info(key + ": migration " + muid + ": source: FAILED (" + why + "); the VM runs on here");
            }
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, key + ": migration " + muid + ": source: writing its end failed: " + e, e);
        } finally {
            endedHere.add(muid);
            if (session != null) {
                try {
                    session.close();
                } catch (RuntimeException e) {
                    LOG.fine("closing the migration session: " + e);
                }
            }
            runs.remove(key, r);
            driver.enqueue(key);
        }
    }

    /**
     * A migration started (its startTimestamp written) but not run by this process: the old handler's proxy session
     * died with it, so the source QEMU's migration is undone and the end written failed. A migration QEMU had
     * completed (the VM went to the target) is written succeeded instead, and the source quits.
     */
    private void recoverAfterRestart(String key, VirtualMachineInstance vmi, Domain d, String muid) {
        String status;
        try {
            status = d.control.qmp().commands().queryMigrate().get(10, TimeUnit.SECONDS).status();
        } catch (Exception e) {
            return; // no answer: the next sync tries again
        }
        if (status.equals("completed")) {
            LOG.info(key + ": migration " + muid + ": source: found completed after a handler restart; the VM is on "
                    + "the target: writing completed, quitting the source QEMU");
            departed.add(muid);
            driver.writeStatus(vmi, f -> MigrationStatuses.finished(f, muid, false, null, driver.now()));
            driver.quitAndDetach(key, d);
            return;
        }
        try {
            List<String> steps = Migration.abandon(d.control);
            VmState s = d.control.state();
            MigrationState ms = MigrationStatuses.of(vmi, muid);
            // a guest the old handler paused at the completion timeout (mode Paused) ran before: QEMU restarts a guest on
            // cancel only if it ran when the migration's last stage began, so it is resumed here
            boolean pausedByMigration = s.qemuStatus().equals("paused") && ms != null && "Paused".equals(ms.getMode());
            if (s.qemuStatus().equals("postmigrate") || s.qemuStatus().equals("finish-migrate") || pausedByMigration) {
                d.control.cont();
                steps = new java.util.ArrayList<>(steps);
                steps.add("cont");
            }
            d.markStale();
            LOG.info(key + ": migration " + muid + ": source: handler restarted during the migration: "
                    + (steps.isEmpty() ? "nothing left on the source QEMU" : String.join(", ", steps)));
        } catch (RuntimeException e) {
            LOG.warning(key + ": migration " + muid + ": source: undoing the migration after a restart: " + e.getMessage());
        }
        driver.writeStatus(vmi, f -> MigrationStatuses.finished(f, muid, true, HANDLER_RESTARTED, driver.now()));
        LOG.info(key + ": migration " + muid + ": source: wrote it failed (" + HANDLER_RESTARTED + ")");
    }

    /**
     * Logs progress every 5 s and is KubeVirt's progress watchdog: a migration whose remaining data (RAM, or the disk
     * copy's outstanding bytes) has not reached a new low for {@code progressTimeoutS} seconds (0: never) is cancelled
     * as stuck, in KubeVirt's words.
     */
    private static Migration.Listener listener(String key, String muid, Run run, long progressTimeoutS,
                                               Consumer<String> onMode) {
        return new Migration.Listener() {
            private long lastLog;
            private final ProgressWatchdog watchdog = new ProgressWatchdog(progressTimeoutS, System.nanoTime());

            private void watch(String phase, long remaining) {
                long stuck = watchdog.observe(phase, remaining, System.nanoTime());
                Migration mig = run.migration;
                if (stuck >= 0 && mig != null) {
                    LOG.warning(key + ": migration " + muid + ": source: aborting migration: stuck for " + stuck + " seconds");
                    mig.cancel("live migration stuck for " + stuck + " seconds");
                }
            }

            @Override
            public void progress(MigrationInfo i) {
                if (i.ramRemaining() > 0) { // 0: not started (setup) or done: no measure of progress
                    watch("ram", i.ramRemaining());
                }
                long now = System.nanoTime();
                if (now - lastLog > 5_000_000_000L) {
                    lastLog = now;
                    LOG.info(key + ": migration " + muid + ": source: " + i.status() + ", RAM " + i.ramTransferred() / (1 << 20)
                            + " MiB sent, " + i.ramRemaining() / (1 << 20) + " MiB left of " + i.ramTotal() / (1 << 20) + " MiB");
                }
            }

            @Override
            public void diskProgress(List<BlockJobInfo> jobs) {
                long left = jobs.stream().mapToLong(j -> Math.max(0, j.len() - j.offset())).sum();
                if (left > 0) {
                    watch("disk", left);
                }
                long now = System.nanoTime();
                if (now - lastLog > 5_000_000_000L) {
                    lastLog = now;
                    LOG.info(key + ": migration " + muid + ": source: disk copy " + jobs);
                }
            }

            @Override
            public void note(String line) {
                LOG.info(key + ": migration " + muid + ": source: " + line);
            }

            @Override
            public void modeChanged(String mode) {
                onMode.accept(mode);
            }
        };
    }

    /**
     * The VMI's migrationState.mode, written on another thread: the migration's own thread goes on at once (at the
     * postcopy switch the guest is stopped until the target runs it). A failed write is logged.
     */
    private void writeMode(String key, VirtualMachineInstance vmi, String muid, String mode) {
        threads.execute(() -> {
            try {
                driver.writeStatus(driver.cached(vmi), f -> MigrationStatuses.mode(f, muid, mode));
                LOG.info(key + ": migration " + muid + ": source: wrote mode " + mode);
            } catch (RuntimeException e) {
                LOG.warning(key + ": migration " + muid + ": source: writing mode " + mode + " failed: " + e);
            }
        });
    }

    /**
     * The settings the migration runs with: what virt-controller resolved into the VMI's
     * {@code migrationState.migrationConfiguration} (the KubeVirt CR's, its MigrationPolicy applied), else the cluster's
     * as this handler read them (a state written without them, or with values it cannot use: logged).
     */
    static MigrationSettings settings(String key, String muid, VirtualMachineInstance vmi, MigrationSettings cluster) {
        MigrationState m = MigrationStatuses.of(vmi, muid);
        try {
            return MigrationSettings.fromConfiguration(m == null ? null : m.getMigrationConfiguration(), cluster);
        } catch (IllegalArgumentException e) {
            LOG.warning(key + ": migration " + muid + ": source: " + e.getMessage() + "; using the KubeVirt CR's settings");
            return cluster;
        }
    }

    /**
     * The migration's options from the cluster's settings: KubeVirt's bandwidthPerMigration as QEMU's max-bandwidth,
     * its completion timeout, completionTimeoutPerGiB times the guest's memory in GiB (at least 1), and what that
     * timeout does: cancel, or with allowWorkloadDisruption switch to postcopy (allowPostCopy) or pause the guest
     * (KubeVirt's legacy convergence); allowAutoConverge as QEMU's auto-converge.
     */
    static MigrationOptions options(VirtualMachineInstance vmi, MigrationSettings s) {
        long gib = Math.max(1, (guestMemory(vmi) + GIB - 1) / GIB);
        // KubeVirt: completionTimeoutPerGiB 0 is no completion timeout (the progress watchdog still cancels a stuck one)
        Duration timeout = s.completionTimeoutPerGiB() > 0 ? Duration.ofSeconds(s.completionTimeoutPerGiB() * gib)
                : NO_COMPLETION_TIMEOUT;
        MigrationOptions.OnTimeout atTimeout = !s.allowWorkloadDisruption() ? MigrationOptions.OnTimeout.CANCEL
                : s.allowPostCopy() ? MigrationOptions.OnTimeout.POSTCOPY : MigrationOptions.OnTimeout.PAUSE;
        return new MigrationOptions(0, false, s.bandwidthPerMigrationBytes(), timeout, Duration.ofSeconds(2),
                s.allowAutoConverge(), atTimeout);
    }

    /** The guest's memory in bytes: spec.domain.memory.guest, else resources.requests.memory, else 0. */
    static long guestMemory(VirtualMachineInstance vmi) {
        var domain = vmi.getSpec() == null ? null : vmi.getSpec().getDomain();
        Quantity q = null;
        if (domain != null && domain.getMemory() != null && domain.getMemory().getGuest() != null) {
            q = domain.getMemory().getGuest();
        } else if (domain != null && domain.getResources() != null && domain.getResources().getRequests() != null) {
            q = domain.getResources().getRequests().get("memory");
        }
        try {
            return q == null ? 0 : Quantity.getAmountInBytes(q).longValue();
        } catch (RuntimeException e) {
            return 0;
        }
    }

    /** Stops starting migrations; those running lose their proxy with this process (a new handler undoes them). */
    void close() {
        threads.shutdownNow();
    }
}
