package io.qvirt.launcher.migrate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.qvirt.launcher.control.VmControl;
import io.qvirt.launcher.control.VmPhase;
import io.qvirt.launcher.control.VmState;
import io.qvirt.qmp.BlockJobInfo;
import io.qvirt.qmp.MigrationInfo;
import io.qvirt.qmp.QmpCommands;
import io.qvirt.qmp.QmpDisconnectedException;
import io.qvirt.qmp.QmpEvent;
import io.qvirt.qmp.QmpRemoteException;
import io.qvirt.qmp.QmpSubscription;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One live migration between two QEMUs, driven over their QMP monitors only: it neither starts nor ends a
 * process, so {@code launcher migrate} and a cluster handler (which reach the two QEMUs differently) share it.
 *
 * <p>The flow is libvirt's: the target was started with the same device tree and {@code -incoming defer}
 * (and {@code -S}, so its CPUs start only when told). Capabilities are set on both ends ({@code events};
 * {@code multifd}, {@code postcopy-ram} when asked; {@code pause-before-switchover} on the source when disks
 * are copied or a switchover hook is set). Disks that are not shared (a containerDisk's or emptyDisk's own
 * file) are copied first: the target exports each over NBD, the source mirrors into it until every mirror is
 * ready (then it mirrors each guest write). RAM follows over the stream socket, one progress report per pass
 * and every {@link MigrationOptions#progressEvery()}. At {@code pre-switchover} (source CPUs stopped, nothing
 * sent of the final state yet) the mirrors are ended in sync, the target's NBD server stops, the hook runs, and
 * the migration continues. On {@code completed} the target's CPUs are started if the source's ran (in
 * postcopy: as soon as the target has the device state), and the source is left in {@code postmigrate} for its
 * caller to quit. On failure or cancel the mirrors are abandoned and the source
 * runs again as before; the target is the caller's to remove. At {@link MigrationOptions#timeout()} it is
 * cancelled, or (KubeVirt's {@code allowWorkloadDisruption}, {@link MigrationOptions#onTimeout()}) switched to
 * postcopy or finished with the guest paused.
 *
 * <p>The source is driven over its QMP monitor; every target-side step goes through a {@link MigrationTarget}
 * (the target's own monitor on one machine, a migration proxy in a cluster), and the source QEMU connects to
 * the target through the given {@link Endpoints}.
 *
 * <p>Not thread-safe except {@link #cancel}, which any thread (a signal handler) may call.
 */
public final class Migration {
    /** QMP commands of the flow; a migration's own length is bounded by {@link MigrationOptions#timeout()}. */
    static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(30);
    /** "No cap" for QEMU's max-bandwidth (1 TiB/s; QEMU refuses values near 2^64). */
    static final long UNLIMITED_BANDWIDTH = 1L << 40;

    /**
     * Where the SOURCE QEMU connects to reach the target; on one machine the target's own sockets (files in its
     * directory), in a cluster the migration proxy client's local sockets that forward to them. Unix socket
     * paths are at most 107 bytes.
     *
     * @param stream the migration stream's Unix socket
     * @param nbd    the NBD server's Unix socket for disk copies (unused without any)
     */
    public record Endpoints(Path stream, Path nbd) {
    }

    /** What the caller sees while it runs; every method runs on the thread that called {@link #run}. */
    public interface Listener {
        /** A progress report while RAM is sent (and once at the end). */
        default void progress(MigrationInfo info) {
        }

        /** Disk copies before RAM: one entry per mirror job. */
        default void diskProgress(List<BlockJobInfo> jobs) {
        }

        /** Whether {@link #beforeSwitchover} does anything (it costs the pause-before-switchover round trip). */
        default boolean wantsSwitchoverHook() {
            return false;
        }

        /**
         * Runs with the source's CPUs stopped and its disks in sync, before the target receives the last of the
         * state and starts: the one moment both sides are still; a failure here cancels the migration.
         */
        default void beforeSwitchover() {
        }

        /** A line for the user (a step taken). */
        default void note(String line) {
        }

        /**
         * The migration left pre-copy at its timeout ({@link MigrationOptions#onTimeout()}): {@code PostCopy} or
         * {@code Paused}, KubeVirt's migration modes. Called on the migration's thread, before it goes on.
         */
        default void modeChanged(String mode) {
        }
    }

    private record Event(boolean fromSource, QmpEvent event) {
    }

    private final VmControl source;
    private final MigrationTarget target;
    private final Endpoints endpoints;
    private final List<String> copyNodes;
    private final MigrationOptions options;
    private final Listener listener;
    private final AtomicReference<String> cancelRequest = new AtomicReference<>();
    private final BlockingQueue<Event> events = new LinkedBlockingQueue<>();
    private volatile boolean postcopyActive;
    /** Set before migrate-start-postcopy is sent: from then on a cancel could lose the VM, so none is sent. */
    private volatile boolean postcopyRequested;
    private long completedAt;

    /**
     * @param source     the running VM's QEMU (running or paused)
     * @param target     a QEMU started with the same device tree, {@code -S} and {@code -incoming defer}, reached
     *                   locally ({@link QmpMigrationTarget}) or over a proxy
     * @param sourceSide where the source QEMU connects for the stream and the NBD exports
     * @param copyNodes  block node names whose data is not shared and is copied (same names on both ends)
     */
    public Migration(VmControl source, MigrationTarget target, Endpoints sourceSide, List<String> copyNodes,
                     MigrationOptions options, Listener listener) {
        this.source = source;
        this.target = target;
        this.endpoints = sourceSide;
        this.copyNodes = List.copyOf(copyNodes);
        this.options = options;
        this.listener = listener;
    }

    /**
     * Asks a running migration to stop; the source resumes. Refused (false) once postcopy was asked for: the
     * source may no longer hold the whole VM.
     */
    public boolean cancel(String why) {
        if (postcopyActive || postcopyRequested) {
            return false;
        }
        cancelRequest.compareAndSet(null, why);
        events.offer(new Event(true, new QmpEvent("qvirt-cancel", JsonNodeFactory.instance.objectNode(), null)));
        return true;
    }

    /**
     * Runs the migration to its end.
     *
     * @return QEMU's figures, with the target running (if the source was) and the source in postmigrate
     * @throws MigrationCancelledException if cancelled; the source runs as before
     * @throws MigrationException          if it failed; the source runs as before, unless it had switched to
     *                                     postcopy (the message says so)
     */
    public MigrationResult run() {
        QmpCommands src = source.qmp().commands();
        VmState before = source.state();
        if (before.phase() != VmPhase.RUNNING || !(before.qemuStatus().equals("running") || before.paused())) {
            throw new MigrationException("the VM is " + before.describe() + ": only a running or paused VM migrates");
        }
        boolean wasRunning = before.qemuStatus().equals("running");
        MigrationInfo prior = await(src.queryMigrate(), "query-migrate on the source");
        if (!prior.status().equals("none") && !prior.finished()) {
            throw new MigrationException("the VM is already migrating (source status " + prior.status() + ")");
        }
        if (!copyNodes.isEmpty()) {
            // A driver that died mid-way (a killed handler or migrate) leaves its mirror jobs and target nodes on the
            // source; nothing migrates now, so they are leftovers, and the same names are about to be used again.
            for (String step : abandon(source)) {
                listener.note("left by an earlier migration: " + step);
            }
        }
        String targetStatus = target.status();
        if (!targetStatus.equals("inmigrate")) {
            throw new MigrationException("the target QEMU is " + targetStatus + ", not waiting for a migration "
                    + "(it must be started with -incoming defer)");
        }
        boolean hook = !copyNodes.isEmpty() || listener.wantsSwitchoverHook();
        QmpSubscription sourceEvents = source.qmp().subscribe(e -> e.name().equals("MIGRATION")
                || e.name().equals("MIGRATION_PASS") || e.name().startsWith("BLOCK_JOB_"),
                e -> events.offer(new Event(true, e)));
        AutoCloseable targetEvents = null;
        long deadline = System.nanoTime() + options.timeout().toNanos();
        boolean mirrorsStarted = false;
        try {
            targetEvents = target.onMigrationStatus(status -> events.offer(new Event(false,
                    new QmpEvent("MIGRATION", JsonNodeFactory.instance.objectNode().put("status", status), null))));
            Map<String, Boolean> both = setCapabilities(src, hook);
            long diskStart = System.nanoTime();
            // Capabilities, migrate-incoming and the NBD exports in one step: one round trip over a proxy.
            target.prepare(both, options.multifdChannels(), copyNodes);
            if (!copyNodes.isEmpty()) {
                mirrorsStarted = true;
                copyDisks(src, deadline);
            }
            long diskMs = copyNodes.isEmpty() ? 0 : (System.nanoTime() - diskStart) / 1_000_000;
            checkCancel();
            await(src.migrate("unix:" + endpoints.stream()), "migrate");
            MigrationInfo last = follow(src, wasRunning, deadline);
            long startMs = finishTarget(wasRunning);
            return new MigrationResult(last.totalTimeMs(), last.downtimeMs(), startMs, diskMs, last.dirtySyncCount(),
                    postcopyActive, last);
        } catch (RuntimeException e) {
            if (postcopyActive) {
                throw new MigrationException("migration failed in postcopy, the VM is lost (neither QEMU holds all of "
                        + "its memory): " + e.getMessage(), e);
            }
            recoverSource(src, mirrorsStarted, wasRunning);
            if (e instanceof MigrationException) {
                throw e;
            }
            throw new MigrationException("migration failed: " + e.getMessage() + "; the VM runs on the source", e);
        } finally {
            sourceEvents.close();
            if (targetEvents != null) {
                try {
                    targetEvents.close();
                } catch (Exception e) {
                    listener.note("could not stop following the target's events: " + e.getMessage());
                }
            }
        }
    }

    /** Sets the source's capabilities and parameters; returns the capabilities for the target. */
    private Map<String, Boolean> setCapabilities(QmpCommands src, boolean pauseBeforeSwitchover) {
        Map<String, Boolean> both = new LinkedHashMap<>();
        both.put("events", true);
        both.put("multifd", options.multifdChannels() > 0);
        both.put("postcopy-ram", options.postcopyCapable());
        Map<String, Boolean> onSource = new LinkedHashMap<>(both);
        onSource.put("pause-before-switchover", pauseBeforeSwitchover);
        // Set either way: QEMU keeps a capability from one migration to the next. Only the source throttles.
        onSource.put("auto-converge", options.autoConverge());
        await(src.migrateSetCapabilities(onSource), "migrate-set-capabilities on the source");
        // Always set: QEMU keeps a parameter from one migration to the next (a cancelled slow one included).
        long bandwidth = options.maxBandwidth() > 0 ? options.maxBandwidth() : UNLIMITED_BANDWIDTH;
        await(src.migrateSetParameters(JsonNodeFactory.instance.objectNode().put("max-bandwidth", bandwidth)),
                "migrate-set-parameters max-bandwidth on the source");
        if (options.multifdChannels() > 0) {
            ObjectNode p = JsonNodeFactory.instance.objectNode().put("multifd-channels", options.multifdChannels());
            await(src.migrateSetParameters(p), "migrate-set-parameters on the source");
        }
        return both;
    }

    /** Mirrors each node into the target's export of it, and waits until every mirror is ready. */
    private void copyDisks(QmpCommands src, long deadline) {
        Set<String> ready = new HashSet<>();
        for (String node : copyNodes) {
            ObjectNode nbd = JsonNodeFactory.instance.objectNode().put("driver", "nbd").put("node-name", job(node))
                    .put("export", node);
            nbd.putObject("server").put("type", "unix").put("path", endpoints.nbd().toString());
            await(src.blockdevAdd(nbd), "blockdev-add of the target's " + node + " on the source");
            // top: only what this node holds itself; a containerDisk's base is the same read-only file on both ends.
            await(src.blockdevMirror(job(node), node, job(node), "top"), "blockdev-mirror " + node);
        }
        listener.note("copying disks " + String.join(", ", copyNodes) + " (QEMU block mirror to the target's NBD export)");
        long nextReport = System.nanoTime();
        while (ready.size() < copyNodes.size()) {
            checkCancel();
            checkDeadline(deadline, "disk copy");
            Event ev = poll(nextReport);
            if (ev == null) {
                listener.diskProgress(await(src.queryBlockJobs(), "query-block-jobs"));
                nextReport = System.nanoTime() + options.progressEvery().toNanos();
                continue;
            }
            QmpEvent e = ev.event();
            String id = e.data().path("device").asText(e.data().path("id").asText(""));
            switch (e.name()) {
                case "BLOCK_JOB_READY" -> ready.add(id);
                case "BLOCK_JOB_ERROR", "BLOCK_JOB_CANCELLED" -> throw new MigrationException("copying disk "
                        + id + " failed (" + e.name() + " " + e.data() + "); the VM runs on the source");
                case "BLOCK_JOB_COMPLETED" -> throw new MigrationException("copying disk " + id + " ended early: "
                        + e.data().path("error").asText("no error given") + "; the VM runs on the source");
                case "MIGRATION" -> failIfEnded(e);
                default -> {
                }
            }
        }
        listener.diskProgress(await(src.queryBlockJobs(), "query-block-jobs"));
    }

    /** Follows the source's events until completed; handles pre-switchover, postcopy and cancel. */
    private MigrationInfo follow(QmpCommands src, boolean wasRunning, long deadline) {
        boolean cancelSent = false;
        boolean pausedAtTimeout = false;
        long postcopyDeadline = 0;
        boolean startTarget = false;
        long nextReport = System.nanoTime() + options.progressEvery().toNanos();
        while (true) {
            if (startTarget) {
                // In postcopy the guest must run on the target at once (it fetches missing pages on demand), but
                // only once the target has loaded the device state: it leaves inmigrate for paused (-S) then.
                String st = target.status();
                if (st.equals("paused")) {
                    target.cont();
                    startTarget = false;
                } else if (!st.equals("inmigrate")) {
                    startTarget = false;
                }
            }
            if (!cancelSent && postcopyRequested && !postcopyActive && System.nanoTime() - postcopyDeadline > 0) {
                // QEMU never switched (a stalled stream): while it still says active, a cancel loses nothing
                MigrationInfo info = await(src.queryMigrate(), "query-migrate");
                if (info.status().equals("active")) {
                    listener.note("cancelling the migration: it did not switch to postcopy within "
                            + COMMAND_TIMEOUT.toSeconds() + " s");
                    cancelRequest.compareAndSet(null, "it did not switch to postcopy within " + COMMAND_TIMEOUT.toSeconds() + " s");
                    await(src.migrateCancel(), "migrate_cancel");
                    cancelSent = true;
                }
                postcopyDeadline = System.nanoTime() + COMMAND_TIMEOUT.toNanos();
            }
            if (!cancelSent && !postcopyActive && !postcopyRequested) {
                String why = cancelRequest.get();
                if (why == null && System.nanoTime() - deadline > 0) {
                    long s = options.timeout().toSeconds();
                    if (options.onTimeout() == MigrationOptions.OnTimeout.POSTCOPY) {
                        // KubeVirt's allowPostCopy: the guest moves now and fetches what is missing; no timeout after
                        listener.note("not done after " + s + " s: switching to postcopy");
                        postcopyDeadline = startPostcopy(src);
                        listener.modeChanged("PostCopy");
                        continue;
                    }
                    if (options.onTimeout() == MigrationOptions.OnTimeout.PAUSE && !pausedAtTimeout && wasRunning) {
                        // KubeVirt's allowWorkloadDisruption without postcopy: a paused guest dirties nothing, so the
                        // rest is sent once; cancelled (and resumed on the source) only at twice the time
                        listener.note("not done after " + s + " s: pausing the guest until it has moved (cancelled "
                                + "if not done after " + 2 * s + " s)");
                        await(src.stop(), "stop");
                        pausedAtTimeout = true;
                        deadline += options.timeout().toNanos();
                        listener.modeChanged("Paused");
                        continue;
                    }
                    why = "it took longer than " + (pausedAtTimeout ? 2 * s : s) + " s";
                    cancelRequest.compareAndSet(null, why);
                }
                if (why != null) {
                    listener.note("cancelling the migration: " + why);
                    await(src.migrateCancel(), "migrate_cancel");
                    cancelSent = true;
                }
            }
            Event ev = poll(startTarget ? Math.min(nextReport, System.nanoTime() + 20_000_000L) : nextReport);
            if (ev == null && startTarget && System.nanoTime() - nextReport < 0) {
                continue;
            }
            if (ev == null) {
                MigrationInfo info = await(src.queryMigrate(), "query-migrate");
                if (info.finished()) {
                    // An event lost with a reconnect cannot happen on one connection, but the state is the truth.
                    ev = new Event(true, new QmpEvent("MIGRATION",
                            JsonNodeFactory.instance.objectNode().put("status", info.status()), null));
                } else {
                    if (info.status().equals("active") || info.status().equals("postcopy-active")) {
                        listener.progress(info);
                    }
                    nextReport = System.nanoTime() + options.progressEvery().toNanos();
                    continue;
                }
            }
            QmpEvent e = ev.event();
            if (!ev.fromSource()) {
                if (e.name().equals("MIGRATION") && e.data().path("status").asText().equals("postcopy-active")
                        && wasRunning) {
                    startTarget = true;
                }
                continue;
            }
            switch (e.name()) {
                case "MIGRATION_PASS" -> {
                    MigrationInfo info = await(src.queryMigrate(), "query-migrate");
                    listener.progress(info);
                    if (options.postcopy() && !postcopyRequested && !cancelSent && cancelRequest.get() == null
                            && e.data().path("pass").asInt() >= 2) {
                        listener.note("switching to postcopy after the first full pass over RAM");
                        postcopyDeadline = startPostcopy(src);
                    }
                }
                case "MIGRATION" -> {
                    String status = e.data().path("status").asText();
                    switch (status) {
                        case "pre-switchover" -> {
                            if (cancelRequest.get() != null && !postcopyRequested) {
                                if (!cancelSent) {
                                    await(src.migrateCancel(), "migrate_cancel");
                                    cancelSent = true;
                                }
                            } else {
                                switchover(src);
                            }
                        }
                        case "postcopy-active" -> postcopyActive = true;
                        case "completed" -> {
                            completedAt = System.nanoTime();
                            // QEMU announces completed just before it computes the final figures: ask again briefly.
                            MigrationInfo info = await(src.queryMigrate(), "query-migrate");
                            for (int i = 0; i < 40 && info.totalTimeMs() <= 0; i++) {
                                sleep(25);
                                info = await(src.queryMigrate(), "query-migrate");
                            }
                            listener.progress(info);
                            return info;
                        }
                        case "failed", "cancelled" -> failIfEnded(e);
                        default -> {
                        }
                    }
                }
                case "BLOCK_JOB_ERROR" -> {
                    // A mirror that stopped means the target's disk is not the source's: the VM must not move.
                    cancelRequest.compareAndSet(null, "disk mirror " + e.data().path("device").asText() + " failed: "
                            + e.data().path("operation").asText() + " error");
                }
                default -> {
                }
            }
        }
    }

    /**
     * Sends migrate-start-postcopy, marking postcopy as asked for first (no cancel from then on).
     *
     * @return the deadline by which QEMU must have left {@code active} for postcopy
     */
    private long startPostcopy(QmpCommands src) {
        postcopyRequested = true;
        await(src.migrateStartPostcopy(), "migrate-start-postcopy");
        return System.nanoTime() + COMMAND_TIMEOUT.toNanos();
    }

    /** Source stopped, disks in sync: end the mirrors (target equal to source), run the hook, continue. */
    private void switchover(QmpCommands src) {
        long start = System.nanoTime();
        if (!copyNodes.isEmpty()) {
            Set<String> pending = new HashSet<>();
            for (String node : copyNodes) {
                await(src.blockJobCancel(job(node), false), "block-job-cancel " + job(node));
                pending.add(job(node));
            }
            long until = System.nanoTime() + COMMAND_TIMEOUT.toNanos();
            List<Event> other = new ArrayList<>();
            while (!pending.isEmpty()) {
                if (System.nanoTime() - until > 0) {
                    throw new MigrationException("the disk mirrors did not end within " + COMMAND_TIMEOUT.toSeconds()
                            + " s at switchover; the VM runs on the source");
                }
                Event ev = poll(until);
                if (ev == null) {
                    continue;
                }
                QmpEvent e = ev.event();
                String id = e.data().path("device").asText("");
                if (e.name().equals("BLOCK_JOB_COMPLETED") || e.name().equals("BLOCK_JOB_CANCELLED")) {
                    if (e.data().hasNonNull("error")) {
                        throw new MigrationException("disk mirror " + id + " ended with an error: "
                                + e.data().get("error").asText() + "; the VM runs on the source");
                    }
                    pending.remove(id);
                } else if (e.name().equals("BLOCK_JOB_ERROR")) {
                    throw new MigrationException("disk mirror " + id + " failed at switchover; the VM runs on the source");
                } else {
                    other.add(ev);
                }
            }
            events.addAll(other);
            // The target's disks are complete: its exports go before its devices take the disks over (a device
            // does not share write access with an export; QEMU refuses to activate it otherwise).
            target.stopExports();
        }
        listener.beforeSwitchover();
        await(src.migrateContinue("pre-switchover"), "migrate-continue");
        // Part of the downtime: the guest is stopped from pre-switchover on.
        listener.note("switchover: source stopped, " + (copyNodes.isEmpty() ? "" : "disk mirrors ended in sync, ")
                + "continued after " + (System.nanoTime() - start) / 1_000_000 + " ms");
    }

    /**
     * The target has all of the VM: wait until it has loaded it, then start its CPUs if the source's ran.
     *
     * @return milliseconds from the source's completion until the target's CPUs were started (0 if not started here)
     */
    private long finishTarget(boolean wasRunning) {
        long until = System.nanoTime() + COMMAND_TIMEOUT.toNanos();
        String status;
        while (true) {
            try {
                status = target.status();
            } catch (MigrationException e) {
                throw new MigrationException("the target QEMU did not take the VM (" + e.getMessage() + ")", e);
            }
            if (!status.equals("inmigrate") && !status.equals("postmigrate") || System.nanoTime() - until > 0) {
                break;
            }
            sleep(50);
        }
        if (!status.equals("paused") && !status.equals("running")) {
            throw new MigrationException("the target QEMU is " + status + " after the migration, not ready to run the VM");
        }
        if (wasRunning && status.equals("paused")) {
            try {
                target.cont();
            } catch (MigrationException e) {
                // The target holds the VM now and the source's disks are released: resuming the source would run
                // the guest twice. The VM stays on the target, paused, for its manager to start.
                listener.note("warning: the target holds the VM but did not start it (" + e.getMessage()
                        + "); it is paused there: launcher unpause");
                return 0;
            }
            return (System.nanoTime() - completedAt) / 1_000_000;
        }
        return 0;
    }

    /** After a failure before switchover: abandon the mirrors, drop their target nodes, run the guest again. */
    private void recoverSource(QmpCommands src, boolean mirrorsStarted, boolean wasRunning) {
        try {
            MigrationInfo info = await(src.queryMigrate(), "query-migrate");
            if (!info.finished() && !info.status().equals("none")) {
                await(src.migrateCancel(), "migrate_cancel");
                long until = System.nanoTime() + COMMAND_TIMEOUT.toNanos();
                while (!info.finished() && System.nanoTime() - until < 0) {
                    sleep(50);
                    info = await(src.queryMigrate(), "query-migrate");
                }
            }
            if (mirrorsStarted) {
                for (String node : copyNodes) {
                    quietly(src.blockJobCancel(job(node), true));
                }
                long until = System.nanoTime() + COMMAND_TIMEOUT.toNanos();
                while (System.nanoTime() - until < 0
                        && await(src.queryBlockJobs(), "query-block-jobs").stream().anyMatch(j -> j.device().startsWith("mig-"))) {
                    sleep(50);
                }
                for (String node : copyNodes) {
                    quietly(src.blockdevDel(job(node)));
                }
            }
            // QEMU restarts a guest that ran when a migration fails or is cancelled; after a completed one whose
            // target failed, the source sits in postmigrate and needs cont (which also re-activates its disks).
            VmState s = source.state();
            if (wasRunning && !s.qemuStatus().equals("running")) {
                source.cont();
            }
        } catch (RuntimeException e) {
            listener.note("could not restore the source cleanly: " + e.getMessage());
        }
    }

    /**
     * Undoes what a migration left on its source when the process driving it died (SIGKILL): cancels the
     * migration if one is in progress (QEMU resumes a guest that ran, also one held at pre-switchover), abandons
     * the disk mirrors and drops their target nodes. A migration already in postcopy is left alone.
     *
     * @return each step taken, empty if nothing was left
     * @throws MigrationException if QEMU refuses a step
     */
    public static List<String> abandon(VmControl source) {
        QmpCommands src = source.qmp().commands();
        List<String> done = new ArrayList<>();
        MigrationInfo info = await(src.queryMigrate(), "query-migrate");
        if (info.status().startsWith("postcopy")) {
            throw new MigrationException("the migration is in postcopy (" + info.status() + "): it cannot be cancelled, "
                    + "the target already runs the VM");
        }
        if (!info.status().equals("none") && !info.finished()) {
            String was = info.status();
            await(src.migrateCancel(), "migrate_cancel");
            long until = System.nanoTime() + COMMAND_TIMEOUT.toNanos();
            while (!info.finished() && System.nanoTime() - until < 0) {
                sleep(50);
                info = await(src.queryMigrate(), "query-migrate");
            }
            done.add("migration cancelled (it was " + was + ", now " + info.status() + ")");
        }
        for (BlockJobInfo j : await(src.queryBlockJobs(), "query-block-jobs")) {
            if (j.device().startsWith("mig-")) {
                await(src.blockJobCancel(j.device(), true), "block-job-cancel " + j.device());
                done.add("disk mirror " + j.device() + " abandoned");
            }
        }
        long until = System.nanoTime() + COMMAND_TIMEOUT.toNanos();
        while (System.nanoTime() - until < 0
                && await(src.queryBlockJobs(), "query-block-jobs").stream().anyMatch(j -> j.device().startsWith("mig-"))) {
            sleep(50);
        }
        for (JsonNode n : await(source.qmp().execute("query-named-block-nodes"), "query-named-block-nodes")) {
            String name = n.path("node-name").asText("");
            if (name.startsWith("mig-")) {
                await(src.blockdevDel(name), "blockdev-del " + name);
                done.add("target disk node " + name + " dropped");
            }
        }
        return done;
    }

    private void failIfEnded(QmpEvent e) {
        String status = e.data().path("status").asText();
        if (status.equals("cancelled")) {
            String why = cancelRequest.get();
            throw new MigrationCancelledException("migration cancelled" + (why != null ? " (" + why + ")" : " by "
                    + "another client (migrate_cancel)") + "; the VM runs on the source");
        }
        if (status.equals("failed")) {
            String desc;
            try {
                desc = await(source.qmp().commands().queryMigrate(), "query-migrate").errorDesc();
            } catch (RuntimeException x) {
                desc = null;
            }
            throw new MigrationException("migration failed" + (desc != null ? ": " + desc : "")
                    + "; the VM runs on the source");
        }
    }

    private void checkCancel() {
        String why = cancelRequest.get();
        if (why != null) {
            throw new MigrationCancelledException("migration cancelled (" + why + "); the VM runs on the source");
        }
    }

    private void checkDeadline(long deadline, String what) {
        if (System.nanoTime() - deadline > 0) {
            throw new MigrationException(what + " took longer than " + options.timeout().toSeconds()
                    + " s; the VM runs on the source");
        }
    }

    /** The next event, or null once {@code untilNanos} (a System.nanoTime value) has passed. */
    private Event poll(long untilNanos) {
        try {
            return events.poll(Math.max(0, untilNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new MigrationException("interrupted");
        }
    }

    static String job(String node) {
        return "mig-" + node;
    }

    private static void quietly(CompletableFuture<?> f) {
        try {
            f.get(COMMAND_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            // Best effort while recovering: the job or node may already be gone.
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new MigrationException("interrupted");
        }
    }

    static <T> T await(CompletableFuture<T> f, String what) {
        try {
            return f.get(COMMAND_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new MigrationException(what + ": interrupted", e);
        } catch (TimeoutException e) {
            throw new MigrationException(what + ": QEMU did not answer within " + COMMAND_TIMEOUT.toSeconds() + " s", e);
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof QmpRemoteException r) {
                throw new MigrationException(what + ": " + r.description(), r);
            }
            if (c instanceof QmpDisconnectedException d) {
                throw new MigrationException(what + ": QEMU went away (" + d.getMessage() + ")", d);
            }
            throw new MigrationException(what + ": " + c.getMessage(), c);
        }
    }
}
