package io.qvirt.controller;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.Affinity;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import io.fabric8.kubernetes.api.model.NodeAffinity;
import io.fabric8.kubernetes.api.model.NodeSelector;
import io.fabric8.kubernetes.api.model.NodeSelectorRequirement;
import io.fabric8.kubernetes.api.model.NodeSelectorRequirementBuilder;
import io.fabric8.kubernetes.api.model.NodeSelectorTerm;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.qvirt.api.KubevirtJson;
import io.qvirt.api.MigrationSettings;
import io.qvirt.api.VirtualMachineInstance;
import io.qvirt.api.VirtualMachineInstanceMigration;
import io.qvirt.api.client.ResourcePatcher;
import io.qvirt.api.migrations.MigrationPolicies;
import io.qvirt.api.model.Condition;
import io.qvirt.api.model.ConditionType;
import io.qvirt.api.model.Conditions;
import io.qvirt.api.model.MigrationState;
import io.qvirt.api.model.Phase;
import io.qvirt.api.model.PhaseTransition;
import io.qvirt.api.model.VirtualMachineInstanceMigrationStatus;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import java.util.logging.Logger;

/**
 * VirtualMachineInstanceMigration -> target launcher pod and the migration's phase, as KubeVirt's migration
 * controller ({@code pkg/virt-controller/watch/migration/migration.go}) drives a live migration inside one cluster:
 * <pre>
 *  ""  -> Pending          finalizer {@value #FINALIZER}, label {@value #VMI_NAME_LABEL}; a VMI that is not Running,
 *                          not LiveMigratable, or already migrating fails the migration instead
 *  Pending -> Scheduling   within the parallel limits of the KubeVirt CR: the target pod is created (the VMI's
 *                          launcher pod, plus label {@value #JOB_LABEL}, env {@value #TARGET_ENV} on compute, and a
 *                          required node affinity away from the source node); the VMI's status.migrationState gets
 *                          migrationUid, sourceNode, sourcePod, targetPod, mode
 *  Scheduling -> Scheduled the target pod runs
 *  Scheduled -> PreparingTarget  the VMI's migrationState.targetNode and label {@value #TARGET_NODE_LABEL} are
 *                          written: the target node's handler picks the VMI up
 *  PreparingTarget -> TargetReady  the target handler wrote migrationState.targetNodeAddress
 *  TargetReady -> Running  the source handler wrote migrationState.startTimestamp
 *  Running -> Succeeded    migrationState completed, not failed, and the target handler took the VMI over
 *                          (targetNodeDomainReadyTimestamp)
 *  any -> Failed           the source reported failure, the target pod ended or vanished, the VMI ended, or the
 *                          migration was deleted before its target was handed over
 * </pre>
 * Deleting a migration whose target has been handed over sets the VMI's {@code migrationState.abortRequested}: the
 * source handler cancels. Every write is a resourceVersion-guarded patch ({@link ResourcePatcher}); the migration's
 * status goes through its status subresource, the VMI's on the object.
 *
 * <p>Target pod creations are remembered until the pod shows up in the cache (client-go's expectations): a reconcile
 * on a cache that is behind never creates a second target pod, and the limits count a migration whose pod is on its
 * way. The limit check and the creation run under one lock, as KubeVirt's {@code migrationStartLock}.
 */
final class MigrationReconciler implements Reconciler {
    static final String FINALIZER = "kubevirt.io/migrationJobFinalize";
    /** KubeVirt's MigrationSelectorLabel: the VMI a migration moves. */
    static final String VMI_NAME_LABEL = "kubevirt.io/vmi-name";
    /** KubeVirt's MigrationJobLabel: on the target pod, the migration's uid. */
    static final String JOB_LABEL = "kubevirt.io/migrationJobUID";
    static final String JOB_NAME_ANNOTATION = "kubevirt.io/migrationJobName";
    /** KubeVirt's MigrationTargetNodeNameLabel: the target node's handler watches VMIs with its node here. */
    static final String TARGET_NODE_LABEL = "kubevirt.io/migrationTargetNodeName";
    /** Tells {@code launcher exec} in the target pod to start QEMU waiting for the incoming migration. */
    static final String TARGET_ENV = "QVIRT_MIGRATION_TARGET";
    static final String HOSTNAME_LABEL = "kubernetes.io/hostname";
    /** KubeVirt's VirtualMachineInstanceMigrationAbortRequested condition type. */
    static final String ABORT_REQUESTED = "migrationAbortRequested";

    static final String PENDING = "Pending";
    static final String SCHEDULING = "Scheduling";
    static final String SCHEDULED = "Scheduled";
    static final String PREPARING_TARGET = "PreparingTarget";
    static final String TARGET_READY = "TargetReady";
    static final String RUNNING = "Running";
    static final String SUCCEEDED = "Succeeded";
    static final String FAILED = "Failed";

    static final String FAILED_MIGRATION = "FailedMigration";
    /** KubeVirt's MigrationUnschedulablePodTimeoutSecondsAnnotation and MigrationPendingPodTimeoutSecondsAnnotation. */
    static final String UNSCHEDULABLE_TIMEOUT_ANNOTATION = "kubevirt.io/migrationUnschedulablePodTimeoutSeconds";
    static final String PENDING_TIMEOUT_ANNOTATION = "kubevirt.io/migrationPendingPodTimeoutSeconds";
    static final Duration UNSCHEDULABLE_TIMEOUT = Duration.ofMinutes(5);
    static final Duration PENDING_TIMEOUT = Duration.ofMinutes(15);
    static final String SUCCESSFUL_MIGRATION = "SuccessfulMigration";
    /** How long a migration over a limit waits before it looks again (a migration ending also brings it back). */
    static final Duration LIMIT_RETRY = Duration.ofSeconds(5);
    /** KubeVirt's defaultFinalizedMigrationGarbageCollectionBuffer: finished migrations kept per VMI. */
    static final int KEEP_FINISHED = 5;
    private static final Logger LOG = Logger.getLogger(MigrationReconciler.class.getName());
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private final KubernetesClient client;
    private final Caches caches;
    private final ResourcePatcher patcher;
    private final Supplier<ClusterConfig> config;
    private final Clock clock;
    private final Events events;
    private final OwnWrites own = new OwnWrites();
    /** Called when a migration ends: the Pending ones waiting for a free slot are looked at again. */
    private final Runnable slotFreed;
    /** Migration uid -> when its target pod was created and not yet seen in the cache. */
    private final Map<String, Instant> expectations = new ConcurrentHashMap<>();
    private final Object startLock = new Object();
    /** Target pods whose unschedulable Event was recorded (once per pod). */
    private final java.util.Set<String> unschedulableReported = ConcurrentHashMap.newKeySet();

    MigrationReconciler(KubernetesClient client, Caches caches, Supplier<ClusterConfig> config, Clock clock,
                        Runnable slotFreed) {
        this.client = client;
        this.caches = caches;
        this.patcher = new ResourcePatcher(client);
        this.config = config;
        this.clock = clock;
        this.events = new Events(client, clock);
        this.slotFreed = slotFreed;
    }

    @Override
    public Duration reconcile(String key) {
        VirtualMachineInstanceMigration m = caches.migration(key);
        if (m == null) {
            own.forget(key);
            return null;
        }
        if (own.behind(key, m)) {
            return null; // our last write's event is on its way
        }
        String uid = m.getMetadata().getUid();
        String ns = m.getMetadata().getNamespace();
        String phase = phase(m);
        String vmiName = m.getSpec() == null ? null : m.getSpec().getVmiName();
        VirtualMachineInstance vmi = vmiName == null ? null : caches.vmi(Objects2.key(ns, vmiName));
        Pod target = newest(caches.targetPodsOf(uid));
        if (target != null) {
            expectations.remove(uid);
        }

        if (isFinal(phase)) {
            finished(key, m, vmi, target);
            return null;
        }
        if (vmi == null && vmiName != null && client.resources(VirtualMachineInstance.class).inNamespace(ns)
                .withName(vmiName).get() != null) {
            return Duration.ofSeconds(1); // the VMI's cache is behind the migration's: its add event is on its way
        }
        if (vmi == null && !Objects2.deleting(m)) {
            // KubeVirt deletes a migration whose VMI is gone; the finalizer brings it back to be failed
            try {
                client.resources(VirtualMachineInstanceMigration.class).inNamespace(ns).withName(m.getMetadata().getName())
                        .delete();
            } catch (KubernetesClientException e) {
                if (!Objects2.isNotFound(e)) {
                    throw e;
                }
            }
            return null;
        }
        if (!Objects2.deleting(m) && (!Objects2.hasFinalizer(m, FINALIZER) || !Objects.equals(vmiName, label(m, VMI_NAME_LABEL)))) {
            m = own.wrote(key, m, patcher.patch(VirtualMachineInstanceMigration.class, m, fresh -> {
                ObjectNode meta = NODES.objectNode();
                List<String> fin = new ArrayList<>(Objects.requireNonNullElse(fresh.getMetadata().getFinalizers(), List.of()));
                if (!fin.contains(FINALIZER)) {
                    fin.add(FINALIZER);
                    meta.set("finalizers", KubevirtJson.toTree(fin));
                }
                if (vmiName != null && !vmiName.equals(label(fresh, VMI_NAME_LABEL))) {
                    Map<String, String> labels = new LinkedHashMap<>(
                            Objects.requireNonNullElse(fresh.getMetadata().getLabels(), Map.of()));
                    labels.put(VMI_NAME_LABEL, vmiName);
                    meta.set("labels", KubevirtJson.toTree(labels));
                }
                if (meta.isEmpty()) {
                    return null;
                }
                ObjectNode patch = NODES.objectNode();
                patch.set("metadata", meta);
                return patch;
            }, false));
            if (m == null) {
                return null;
            }
        }

        Duration again = null;
        MigrationState ms = vmi == null || vmi.getStatus() == null ? null : vmi.getStatus().getMigrationState();
        boolean ours = ms != null && uid.equals(ms.getMigrationUid());
        if (vmi != null && !Objects2.deleting(m)) {
            if (PENDING.equals(phase) && target == null && !expecting(uid)) {
                Start s = startIfAllowed(m, vmi);
                target = s.pod();
                again = s.again();
            } else if (target != null && !ours && (ms == null || Boolean.TRUE.equals(ms.getCompleted()))
                    && (PENDING.equals(phase) || SCHEDULING.equals(phase) || SCHEDULED.equals(phase))) {
                // the pod was made but the VMI's migrationState write after it failed: written now
                Pod source = VmiReconciler.currentPod(vmi, caches.podsOf(vmi.getMetadata().getUid()));
                if (source != null) {
                    startState(m, vmi, source, target);
                }
            } else if (SCHEDULED.equals(phase) && target != null && VmiReconciler.podReadyForHandOver(target)
                    && ours && blank(ms.getTargetNode())) {
                handOff(m, vmi, target);
            }
            if (target != null && (PENDING.equals(phase) || SCHEDULING.equals(phase))) {
                again = earliest(again, pendingTimeout(m, vmi, target));
            }
        } else if (vmi != null) {
            if (!handedOff(phase)) {
                deleteTarget(m, target, "migration canceled and pod " + (target == null ? "" : ns + "/"
                        + target.getMetadata().getName()) + " is deleted");
            } else if (ours && !Boolean.TRUE.equals(ms.getCompleted()) && !Boolean.TRUE.equals(ms.getAbortRequested())) {
                requestAbort(m, vmi);
            }
        }
        boolean targetGone = target == null && pastPending(phase) && !expecting(uid) && liveTargets(m).isEmpty();
        if (vmi != null && (PREPARING_TARGET.equals(phase) || TARGET_READY.equals(phase)) && ours
                && (targetGone || (target != null && targetDown(target)))
                && ms.getStartTimestamp() == null && !Boolean.TRUE.equals(ms.getCompleted())) {
            markFailedOnVmi(m, vmi, "Target pod is down");
        }
        writeStatus(key, m, vmi, target, targetGone);
        return again;
    }

    /** A migration that has ended: the VMI's migrationState copied, a leftover target cleaned, the finalizer off. */
    private void finished(String key, VirtualMachineInstanceMigration m, VirtualMachineInstance vmi, Pod target) {
        String uid = m.getMetadata().getUid();
        if (target != null) {
            unschedulableReported.remove(target.getMetadata().getUid());
        }
        MigrationState ms = vmi == null || vmi.getStatus() == null ? null : vmi.getStatus().getMigrationState();
        boolean ours = ms != null && uid.equals(ms.getMigrationUid());
        if (FAILED.equals(phase(m)) && vmi != null) {
            if (ours && !Boolean.TRUE.equals(ms.getCompleted())) {
                // KubeVirt's handleMarkMigrationFailedOnVMI: nobody else will end it (the target never came up)
                markFailedOnVmi(m, vmi, "Target pod is down");
            }
            String node = vmi.getStatus() == null ? null : vmi.getStatus().getNodeName();
            boolean toldTarget = ours && !blank(ms.getTargetNode());
            if (target != null && !VmiReconciler.podIsDown(target) && !Objects2.deleting(target)
                    && !Objects.equals(node, target.getSpec().getNodeName()) && !toldTarget) {
                // no handler was ever told of this target (it ended before the hand-over): nothing else stops its QEMU
                deleteTarget(m, target, "migration failed and pod " + m.getMetadata().getNamespace() + "/"
                        + target.getMetadata().getName() + " is deleted");
            }
        }
        VirtualMachineInstanceMigration cur = m;
        if (ours) {
            cur = own.wrote(key, cur, patcher.patchStatus(VirtualMachineInstanceMigration.class, cur, fresh -> {
                var want = KubevirtJson.toTree(ms);
                var have = fresh.getStatus() == null || fresh.getStatus().getMigrationState() == null ? null
                        : KubevirtJson.toTree(fresh.getStatus().getMigrationState());
                if (want.equals(have)) {
                    return null;
                }
                ObjectNode s = NODES.objectNode();
                s.set("migrationState", want);
                return s;
            }, true));
            if (cur == null) {
                return;
            }
        }
        if (Objects2.hasFinalizer(cur, FINALIZER)) {
            own.wrote(key, cur, patcher.finalizer(VirtualMachineInstanceMigration.class, cur, FINALIZER, false));
        }
        if (vmi != null) {
            collectGarbage(vmi);
        }
        slotFreed.run();
    }

    /**
     * KubeVirt's garbageCollectFinalizedMigrations: a VMI keeps its {@value #KEEP_FINISHED} newest finished migrations;
     * older ones are deleted with the pod each left behind (a failed one's target, a successful one's source), unless
     * that pod still runs.
     */
    private void collectGarbage(VirtualMachineInstance vmi) {
        String ns = vmi.getMetadata().getNamespace();
        List<VirtualMachineInstanceMigration> done = caches.migrationsOf(ns, vmi.getMetadata().getName()).stream()
                .filter(x -> isFinal(phase(x)) && !Objects2.deleting(x))
                .sorted((a, b) -> olderThan(a, b) ? -1 : olderThan(b, a) ? 1 : 0).toList();
        List<Pod> pods = caches.podsOf(vmi.getMetadata().getUid());
        for (int i = 0; i < done.size() - KEEP_FINISHED; i++) {
            VirtualMachineInstanceMigration old = done.get(i);
            MigrationState ms = old.getStatus() == null ? null : old.getStatus().getMigrationState();
            String podName = ms == null ? null : Boolean.TRUE.equals(ms.getFailed()) ? ms.getTargetPod()
                    : Boolean.TRUE.equals(ms.getCompleted()) ? ms.getSourcePod() : null;
            Pod pod = podName == null ? null : pods.stream().filter(p -> podName.equals(p.getMetadata().getName()))
                    .findFirst().orElse(null);
            if (pod != null && VmiReconciler.podIsDown(pod)) {
                try {
                    client.pods().inNamespace(ns).withName(podName).delete();
                } catch (KubernetesClientException e) {
                    if (!Objects2.isNotFound(e)) {
                        throw e;
                    }
                }
            }
            try {
                client.resources(VirtualMachineInstanceMigration.class).inNamespace(ns).withName(old.getMetadata().getName())
                        .delete();
            } catch (KubernetesClientException e) {
                if (!Objects2.isNotFound(e)) {
                    throw e;
                }
            }
        }
    }

    /** What a start attempt gave: the target pod (null if none was made) and when to look again. */
    private record Start(Pod pod, Duration again) {
    }

    /**
     * KubeVirt's handleTargetPodCreation: within the cluster's and the source node's limits, the target pod is made
     * and the VMI's migrationState started.
     */
    private Start startIfAllowed(VirtualMachineInstanceMigration m, VirtualMachineInstance vmi) {
        if (!Phase.RUNNING.equals(VmReconciler.phase(vmi)) || Objects2.deleting(vmi)) {
            return new Start(null, null); // the status pass fails it if it ended; else it waits for Running
        }
        List<Pod> pods = caches.podsOf(vmi.getMetadata().getUid());
        Pod source = VmiReconciler.currentPod(vmi, pods);
        if (source == null || EvacuationReconciler.activePods(pods) > 1) {
            // KubeVirt's VMIActivePodsCount: a previous migration's other pod is still going
            return new Start(null, Duration.ofSeconds(1));
        }
        String uid = m.getMetadata().getUid();
        String sourceNode = vmi.getStatus().getNodeName();
        Pod created;
        synchronized (startLock) {
            var limits = config.get().migrations();
            List<VirtualMachineInstanceMigration> running = runningMigrations();
            if (running.size() >= limits.parallelMigrationsPerCluster()) {
                LOG.info("migration " + Objects2.key(m) + " waits: " + running.size()
                        + " migrations run, the cluster's limit (parallelMigrationsPerCluster) is "
                        + limits.parallelMigrationsPerCluster());
                return new Start(null, LIMIT_RETRY);
            }
            long outbound = running.stream().filter(r -> fromNode(r, sourceNode)).count();
            if (outbound >= limits.parallelOutboundMigrationsPerNode()) {
                LOG.info("migration " + Objects2.key(m) + " waits: " + outbound + " migrations leave node " + sourceNode
                        + ", the limit (parallelOutboundMigrationsPerNode) is " + limits.parallelOutboundMigrationsPerNode());
                return new Start(null, LIMIT_RETRY);
            }
            Pod pod = targetPod(m, vmi, sourceNode);
            expectations.put(uid, clock.instant());
            try {
                created = client.pods().inNamespace(vmi.getMetadata().getNamespace()).resource(pod).create();
            } catch (KubernetesClientException e) {
                expectations.remove(uid);
                events.record(vmi, Events.WARNING, VmiReconciler.FAILED_CREATE, "Error creating pod: "
                        + Objects.requireNonNullElse(e.getMessage(), e.toString()));
                throw e;
            }
        }
        events.record(m, Events.NORMAL, "SuccessfulCreate", "Created migration target pod "
                + created.getMetadata().getName());
        startState(m, vmi, source, created);
        return new Start(created, null);
    }

    /** The VMI's migrationState for a migration whose target pod was just made (a new object: KubeVirt's). */
    private void startState(VirtualMachineInstanceMigration m, VirtualMachineInstance vmi, Pod source, Pod target) {
        String uid = m.getMetadata().getUid();
        Resolved settings = resolveSettings(m, vmi);
        patcher.patch(VirtualMachineInstance.class, vmi, fresh -> {
            MigrationState cur = fresh.getStatus() == null ? null : fresh.getStatus().getMigrationState();
            if (cur != null && uid.equals(cur.getMigrationUid())) {
                return null;
            }
            VirtualMachineInstanceMigration other = cur == null || cur.getMigrationUid() == null ? null
                    : caches.migrationByUid(cur.getMigrationUid());
            if (other != null && !Boolean.TRUE.equals(cur.getCompleted()) && !isFinal(phase(other))) {
                return null; // another migration's, still in flight (this one fails: taken over)
            }
            MigrationState ms = new MigrationState();
            ms.setMigrationUid(uid);
            ms.setSourceNode(fresh.getStatus().getNodeName());
            ms.setSourcePod(source.getMetadata().getName());
            ms.setTargetPod(target.getMetadata().getName());
            ms.setMode("PreCopy");
            ms.setMigrationPolicyName(settings.policy());
            ms.setMigrationConfiguration(settings.settings().toConfiguration());
            ObjectNode patch = NODES.objectNode();
            patch.putObject("status").set("migrationState", KubevirtJson.toTree(ms));
            return patch;
        }, false);
    }

    /** The settings a migration runs with, and the name of the policy that changed them (null: none). */
    record Resolved(MigrationSettings settings, String policy) {
    }

    /**
     * KubeVirt's resolveMigrationConfig: the KubeVirt CR's migration settings with the best-matching MigrationPolicy
     * ({@link MigrationPolicies}, by the VMI's and its namespace's labels) applied. A policy whose values cannot be
     * used (virt-api refuses those; one stored before that) is passed over with a Warning event on the migration.
     */
    Resolved resolveSettings(VirtualMachineInstanceMigration m, VirtualMachineInstance vmi) {
        MigrationSettings cluster = config.get().migrations();
        var policy = MigrationPolicies.match(caches.migrationPolicies(), vmi.getMetadata().getLabels(),
                caches.namespaceLabels(vmi.getMetadata().getNamespace()));
        if (policy.isEmpty()) {
            return new Resolved(cluster, null);
        }
        String name = policy.get().getMetadata().getName();
        try {
            return new Resolved(cluster.applying(policy.get().getSpec()), name);
        } catch (IllegalArgumentException e) {
            events.record(m, Events.WARNING, "InvalidMigrationPolicy", "MigrationPolicy " + name
                    + " is not applied: " + e.getMessage());
            return new Resolved(cluster, null);
        }
    }

    /**
     * The target launcher pod: the VMI's own launcher pod ({@link LauncherPods}), labelled with the migration's uid
     * ({@value #JOB_LABEL}, annotation {@value #JOB_NAME_ANNOTATION}), with {@value #TARGET_ENV} on compute (the
     * launcher starts QEMU waiting for the incoming migration), the migration's addedNodeSelector, and a required
     * node affinity {@code kubernetes.io/hostname NotIn [source node]} (KubeVirt keeps the pods of one VMI apart
     * with a pod anti-affinity; a node term is what every scheduler honours the same).
     */
    Pod targetPod(VirtualMachineInstanceMigration m, VirtualMachineInstance vmi, String sourceNode) {
        String ns = vmi.getMetadata().getNamespace();
        Pod pod = LauncherPods.build(vmi, config.get(), LauncherPods.AutoLimits.of(vmi,
                resource -> caches.quotaLimits(ns, resource), caches.namespaceLabels(ns)));
        Map<String, String> labels = pod.getMetadata().getLabels();
        labels.remove(VmiReconciler.NODE_NAME_LABEL); // the VMI's labels are copied; these name the source's node
        labels.remove(TARGET_NODE_LABEL);
        labels.put(JOB_LABEL, m.getMetadata().getUid());
        pod.getMetadata().getAnnotations().put(JOB_NAME_ANNOTATION, m.getMetadata().getName());
        for (Container c : pod.getSpec().getContainers()) {
            if (LauncherPods.COMPUTE.equals(c.getName())) {
                List<EnvVar> env = new ArrayList<>(Objects.requireNonNullElse(c.getEnv(), List.of()));
                env.add(new EnvVarBuilder().withName(TARGET_ENV).withValue(m.getMetadata().getUid()).build());
                c.setEnv(env);
            }
        }
        if (m.getSpec().getAddedNodeSelector() != null) {
            Map<String, String> sel = new LinkedHashMap<>(m.getSpec().getAddedNodeSelector());
            if (pod.getSpec().getNodeSelector() != null) {
                sel.putAll(pod.getSpec().getNodeSelector()); // the VMI's own selector wins, as KubeVirt merges them
            }
            pod.getSpec().setNodeSelector(sel);
        }
        if (sourceNode != null && !sourceNode.isEmpty()) {
            NodeSelectorRequirement away = new NodeSelectorRequirementBuilder().withKey(HOSTNAME_LABEL)
                    .withOperator("NotIn").withValues(sourceNode).build();
            Affinity a = pod.getSpec().getAffinity() == null ? new Affinity() : pod.getSpec().getAffinity();
            NodeAffinity na = a.getNodeAffinity() == null ? new NodeAffinity() : a.getNodeAffinity();
            NodeSelector required = na.getRequiredDuringSchedulingIgnoredDuringExecution() == null ? new NodeSelector()
                    : na.getRequiredDuringSchedulingIgnoredDuringExecution();
            List<NodeSelectorTerm> terms = new ArrayList<>(Objects.requireNonNullElse(required.getNodeSelectorTerms(),
                    List.of()));
            if (terms.isEmpty()) {
                terms.add(new NodeSelectorTerm());
            }
            for (NodeSelectorTerm t : terms) { // terms are ORed: each must keep the pod off the source node
                List<NodeSelectorRequirement> exprs = new ArrayList<>(Objects.requireNonNullElse(t.getMatchExpressions(),
                        List.of()));
                exprs.add(away);
                t.setMatchExpressions(exprs);
            }
            required.setNodeSelectorTerms(terms);
            na.setRequiredDuringSchedulingIgnoredDuringExecution(required);
            a.setNodeAffinity(na);
            pod.getSpec().setAffinity(a);
        }
        return pod;
    }

    /** KubeVirt's handleTargetPodHandoff: the target node's handler is told (migrationState.targetNode, the label). */
    private void handOff(VirtualMachineInstanceMigration m, VirtualMachineInstance vmi, Pod target) {
        String uid = m.getMetadata().getUid();
        String node = target.getSpec().getNodeName();
        VirtualMachineInstance done = patcher.patch(VirtualMachineInstance.class, vmi, fresh -> {
            MigrationState cur = fresh.getStatus() == null ? null : fresh.getStatus().getMigrationState();
            if (cur == null || !uid.equals(cur.getMigrationUid()) || !blank(cur.getTargetNode())) {
                return null;
            }
            ObjectNode ms = (ObjectNode) KubevirtJson.toTree(cur);
            ms.put("targetNode", node);
            ms.put("targetPod", target.getMetadata().getName());
            Map<String, String> labels = new LinkedHashMap<>(Objects.requireNonNullElse(fresh.getMetadata().getLabels(),
                    Map.of()));
            labels.put(TARGET_NODE_LABEL, node);
            ObjectNode patch = NODES.objectNode();
            patch.putObject("status").set("migrationState", ms);
            patch.putObject("metadata").set("labels", KubevirtJson.toTree(labels));
            return patch;
        }, false);
        if (done != null) {
            events.record(m, Events.NORMAL, "SuccessfulHandOver", "Migration target pod is ready for preparation by virt-handler.");
        }
    }

    /**
     * KubeVirt's handlePendingPodTimeout: a target pod that stays Pending is deleted (the migration then fails: its
     * target was removed) after {@value #UNSCHEDULABLE_TIMEOUT_ANNOTATION} seconds (default 300) if the scheduler
     * finds no node for it, else after {@value #PENDING_TIMEOUT_ANNOTATION} seconds (default 900); either annotation
     * on the migration overrides its default.
     *
     * @return when to look again, or null
     */
    private Duration pendingTimeout(VirtualMachineInstanceMigration m, VirtualMachineInstance vmi, Pod target) {
        String podPhase = target.getStatus() == null ? null : target.getStatus().getPhase();
        Instant created = Objects2.time(target.getMetadata().getCreationTimestamp());
        if ((podPhase != null && !"Pending".equals(podPhase)) || Objects2.deleting(target) || created == null) {
            return null;
        }
        Instant now = clock.instant();
        Duration pending = Duration.between(created, now);
        String name = target.getMetadata().getNamespace() + "/" + target.getMetadata().getName();
        Duration again = null;
        if (unschedulable(target)) {
            if (unschedulableReported.add(target.getMetadata().getUid())) {
                events.record(m, Events.WARNING, "migrationTargetPodUnschedulable", "Migration target pod for VMI ["
                        + vmi.getMetadata().getNamespace() + "/" + vmi.getMetadata().getName() + "] is currently unschedulable.");
            }
            Duration limit = seconds(m, UNSCHEDULABLE_TIMEOUT_ANNOTATION, UNSCHEDULABLE_TIMEOUT);
            if (pending.compareTo(limit) >= 0) {
                deleteTarget(m, target, "unschedulable pod " + name + " timeout period exceeded");
                return null;
            }
            again = limit.minus(pending);
        }
        Duration limit = seconds(m, PENDING_TIMEOUT_ANNOTATION, PENDING_TIMEOUT);
        if (pending.compareTo(limit) >= 0) {
            deleteTarget(m, target, "pending pod " + name + " timeout period exceeded");
            return null;
        }
        return earliest(again, limit.minus(pending));
    }

    private static boolean unschedulable(Pod pod) {
        return pod.getStatus() != null && pod.getStatus().getConditions() != null && pod.getStatus().getConditions()
                .stream().anyMatch(c -> "PodScheduled".equals(c.getType()) && "False".equals(c.getStatus())
                        && "Unschedulable".equals(c.getReason()));
    }

    /** A timeout in seconds from the migration's annotation, else {@code fallback} (an unreadable value is logged). */
    private static Duration seconds(VirtualMachineInstanceMigration m, String annotation, Duration fallback) {
        String v = m.getMetadata().getAnnotations() == null ? null : m.getMetadata().getAnnotations().get(annotation);
        if (v == null) {
            return fallback;
        }
        try {
            return Duration.ofSeconds(Math.max(0, Long.parseLong(v.trim())));
        } catch (NumberFormatException e) {
            LOG.warning("migration " + Objects2.key(m) + ": annotation " + annotation + ": '" + v
                    + "' is no number of seconds; using " + fallback.toSeconds());
            return fallback;
        }
    }

    private static Duration earliest(Duration a, Duration b) {
        return a == null ? b : b == null ? a : a.compareTo(b) <= 0 ? a : b;
    }

    /** KubeVirt's markMigrationAbortInVmiStatus: the source handler cancels the migration it runs. */
    private void requestAbort(VirtualMachineInstanceMigration m, VirtualMachineInstance vmi) {
        String uid = m.getMetadata().getUid();
        VirtualMachineInstance done = patcher.patch(VirtualMachineInstance.class, vmi, fresh -> {
            MigrationState cur = fresh.getStatus() == null ? null : fresh.getStatus().getMigrationState();
            if (cur == null || !uid.equals(cur.getMigrationUid()) || Boolean.TRUE.equals(cur.getCompleted())
                    || Boolean.TRUE.equals(cur.getAbortRequested())) {
                return null;
            }
            ObjectNode ms = (ObjectNode) KubevirtJson.toTree(cur);
            ms.put("abortRequested", true);
            ObjectNode patch = NODES.objectNode();
            patch.putObject("status").set("migrationState", ms);
            return patch;
        }, false);
        if (done != null) {
            events.record(m, Events.NORMAL, "SuccessfulAbortMigration", "Migration is ready to be canceled by virt-handler.");
        }
    }

    /**
     * KubeVirt's handleMarkMigrationFailedOnVMI: the VMI's migrationState ends failed when no handler will end it
     * (the target is gone before the source started). startTimestamp is set too, so the source never starts it.
     */
    private void markFailedOnVmi(VirtualMachineInstanceMigration m, VirtualMachineInstance vmi, String reason) {
        String uid = m.getMetadata().getUid();
        String now = clock.instant().toString();
        VirtualMachineInstance done = patcher.patch(VirtualMachineInstance.class, vmi, fresh -> {
            MigrationState cur = fresh.getStatus() == null ? null : fresh.getStatus().getMigrationState();
            if (cur == null || !uid.equals(cur.getMigrationUid()) || Boolean.TRUE.equals(cur.getCompleted())) {
                return null;
            }
            ObjectNode ms = (ObjectNode) KubevirtJson.toTree(cur);
            ms.put("failed", true);
            ms.put("completed", true);
            if (cur.getEndTimestamp() == null) {
                ms.put("endTimestamp", now);
            }
            if (cur.getStartTimestamp() == null) {
                ms.put("startTimestamp", now);
            }
            if (blank(cur.getFailureReason())) {
                ms.put("failureReason", reason);
            }
            ObjectNode patch = NODES.objectNode();
            patch.putObject("status").set("migrationState", ms);
            return patch;
        }, false);
        if (done != null) {
            events.record(vmi, Events.WARNING, FAILED_MIGRATION, "VirtualMachineInstance migration uid " + uid
                    + " failed. reason: " + reason);
        }
    }

    private void deleteTarget(VirtualMachineInstanceMigration m, Pod target, String message) {
        if (target == null || Objects2.deleting(target)) {
            return;
        }
        try {
            client.pods().inNamespace(target.getMetadata().getNamespace()).withName(target.getMetadata().getName()).delete();
            events.record(m, Events.NORMAL, "SuccessfulDelete", message);
        } catch (KubernetesClientException e) {
            if (!Objects2.isNotFound(e)) {
                throw e;
            }
        }
    }

    /** What the migration's status should be, written by one patch of its status subresource. */
    private void writeStatus(String key, VirtualMachineInstanceMigration m, VirtualMachineInstance vmi, Pod target,
                             boolean targetGone) {
        String[] event = new String[3];
        VirtualMachineInstanceMigration after = patcher.patchStatus(VirtualMachineInstanceMigration.class, m, fresh -> {
            event[0] = null;
            String phase = phase(fresh);
            if (isFinal(phase)) {
                return null;
            }
            String uid = fresh.getMetadata().getUid();
            List<Condition> conds = fresh.getStatus() == null || fresh.getStatus().getConditions() == null ? List.of()
                    : fresh.getStatus().getConditions();
            List<Condition> nextConds = conds;
            MigrationState ms = vmi == null || vmi.getStatus() == null ? null : vmi.getStatus().getMigrationState();
            boolean ours = ms != null && uid.equals(ms.getMigrationUid());
            String vmiPhase = vmi == null ? "" : VmReconciler.phase(vmi);
            String failure = null;
            if (vmi == null) {
                failure = "Migration failed because vmi does not exist.";
            } else if (Phase.isFinal(vmiPhase)) {
                failure = "Migration failed vmi shutdown during migration.";
            } else if (Objects2.deleting(fresh) && !handedOff(phase)) {
                failure = "Migration failed due to being canceled";
                nextConds = Conditions.with(nextConds, condition(ABORT_REQUESTED, "True", null, null));
            } else if (target != null && targetDown(target)) {
                failure = "Migration failed because target pod shutdown during migration";
            } else if (targetGone) {
                failure = "Migration target pod was removed during active migration.";
            } else if (handedOff(phase) && ms == null) {
                failure = "VMI's migration state was cleared during the active migration.";
            } else if (handedOff(phase) && !ours) {
                failure = "VMI's migration state was taken over by another migration job during active migration.";
            } else if (ours && Boolean.TRUE.equals(ms.getFailed())) {
                failure = "source node reported migration failed"
                        + (blank(ms.getFailureReason()) ? "" : ": " + ms.getFailureReason());
            } else if (Objects2.deleting(fresh) && Objects2.condition(conds, ABORT_REQUESTED) == null) {
                nextConds = Conditions.with(nextConds, condition(ABORT_REQUESTED, "True", null, null));
            }
            List<String> path = new ArrayList<>();
            if (failure != null) {
                path.add(FAILED);
                event[0] = Events.WARNING;
                event[1] = FAILED_MIGRATION;
                event[2] = failure;
            } else {
                String cur = phase;
                while (true) {
                    String next = advance(fresh, cur, vmi, ms, ours, target, event);
                    if (next == null || next.equals(cur)) {
                        break;
                    }
                    path.add(next);
                    cur = next;
                    if (isFinal(next)) {
                        break;
                    }
                }
            }
            if (path.isEmpty() && nextConds == conds) {
                return null;
            }
            ObjectNode s = NODES.objectNode();
            if (!path.isEmpty()) {
                String last = path.get(path.size() - 1);
                s.put("phase", last);
                List<PhaseTransition> transitions = new ArrayList<>(fresh.getStatus() == null
                        || fresh.getStatus().getPhaseTransitionTimestamps() == null ? List.of()
                        : fresh.getStatus().getPhaseTransitionTimestamps());
                String now = clock.instant().toString();
                for (String p : path) {
                    PhaseTransition t = new PhaseTransition();
                    t.setPhase(p);
                    t.setPhaseTransitionTimestamp(now);
                    transitions.add(t);
                }
                s.set("phaseTransitionTimestamps", KubevirtJson.toTree(transitions));
                if (isFinal(last) && ours) {
                    s.set("migrationState", KubevirtJson.toTree(ms));
                }
            }
            if (nextConds != conds) {
                s.set("conditions", KubevirtJson.toTree(nextConds));
            }
            return s;
        }, true);
        own.wrote(key, m, after);
        if (after != null && event[0] != null && !Objects.equals(phase(m), phase(after))) {
            events.record(after, event[0], event[1], event[2]);
        }
    }

    /**
     * The phase after {@code phase}, as KubeVirt's processMigrationPhase; {@code phase} itself when it stays.
     * A refusal at the start fills {@code event} and returns Failed.
     */
    private String advance(VirtualMachineInstanceMigration m, String phase, VirtualMachineInstance vmi, MigrationState ms,
                           boolean ours, Pod target, String[] event) {
        switch (phase) {
            case "" -> {
                String refusal = refusal(m, vmi);
                if (refusal != null) {
                    event[0] = Events.WARNING;
                    event[1] = FAILED_MIGRATION;
                    event[2] = refusal;
                    return FAILED;
                }
                return PENDING;
            }
            case PENDING -> {
                return target != null ? SCHEDULING : phase;
            }
            case SCHEDULING -> {
                return target != null && VmiReconciler.podReadyForHandOver(target) ? SCHEDULED : phase;
            }
            case SCHEDULED -> {
                return ours && !blank(ms.getTargetNode()) ? PREPARING_TARGET : phase;
            }
            case PREPARING_TARGET -> {
                return ours && !blank(ms.getTargetNodeAddress()) ? TARGET_READY : phase;
            }
            case TARGET_READY -> {
                return ours && ms.getStartTimestamp() != null ? RUNNING : phase;
            }
            case RUNNING -> {
                if (ours && Boolean.TRUE.equals(ms.getCompleted()) && !Boolean.TRUE.equals(ms.getFailed())
                        && ms.getTargetNodeDomainReadyTimestamp() != null) {
                    event[0] = Events.NORMAL;
                    event[1] = SUCCESSFUL_MIGRATION;
                    event[2] = "Source node reported migration succeeded";
                    return SUCCEEDED;
                }
                return phase;
            }
            default -> {
                return phase;
            }
        }
    }

    /** Why the VMI cannot be migrated by {@code m} (KubeVirt's admission and canMigrateVMI), or null. */
    private String refusal(VirtualMachineInstanceMigration m, VirtualMachineInstance vmi) {
        String name = vmi.getMetadata().getNamespace() + "/" + vmi.getMetadata().getName();
        if (!Phase.RUNNING.equals(VmReconciler.phase(vmi)) || Objects2.deleting(vmi)) {
            return "Cannot migrate VMI " + name + ": it is not running (phase " + VmReconciler.phase(vmi) + ")";
        }
        List<Condition> conds = vmi.getStatus().getConditions();
        Condition live = Objects2.condition(conds, ConditionType.LIVE_MIGRATABLE);
        if (live == null || !"True".equals(live.getStatus())) {
            return "Cannot migrate VMI " + name + ": it is not live migratable"
                    + (live == null ? " (no LiveMigratable condition yet)" : ": " + Objects.requireNonNullElse(
                            live.getMessage(), Objects.requireNonNullElse(live.getReason(), "LiveMigratable is False")));
        }
        MigrationState ms = vmi.getStatus().getMigrationState();
        String uid = m.getMetadata().getUid();
        for (VirtualMachineInstanceMigration other : caches.migrationsOf(vmi.getMetadata().getNamespace(),
                vmi.getMetadata().getName())) {
            if (other.getMetadata().getUid().equals(uid) || isFinal(phase(other))) {
                continue;
            }
            boolean ownsState = ms != null && other.getMetadata().getUid().equals(ms.getMigrationUid());
            if (ownsState || !phase(other).isEmpty() || olderThan(other, m)) {
                return "VMI is not eligible for migration because another migration job is in progress.";
            }
        }
        return null;
    }

    /**
     * KubeVirt's findRunningMigrations: unfinished migrations past Pending, and Pending ones whose target pod exists
     * or is being made.
     */
    private List<VirtualMachineInstanceMigration> runningMigrations() {
        List<VirtualMachineInstanceMigration> out = new ArrayList<>();
        for (VirtualMachineInstanceMigration r : caches.allMigrations()) {
            String p = phase(r);
            if (isFinal(p)) {
                continue;
            }
            String uid = r.getMetadata().getUid();
            if (pastPending(p) || expecting(uid) || !caches.targetPodsOf(uid).isEmpty()) {
                out.add(r);
            }
        }
        return out;
    }

    /** KubeVirt's outboundMigrationsOnNode: the migration's VMI is on {@code node} or is leaving it. */
    private boolean fromNode(VirtualMachineInstanceMigration r, String node) {
        VirtualMachineInstance v = r.getSpec() == null || r.getSpec().getVmiName() == null ? null
                : caches.vmi(Objects2.key(r.getMetadata().getNamespace(), r.getSpec().getVmiName()));
        if (v == null || v.getStatus() == null) {
            return false;
        }
        MigrationState ms = v.getStatus().getMigrationState();
        return Objects.equals(node, v.getStatus().getNodeName())
                || (ms != null && r.getMetadata().getUid().equals(ms.getMigrationUid()) && Objects.equals(node, ms.getSourceNode()));
    }

    private boolean expecting(String uid) {
        Instant at = expectations.get(uid);
        if (at == null) {
            return false;
        }
        if (clock.instant().isAfter(at.plus(VmiReconciler.EXPECTATION_TIMEOUT))) {
            expectations.remove(uid);
            return false;
        }
        return true;
    }

    private List<Pod> liveTargets(VirtualMachineInstanceMigration m) {
        return client.pods().inNamespace(m.getMetadata().getNamespace())
                .withLabel(JOB_LABEL, m.getMetadata().getUid()).list().getItems();
    }

    private Condition condition(String type, String status, String reason, String message) {
        Condition c = new Condition();
        c.setType(type);
        c.setStatus(status);
        c.setReason(reason);
        c.setMessage(message);
        c.setLastTransitionTime(clock.instant().toString());
        c.setLastProbeTime(clock.instant().toString());
        return c;
    }

    static String phase(VirtualMachineInstanceMigration m) {
        VirtualMachineInstanceMigrationStatus s = m.getStatus();
        return s == null || s.getPhase() == null ? "" : s.getPhase();
    }

    static boolean isFinal(String phase) {
        return SUCCEEDED.equals(phase) || FAILED.equals(phase);
    }

    /** The target has been named to the VMI (KubeVirt's TargetIsHandedOff): the handlers own the migration now. */
    static boolean handedOff(String phase) {
        return PREPARING_TARGET.equals(phase) || TARGET_READY.equals(phase) || RUNNING.equals(phase);
    }

    /** A target pod has been made (KubeVirt's TargetIsCreated). */
    static boolean pastPending(String phase) {
        return !phase.isEmpty() && !PENDING.equals(phase) && !isFinal(phase);
    }

    private static boolean olderThan(VirtualMachineInstanceMigration a, VirtualMachineInstanceMigration b) {
        String ta = Objects.requireNonNullElse(a.getMetadata().getCreationTimestamp(), "");
        String tb = Objects.requireNonNullElse(b.getMetadata().getCreationTimestamp(), "");
        int c = ta.compareTo(tb);
        return c < 0 || (c == 0 && a.getMetadata().getName().compareTo(b.getMetadata().getName()) < 0);
    }

    private static Pod newest(List<Pod> pods) {
        return pods.stream().max(Comparator.comparing(p -> Objects.requireNonNullElse(
                p.getMetadata().getCreationTimestamp(), ""))).orElse(null);
    }

    private static String label(io.fabric8.kubernetes.api.model.HasMetadata o, String key) {
        return o.getMetadata().getLabels() == null ? null : o.getMetadata().getLabels().get(key);
    }

    private static boolean blank(String s) {
        return s == null || s.isEmpty();
    }

    /** A target pod that ended, or whose compute container ended (a containerDisk container may still run). */
    private static boolean targetDown(Pod target) {
        return VmiReconciler.podIsDown(target) || VmiReconciler.computeTerminated(target) != null;
    }
}
