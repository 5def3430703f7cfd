package io.qvirt.handler.vmi;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.Pod;
import io.qvirt.api.KubevirtJson;
import io.qvirt.api.VirtualMachineInstance;
import io.qvirt.api.model.MigrationState;
import io.qvirt.handler.migration.MigrationProxyServer;
import io.qvirt.handler.migration.MigrationProxyServer.TargetOutcome;
import io.qvirt.launcher.migrate.QmpMigrationTarget;
import io.qvirt.launcher.plan.RuntimePaths;
import io.qvirt.launcher.runtime.RuntimeDir;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The handler as a migration's target (steps 4 and 6 of the migration flow; KubeVirt's migration-target.go): for a
 * VMI labelled {@code kubevirt.io/migrationTargetNodeName=<this node>} whose {@code migrationState.targetNode} is
 * this node, it attaches to the target launcher pod's QEMU ({@code launcher.json}'s {@code migrationTarget} is the
 * migration's uid; QEMU waits in {@code inmigrate}), registers it with the node's migration proxy and writes where
 * the source connects. When the proxy says the migration succeeded (or lost its source while this QEMU had already
 * left {@code inmigrate}: it holds the VM), it hands the VMI over to this node, and from then on the QEMU is an
 * ordinary attached VMI of this node. When it failed (or was lost while still {@code inmigrate}), or the source
 * wrote the migration failed, the target QEMU is told to quit and forgotten (its pod ends).
 *
 * <p>Never writes a VMI phase: the VMI is the source's until the handover.
 */
final class MigrationTargetRole {
    private static final Logger LOG = Logger.getLogger(MigrationTargetRole.class.getName());
    private static final Duration RETRY = Duration.ofSeconds(1);
    /**
     * How long a target whose source went silent after its QEMU left {@code inmigrate} waits for the source's word
     * before taking the VM: if the source's driver failed in that window it resumes the guest there and writes the
     * migration failed (then this QEMU must not run it too); a source node that is gone says nothing.
     */
    static final Duration SOURCE_WORD_WAIT = Duration.ofSeconds(60);

    /** One migration this node is the target of. */
    private static final class Target {
        final String migrationUid;
        final Domain domain;
        volatile MigrationProxyServer.Registration registration;
        volatile TargetOutcome outcome;
        /** When the LOST outcome found the QEMU holding the VM (System.nanoTime), 0 before. */
        long lostHolding;

        Target(String migrationUid, Domain domain) {
            this.migrationUid = migrationUid;
            this.domain = domain;
        }
    }

    private final VmiDriver driver;
    private final MigrationTransport transport;
    private final Map<String, Target> targets = new ConcurrentHashMap<>();
    /** Migration uids this process handed over: an informer's copy from before the handover must not start it again. */
    private final java.util.Set<String> handedOver = ConcurrentHashMap.newKeySet();

    MigrationTargetRole(VmiDriver driver, MigrationTransport transport) {
        this.driver = driver;
        this.transport = transport;
    }

    /** Whether {@code vmi} names this node as the target of a migration in progress. */
    static boolean isTargetOf(VirtualMachineInstance vmi, String node) {
        MigrationState m = vmi.getStatus() == null ? null : vmi.getStatus().getMigrationState();
        return m != null && m.getMigrationUid() != null && node.equals(m.getTargetNode())
                && !node.equals(vmi.getStatus().getNodeName());
    }

    /** Whether the key has a target QEMU this role holds (the normal sync leaves it alone). */
    boolean holds(String key) {
        return targets.containsKey(key);
    }

    /**
     * One pass over a VMI this node is (or was) the target of; {@code vmi} is null or not {@link #isTargetOf} when
     * the migration went away (the label removed after a failure): a QEMU held for it is quit.
     *
     * @return when to look again, or null
     */
    Duration sync(String key, VirtualMachineInstance vmi) {
        String node = driver.nodeName();
        Target t = targets.get(key);
        MigrationState m = vmi == null || !isTargetOf(vmi, node) ? null : vmi.getStatus().getMigrationState();
        if (m == null) {
            if (t != null) {
                abandon(key, t, "the VMI no longer names this node as its migration target");
            }
            return null;
        }
        String muid = m.getMigrationUid();
        if (t == null && handedOver.contains(muid)) {
            return null; // a cached copy from before our handover: the VMI is this node's, the normal sync drives it
        }
        if (t != null && !t.migrationUid.equals(muid)) {
            abandon(key, t, "the VMI names another migration now (" + muid + ")");
            t = null;
        }
        if (Boolean.TRUE.equals(m.getFailed())) {
            if (t != null) {
                abandon(key, t, "the migration failed: " + m.getFailureReason());
            }
            return null;
        }
        if (t == null) {
            return attach(key, vmi, muid);
        }
        Domain d = t.domain;
        TargetOutcome outcome = t.outcome;
        if (outcome == null) {
            if (!d.isOpen()) {
                // QEMU gone or its monitor dropped: only the proxy's outcome or the source's word decides; a
                // target whose QEMU went away cannot take the VM, so it is let go.
                abandon(key, t, "the target QEMU's monitor closed before the migration ended");
                return null;
            }
            InetSocketAddress a = transport.advertised();
            if (a != null) {
                driver.writeStatus(vmi, f -> MigrationStatuses.targetReady(f, muid, a.getHostString(), a.getPort()));
            }
            if (Boolean.TRUE.equals(m.getCompleted()) && !inmigrate(d)) {
                handover(key, vmi, t, "the source wrote the migration completed");
            }
            return null;
        }
        switch (outcome.kind()) {
            case SUCCEEDED -> handover(key, vmi, t, "the source finished the migration");
            case FAILED -> abandon(key, t, "the source ended the migration failed" + why(outcome));
            case LOST -> {
                if (!d.isOpen()) {
                    abandon(key, t, "the control connection was lost" + why(outcome) + " and the target QEMU is gone");
                } else if (inmigrate(d)) {
                    abandon(key, t, "the control connection was lost" + why(outcome) + " while the target QEMU was "
                            + "still inmigrate");
                } else if (Boolean.TRUE.equals(m.getCompleted())) {
                    handover(key, vmi, t, "the control connection was lost" + why(outcome) + ", the target QEMU holds "
                            + "the VM and the source wrote the migration completed");
                } else {
                    long now = System.nanoTime();
                    if (t.lostHolding == 0) {
                        t.lostHolding = now;
                        LOG.info(key + ": migration " + muid + ": target: the control connection was lost" + why(outcome)
                                + " after the target QEMU left inmigrate; waiting up to " + SOURCE_WORD_WAIT.toSeconds()
                                + " s for the source's word (completed or failed)");
                    }
                    if (now - t.lostHolding < SOURCE_WORD_WAIT.toNanos()) {
                        return Duration.ofSeconds(2);
                    }
                    handover(key, vmi, t, "the control connection was lost" + why(outcome) + ", the target QEMU holds "
                            + "the VM and the source said nothing for " + SOURCE_WORD_WAIT.toSeconds() + " s");
                }
            }
            default -> {
            }
        }
        return null;
    }

    private static String why(TargetOutcome o) {
        return o.why() == null || o.why().isBlank() ? "" : " (" + o.why() + ")";
    }

    private static boolean inmigrate(Domain d) {
        try {
            d.markStale();
            return "inmigrate".equals(d.state().qemuStatus());
        } catch (RuntimeException e) {
            return true; // no answer: not known to hold the VM
        }
    }

    /** Step 4: attach to the target pod's QEMU, register it with the proxy, write where the source connects. */
    private Duration attach(String key, VirtualMachineInstance vmi, String muid) {
        RuntimePaths p = RuntimeDir.paths(driver.runtimeRoot(), vmi.getMetadata().getNamespace(), vmi.getMetadata().getName());
        if (!Files.exists(p.qmpSocket()) || !vmi.getMetadata().getUid().equals(VmiDriver.dirUid(p))
                || !muid.equals(migrationTargetOf(p))) {
            return RETRY; // the target pod's launcher has not made its directory (or not this migration's) yet
        }
        InetSocketAddress a = transport.advertised();
        if (a == null) {
            LOG.warning(key + ": migration " + muid + ": target: the migration proxy is not serving (see above); "
                    + "trying again");
            return Duration.ofSeconds(5);
        }
        Domain d = driver.attachTarget(key, vmi.getMetadata().getUid(), p);
        if (d == null) {
            return RETRY;
        }
        String status;
        try {
            status = d.state().qemuStatus();
        } catch (RuntimeException e) {
            return RETRY;
        }
        Target t = new Target(muid, d);
        targets.put(key, t);
        if (!status.equals("inmigrate")) {
            // A handler restarted after the VM arrived and before the handover (or the source's word): the
            // proxy's outcome is lost with the old handler, so QEMU's state and the source's status decide.
            LOG.info(key + ": migration " + muid + ": target: found its QEMU " + status + " (not inmigrate) after a "
                    + "handler restart");
            MigrationState m = vmi.getStatus().getMigrationState();
            if (Boolean.TRUE.equals(m.getCompleted()) || status.equals("running") || status.equals("paused")) {
                t.outcome = new TargetOutcome(TargetOutcome.Kind.LOST, "virt-handler restarted");
                driver.enqueue(key);
            }
            return null;
        }
        Path stream = p.dir().resolve("migration.sock");
        Path nbd = p.dir().resolve("nbd.sock");
        try {
            t.registration = transport.register(muid, stream, nbd, new QmpMigrationTarget(d.control, stream, nbd), o -> {
                LOG.info(key + ": migration " + muid + ": target: the proxy says " + o.kind() + why(o));
                t.outcome = o;
                driver.enqueue(key);
            });
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, key + ": migration " + muid + ": target: cannot register with the migration proxy: "
                    + e.getMessage(), e);
            targets.remove(key, t);
            driver.detachDomain(key, d);
            return Duration.ofSeconds(5);
        }
        LOG.info(key + ": migration " + muid + ": target: attached to its QEMU (inmigrate) in " + p.dir()
                + ", registered with the migration proxy; the source connects to " + a.getHostString() + ":" + a.getPort());
        driver.writeStatus(vmi, f -> MigrationStatuses.targetReady(f, muid, a.getHostString(), a.getPort()));
        LOG.info(key + ": migration " + muid + ": target: wrote targetNodeAddress " + a.getHostString()
                + ", targetDirectMigrationNodePorts {" + a.getPort() + ": 0}, targetNodeDomainDetected");
        return null;
    }

    /** Step 6: the VM runs here: the VMI moves to this node; the domain stays attached for the normal sync. */
    private void handover(String key, VirtualMachineInstance vmi, Target t, String why) {
        Pod pod = driver.podOnThisNode(vmi.getMetadata().getUid());
        String podIp = pod != null && pod.getStatus() != null ? pod.getStatus().getPodIP() : null;
        if (podIp == null && t.domain.info() != null) {
            podIp = t.domain.info().ipAddress();
        }
        var itfs = VmiStatuses.interfaces(vmi, podIp, t.domain.guestMacs());
        String node = driver.nodeName();
        VirtualMachineInstance after = driver.patch(vmi, f -> MigrationStatuses.handover(f, t.migrationUid, node, itfs,
                driver.now()));
        MigrationState m = after == null || after.getStatus() == null ? null : after.getStatus().getMigrationState();
        if (m != null && Boolean.TRUE.equals(m.getFailed())) {
            abandon(key, t, "the source wrote the migration failed before the handover");
            return;
        }
        handedOver.add(t.migrationUid);
        closeRegistration(t);
        targets.remove(key, t);
        t.domain.started = true; // it runs (or stays paused) as the source left it: never cont'ed as a new start
        t.domain.markStale();
        LOG.info(key + ": migration " + t.migrationUid + ": target: HANDOVER (" + why + "): status.nodeName and label "
                + VmiDriver.NODE_NAME_LABEL + " = " + node + ", " + MigrationStatuses.TARGET_NODE_LABEL
                + " removed, targetNodeDomainReadyTimestamp written, interfaces at " + podIp + "; the VMI is this node's now");
        driver.enqueue(key);
    }

    /** The target QEMU does not get the VM: quit it (its pod ends) and forget it. */
    private void abandon(String key, Target t, String why) {
        targets.remove(key, t);
        closeRegistration(t);
        LOG.info(key + ": migration " + t.migrationUid + ": target: " + why + "; quitting the target QEMU");
        driver.quitAndDetach(key, t.domain);
    }

    private static void closeRegistration(Target t) {
        MigrationProxyServer.Registration r = t.registration;
        if (r != null) {
            try {
                r.close();
            } catch (RuntimeException e) {
                LOG.fine("closing a migration registration: " + e);
            }
        }
    }

    /** {@code launcher.json}'s {@code migrationTarget}: the migration a target launcher was started for, or null. */
    static String migrationTargetOf(RuntimePaths p) {
        try {
            JsonNode n = KubevirtJson.json().readTree(p.launcherJson().toFile());
            return n.path("migrationTarget").asText(null);
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** Closes every registration (the handler stops; the target QEMUs stay, a new handler finds them). */
    void close() {
        targets.values().forEach(MigrationTargetRole::closeRegistration);
        targets.clear();
    }
}
