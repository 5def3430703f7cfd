package io.qvirt.controller;

import io.qvirt.api.client.ResourcePatcher;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.ContainerStateTerminated;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.qvirt.api.KubevirtJson;
import io.qvirt.api.VirtualMachineInstance;
import io.qvirt.api.VmiDefaults;
import io.qvirt.api.model.Condition;
import io.qvirt.api.model.Conditions;
import io.qvirt.api.model.ConditionType;
import io.qvirt.api.model.Phase;
import io.qvirt.api.model.PhaseTransition;
import io.qvirt.api.model.PrintableStatus;
import io.qvirt.api.model.VirtualMachineInstanceStatus;
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

/**
 * VirtualMachineInstance -> launcher pod, and the pod's progress back into the VMI's status, as KubeVirt's
 * VMI controller ({@code pkg/virt-controller/watch/vmi.go}) does up to the hand-over to the node:
 * <ul>
 * <li>A VMI in phase Pending (or none) without a pod gets one ({@link LauncherPods}) and moves to
 *     Scheduling.</li>
 * <li>While the pod is unscheduled the VMI stays Scheduling, with the pod's PodScheduled condition mirrored
 *     (reason Unschedulable becomes the VM's ErrorUnschedulable); image pull errors of any container
 *     become condition {@value #SYNCHRONIZED} False with reason ErrImagePull or ImagePullBackOff.</li>
 * <li>Once the pod runs on a node, the VMI becomes Scheduled with {@code status.nodeName}: from here the
 *     handler on that node owns the phase.</li>
 * <li>A pod that is down or going down (phase Succeeded or Failed, its {@code compute} container terminated, or
 *     deleted) fails the VMI only while it is scheduling (KubeVirt's {@code lifecycle.go}); from Scheduled on the
 *     handler writes the final phase, and only a missing pod fails the VMI here.</li>
 * <li>A VMI being deleted keeps its finalizer until its pod is gone; the pod is deleted only once the VMI is
 *     final (the handler shut the guest down), the pod never started, or the VMI's grace period has passed:
 *     deleting the pod earlier would SIGTERM QEMU, which is no graceful guest shutdown.</li>
 * </ul>
 * The VMI's status is written with a resourceVersion-guarded patch (sent as JSON Patch) of the object itself:
 * KubeVirt's VMI CRD has no status subresource.
 *
 * <p>Pod creations are remembered until the pod shows up in the cache (client-go's "expectations"), so a
 * reconcile running on a cache that is behind never creates a second pod. The pass that creates the pod also
 * writes the VMI's status from the server's copy of it and sets its readiness-gate condition, so a start costs
 * one VMI patch and one pod status patch; a VMI or pod that the cache holds at a version this controller's own
 * write replaced ({@link OwnWrites}) is left until the newer version's event.
 */
final class VmiReconciler implements Reconciler {
    static final String VMI_FINALIZER = "kubevirt.io/foregroundDeleteVirtualMachine";
    /** KubeVirt's VMI condition for "the controller could not set the VMI up" (pod creation, image pulls). */
    static final String SYNCHRONIZED = "Synchronized";
    /** KubeVirt's label of a VMI handed over to a node; virt-handler watches the VMIs labelled with its node. */
    static final String NODE_NAME_LABEL = "kubevirt.io/nodeName";
    /** KubeVirt's reason for a pod (or VMI) that could not be created. */
    static final String FAILED_CREATE = "FailedCreate";
    /** KubeVirt's reason (Event and Synchronized condition) for a VMI whose claim does not exist. */
    static final String FAILED_PVC_NOT_FOUND = "FailedPvcNotFound";
    static final Duration EXPECTATION_TIMEOUT = Duration.ofSeconds(30);
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private final KubernetesClient client;
    private final Caches caches;
    private final ResourcePatcher patcher;
    private final Supplier<ClusterConfig> config;
    private final Clock clock;
    /** VMI uid -> when a pod was created for it and not yet seen in the cache. */
    private final Map<String, Instant> expectations = new ConcurrentHashMap<>();
    private final Events events;
    private final OwnWrites own = new OwnWrites();

    VmiReconciler(KubernetesClient client, Caches caches, Supplier<ClusterConfig> config, Clock clock) {
        this.client = client;
        this.caches = caches;
        this.patcher = new ResourcePatcher(client);
        this.config = config;
        this.clock = clock;
        this.events = new Events(client, clock);
    }

    @Override
    public Duration reconcile(String key) {
        VirtualMachineInstance vmi = caches.vmi(key);
        if (vmi == null) {
            own.forget(key);
            own.forget(podKey(key));
            return null;
        }
        if (own.behind(key, vmi)) {
            return null; // our last write's event is on its way, and brings the VMI back
        }
        String uid = vmi.getMetadata().getUid();
        List<Pod> pods = pods(uid);
        String phase = VmReconciler.phase(vmi);
        Instant now = clock.instant();

        if (Objects2.deleting(vmi)) {
            if (!pods.isEmpty()) {
                // deletionTimestamp has whole seconds (truncated): one more second so the grace is never short.
                Instant deadline = Objects.requireNonNullElse(Objects2.time(vmi.getMetadata().getDeletionTimestamp()), now)
                        .plusSeconds(grace(vmi) + 1);
                boolean started = pods.stream().anyMatch(VmiReconciler::started);
                if (Phase.isFinal(phase) || !started || !now.isBefore(deadline)) {
                    pods.forEach(this::deletePod);
                    return null; // the pods' deletion events bring the VMI back
                }
                return Duration.between(now, deadline);
            }
            if (expectations.containsKey(uid) && !livePods(vmi).isEmpty()) {
                return Duration.ofSeconds(1);
            }
            expectations.remove(uid);
            if (!Phase.isFinal(phase)) {
                // KubeVirt: a deleted VMI without a pod is Failed (so the VM controller records it and lets go)
                writeFailed(vmi, "PodDisappeared", "the VMI was deleted and its launcher pod is gone");
                return null; // the write brings the VMI back
            }
            releaseOrphan(vmi);
            patcher.finalizer(VirtualMachineInstance.class, vmi, VMI_FINALIZER, false);
            return null;
        }

        if (Phase.isFinal(phase)) {
            releaseOrphan(vmi);
            return finalPods(vmi, pods, now);
        }

        if (!Objects2.hasFinalizer(vmi, VMI_FINALIZER)) {
            vmi = own.wrote(key, vmi, patcher.finalizer(VirtualMachineInstance.class, vmi, VMI_FINALIZER, true));
            if (vmi == null) {
                return null;
            }
        }

        Pod pod = currentPod(vmi, pods);
        if (pod == null) {
            Instant expected = expectations.get(uid);
            if (expected != null && now.isBefore(expected.plus(EXPECTATION_TIMEOUT))) {
                return EXPECTATION_TIMEOUT; // the create is on its way to the cache; its event will come first
            }
            if (phase.isEmpty() || Phase.PENDING.equals(phase)) {
                List<io.qvirt.api.FieldError> unprovidable = LauncherPods.unprovidableVolumes(vmi.getSpec(), "spec.volumes");
                if (!unprovidable.isEmpty()) {
                    // no pod that could only fail: Synchronized=False FailedCreate, until the VMI is replaced
                    String message = "cannot create the launcher pod: " + unprovidable.stream()
                            .map(Object::toString).collect(java.util.stream.Collectors.joining("; "));
                    writeStatus(vmi, null, null, false, condition(SYNCHRONIZED, "False", FAILED_CREATE, message));
                    return null;
                }
                String missing = missingClaim(vmi);
                if (missing != null) {
                    // KubeVirt's areDataVolumesReady: no pod until the claim appears (its add event brings the VMI
                    // back); Synchronized=False FailedPvcNotFound (the VM's ErrorPvcNotFound), PodScheduled=False.
                    String message = "PVC " + vmi.getMetadata().getNamespace() + "/" + missing
                            + " does not exist, waiting for it to appear";
                    Condition sync = Objects2.condition(conditions(vmi), SYNCHRONIZED);
                    if (sync == null || !FAILED_PVC_NOT_FOUND.equals(sync.getReason())
                            || !message.equals(sync.getMessage())) {
                        events.record(vmi, Events.NORMAL, FAILED_PVC_NOT_FOUND, message);
                    }
                    writeStatus(vmi, null, null, false, condition(SYNCHRONIZED, "False", FAILED_PVC_NOT_FOUND, message));
                    return null;
                }
                Pod created;
                try {
                    created = createPod(vmi);
                } catch (KubernetesClientException e) {
                    // KubeVirt: an Event, and Synchronized=False reason FailedCreate (the VM copies it); retried.
                    String message = "Error creating pod: " + Objects.requireNonNullElse(e.getMessage(), e.toString());
                    events.record(vmi, Events.WARNING, FAILED_CREATE, message);
                    writeStatus(vmi, null, null, false, condition(SYNCHRONIZED, "False", FAILED_CREATE, message));
                    throw e;
                }
                events.record(vmi, Events.NORMAL, "SuccessfulCreate",
                        "Created virtual machine pod " + created.getMetadata().getName());
                // The status the pod's add event would bring, written now from the server's copy of the pod
                // (KubeVirt's sync and updateStatus in one pass): one VMI patch per start, not two, and the
                // pod's readiness gate set at once. The add event then finds nothing to change.
                List<Pod> all = new ArrayList<>(pods);
                all.add(created);
                writeStatus(vmi, created, all, true, null);
                syncUnpaused(vmi, created);
                return null;
            }
            // Scheduling, Scheduled, Running without a pod in the cache: check the server before failing the VMI.
            List<Pod> live = livePods(vmi);
            if (!live.isEmpty() && currentPod(vmi, live) != null) {
                return Duration.ofSeconds(1);
            }
            expectations.remove(uid);
            writeFailed(vmi, "PodDisappeared", "the launcher pod of " + key + " is gone");
            return null;
        }
        expectations.remove(uid);
        writeStatus(vmi, pod, pods, false, null);
        if (!own.behind(podKey(key), pod)) {
            syncUnpaused(vmi, pod);
        }
        return null;
    }

    /**
     * KubeVirt's syncPausedConditionToPod: the pod's readiness-gate condition {@value LauncherPods#UNPAUSED_CONDITION}
     * is True unless the VMI's Paused condition is True, so a paused VM's pod leaves its Services' endpoints.
     */
    private void syncUnpaused(VirtualMachineInstance vmi, Pod pod) {
        boolean paused = Objects2.isTrue(conditions(vmi), ConditionType.PAUSED);
        String want = paused ? "False" : "True";
        own.wrote(podKey(Objects2.key(vmi)), pod, patcher.patch(Pod.class, pod, fresh -> {
            List<PodCondition> conds = fresh.getStatus() == null || fresh.getStatus().getConditions() == null
                    ? List.of() : fresh.getStatus().getConditions();
            PodCondition cur = conds.stream().filter(c -> LauncherPods.UNPAUSED_CONDITION.equals(c.getType()))
                    .findFirst().orElse(null);
            if (cur != null && want.equals(cur.getStatus())) {
                return null;
            }
            List<PodCondition> next = new ArrayList<>(conds);
            next.removeIf(c -> LauncherPods.UNPAUSED_CONDITION.equals(c.getType()));
            String now = clock.instant().toString();
            next.add(new io.fabric8.kubernetes.api.model.PodConditionBuilder()
                    .withType(LauncherPods.UNPAUSED_CONDITION).withStatus(want)
                    .withReason(paused ? "Paused" : "NotPaused")
                    .withMessage(paused ? "the virtual machine is paused" : "the virtual machine is not paused")
                    .withLastProbeTime(now).withLastTransitionTime(now).build());
            ObjectNode patch = NODES.objectNode();
            patch.putObject("status").set("conditions", KubevirtJson.toTree(next));
            return patch;
        }, true));
    }

    /** The {@link OwnWrites} id of a VMI's launcher pod (the current one: the only one whose status is written). */
    private static String podKey(String vmiKey) {
        return "pod:" + vmiKey;
    }

    /**
     * The pods of a final VMI. KubeVirt keeps a completed pod (its logs) and the VMI's finalizer until the VMI
     * is deleted; so does qvirt. The handler writes the final phase before QEMU quits, so a pod whose compute
     * container still runs is given the VMI's grace period to end; one whose compute container has ended but
     * which still runs (its containerDisk containers sleep until stopped) is deleted, as is one that never
     * started: either would hold its node's resources for ever.
     */
    private Duration finalPods(VirtualMachineInstance vmi, List<Pod> pods, Instant now) {
        if (pods.isEmpty()) {
            expectations.remove(vmi.getMetadata().getUid());
            patcher.finalizer(VirtualMachineInstance.class, vmi, VMI_FINALIZER, false);
            return null;
        }
        Instant finished = Objects.requireNonNullElse(finishedAt(vmi), now);
        Instant deadline = finished.plusSeconds(grace(vmi) + 1);
        Duration requeue = null;
        for (Pod p : pods) {
            if (podIsDown(p)) {
                continue; // completed: kept for its logs
            }
            if (!started(p) || computeTerminated(p) != null || !now.isBefore(deadline)) {
                deletePod(p);
            } else {
                requeue = Duration.between(now, deadline);
            }
        }
        return requeue;
    }

    /**
     * KubeVirt: a final VMI whose owner VM is gone loses the VM controller's finalizer here (no VM controller pass
     * will take it off).
     */
    private void releaseOrphan(VirtualMachineInstance vmi) {
        if (!Objects2.hasFinalizer(vmi, VmReconciler.VM_FINALIZER)) {
            return;
        }
        var owner = Objects2.controllerOf(vmi, io.qvirt.api.VirtualMachine.KIND);
        var vm = owner == null ? null : caches.vm(Objects2.key(vmi.getMetadata().getNamespace(), owner.getName()));
        if (vm == null || !vm.getMetadata().getUid().equals(owner.getUid())) {
            patcher.finalizer(VirtualMachineInstance.class, vmi, VmReconciler.VM_FINALIZER, false);
        }
    }

    private static Instant finishedAt(VirtualMachineInstance vmi) {
        if (vmi.getStatus() == null || vmi.getStatus().getPhaseTransitionTimestamps() == null) {
            return null;
        }
        Instant at = null;
        for (PhaseTransition t : vmi.getStatus().getPhaseTransitionTimestamps()) {
            if (Phase.isFinal(t.getPhase())) {
                at = Objects2.time(t.getPhaseTransitionTimestamp());
            }
        }
        return at;
    }

    /**
     * KubeVirt's current pod: the newest launcher pod on the VMI's node, or the newest one if it has no node yet. While
     * a migration runs the VMI has two pods; a migration's target pod (label {@value MigrationReconciler#JOB_LABEL})
     * becomes the current one only at the hand-over, when the target's handler moves {@code status.nodeName} to its
     * node; until then it is never current, whatever its age.
     */
    static Pod currentPod(VirtualMachineInstance vmi, List<Pod> pods) {
        String node = vmi.getStatus() == null ? null : vmi.getStatus().getNodeName();
        return pods.stream()
                .filter(p -> node == null || node.isEmpty()
                        || node.equals(p.getSpec() == null ? null : p.getSpec().getNodeName()))
                .filter(p -> node != null && !node.isEmpty() || !isMigrationTarget(p))
                .max(Comparator.comparing(p -> Objects.requireNonNullElse(p.getMetadata().getCreationTimestamp(), "")))
                .orElse(null);
    }

    /** A migration's target pod (label {@value MigrationReconciler#JOB_LABEL}). */
    static boolean isMigrationTarget(Pod pod) {
        return pod.getMetadata().getLabels() != null
                && pod.getMetadata().getLabels().containsKey(MigrationReconciler.JOB_LABEL);
    }

    /** KubeVirt's "pod is down": phase Succeeded or Failed. */
    static boolean podIsDown(Pod pod) {
        String p = pod.getStatus() == null ? null : pod.getStatus().getPhase();
        return "Succeeded".equals(p) || "Failed".equals(p);
    }

    /** KubeVirt's "down or going down": the pod is down, its compute container has terminated, or it is deleted. */
    static boolean podIsDownOrGoingDown(Pod pod) {
        return podIsDown(pod) || computeTerminated(pod) != null || Objects2.deleting(pod);
    }

    /** The compute container's terminated state, or null while it has not terminated. */
    static ContainerStateTerminated computeTerminated(Pod pod) {
        ContainerStatus cs = containerStatus(pod, LauncherPods.COMPUTE);
        return cs == null || cs.getState() == null ? null : cs.getState().getTerminated();
    }

    private static ContainerStatus containerStatus(Pod pod, String name) {
        if (pod.getStatus() == null || pod.getStatus().getContainerStatuses() == null) {
            return null;
        }
        return pod.getStatus().getContainerStatuses().stream().filter(c -> name.equals(c.getName())).findFirst()
                .orElse(null);
    }

    /**
     * KubeVirt's "pod ready to be handed over": not down or going down, phase Running, the compute container
     * running (not necessarily ready) and every other container ready.
     */
    static boolean podReadyForHandOver(Pod pod) {
        if (podIsDownOrGoingDown(pod) || pod.getStatus() == null || !"Running".equals(pod.getStatus().getPhase())) {
            return false;
        }
        if (pod.getStatus().getContainerStatuses() != null) {
            for (ContainerStatus cs : pod.getStatus().getContainerStatuses()) {
                if (LauncherPods.COMPUTE.equals(cs.getName())) {
                    if (cs.getState() == null || cs.getState().getRunning() == null) {
                        return false;
                    }
                } else if (!Boolean.TRUE.equals(cs.getReady())) {
                    return false;
                }
            }
        }
        return true;
    }

    private List<Pod> pods(String uid) {
        return uid == null ? List.of() : caches.podsOf(uid);
    }

    private List<Pod> livePods(VirtualMachineInstance vmi) {
        return client.pods().inNamespace(vmi.getMetadata().getNamespace())
                .withLabel(LauncherPods.CREATED_BY_LABEL, vmi.getMetadata().getUid()).list().getItems();
    }

    private static long grace(VirtualMachineInstance vmi) {
        Long g = vmi.getSpec() == null ? null : vmi.getSpec().getTerminationGracePeriodSeconds();
        return g == null ? VmiDefaults.DEFAULT_GRACE_PERIOD_SECONDS : g;
    }

    /** The pod got a node and its containers were started (QEMU may be running in it). */
    private static boolean started(Pod pod) {
        return pod.getStatus() != null && ("Running".equals(pod.getStatus().getPhase())
                || "Succeeded".equals(pod.getStatus().getPhase()) || "Failed".equals(pod.getStatus().getPhase()));
    }

    private Pod createPod(VirtualMachineInstance vmi) {
        String ns = vmi.getMetadata().getNamespace();
        VirtualMachineInstance rendered = vmi;
        if (!VolumeClaims.claimVolumes(vmi.getSpec()).isEmpty()) {
            // The claims' info (mode, capacity) as the status write after the create records it: the pod's mounts
            // and the launcher's disk.img sizes come from it.
            rendered = KubevirtJson.deepCopy(vmi, VirtualMachineInstance.class);
            if (rendered.getStatus() == null) {
                rendered.setStatus(new VirtualMachineInstanceStatus());
            }
            rendered.getStatus().getAdditionalProperties().put("volumeStatus",
                    KubevirtJson.json().convertValue(volumeStatus(vmi), List.class));
        }
        Pod pod = LauncherPods.build(rendered, config.get(), LauncherPods.AutoLimits.of(vmi,
                resource -> caches.quotaLimits(ns, resource), caches.namespaceLabels(ns)));
        expectations.put(vmi.getMetadata().getUid(), clock.instant());
        try {
            return client.pods().inNamespace(vmi.getMetadata().getNamespace()).resource(pod).create();
        } catch (KubernetesClientException e) {
            expectations.remove(vmi.getMetadata().getUid());
            throw e;
        }
    }

    private void deletePod(Pod pod) {
        if (Objects2.deleting(pod)) {
            return;
        }
        try {
            client.pods().inNamespace(pod.getMetadata().getNamespace()).withName(pod.getMetadata().getName()).delete();
        } catch (KubernetesClientException e) {
            if (!Objects2.isNotFound(e)) {
                throw e;
            }
        }
    }

    private void writeFailed(VirtualMachineInstance vmi, String reason, String message) {
        own.wrote(Objects2.key(vmi), vmi, patcher.patchStatus(VirtualMachineInstance.class, vmi, fresh -> {
            if (Phase.isFinal(VmReconciler.phase(fresh))) {
                return null;
            }
            ObjectNode s = NODES.objectNode();
            s.put("phase", Phase.FAILED);
            s.put("reason", reason);
            s.set("phaseTransitionTimestamps", KubevirtJson.toTree(transitions(fresh, Phase.FAILED)));
            s.set("conditions", KubevirtJson.toTree(Conditions.with(conditions(fresh),
                    condition(SYNCHRONIZED, "False", reason, message))));
            return s;
        }, false));
    }

    /**
     * The VMI's status from its pod, as KubeVirt's VMI controller: the phase only while it is the controller's
     * (Pending, Scheduling; Scheduled and later are the handler's), the node and its label at the hand-over, the
     * PodScheduled, Synchronized and (before Running) Ready conditions. The handler's conditions are never
     * touched: the patch is computed from the freshest VMI and guarded by its resourceVersion.
     *
     * @param pod     the current launcher pod, or null (none yet, or just created)
     * @param pods    all of the VMI's launcher pods, for {@code status.activePods}; null to leave it
     * @param created a pod was just created for the VMI
     * @param failure a Synchronized=False condition to set (pod creation failed), or null
     */
    private void writeStatus(VirtualMachineInstance vmi, Pod pod, List<Pod> pods, boolean created,
                             Condition failure) {
        own.wrote(Objects2.key(vmi), vmi, patcher.patch(VirtualMachineInstance.class, vmi, fresh -> {
            String phase = VmReconciler.phase(fresh);
            if (Phase.isFinal(phase)) {
                return null;
            }
            boolean controllers = phase.isEmpty() || Phase.PENDING.equals(phase) || Phase.SCHEDULING.equals(phase);
            String next = phase;
            String node = fresh.getStatus() == null ? null : fresh.getStatus().getNodeName();
            List<Condition> conds = conditions(fresh);
            String reason = null;
            if (pod == null) {
                if (created) {
                    next = Phase.SCHEDULING;
                    conds = dropFailedCreate(conds);
                } else if (phase.isEmpty()) {
                    next = Phase.PENDING;
                }
                if (failure != null) {
                    conds = Conditions.with(conds, failure);
                    if (FAILED_PVC_NOT_FOUND.equals(failure.getReason())) {
                        // KubeVirt marks such a VMI unschedulable too, with the same message
                        conds = Conditions.with(conds, condition(ConditionType.POD_SCHEDULED, "False", "Unschedulable",
                                failure.getMessage()));
                    }
                }
                if (controllers) {
                    conds = Conditions.with(conds, condition(ConditionType.READY, "False", "PodNotExists",
                            "virt-launcher pod has not yet been scheduled"));
                }
            } else if (controllers) {
                conds = dropFailedCreate(conds);
                conds = podScheduled(conds, pod);
                conds = pullErrors(conds, pod);
                if (podReadyForHandOver(pod) && !Objects2.deleting(fresh)) {
                    next = Phase.SCHEDULED;
                    node = pod.getSpec().getNodeName();
                } else if (podIsDownOrGoingDown(pod)) {
                    next = Phase.FAILED;
                    reason = "PodTerminated";
                    conds = Conditions.with(conds, condition(SYNCHRONIZED, "False", "PodTerminated",
                            "launcher pod " + pod.getMetadata().getName() + " ended before the hand-over ("
                                    + podState(pod) + ")" + terminationMessage(pod)));
                } else {
                    next = Phase.SCHEDULING;
                }
                if (podIsDownOrGoingDown(pod)) {
                    conds = Conditions.with(conds, condition(ConditionType.READY, "False", "PodTerminating",
                            "virt-launcher pod is terminating"));
                } else {
                    conds = Conditions.with(conds, guestNotRunning(clock.instant()));
                }
            }
            // Scheduled and Running belong to the handler: a finished pod (compute exited, or the pod Succeeded or
            // Failed) does not fail the VMI here; the handler writes Succeeded or Failed. Only a missing pod does
            // (reconcile -> writeFailed), as in KubeVirt.
            ObjectNode s = NODES.objectNode();
            VirtualMachineInstanceStatus cur = fresh.getStatus() == null ? new VirtualMachineInstanceStatus()
                    : fresh.getStatus();
            boolean changed = false;
            if (!next.equals(phase)) {
                s.put("phase", next);
                s.set("phaseTransitionTimestamps", KubevirtJson.toTree(transitions(fresh, next)));
                changed = true;
            }
            if (reason != null && !reason.equals(cur.getReason())) {
                s.put("reason", reason);
                changed = true;
            }
            if (node != null && !node.equals(cur.getNodeName())) {
                s.put("nodeName", node);
                changed = true;
            }
            if (!KubevirtJson.toTree(conds).equals(KubevirtJson.toTree(conditions(fresh)))) {
                s.set("conditions", KubevirtJson.toTree(conds));
                changed = true;
            }
            if (pods != null) {
                // KubeVirt's activePods: every launcher pod of the VMI by uid, with its node ("" before scheduling)
                ObjectNode active = NODES.objectNode();
                pods.forEach(p -> active.put(p.getMetadata().getUid(), Objects.requireNonNullElse(
                        p.getSpec() == null ? null : p.getSpec().getNodeName(), "")));
                if (!active.equals(KubevirtJson.toTree(cur).get("activePods"))) {
                    s.set("activePods", active);
                    changed = true;
                }
            }
            if (pod != null && (created || Phase.SCHEDULED.equals(next) || Phase.RUNNING.equals(next))) {
                // KubeVirt's updateVolumeStatus from the hand-over on (and, for the claims the launcher sizes its
                // disk.img by, when the pod is made): one entry per volume of the spec, an existing entry (the
                // handler's target, phase, ...) kept, each claim's persistentVolumeClaimInfo from the claim as it is
                // now, entries of removed volumes gone
                JsonNode old = KubevirtJson.toTree(cur).get("volumeStatus");
                ArrayNode volumes = volumeStatus(fresh);
                if (!volumes.equals(old)) {
                    s.set("volumeStatus", volumes);
                    changed = true;
                }
            }
            if (pod != null && controllers) {
                // KubeVirt mirrors the pod's QoS class while scheduling
                String qos = pod.getStatus() == null ? null : pod.getStatus().getQosClass();
                if (!Objects.equals(qos, cur.getQosClass())) {
                    if (qos == null) {
                        s.putNull("qosClass");
                    } else {
                        s.put("qosClass", qos);
                    }
                    changed = true;
                }
            }
            ObjectNode patch = NODES.objectNode();
            if (Phase.SCHEDULED.equals(next) && node != null && !node.equals(label(fresh, NODE_NAME_LABEL))) {
                // KubeVirt labels the VMI with its node when handing it over: virt-handler's informer selects by it.
                Map<String, String> labels = new LinkedHashMap<>();
                if (fresh.getMetadata().getLabels() != null) {
                    labels.putAll(fresh.getMetadata().getLabels());
                }
                labels.put(NODE_NAME_LABEL, node);
                patch.putObject("metadata").set("labels", KubevirtJson.toTree(labels));
                changed = true;
            }
            if (!changed) {
                return null;
            }
            patch.set("status", s);
            return patch;
        }, false));
    }

    /** Without a Synchronized=False of a pod that could not be made (FailedCreate, FailedPvcNotFound). */
    private static List<Condition> dropFailedCreate(List<Condition> conds) {
        Condition sync = Objects2.condition(conds, SYNCHRONIZED);
        return sync != null && (FAILED_CREATE.equals(sync.getReason()) || FAILED_PVC_NOT_FOUND.equals(sync.getReason()))
                ? Conditions.without(conds, SYNCHRONIZED) : conds;
    }

    /** The first claim the VMI's volumes name that the cache does not hold, or null if all exist. */
    private String missingClaim(VirtualMachineInstance vmi) {
        for (io.qvirt.api.model.Volume v : VolumeClaims.claimVolumes(vmi.getSpec())) {
            String claim = VolumeClaims.claimName(v);
            if (caches.pvc(vmi.getMetadata().getNamespace(), claim) == null) {
                return claim;
            }
        }
        return null;
    }

    /**
     * The VMI's {@code status.volumeStatus} as KubeVirt's updateVolumeStatus makes it: an entry per volume of the
     * spec, in spec order, an existing entry kept, and for each claim the claim's persistentVolumeClaimInfo (when the
     * cache holds it).
     */
    private ArrayNode volumeStatus(VirtualMachineInstance vmi) {
        JsonNode old = vmi.getStatus() == null ? null : KubevirtJson.toTree(vmi.getStatus()).get("volumeStatus");
        ArrayNode volumes = NODES.arrayNode();
        if (vmi.getSpec() == null || vmi.getSpec().getVolumes() == null) {
            return volumes;
        }
        for (io.qvirt.api.model.Volume v : vmi.getSpec().getVolumes()) {
            ObjectNode entry = null;
            if (old != null && old.isArray()) {
                for (JsonNode e : old) {
                    if (v.getName().equals(e.path("name").asText(null)) && e.isObject()) {
                        entry = ((ObjectNode) e).deepCopy();
                    }
                }
            }
            if (entry == null) {
                entry = NODES.objectNode().put("name", v.getName());
            }
            String claim = VolumeClaims.claimName(v);
            var pvc = claim == null ? null : caches.pvc(vmi.getMetadata().getNamespace(), claim);
            if (pvc != null) {
                entry.set("persistentVolumeClaimInfo", VolumeClaims.claimInfo(pvc));
            }
            volumes.add(entry);
        }
        return volumes;
    }

    private static String podState(Pod pod) {
        if (Objects2.deleting(pod)) {
            return "pod deleted";
        }
        String p = pod.getStatus() == null ? null : pod.getStatus().getPhase();
        return podIsDown(pod) ? "pod " + p : "compute container terminated";
    }

    private static String label(VirtualMachineInstance vmi, String key) {
        return vmi.getMetadata().getLabels() == null ? null : vmi.getMetadata().getLabels().get(key);
    }

    /** Mirrors the pod's PodScheduled condition while it is not True (reason Unschedulable and message). */
    private List<Condition> podScheduled(List<Condition> conds, Pod pod) {
        PodCondition pc = pod.getStatus() == null || pod.getStatus().getConditions() == null ? null
                : pod.getStatus().getConditions().stream().filter(c -> "PodScheduled".equals(c.getType()))
                        .findFirst().orElse(null);
        if (pc == null || "True".equals(pc.getStatus())) {
            return Conditions.without(conds, ConditionType.POD_SCHEDULED);
        }
        return Conditions.with(conds, condition(ConditionType.POD_SCHEDULED, pc.getStatus(), pc.getReason(),
                pc.getMessage()));
    }

    /** Synchronized False with ErrImagePull/ImagePullBackOff while any container waits for its image. */
    private List<Condition> pullErrors(List<Condition> conds, Pod pod) {
        List<ContainerStatus> statuses = new ArrayList<>();
        if (pod.getStatus() != null) {
            if (pod.getStatus().getInitContainerStatuses() != null) {
                statuses.addAll(pod.getStatus().getInitContainerStatuses());
            }
            if (pod.getStatus().getContainerStatuses() != null) {
                statuses.addAll(pod.getStatus().getContainerStatuses());
            }
        }
        for (ContainerStatus cs : statuses) {
            if (cs.getState() != null && cs.getState().getWaiting() != null) {
                String r = cs.getState().getWaiting().getReason();
                if (PrintableStatus.ERR_IMAGE_PULL.equals(r) || PrintableStatus.IMAGE_PULL_BACK_OFF.equals(r)) {
                    return Conditions.with(conds, condition(SYNCHRONIZED, "False", r, "container " + cs.getName()
                            + " (" + cs.getImage() + "): " + Objects.requireNonNullElse(
                                    cs.getState().getWaiting().getMessage(), r)));
                }
            }
        }
        Condition sync = Objects2.condition(conds, SYNCHRONIZED);
        if (sync != null && (PrintableStatus.ERR_IMAGE_PULL.equals(sync.getReason())
                || PrintableStatus.IMAGE_PULL_BACK_OFF.equals(sync.getReason()))) {
            return Conditions.without(conds, SYNCHRONIZED);
        }
        return conds;
    }

    private static String terminationMessage(Pod pod) {
        if (pod.getStatus() == null || pod.getStatus().getContainerStatuses() == null) {
            return "";
        }
        for (ContainerStatus cs : pod.getStatus().getContainerStatuses()) {
            if (LauncherPods.COMPUTE.equals(cs.getName()) && cs.getState() != null
                    && cs.getState().getTerminated() != null) {
                var t = cs.getState().getTerminated();
                return ": compute exited " + t.getExitCode() + (t.getMessage() == null ? "" : ": " + t.getMessage());
            }
        }
        return "";
    }

    private static List<Condition> conditions(VirtualMachineInstance vmi) {
        return vmi.getStatus() == null || vmi.getStatus().getConditions() == null ? List.of()
                : vmi.getStatus().getConditions();
    }

    /**
     * Ready False while the launcher pod lives and the handler has not reported the guest running: what this
     * controller writes once it has made the pod, and what the VM controller creates a VMI with (so the VM's
     * copy of it does not change when the pod is made).
     */
    static Condition guestNotRunning(Instant now) {
        Condition c = new Condition();
        c.setType(ConditionType.READY);
        c.setStatus("False");
        c.setReason("GuestNotRunning");
        c.setMessage("Guest VM is not reported as running");
        c.setLastTransitionTime(now.toString());
        return c;
    }

    private Condition condition(String type, String status, String reason, String message) {
        Condition c = new Condition();
        c.setType(type);
        c.setStatus(status);
        c.setReason(reason);
        c.setMessage(message);
        c.setLastTransitionTime(clock.instant().toString());
        return c;
    }

    private List<PhaseTransition> transitions(VirtualMachineInstance vmi, String phase) {
        List<PhaseTransition> out = new ArrayList<>();
        if (vmi.getStatus() != null && vmi.getStatus().getPhaseTransitionTimestamps() != null) {
            out.addAll(vmi.getStatus().getPhaseTransitionTimestamps());
        }
        PhaseTransition t = new PhaseTransition();
        t.setPhase(phase);
        t.setPhaseTransitionTimestamp(clock.instant().toString());
        out.add(t);
        return out;
    }
}
