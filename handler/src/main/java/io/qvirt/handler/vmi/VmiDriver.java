package io.qvirt.handler.vmi;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.ContainerStateTerminated;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.kubernetes.client.informers.cache.Lister;
import io.qvirt.api.KubevirtJson;
import io.qvirt.api.VirtualMachineInstance;
import io.qvirt.api.VmiDefaults;
import io.qvirt.api.client.ResourcePatcher;
import io.qvirt.api.model.AcceleratorStatus;
import io.qvirt.api.model.Phase;
import io.qvirt.handler.net.BridgeNetworks;
import io.qvirt.handler.nodeapi.NodeApiException;
import io.qvirt.handler.nodeapi.VmiOperations;
import io.qvirt.launcher.control.ShutdownOutcome;
import io.qvirt.launcher.control.VmControlException;
import io.qvirt.launcher.control.VmPhase;
import io.qvirt.launcher.control.VmState;
import io.qvirt.launcher.plan.RuntimePaths;
import io.qvirt.launcher.runtime.LauncherInfo;
import io.qvirt.launcher.runtime.LauncherInfos;
import io.qvirt.launcher.runtime.RuntimeDir;
import io.qvirt.qmp.QmpClient;
import io.qvirt.qmp.QmpException;
import io.qvirt.qmp.QmpOptions;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * virt-handler's VMI part: drives the QEMU of every VMI on this node through its {@code qmp.sock} (never spawning
 * one) and writes the VMI's status from what QEMU reports.
 * <ul>
 * <li>Start: a {@code Scheduled} VMI whose launcher has made its directory (QEMU in {@code prelaunch}) is
 *     attached, {@code cont}ed (unless {@code startStrategy: Paused}) and written {@code Running}.</li>
 * <li>Status follows QMP events (STOP, RESUME, SHUTDOWN, GUEST_PANICKED, RESET) and a periodic resync.</li>
 * <li>End: a deleted VMI gets ACPI power-off and, after its grace period, is ended; a guest that powers itself
 *     off ends {@code Succeeded}; a panic, QEMU's internal error, QEMU gone, or its launcher pod finished (even
 *     while QEMU still answers) ends {@code Failed} naming the cause. The final phase is written before QEMU is
 *     told to quit, so the pod completes after it.</li>
 * <li>Restart safety: a VMI becomes {@code Failed} only when its QEMU is gone, which only the launcher pod
 *     tells (its compute container terminated, or the pod finished or deleted); a socket that does not
 *     answer only delays the next sync. On start, every {@code qmp.sock} under the runtime root is re-attached;
 *     a QEMU whose VMI no longer exists is powered off.</li>
 * </ul>
 * Informer callbacks and QMP listeners only enqueue; one sync per VMI key runs at a time ({@link KeyedWorkers}).
 */
public final class VmiDriver implements VmiOperations, AutoCloseable {
    private static final Logger LOG = Logger.getLogger(VmiDriver.class.getName());
    public static final String NODE_NAME_LABEL = "kubevirt.io/nodeName";
    static final String LAUNCHER_LABEL = "kubevirt.io";
    static final String LAUNCHER_VALUE = "virt-launcher";
    static final String CREATED_BY_LABEL = "kubevirt.io/created-by";
    static final String DOMAIN_ANNOTATION = "kubevirt.io/domain";
    static final String BY_CREATOR = "createdBy";
    static final String COMPUTE = "compute";
    private static final Duration RETRY = Duration.ofSeconds(1);
    /** Issue 14's target for QMP event -> status written (p99). */
    private static final Duration SLOW_EVENT = Duration.ofMillis(100);

    /**
     * @param nodeName       this node
     * @param runtimeRoot    where launcher pods make each VM's directory (the hostPath {@code /run/qvirt})
     * @param resync         how often every VMI is synced even without an event
     * @param connectTimeout bound on attaching to one {@code qmp.sock} (greeting and capabilities)
     * @param workers        syncs at once
     */
    public record Settings(String nodeName, Path runtimeRoot, Duration resync, Duration connectTimeout, int workers) {}

    private final KubernetesClient client;
    private final Settings settings;
    private final ResourcePatcher patcher;
    private final Clock clock;
    private final HandlerMetrics metrics;
    private final Map<String, Domain> domains = new ConcurrentHashMap<>();
    /** Keys with a power-off under way (one at a time per VMI). */
    private final Set<String> stopping = ConcurrentHashMap.newKeySet();
    private final KeyedWorkers workers;
    /** Pod networks plumbed for bridge, and their DHCP servers. */
    private final BridgeNetworks bridges = new BridgeNetworks();
    private final ExecutorService shutdowns = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "qvirt-vmi-shutdown");
        t.setDaemon(true);
        return t;
    });
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "qvirt-vmi-resync");
        t.setDaemon(true);
        return t;
    });
    private SharedIndexInformer<VirtualMachineInstance> vmis;
    /** VMIs labelled {@code kubevirt.io/migrationTargetNodeName=<this node>}: migrations into this node. */
    private SharedIndexInformer<VirtualMachineInstance> targetVmis;
    private SharedIndexInformer<Pod> pods;
    /** Null: this handler neither sends nor receives migrations. */
    private final MigrationSourceRole sourceRole;
    private final MigrationTargetRole targetRole;

    /** A driver without live migration (no transport). */
    public VmiDriver(KubernetesClient client, Settings settings, HandlerMetrics metrics, Clock clock) {
        this(client, settings, metrics, clock, null);
    }

    /**
     * @param migrations the node's migration transport, or null: VMIs are then neither migrated away nor received
     */
    public VmiDriver(KubernetesClient client, Settings settings, HandlerMetrics metrics, Clock clock,
                     MigrationTransport migrations) {
        this.client = client;
        this.settings = settings;
        this.patcher = new ResourcePatcher(client);
        this.clock = clock;
        this.metrics = metrics;
        this.workers = new KeyedWorkers("vmi", settings.workers(), this::timedSync);
        this.sourceRole = migrations == null ? null : new MigrationSourceRole(this, migrations);
        this.targetRole = migrations == null ? null : new MigrationTargetRole(this, migrations);
    }

    /**
     * Starts the informers (VMIs labelled with this node, launcher pods), waits for their first list, then
     * enqueues every VMI and every VM directory under the runtime root.
     *
     * @throws IllegalStateException if the informers cannot list within {@code timeout}
     */
    public void start(Duration timeout) {
        vmis = client.resources(VirtualMachineInstance.class).inAnyNamespace()
                .withLabel(NODE_NAME_LABEL, settings.nodeName()).runnableInformer(0);
        vmis.addEventHandler(enqueue(o -> key(o)));
        if (targetRole != null) {
            targetVmis = client.resources(VirtualMachineInstance.class).inAnyNamespace()
                    .withLabel(MigrationStatuses.TARGET_NODE_LABEL, settings.nodeName()).runnableInformer(0);
            targetVmis.addEventHandler(enqueue(o -> key(o)));
        }
        pods = client.pods().inAnyNamespace().withLabel(LAUNCHER_LABEL, LAUNCHER_VALUE).runnableInformer(0);
        pods.addIndexers(Map.of(BY_CREATOR, p -> {
            String uid = p.getMetadata().getLabels() == null ? null : p.getMetadata().getLabels().get(CREATED_BY_LABEL);
            return uid == null ? List.of() : List.of(uid);
        }));
        pods.addEventHandler(enqueue(p -> {
            String vmi = p.getMetadata().getAnnotations() == null ? null
                    : p.getMetadata().getAnnotations().get(DOMAIN_ANNOTATION);
            return vmi == null ? null : p.getMetadata().getNamespace() + "/" + vmi;
        }));
        try {
            CompletableFuture.allOf(vmis.start().toCompletableFuture(), pods.start().toCompletableFuture(),
                    targetVmis == null ? CompletableFuture.completedFuture(null) : targetVmis.start().toCompletableFuture())
                    .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("cannot list VMIs and launcher pods: " + e, e);
        }
        warmStatusPath();
        for (String key : localKeys()) {
            workers.add(key);
        }
        long ms = settings.resync().toMillis();
        timer.scheduleWithFixedDelay(this::resync, ms, ms, TimeUnit.MILLISECONDS);
    }

    /** A VMI as the controller hands it over, for {@link #warmStatusPath}: never written anywhere. */
    private static final String WARM_VMI = """
            {"apiVersion":"kubevirt.io/v1","kind":"VirtualMachineInstance",
             "metadata":{"name":"warm-up","namespace":"warm-up","uid":"00000000-0000-0000-0000-000000000000","resourceVersion":"1"},
             "spec":{"domain":{"devices":{"interfaces":[{"name":"default","masquerade":{},"macAddress":"02:00:00:00:00:01"}]}},
                     "networks":[{"name":"default","pod":{}}]},
             "status":{"phase":"Scheduled","nodeName":"warm-up",
                       "conditions":[{"type":"Ready","status":"False","reason":"PodNotReady"}]}}""";

    /**
     * Runs the status computation and JSON Patch building once on a made-up VMI, nothing sent, so the handler's
     * C1-only JVM loads and compiles that path at start and not after the first QMP event (a fresh handler's first
     * status write took 211 ms on the rig, against issue 14's 100 ms; the log says what the warm-up took).
     */
    private void warmStatusPath() {
        long t0 = System.nanoTime();
        try {
            VirtualMachineInstance v = KubevirtJson.json().readValue(WARM_VMI, VirtualMachineInstance.class);
            AcceleratorStatus accel = new AcceleratorStatus();
            accel.setName("tcg");
            accel.setReason("warm-up");
            for (boolean paused : new boolean[] {false, true}) {
                ObjectNode status = VmiStatuses.running(v, new VmiStatuses.Observed(paused, "127.0.0.1", "warm-up",
                        "Burstable", accel), clock.instant());
                ObjectNode patch = JsonNodeFactory.instance.objectNode();
                patch.set("status", status);
                KubevirtJson.toJson(ResourcePatcher.toJsonPatch(KubevirtJson.toTree(v), patch));
            }
            KubevirtJson.toJson(VmiStatuses.ended(v, Phase.FAILED, "QemuExited", "warm-up", clock.instant()));
            LOG.info("status path warmed in " + (System.nanoTime() - t0) / 1_000_000 + " ms");
        } catch (IOException | RuntimeException e) {
            LOG.log(Level.WARNING, "warming the status path failed (the first status write will be slower): " + e, e);
        }
    }

    /** True while both informers have synced and run. */
    public boolean ready() {
        return vmis != null && vmis.hasSynced() && vmis.isRunning() && pods.hasSynced() && pods.isRunning()
                && (targetVmis == null || targetVmis.hasSynced() && targetVmis.isRunning());
    }

    /** How many QEMUs the handler is attached to now. */
    public int attached() {
        return domains.size();
    }

    private void resync() {
        try {
            for (VirtualMachineInstance v : vmis.getStore().list()) {
                workers.add(key(v));
            }
            if (targetVmis != null) {
                targetVmis.getStore().list().forEach(v -> workers.add(key(v)));
            }
            domains.values().forEach(Domain::markStale); // what events missed, the resync asks QEMU
            domains.keySet().forEach(workers::add);
            localKeys().forEach(workers::add);
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "resync failed: " + e, e);
        }
    }

    /** {@code namespace/name} of every VM directory with a {@code qmp.sock} under the runtime root. */
    private List<String> localKeys() {
        List<String> out = new ArrayList<>();
        Path root = settings.runtimeRoot();
        if (!Files.isDirectory(root)) {
            return out;
        }
        try (DirectoryStream<Path> nss = Files.newDirectoryStream(root, Files::isDirectory)) {
            for (Path ns : nss) {
                try (DirectoryStream<Path> names = Files.newDirectoryStream(ns, Files::isDirectory)) {
                    for (Path vm : names) {
                        if (Files.exists(vm.resolve("qmp.sock"))) {
                            out.add(ns.getFileName() + "/" + vm.getFileName());
                        }
                    }
                }
            }
        } catch (IOException e) {
            LOG.warning("cannot list " + root + ": " + e.getMessage());
        }
        return out;
    }

    private <T extends HasMetadata> ResourceEventHandler<T> enqueue(java.util.function.Function<T, String> keyOf) {
        Consumer<T> add = o -> {
            String k = keyOf.apply(o);
            if (k != null) {
                workers.add(k);
            }
        };
        return io.qvirt.api.client.Informers.onEvery(add);
    }

    private static String key(HasMetadata o) {
        return o.getMetadata().getNamespace() + "/" + o.getMetadata().getName();
    }

    private Duration timedSync(String key) {
        long t0 = System.nanoTime();
        try {
            return sync(key);
        } finally {
            metrics.sync(System.nanoTime() - t0);
        }
    }

    /** One idempotent pass over one VMI key: attach, start, write status, or end. Returns when to look again. */
    Duration sync(String key) {
        long syncStart = System.nanoTime();
        String[] nn = key.split("/", 2);
        VirtualMachineInstance vmi = new Lister<>(vmis.getIndexer()).namespace(nn[0]).get(nn[1]);
        Domain d = domains.get(key);
        if (vmi == null || !settings.nodeName().equals(nodeName(vmi))) {
            if (targetRole != null) {
                // A migration into this node: the target role drives its QEMU until the handover.
                VirtualMachineInstance t = new Lister<>(targetVmis.getIndexer()).namespace(nn[0]).get(nn[1]);
                if (t != null && MigrationTargetRole.isTargetOf(t, settings.nodeName()) || targetRole.holds(key)) {
                    return targetRole.sync(key, t);
                }
            }
            bridges.stop(key);
            return orphan(key, nn[0], nn[1], d);
        }
        String uid = vmi.getMetadata().getUid();
        if (sourceRole != null && sourceRole.departed(vmi)) {
            // Migrated away: its QEMU quit (or quits) here and its pod's end is no failure; the target owns it.
            if (d != null && !stopping.contains(key) && !sourceRole.running(key)) {
                detach(key, d); // (the migration's own thread quits a QEMU it moved: not detached under it)
            }
            bridges.stop(key);
            cleanDirIfDead(nn[0], nn[1], uid);
            return null;
        }
        if (d != null && !d.uid.equals(uid)) {
            // A QEMU of an older VMI of the same name: that VMI is gone.
            return orphan(key, nn[0], nn[1], d);
        }
        String phase = vmi.getStatus() == null || vmi.getStatus().getPhase() == null ? "" : vmi.getStatus().getPhase();
        if (Phase.isFinal(phase)) {
            bridges.stop(key);
            if (d != null && !stopping.contains(key)) {
                endQemu(key, d, uid);
            } else if (d == null) {
                cleanDirIfDead(nn[0], nn[1], uid);
            }
            return null;
        }
        if (!Phase.SCHEDULED.equals(phase) && !Phase.RUNNING.equals(phase)) {
            return null; // the controller's phases
        }
        if (stopping.contains(key)) {
            return null; // the power-off in progress writes the end
        }
        Pod pod = pod(uid);
        // bridge on the pod network: the launcher waits in exec for the pod's network namespace to be plumbed.
        String netFailure = bridges.ensure(key, uid, vmi.getSpec().getHostname() != null ? vmi.getSpec().getHostname()
                : nn[1], RuntimeDir.paths(settings.runtimeRoot(), nn[0], nn[1]));
        if (netFailure != null) {
            write(vmi, f -> VmiStatuses.ended(f, Phase.FAILED, "NetworkSetupFailed", netFailure, clock.instant()));
            return null;
        }
        if (d == null) {
            d = attach(key, vmi);
            if (d == null) {
                String gone = qemuGone(vmi, pod);
                if (gone != null) {
                    write(vmi, f -> VmiStatuses.ended(f, Phase.FAILED, "QemuExited", gone, clock.instant()));
                    cleanDirIfDead(nn[0], nn[1], uid);
                    return null;
                }
                return RETRY; // the launcher is not ready yet, or QMP is busy: never a reason to fail the VMI
            }
        }
        if (!d.isOpen()) {
            detach(key, d);
            String gone = qemuGone(vmi, pod);
            if (gone != null) {
                String why = d.shutdownReason() != null ? "guest powered off (" + d.shutdownReason() + "), then " + gone : gone;
                write(vmi, f -> VmiStatuses.ended(f, Phase.FAILED, "QemuExited", why, clock.instant()));
                cleanDirIfDead(nn[0], nn[1], uid);
                return null;
            }
            return RETRY; // re-attach, or wait for the pod to say QEMU is gone
        }
        String podEnded = podEnded(pod);
        if (podEnded != null) {
            // A finished pod never runs again (the kubelet kills what is left of it, as on eviction): the VMI is
            // Failed even while its QEMU still answers, and that QEMU is told to quit once the status is written.
            write(vmi, f -> VmiStatuses.ended(f, Phase.FAILED, "PodTerminated", podEnded, clock.instant()));
            endQemu(key, d, uid);
            return null;
        }
        if (vmi.getMetadata().getDeletionTimestamp() != null) {
            powerOff(key, vmi, d);
            return null;
        }
        if (sourceRole != null && sourceRole.sync(key, vmi, d)) {
            return null; // migrating: its QEMU's pauses are the migration's, not the user's; the end is written by it
        }
        VmState s;
        // An event counts as written by the first status write computed from a query-status sent after it came:
        // QEMU answers in order, so that answer reflects it. One that comes later is left for the next sync.
        long event = d.takePendingEvent();
        long queryStart = System.nanoTime();
        try {
            s = d.state();
            if (s.phase() == VmPhase.SCHEDULED && Phase.SCHEDULED.equals(phase) && !d.started
                    && !"Paused".equals(vmi.getSpec().getStartStrategy())) {
                d.control.cont();
                long resumed = d.takePendingEvent(); // cont's RESUME, reflected by the query below
                event = event != 0 ? event : resumed;
                d.markStale();
                s = d.state();
            }
        } catch (VmControlException | QmpException e) {
            return RETRY; // no answer is not an answer: look again, change nothing
        }
        d.started = true;
        long[] at = {event, syncStart, queryStart, System.nanoTime()};
        VmState st = s;
        Domain dom = d;
        switch (st.phase()) {
            case SUCCEEDED -> {
                write(vmi, f -> VmiStatuses.ended(f, Phase.SUCCEEDED, "GuestShutdown",
                        "the guest powered off (" + st.reason() + ")", clock.instant()));
                endQemu(key, d, uid);
                recordEvent(key, at);
                return null;
            }
            case FAILED -> {
                write(vmi, f -> VmiStatuses.ended(f, Phase.FAILED, st.qemuStatus().equals("guest-panicked")
                        ? "GuestPanicked" : "QemuInternalError", st.reason(), clock.instant()));
                endQemu(key, d, uid);
                recordEvent(key, at);
                return null;
            }
            default -> {
                VmiStatuses.Observed seen = observed(dom, pod, st.paused() || st.phase() == VmPhase.SCHEDULED);
                write(vmi, f -> VmiStatuses.running(f, seen, clock.instant()));
                recordEvent(key, at);
                return null;
            }
        }
    }

    /**
     * The QMP event -> status written figure; one that misses the 100 ms target is logged with where its time
     * went, so a slow tail can be traced to the worker queue, QEMU's answer, or the API server's.
     *
     * @param at the event's arrival, the sync's start, query-status sent, its answer (System.nanoTime)
     */
    private void recordEvent(String key, long[] at) {
        if (at[0] == 0) {
            return;
        }
        long now = System.nanoTime();
        metrics.eventToStatus(now - at[0]);
        if (now - at[0] > SLOW_EVENT.toNanos()) {
            String queued = at[0] <= at[1] ? String.format(java.util.Locale.ROOT, "the sync started %.1f ms after it",
                    (at[1] - at[0]) / 1e6) : "it came during the sync (cont's RESUME)";
            LOG.info(String.format(java.util.Locale.ROOT,
                    "%s: QMP event -> status written in %.1f ms: %s; in the sync %.1f ms before query-status (cache"
                            + " reads, attaching to qmp.sock), %.1f ms for query-status (and cont), %.1f ms writing the status",
                    key, (now - at[0]) / 1e6, queued, (at[2] - at[1]) / 1e6, (at[3] - at[2]) / 1e6, (now - at[3]) / 1e6));
        }
    }

    private VmiStatuses.Observed observed(Domain d, Pod pod, boolean paused) {
        String podIp = pod != null && pod.getStatus() != null ? pod.getStatus().getPodIP() : null;
        LauncherInfo info = d.info();
        if (podIp == null && info != null) {
            podIp = info.ipAddress();
        }
        String image = pod == null || pod.getSpec() == null ? null : pod.getSpec().getContainers().stream()
                .filter(c -> COMPUTE.equals(c.getName())).map(c -> c.getImage()).findFirst().orElse(null);
        String qos = pod != null && pod.getStatus() != null ? pod.getStatus().getQosClass() : null;
        AcceleratorStatus accel = null;
        if (info != null && info.accelerator() != null) {
            accel = new AcceleratorStatus();
            accel.setName(info.accelerator());
            accel.setReason(info.acceleratorReason());
        }
        return new VmiStatuses.Observed(paused, podIp, image, qos, accel, d.guestMacs());
    }

    /**
     * Writes what {@code desired} computes from the VMI: first from the cached copy, and after a conflict from the
     * fresh one the patcher re-reads (the controller writes other status fields concurrently), so nothing the
     * other writer changed is overwritten with stale values.
     */
    private void write(VirtualMachineInstance vmi, java.util.function.Function<VirtualMachineInstance, ObjectNode> desired) {
        ObjectNode first = desired.apply(vmi);
        if (first == null) {
            return;
        }
        patcher.patchStatus(VirtualMachineInstance.class, vmi, fresh -> fresh == vmi ? first : desired.apply(fresh), false);
        metrics.statusWrite();
    }

    /**
     * Connects to the VMI's {@code qmp.sock} if its launcher has made the directory for this VMI (its
     * {@code vmi.json} has the VMI's uid). Null if there is nothing (yet) to attach to, or QEMU does not answer.
     */
    private Domain attach(String key, VirtualMachineInstance vmi) {
        RuntimePaths p = RuntimeDir.paths(settings.runtimeRoot(), vmi.getMetadata().getNamespace(), vmi.getMetadata().getName());
        if (!Files.exists(p.qmpSocket()) || !vmi.getMetadata().getUid().equals(dirUid(p))) {
            return null;
        }
        return connect(key, vmi.getMetadata().getUid(), p);
    }

    private Domain connect(String key, String uid, RuntimePaths p) {
        LauncherInfo info;
        try {
            info = LauncherInfos.read(p);
        } catch (RuntimeException e) {
            info = null;
        }
        QmpOptions opts = QmpOptions.defaults().withConnectTimeout(settings.connectTimeout())
                .withCommandTimeout(Duration.ofSeconds(10));
        QmpClient qmp;
        try {
            qmp = QmpClient.connect(p.qmpSocket(), opts).get(settings.connectTimeout().toMillis() + 1000, TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            LOG.fine("cannot attach to " + p.qmpSocket() + " yet: " + e);
            return null;
        }
        Domain d = new Domain(key, uid, p, info, qmp, () -> workers.add(key));
        Domain old = domains.put(key, d);
        if (old != null) {
            old.close();
        }
        metrics.attached(domains.size());
        LOG.info("attached to " + key + " (" + p.qmpSocket() + ")");
        return d;
    }

    private void detach(String key, Domain d) {
        domains.remove(key, d);
        d.close();
        metrics.attached(domains.size());
    }

    /** The uid in the directory's {@code vmi.json} (the VMI its launcher was started for), or null. */
    static String dirUid(RuntimePaths p) {
        try {
            JsonNode n = KubevirtJson.json().readTree(p.vmiJson().toFile());
            return n.path("metadata").path("uid").asText(null);
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /**
     * Why the VMI's QEMU is gone, from its launcher pod alone; null while it may still run. A pod missing from
     * the cache is checked against the API server before it counts.
     */
    private String qemuGone(VirtualMachineInstance vmi, Pod pod) {
        if (pod == null) {
            List<Pod> live;
            try {
                live = client.pods().inNamespace(vmi.getMetadata().getNamespace())
                        .withLabel(CREATED_BY_LABEL, vmi.getMetadata().getUid()).list().getItems();
            } catch (KubernetesClientException e) {
                return null; // the API server does not answer: that says nothing about QEMU
            }
            if (!live.isEmpty()) {
                return qemuGone(vmi, live.get(0));
            }
            return Phase.RUNNING.equals(vmi.getStatus().getPhase()) ? "the launcher pod is gone" : null;
        }
        ContainerStatus compute = pod.getStatus() == null || pod.getStatus().getContainerStatuses() == null ? null
                : pod.getStatus().getContainerStatuses().stream().filter(c -> COMPUTE.equals(c.getName())).findFirst().orElse(null);
        if (compute != null && compute.getState() != null && compute.getState().getTerminated() != null) {
            return "QEMU exited: " + describe(compute.getState().getTerminated());
        }
        return podEnded(pod);
    }

    /**
     * "the launcher pod NAME ended (Failed: Evicted: MESSAGE)" if the pod's phase is final ({@code Succeeded} or
     * {@code Failed}, which a pod never leaves), with the pod's reason and message where the kubelet gave them;
     * else null.
     */
    static String podEnded(Pod pod) {
        String podPhase = pod == null || pod.getStatus() == null ? null : pod.getStatus().getPhase();
        if (!"Succeeded".equals(podPhase) && !"Failed".equals(podPhase)) {
            return null;
        }
        StringBuilder why = new StringBuilder(podPhase);
        for (String part : new String[] {pod.getStatus().getReason(), pod.getStatus().getMessage()}) {
            if (part != null && !part.isBlank()) {
                why.append(": ").append(part.strip());
            }
        }
        return "the launcher pod " + pod.getMetadata().getName() + " ended (" + why + ")";
    }

    /** "killed by signal 9 (SIGKILL)", "exit code 1: <message>". */
    static String describe(ContainerStateTerminated t) {
        Integer sig = t.getSignal();
        Integer code = t.getExitCode();
        if ((sig == null || sig == 0) && code != null && code > 128 && code < 160) {
            sig = code - 128;
        }
        String what = sig != null && sig != 0 ? "killed by signal " + sig + signalName(sig)
                : "exit code " + code;
        return what + (t.getMessage() == null || t.getMessage().isBlank() ? "" : ": " + t.getMessage().strip());
    }

    private static String signalName(int sig) {
        return switch (sig) {
            case 9 -> " (SIGKILL)";
            case 15 -> " (SIGTERM)";
            case 6 -> " (SIGABRT)";
            case 11 -> " (SIGSEGV)";
            case 2 -> " (SIGINT)";
            case 1 -> " (SIGHUP)";
            default -> "";
        };
    }

    /**
     * The VMI's launcher pod on this node, the newest if several: while a VMI migrates it has a pod on two nodes, and
     * the other node's (the target's, or after the handover the source's) says nothing about this node's QEMU. A pod
     * not yet bound to a node counts as this node's.
     */
    private Pod pod(String vmiUid) {
        List<Pod> ps = pods.getIndexer().byIndex(BY_CREATOR, vmiUid).stream().filter(p -> p.getSpec() == null
                || p.getSpec().getNodeName() == null || settings.nodeName().equals(p.getSpec().getNodeName())).toList();
        return ps.stream().max((a, b) -> Objects.requireNonNullElse(a.getMetadata().getCreationTimestamp(), "")
                .compareTo(Objects.requireNonNullElse(b.getMetadata().getCreationTimestamp(), ""))).orElse(null);
    }

    private static String nodeName(VirtualMachineInstance vmi) {
        return vmi.getStatus() == null ? null : vmi.getStatus().getNodeName();
    }

    /**
     * ACPI power-off of a deleted VMI, off the sync workers (it waits for the guest): then its final phase, then
     * {@code quit}. After the grace period the guest is ended anyway, as KubeVirt does.
     */
    private void powerOff(String key, VirtualMachineInstance vmi, Domain d) {
        if (!stopping.add(key)) {
            return;
        }
        long graceS = vmi.getSpec() != null && vmi.getSpec().getTerminationGracePeriodSeconds() != null
                ? vmi.getSpec().getTerminationGracePeriodSeconds() : VmiDefaults.DEFAULT_GRACE_PERIOD_SECONDS;
        Instant deleted = parse(vmi.getMetadata().getDeletionTimestamp());
        Instant deadline = (deleted != null ? deleted : clock.instant()).plusSeconds(graceS);
        Duration grace = Duration.between(clock.instant(), deadline);
        if (grace.compareTo(Duration.ofSeconds(1)) < 0) {
            grace = Duration.ofSeconds(1);
        }
        Duration g = grace;
        shutdowns.execute(() -> {
            try {
                ShutdownOutcome o = d.control.powerOff(g);
                LOG.info(key + ": power-off: " + o.how() + " (" + o.detail() + ")");
                if (o.how() != ShutdownOutcome.How.QEMU_GONE) {
                    VirtualMachineInstance fresh = freshVmi(vmi);
                    if (fresh != null) {
                        boolean panicked = o.how() == ShutdownOutcome.How.ALREADY_STOPPED && o.detail() != null
                                && o.detail().startsWith("guest-panicked");
                        // KubeVirt's calculateVmPhaseForStatusReason: a guest destroyed after its grace period ran
                        // out, with ACPI (always on here), is Failed; one that powered off is Succeeded.
                        boolean failed = panicked || o.how() == ShutdownOutcome.How.FORCED_AFTER_GRACE;
                        write(fresh, f -> VmiStatuses.ended(f, failed ? Phase.FAILED : Phase.SUCCEEDED,
                                switch (o.how()) {
                                    case GUEST_POWERED_OFF -> "GuestShutdown";
                                    case FORCED_AFTER_GRACE -> "Destroyed";
                                    default -> panicked ? "GuestPanicked" : "Deleted";
                                }, "VMI deleted: " + o.detail(), clock.instant()));
                    }
                    d.control.quitOrKill(killer(d));
                }
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, key + ": power-off failed: " + e, e);
            } finally {
                detach(key, d);
                cleanDirIfDead(vmi.getMetadata().getNamespace(), vmi.getMetadata().getName(), d.uid);
                stopping.remove(key);
                workers.add(key);
            }
        });
    }

    private VirtualMachineInstance freshVmi(VirtualMachineInstance vmi) {
        try {
            return client.resources(VirtualMachineInstance.class).inNamespace(vmi.getMetadata().getNamespace())
                    .withName(vmi.getMetadata().getName()).get();
        } catch (KubernetesClientException e) {
            return vmi;
        }
    }

    /** Ends a QEMU whose VMI is final (its status is written): {@code quit}, then its directory goes. */
    private void endQemu(String key, Domain d, String uid) {
        if (!stopping.add(key)) {
            return;
        }
        shutdowns.execute(() -> {
            try {
                d.control.quitOrKill(killer(d));
            } finally {
                detach(key, d);
                cleanDirIfDead(d.paths.dir().getParent().getFileName().toString(), d.paths.dir().getFileName().toString(), uid);
                stopping.remove(key);
            }
        });
    }

    /**
     * A QEMU under the runtime root whose VMI is gone (checked on the API server, not the cache: the label
     * that brings a VMI to this handler comes only with {@code Scheduled}, after its QEMU started) is powered
     * off with the default grace period.
     */
    private Duration orphan(String key, String ns, String name, Domain d) {
        RuntimePaths p = RuntimeDir.paths(settings.runtimeRoot(), ns, name);
        String dirUid = dirUid(p);
        VirtualMachineInstance live;
        try {
            live = client.resources(VirtualMachineInstance.class).inNamespace(ns).withName(name).get();
        } catch (KubernetesClientException e) {
            return Duration.ofSeconds(5); // cannot tell: leave it alone
        }
        String uid = d != null ? d.uid : dirUid;
        if (live != null && live.getMetadata().getUid().equals(uid)) {
            if (d != null && !settings.nodeName().equals(nodeName(live)) && nodeName(live) != null
                    && (targetRole == null || !targetRole.holds(key)) && !stopping.contains(key)
                    && (sourceRole == null || !sourceRole.running(key))) {
                // (a QEMU a migration moved away is quit by the migration's thread, not detached under it)
                detach(key, d); // it runs elsewhere now; not ours to drive
            }
            return null; // its VMI exists: the label will bring it here, or it is not scheduled yet
        }
        if (stopping.contains(key)) {
            return null;
        }
        if (d == null || !d.isOpen()) {
            if (d != null) {
                detach(key, d);
            }
            if (!RuntimeDir.isLive(p)) {
                return null;
            }
            d = connect(key, uid == null ? "" : uid, p);
            if (d == null) {
                return Duration.ofSeconds(5);
            }
        }
        Domain dd = d;
        stopping.add(key);
        LOG.info(key + ": its VMI (uid " + uid + ") is gone; powering its QEMU off");
        shutdowns.execute(() -> {
            try {
                dd.control.shutdown(Duration.ofSeconds(VmiDefaults.DEFAULT_GRACE_PERIOD_SECONDS), killer(dd));
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, key + ": power-off of the orphan failed: " + e, e);
            } finally {
                detach(key, dd);
                if (!RuntimeDir.isLive(p) && Objects.equals(dirUid(p), dirUid)) {
                    RuntimeDir.delete(p);
                }
                stopping.remove(key);
            }
        });
        return null;
    }

    /** Removes the VM's directory once nothing listens on its qmp.sock, if it still belongs to {@code uid}. */
    private void cleanDirIfDead(String ns, String name, String uid) {
        RuntimePaths p = RuntimeDir.paths(settings.runtimeRoot(), ns, name);
        if (Files.isDirectory(p.dir()) && uid != null && uid.equals(dirUid(p)) && !RuntimeDir.isLive(p)) {
            try {
                RuntimeDir.delete(p);
            } catch (RuntimeException e) {
                if (Files.exists(p.dir())) { // else another cleaner (the pod's) raced us to it: fine
                    LOG.warning("cannot remove " + p.dir() + ": " + e.getMessage());
                }
            }
        }
    }

    /**
     * SIGKILL for a QEMU that ignores {@code quit}: only the process that is this VM's QEMU ({@link QemuProcess}),
     * never a pid taken on trust from a file the pod wrote.
     */
    private static Runnable killer(Domain d) {
        return () -> {
            long pid = d.qemuPid();
            if (pid > 0) {
                ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
            }
        };
    }

    private static Instant parse(String ts) {
        try {
            return ts == null ? null : Instant.parse(ts);
        } catch (RuntimeException e) {
            return null;
        }
    }

    // ---- for the migration roles ----

    String nodeName() {
        return settings.nodeName();
    }

    Path runtimeRoot() {
        return settings.runtimeRoot();
    }

    Instant now() {
        return clock.instant();
    }

    void enqueue(String key) {
        workers.add(key);
    }

    /** The informer's copy of {@code vmi} if it has one of the same VMI (it may be newer), else {@code vmi}. */
    VirtualMachineInstance cached(VirtualMachineInstance vmi) {
        String ns = vmi.getMetadata().getNamespace();
        String name = vmi.getMetadata().getName();
        for (SharedIndexInformer<VirtualMachineInstance> inf : java.util.Arrays.asList(vmis, targetVmis)) {
            VirtualMachineInstance c = inf == null ? null : new Lister<>(inf.getIndexer()).namespace(ns).get(name);
            if (c != null && c.getMetadata().getUid().equals(vmi.getMetadata().getUid())) {
                return c;
            }
        }
        return vmi;
    }

    Pod podOnThisNode(String vmiUid) {
        return pod(vmiUid);
    }

    /** Attaches to a migration target's QEMU (its directory checked by the caller); null if it does not answer. */
    Domain attachTarget(String key, String uid, RuntimePaths p) {
        Domain d = domains.get(key);
        if (d != null && d.isOpen() && d.uid.equals(uid)) {
            return d;
        }
        return connect(key, uid, p);
    }

    void detachDomain(String key, Domain d) {
        detach(key, d);
    }

    /** Tells a QEMU to quit (SIGKILL if it does not), off the sync workers, then forgets it. */
    void quitAndDetach(String key, Domain d) {
        if (!stopping.add(key)) {
            return;
        }
        shutdowns.execute(() -> {
            try {
                if (d.isOpen()) {
                    d.control.quitOrKill(killer(d));
                } else {
                    // Its monitor connection was closed meanwhile: a new one, so QEMU quits (its pod Succeeds).
                    try (QmpClient q = QmpClient.connect(d.paths.qmpSocket(), QmpOptions.defaults()
                            .withConnectTimeout(settings.connectTimeout())).get(settings.connectTimeout().toMillis()
                            + 1000, TimeUnit.MILLISECONDS); var c = new io.qvirt.launcher.control.VmControl(q)) {
                        c.quitOrKill(killer(d));
                    } catch (Exception e) {
                        if (RuntimeDir.isLive(d.paths)) {
                            killer(d).run();
                        }
                    }
                }
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, key + ": quitting its QEMU failed: " + e, e);
            } finally {
                detach(key, d);
                stopping.remove(key);
                workers.add(key);
            }
        });
    }

    /**
     * Writes the status patch {@code desired} computes (from the fresh VMI after a conflict).
     *
     * @return the VMI as written (or as read, if nothing needed writing); null if it is gone
     */
    VirtualMachineInstance writeStatus(VirtualMachineInstance vmi, java.util.function.Function<VirtualMachineInstance, ObjectNode> desired) {
        ObjectNode first = desired.apply(vmi);
        if (first == null) {
            return vmi;
        }
        VirtualMachineInstance out = patcher.patchStatus(VirtualMachineInstance.class, vmi,
                fresh -> fresh == vmi ? first : desired.apply(fresh), false);
        metrics.statusWrite();
        return out;
    }

    /** As {@link #writeStatus}, for a two-level patch ({@code metadata} and {@code status}). */
    VirtualMachineInstance patch(VirtualMachineInstance vmi, java.util.function.Function<VirtualMachineInstance, ObjectNode> desired) {
        ObjectNode first = desired.apply(vmi);
        if (first == null) {
            return vmi;
        }
        VirtualMachineInstance out = patcher.patch(VirtualMachineInstance.class, vmi,
                fresh -> fresh == vmi ? first : desired.apply(fresh), false);
        metrics.statusWrite();
        return out;
    }

    // ---- the node API's operations ----

    private Domain runningDomain(String namespace, String name) {
        String key = namespace + "/" + name;
        VirtualMachineInstance vmi = vmis == null ? null : new Lister<>(vmis.getIndexer()).namespace(namespace).get(name);
        if (vmi == null || !settings.nodeName().equals(nodeName(vmi))) {
            throw new NodeApiException(404, "VMI " + key + " is not on node " + settings.nodeName());
        }
        Domain d = domains.get(key);
        if (d == null || !d.isOpen() || stopping.contains(key)
                || !Phase.RUNNING.equals(vmi.getStatus() == null ? null : vmi.getStatus().getPhase())) {
            throw new NodeApiException(409, "VMI " + key + " is not running");
        }
        return d;
    }

    private VmState state(Domain d) {
        try {
            return d.control.state();
        } catch (VmControlException | QmpException e) {
            throw new NodeApiException(503, "QEMU of " + d.key + " does not answer: " + e.getMessage());
        }
    }

    @Override
    public void pause(String namespace, String name) {
        Domain d = runningDomain(namespace, name);
        VmState s = state(d);
        if (s.paused() || s.phase() == VmPhase.SCHEDULED) {
            throw new NodeApiException(409, "VMI is already paused");
        }
        if (s.phase() != VmPhase.RUNNING) {
            throw new NodeApiException(409, "VMI is not running");
        }
        d.control.pause();
        d.markStale();
        workers.add(d.key);
    }

    @Override
    public void unpause(String namespace, String name) {
        Domain d = runningDomain(namespace, name);
        VmState s = state(d);
        if (!s.paused() && s.phase() != VmPhase.SCHEDULED) {
            throw new NodeApiException(409, "VMI is not paused");
        }
        d.control.unpause();
        d.markStale();
        workers.add(d.key);
    }

    @Override
    public void reset(String namespace, String name) {
        Domain d = runningDomain(namespace, name);
        if (state(d).phase() != VmPhase.RUNNING) {
            throw new NodeApiException(409, "VMI is not running");
        }
        d.control.reset();
        d.markStale();
        workers.add(d.key);
    }

    @Override
    public RuntimePaths consolePaths(String namespace, String name) {
        return runningDomain(namespace, name).paths;
    }

    /**
     * The launcher's forward of that guest port (launcher.json): masquerade is QEMU user networking here, which
     * reaches only the ports the interface lists, so any other port is refused naming those that are forwarded.
     */
    @Override
    public java.net.InetSocketAddress portForwardTarget(String namespace, String name, int port, String protocol) {
        Domain d = runningDomain(namespace, name);
        LauncherInfo info = d.info();
        List<io.qvirt.launcher.plan.HostForward> forwards = info == null || info.forwards() == null ? List.of() : info.forwards();
        for (io.qvirt.launcher.plan.HostForward f : forwards) {
            if (f.guestPort() == port && protocol.equalsIgnoreCase(f.protocol())) {
                return new java.net.InetSocketAddress(f.hostAddr(), f.hostPort());
            }
        }
        String listed = forwards.stream().map(f -> f.guestPort() + "/" + f.protocol()).distinct()
                .collect(java.util.stream.Collectors.joining(", "));
        throw new NodeApiException(400, "port " + port + "/" + protocol + " of VMI " + d.key + " is not forwarded: "
                + "qvirt's masquerade (QEMU user networking) reaches only the ports listed in "
                + "spec.domain.devices.interfaces[].ports (" + (listed.isEmpty() ? "none listed" : "listed: " + listed) + ")");
    }

    /** Per-VMI figures for {@code /metrics}: one entry per attached QEMU. */
    public List<VmiSample> samples() {
        List<VmiSample> out = new ArrayList<>();
        for (Domain d : domains.values()) {
            if (d.isOpen()) {
                out.add(VmiSample.read(d, settings.nodeName()));
            }
        }
        return out;
    }

    @Override
    public void close() {
        timer.shutdownNow();
        if (vmis != null) {
            vmis.stop();
        }
        if (targetVmis != null) {
            targetVmis.stop();
        }
        if (sourceRole != null) {
            sourceRole.close();
        }
        if (targetRole != null) {
            targetRole.close();
        }
        if (pods != null) {
            pods.stop();
        }
        workers.close();
        shutdowns.shutdown();
        try {
            shutdowns.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        // Detach only: QEMU keeps running without its handler, and the next handler re-attaches (and serves DHCP again).
        bridges.close();
        domains.values().forEach(Domain::close);
        domains.clear();
    }
}
