package io.qvirt.controller;

import io.qvirt.api.client.ResourcePatcher;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.apps.ControllerRevision;
import io.fabric8.kubernetes.api.model.apps.ControllerRevisionBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.qvirt.api.FieldError;
import io.qvirt.api.KubevirtJson;
import io.qvirt.api.LoadedManifest;
import io.qvirt.api.NetworkSettings;
import io.qvirt.api.instancetype.InstancetypeExpander;
import io.qvirt.api.VirtualMachine;
import io.qvirt.api.VirtualMachineInstance;
import io.qvirt.api.VmValidator;
import io.qvirt.api.VmiDefaults;
import io.qvirt.api.model.Condition;
import io.qvirt.api.model.ConditionType;
import io.qvirt.api.model.Phase;
import io.qvirt.api.model.PrintableStatus;
import io.qvirt.api.model.RunStrategy;
import io.qvirt.api.model.StartFailure;
import io.qvirt.api.model.StateChangeRequest;
import io.qvirt.api.model.VirtualMachineStatus;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;
import java.util.function.Supplier;
import java.util.logging.Logger;
import java.util.stream.Collectors;

/**
 * VirtualMachine -> VirtualMachineInstance, by run strategy, as KubeVirt's VM controller
 * ({@code pkg/virt-controller/watch/vm/vm.go}, syncRunStrategy):
 * <ul>
 * <li>{@code running: true} is Always, {@code running: false} is Halted.</li>
 * <li>Always: a VMI whenever there is none; a finished one, or one named by a stop request, is deleted and made
 *     anew (a restart).</li>
 * <li>RerunOnFailure: a finished VMI (Succeeded or Failed) or one named by a stop request is deleted; after a
 *     failure a start request is queued, so it runs again. Without a VMI it starts only on a start request or
 *     when the strategy was just switched to RerunOnFailure: deleting the VMI stops the VM.</li>
 * <li>Once: a VMI whenever there is none; a finished one is left as it is.</li>
 * <li>Halted: no VMI; a running one is deleted gracefully. A start request switches the VM to Always.</li>
 * <li>Manual: a start request starts it, a stop request for its VMI stops it.</li>
 * </ul>
 * The first state change request is dropped once done or moot, as KubeVirt's isTrimFirstChangeRequestNeeded
 * (a stop without uid or for another VMI, a start while a VMI runs); a start request with
 * {@code paused: "true"} makes the VMI {@code startStrategy: Paused}.
 *
 * <p>Crash loops, as KubeVirt's {@code status.startFailure}: a VMI that ends without ever reaching Running counts
 * once; the n-th waits {@code 10 s x n^2} plus up to half of it again, at most 5 min (Always and RerunOnFailure
 * start no VMI before then); printableStatus CrashLoopBackOff while the count is above 0 and no VMI runs (Once
 * too); a VMI that reaches Running clears the count. An invalid VM (KubeVirt's admission rules) gets a
 * {@code Failure} condition naming every field and no VMI. The VM carries KubeVirt's finalizer so that deleting
 * it first deletes its VMI gracefully ({@code --cascade=orphan} leaves the VMI); an orphan VMI of its name is
 * adopted.
 *
 * <p>Idempotent: reads only the caches, acts on the difference, writes status as one guarded patch
 * through the status subresource (and only when it changes). A VMI it created is expected until the cache shows
 * it (no second create, no status without it); the VMI is created with its finalizers and first Ready condition,
 * and the status written in the same pass is the created VMI's, so a start writes the VM's status once; a VM that
 * the cache holds at a version this controller's own write replaced ({@link OwnWrites}) is left until the newer
 * version's event.
 */
final class VmReconciler implements Reconciler {
    static final String VM_FINALIZER = "kubevirt.io/virtualMachineControllerFinalize";
    static final String VMI_FINALIZER = VmiReconciler.VMI_FINALIZER;
    /** The finalizer {@code kubectl delete --cascade=orphan} puts on the VM. */
    static final String ORPHAN_FINALIZER = "orphan";
    /** On a VMI: the VM generation it was made from (KubeVirt's). */
    static final String GENERATION_ANNOTATION = "kubevirt.io/vm-generation";
    static final String RESTART_REQUIRED = "RestartRequired";
    static final String START = "Start";
    static final String REVISION_PREFIX = "revision-start-vm-";
    static final String STOP = "Stop";
    private static final Logger LOG = Logger.getLogger(VmReconciler.class.getName());
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private final KubernetesClient client;
    private final Caches caches;
    private final ResourcePatcher patcher;
    private final Supplier<ClusterConfig> config;
    private final ControllerOptions options;
    private final Clock clock;
    private final Events events;
    private final VmInstancetypes instancetypes;
    /** When to look again for an instancetype or preference a VM names that was not found. */
    static final Duration INSTANCETYPE_RETRY = Duration.ofSeconds(5);
    private final RandomGenerator random = new SplittableRandom();
    /** VM key -> its VMI create not yet seen in the cache (client-go's "expectations"). */
    private final Map<String, Expectation> vmiCreations = new java.util.concurrent.ConcurrentHashMap<>();
    private final OwnWrites own = new OwnWrites();
    private final Map<String, Validation> validations = new java.util.concurrent.ConcurrentHashMap<>();

    VmReconciler(KubernetesClient client, Caches caches, Supplier<ClusterConfig> config, ControllerOptions options,
                 Clock clock) {
        this.client = client;
        this.caches = caches;
        this.patcher = new ResourcePatcher(client);
        this.config = config;
        this.options = options;
        this.clock = clock;
        this.events = new Events(client, clock);
        this.instancetypes = new VmInstancetypes(client, new io.qvirt.api.client.ApiServerInstancetypes(client));
    }

    /**
     * KubeVirt's admission rules and the volumes qvirt cannot provide, for this VM's spec. Remembered per VM by
     * uid and generation (which the API server moves on with every spec change, never with status or metadata
     * writes) and cluster settings: a VM is reconciled again on every event of its VMI, with the same spec.
     */
    private List<FieldError> validate(String key, VirtualMachine vm) {
        ClusterConfig cluster = config.get();
        Long generation = vm.getMetadata().getGeneration();
        String uid = vm.getMetadata().getUid();
        Validation last = validations.get(key);
        if (last != null && generation != null && last.uid().equals(uid) && last.generation() == generation
                && last.cluster().equals(cluster)) {
            return last.errors();
        }
        // With what the VM names applied (conflicts, requirements), as KubeVirt's admission; not found: raw template.
        List<FieldError> errors = new ArrayList<>(VmInstancetypes.references(vm)
                ? VmValidator.validate(vm, cluster.gates(), cluster.network(), instancetypes.lookup())
                : VmValidator.validate(vm, cluster.gates(), cluster.network()));
        if (vm.getSpec().getDataVolumeTemplates() != null) {
            for (int i = 0; i < vm.getSpec().getDataVolumeTemplates().size(); i++) {
                errors.add(new FieldError("spec.dataVolumeTemplates[" + i + "]", LauncherPods.NO_CDI));
            }
        }
        if (vm.getSpec().getTemplate() != null) {
            // refused up front, as a Failure condition, rather than as a launcher that fails and crash-loops
            errors.addAll(LauncherPods.unprovidableVolumes(vm.getSpec().getTemplate().getSpec(),
                    "spec.template.spec.volumes"));
        }
        if (generation != null && uid != null) {
            validations.put(key, new Validation(uid, generation, cluster, List.copyOf(errors)));
        }
        return errors;
    }

    /** The outcome of {@link #validate} for one spec of a VM. */
    private record Validation(String uid, long generation, ClusterConfig cluster, List<FieldError> errors) {
    }

    /** A VMI create of this VM not yet seen in the cache. */
    private record Expectation(String vmUid, Instant at) {
    }

    /** What this reconcile did to the VMI, for the status it writes. */
    enum Action { NONE, CREATED, DELETED }

    @Override
    public Duration reconcile(String key) {
        VirtualMachine vm = caches.vm(key);
        if (vm == null) {
            vmiCreations.remove(key);
            own.forget(key);
            validations.remove(key);
            return null;
        }
        if (own.behind(key, vm)) {
            return null; // our last write's event is on its way, and brings the VM back
        }
        VirtualMachineInstance vmi = caches.vmi(key);
        Expectation expected = vmiCreations.get(key);
        if (expected != null) {
            Instant until = expected.at().plus(VmiReconciler.EXPECTATION_TIMEOUT);
            if (vmi == null && expected.vmUid().equals(vm.getMetadata().getUid()) && clock.instant().isBefore(until)) {
                // KubeVirt's expectations: this pass's VMI create is not in the cache yet (an event of the VM's
                // own writes came first). Acting now would try the create again and write a status without the
                // VMI; its add event brings the VM back, the requeue only if that event never comes.
                return Duration.between(clock.instant(), until);
            }
            vmiCreations.remove(key);
        }
        if (vmi != null && !ownedBy(vmi, vm)) {
            if (Objects2.controllerOf(vmi, VirtualMachine.KIND) == null && !Objects2.deleting(vm)
                    && !Objects2.deleting(vmi)) {
                // KubeVirt's controller-ref manager adopts an orphan VMI of the VM's name (e.g. one left behind
                // by deleting an earlier VM with --cascade=orphan).
                vmi = adopt(vm, vmi);
                if (vmi == null) {
                    return null;
                }
            } else {
                // Another VM's VMI: never touch it; report it and wait for it to go.
                writeStatus(vm, null, Action.NONE, List.of(), "VMI " + key + " exists and is not owned by this VM",
                        null);
                return null;
            }
        }

        if (Objects2.deleting(vm)) {
            if (vmi == null || Objects2.hasFinalizer(vm, ORPHAN_FINALIZER)) {
                // --cascade=orphan: the VMI keeps running; the garbage collector drops its owner reference.
                patcher.finalizer(VirtualMachine.class, vm, VM_FINALIZER, false);
                return null;
            }
            Action a = deleteVmi(vm, vmi) ? Action.DELETED : Action.NONE;
            writeStatus(vm, vmi, a, List.of(), null, null);
            releaseFinalVmi(vmi);
            return null; // the VMI's deletion event brings the VM back
        }
        if (!Objects2.hasFinalizer(vm, VM_FINALIZER)) {
            vm = own.wrote(key, vm, patcher.finalizer(VirtualMachine.class, vm, VM_FINALIZER, true));
            if (vm == null) {
                return null;
            }
        }

        List<FieldError> errors = validate(key, vm);
        if (!errors.isEmpty()) {
            writeStatus(vm, vmi, Action.NONE, errors, null, null);
            return null;
        }
        // What the VM names, found once per reconcile: the VMI below is made from the same objects.
        InstancetypeExpander.Specs specs = InstancetypeExpander.Specs.NONE;
        if (VmInstancetypes.references(vm)) {
            VmInstancetypes.Synced synced = instancetypes.sync(vm);
            if (!synced.errors().isEmpty()) {
                // Nothing watches instancetypes here: look again later, as KubeVirt's resync does.
                writeStatus(vm, vmi, Action.NONE, synced.errors(), null, null);
                return INSTANCETYPE_RETRY;
            }
            specs = synced.specs();
            if (synced.patched() != null) {
                vm = own.wrote(key, vm, synced.patched());
                if (vm == null) {
                    return null;
                }
            }
        }

        if (vmi != null) {
            vmi = bumpGeneration(vm, vmi);
            if (vmi == null) {
                return null;
            }
        }

        String strategy = strategy(vm);
        Instant now = clock.instant();
        VirtualMachineStatus st = vm.getStatus() == null ? new VirtualMachineStatus() : vm.getStatus();

        // KubeVirt's start-failure bookkeeping, written before anything is acted on, so a failed status write
        // can never lose a back-off.
        StartFailure failure = startFailure(strategy, st.getStartFailure(), vmi, now);
        if (!KubevirtJson.toTree(failure).equals(KubevirtJson.toTree(st.getStartFailure()))) {
            VirtualMachine updated = writeStatus(vm, vmi, Action.NONE, List.of(), null,
                    new Extra(failure, true, null, now, null));
            if (updated == null) {
                return null;
            }
            vm = updated;
            st = vm.getStatus() == null ? new VirtualMachineStatus() : vm.getStatus();
        }
        Instant retryAfter = failure == null ? null : Objects2.time(failure.getRetryAfterTimestamp());
        Duration backOff = retryAfter != null && now.isBefore(retryAfter) ? Duration.between(now, retryAfter) : null;

        List<StateChangeRequest> requests = st.getStateChangeRequests() == null ? List.of()
                : st.getStateChangeRequests();
        StateChangeRequest first = requests.isEmpty() ? null : requests.get(0);
        boolean startRequest = first != null && START.equals(first.getAction());
        boolean stopRequest = vmi != null && first != null && STOP.equals(first.getAction()) && first.getUid() != null
                && first.getUid().equals(vmi.getMetadata().getUid());
        List<StateChangeRequest> remaining = new ArrayList<>(requests);
        Action action = Action.NONE;
        VirtualMachineInstance created = null;
        Duration requeue = null;
        String phase = vmi == null ? "" : phase(vmi);

        // KubeVirt's syncRunStrategy.
        switch (strategy) {
            case RunStrategy.ALWAYS -> {
                if (vmi != null) {
                    if (stopRequest || Phase.isFinal(phase)) {
                        action = deleteVmi(vm, vmi) ? Action.DELETED : Action.NONE; // a restart: started next pass
                    }
                } else if (backOff != null) {
                    requeue = backOff;
                } else {
                    action = (created = createVmi(vm, first, specs)) != null ? Action.CREATED : Action.NONE;
                }
            }
            case RunStrategy.RERUN_ON_FAILURE -> {
                if (vmi != null) {
                    if (!Objects2.deleting(vmi) && (stopRequest || Phase.isFinal(phase))) {
                        if (Phase.FAILED.equals(phase) && !stopRequest
                                && remaining.stream().noneMatch(r -> START.equals(r.getAction()))) {
                            // the restart after a failure is a Start request, recorded before the VMI goes
                            StateChangeRequest start = new StateChangeRequest();
                            start.setAction(START);
                            remaining.add(start);
                            VirtualMachine updated = writeStatus(vm, vmi, Action.NONE, List.of(), null,
                                    new Extra(failure, false, remaining, now, null));
                            if (updated == null) {
                                return null;
                            }
                            vm = updated;
                        }
                        action = deleteVmi(vm, vmi) ? Action.DELETED : Action.NONE;
                    }
                } else if (startRequest || !strategy.equals(st.getRunStrategy())) {
                    // only on a start request, or when the strategy was just switched to RerunOnFailure
                    if (backOff != null) {
                        requeue = backOff;
                    } else {
                        action = (created = createVmi(vm, first, specs)) != null ? Action.CREATED : Action.NONE;
                    }
                }
            }
            case RunStrategy.MANUAL -> {
                if (vmi != null) {
                    if (stopRequest) {
                        action = deleteVmi(vm, vmi) ? Action.DELETED : Action.NONE;
                    }
                } else if (startRequest) {
                    action = (created = createVmi(vm, first, specs)) != null ? Action.CREATED : Action.NONE;
                }
            }
            case RunStrategy.HALTED -> {
                if (vmi == null) {
                    if (startRequest) {
                        // a start request under Halted (virtctl start --paused) switches the VM to Always; the
                        // request stays, so the VMI made next pass honours its data
                        switchToAlways(vm);
                        return null;
                    }
                } else {
                    action = deleteVmi(vm, vmi) ? Action.DELETED : Action.NONE;
                }
            }
            case RunStrategy.ONCE -> {
                if (vmi == null) {
                    action = (created = createVmi(vm, first, specs)) != null ? Action.CREATED : Action.NONE;
                }
            }
            default -> LOG.warning("VM " + key + ": unknown run strategy " + strategy);
        }

        // KubeVirt's isTrimFirstChangeRequestNeeded, against the VMI as this pass found it.
        if (!remaining.isEmpty()) {
            StateChangeRequest req = remaining.get(0);
            boolean trim = switch (Objects.requireNonNullElse(req.getAction(), "")) {
                case STOP -> vmi == null || req.getUid() == null || !req.getUid().equals(vmi.getMetadata().getUid());
                case START -> vmi != null && !Objects2.deleting(vmi) && !Phase.isFinal(phase);
                default -> {
                    LOG.warning("VM " + key + ": dropping state change request " + req.getAction());
                    yield true;
                }
            };
            if (trim) {
                remaining.remove(0);
            }
        }
        List<StateChangeRequest> current = vm.getStatus() == null || vm.getStatus().getStateChangeRequests() == null
                ? List.of() : vm.getStatus().getStateChangeRequests();
        List<StateChangeRequest> finalRemaining = KubevirtJson.toTree(remaining).equals(KubevirtJson.toTree(current))
                ? null : remaining;
        // KubeVirt's syncRestartRequired: a running VMI whose VM's template spec has changed since it was started
        // (its start revision) needs a restart; a new start or a stop clears it; with no VMI it stays as it is.
        Boolean restartRequired = null;
        if (action != Action.NONE) {
            restartRequired = false;
        } else if (vmi != null) {
            JsonNode started = startedTemplateSpec(vm);
            if (started != null) {
                restartRequired = !started.equals(normalized(vm.getSpec().getTemplate().getSpec()));
            }
        }
        // After a create, the status is the created VMI's (the server's copy): what the VMI's add event would
        // bring, so that event finds nothing to write.
        writeStatus(vm, action == Action.CREATED ? created : vmi, action, List.of(), null,
                new Extra(failure, false, finalRemaining, now, restartRequired));
        if (vmi != null && action != Action.DELETED) {
            releaseFinalVmi(vmi);
        }
        if (finalRemaining != null && !finalRemaining.isEmpty() && action == Action.NONE) {
            return Duration.ZERO; // more requests to work through
        }
        return requeue;
    }

    /** Status fields beside the computed ones: back-off bookkeeping and the request list. */
    private record Extra(StartFailure failure, boolean failureChanged, List<StateChangeRequest> requests,
                         Instant now, Boolean restartRequired) {
    }

    /** An object as JSON that compares equal to the same JSON read back from the API server. */
    private static JsonNode normalized(Object o) {
        try {
            return KubevirtJson.json().readTree(KubevirtJson.toJson(o));
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** KubeVirt's start revision name: {@code revision-start-vm-<vm uid>-<generation>}. */
    static String revisionName(VirtualMachine vm) {
        return REVISION_PREFIX + vm.getMetadata().getUid() + "-" + vm.getMetadata().getGeneration();
    }

    /**
     * KubeVirt's createVMRevision: the VM's spec as it starts, in a ControllerRevision owned by the VM; older
     * start revisions of the VM are deleted.
     *
     * @return the revision's name
     */
    private String ensureRevision(VirtualMachine vm) {
        String name = revisionName(vm);
        long generation = Objects.requireNonNullElse(vm.getMetadata().getGeneration(), 0L);
        boolean have = false;
        for (ControllerRevision r : caches.revisionsOf(vm.getMetadata().getUid())) {
            if (!r.getMetadata().getName().startsWith(REVISION_PREFIX + vm.getMetadata().getUid())) {
                continue;
            }
            if (r.getRevision() != null && r.getRevision() == generation) {
                have = true;
                continue;
            }
            try {
                client.apps().controllerRevisions().inNamespace(r.getMetadata().getNamespace())
                        .withName(r.getMetadata().getName()).delete();
            } catch (KubernetesClientException e) {
                if (!Objects2.isNotFound(e)) {
                    throw e;
                }
            }
        }
        if (!have) {
            Map<String, Object> data = new LinkedHashMap<>();
            data.put("spec", KubevirtJson.json().convertValue(vm.getSpec(), Map.class));
            ControllerRevision cr = new ControllerRevisionBuilder()
                    .withNewMetadata().withName(name).withNamespace(vm.getMetadata().getNamespace())
                        .withOwnerReferences(ownerReference(vm)).endMetadata()
                    .withData(data).withRevision(generation).build();
            try {
                client.apps().controllerRevisions().inNamespace(vm.getMetadata().getNamespace()).resource(cr).create();
            } catch (KubernetesClientException e) {
                if (e.getCode() != 409) {
                    throw e;
                }
            }
        }
        return name;
    }

    /**
     * KubeVirt's conditionallyBumpGenerationAnnotationOnVmi: when the VM's generation moved on but its template is
     * still the one the VMI started from (its start revision), the VMI's {@code kubevirt.io/vm-generation}
     * follows, so {@code observedGeneration} catches up with changes that need no restart.
     *
     * @return the VMI (patched or not); null if it is gone
     */
    private VirtualMachineInstance bumpGeneration(VirtualMachine vm, VirtualMachineInstance vmi) {
        Long generation = vm.getMetadata().getGeneration();
        if (generation == null || generation.equals(generationOf(vmi)) || vmi.getStatus() == null) {
            return vmi;
        }
        Object revisionName = vmi.getStatus().getAdditionalProperties().get("virtualMachineRevisionName");
        ControllerRevision revision = caches.revisionsOf(vm.getMetadata().getUid()).stream()
                .filter(r -> r.getMetadata().getName().equals(revisionName)).findFirst().orElse(null);
        if (revision == null || revision.getData() == null
                || !normalized(revision.getData()).path("spec").path("template").equals(normalized(vm.getSpec().getTemplate()))) {
            return vmi;
        }
        return patcher.patch(VirtualMachineInstance.class, vmi, fresh -> {
            Map<String, String> annotations = new LinkedHashMap<>();
            if (fresh.getMetadata().getAnnotations() != null) {
                annotations.putAll(fresh.getMetadata().getAnnotations());
            }
            if (generation.toString().equals(annotations.get(GENERATION_ANNOTATION))) {
                return null;
            }
            annotations.put(GENERATION_ANNOTATION, generation.toString());
            ObjectNode patch = NODES.objectNode();
            patch.putObject("metadata").set("annotations", KubevirtJson.toTree(annotations));
            return patch;
        }, false);
    }

    /** The template spec of the VM's newest start revision (normalized JSON), or null if it has none yet. */
    private JsonNode startedTemplateSpec(VirtualMachine vm) {
        ControllerRevision newest = null;
        for (ControllerRevision r : caches.revisionsOf(vm.getMetadata().getUid())) {
            if (r.getMetadata().getName().startsWith(REVISION_PREFIX + vm.getMetadata().getUid())
                    && (newest == null || Objects.requireNonNullElse(r.getRevision(), 0L)
                            > Objects.requireNonNullElse(newest.getRevision(), 0L))) {
                newest = r;
            }
        }
        if (newest == null || newest.getData() == null) {
            return null;
        }
        JsonNode spec = normalized(newest.getData()).path("spec").path("template").path("spec");
        return spec.isMissingNode() ? null : spec;
    }

    /**
     * KubeVirt's syncStartFailureStatus: a VMI that ever reached Running clears the count, as does a strategy that
     * does not restart by itself; a VMI that ended (Succeeded or Failed) without ever running counts once (by
     * uid) and sets the next start no earlier than {@link #crashLoopDelay}.
     */
    private StartFailure startFailure(String strategy, StartFailure current, VirtualMachineInstance vmi, Instant now) {
        if (wasRunning(vmi) || !(RunStrategy.ALWAYS.equals(strategy) || RunStrategy.RERUN_ON_FAILURE.equals(strategy)
                || RunStrategy.ONCE.equals(strategy))) {
            return null;
        }
        if (vmi == null || !Phase.isFinal(phase(vmi))) {
            return current;
        }
        if (current != null && vmi.getMetadata().getUid().equals(current.getLastFailedVMIUID())) {
            return current; // already counted
        }
        int count = current == null || current.getConsecutiveFailCount() == null ? 1
                : current.getConsecutiveFailCount() + 1;
        StartFailure f = new StartFailure();
        f.setConsecutiveFailCount(count);
        f.setLastFailedVMIUID(vmi.getMetadata().getUid());
        f.setRetryAfterTimestamp(now.plus(crashLoopDelay(count, options.crashLoopBase(), options.crashLoopMax(),
                random)).toString());
        return f;
    }

    /**
     * KubeVirt's calculateStartBackoffTime: {@code interval x n^2} plus a random jitter of up to half of that,
     * capped at {@code max}, where {@code interval = max(base, max / 30)} (KubeVirt: 10 s and 300 s).
     */
    static Duration crashLoopDelay(int failures, Duration base, Duration max, RandomGenerator random) {
        long n = Math.max(1, failures);
        long interval = Math.max(base.toMillis(), max.toMillis() / 30);
        long delay = interval * Math.min(n * n, 1L << 20);
        delay += random.nextLong(delay / 2 + 1);
        return Duration.ofMillis(Math.min(delay, max.toMillis()));
    }

    /** True if the VMI ever reached Running (KubeVirt's wasVMIInRunningPhase). */
    private static boolean wasRunning(VirtualMachineInstance vmi) {
        return vmi != null && vmi.getStatus() != null && vmi.getStatus().getPhaseTransitionTimestamps() != null
                && vmi.getStatus().getPhaseTransitionTimestamps().stream()
                        .anyMatch(t -> Phase.RUNNING.equals(t.getPhase()));
    }

    /** The effective strategy: {@code running} maps to Always/Halted; neither set means Halted. */
    static String strategy(VirtualMachine vm) {
        if (vm.getSpec().getRunStrategy() != null) {
            return vm.getSpec().getRunStrategy();
        }
        return Boolean.TRUE.equals(vm.getSpec().getRunning()) ? RunStrategy.ALWAYS : RunStrategy.HALTED;
    }

    static String phase(VirtualMachineInstance vmi) {
        return vmi.getStatus() == null || vmi.getStatus().getPhase() == null ? "" : vmi.getStatus().getPhase();
    }

    private static boolean ownedBy(VirtualMachineInstance vmi, VirtualMachine vm) {
        OwnerReference r = Objects2.controllerOf(vmi, VirtualMachine.KIND);
        return r != null && r.getUid() != null && r.getUid().equals(vm.getMetadata().getUid());
    }

    /** Makes {@code vm} the controller owner of the orphan {@code vmi} (guarded by its resourceVersion). */
    private VirtualMachineInstance adopt(VirtualMachine vm, VirtualMachineInstance vmi) {
        return patcher.patch(VirtualMachineInstance.class, vmi, fresh -> {
            if (Objects2.controllerOf(fresh, VirtualMachine.KIND) != null || Objects2.deleting(fresh)) {
                return null;
            }
            List<OwnerReference> refs = new ArrayList<>();
            if (fresh.getMetadata().getOwnerReferences() != null) {
                refs.addAll(fresh.getMetadata().getOwnerReferences());
            }
            refs.add(ownerReference(vm));
            ObjectNode patch = NODES.objectNode();
            patch.putObject("metadata").set("ownerReferences", KubevirtJson.toTree(refs));
            return patch;
        }, false);
    }

    private static OwnerReference ownerReference(VirtualMachine vm) {
        OwnerReference r = new OwnerReference();
        r.setApiVersion(VirtualMachine.API_VERSION);
        r.setKind(VirtualMachine.KIND);
        r.setName(vm.getMetadata().getName());
        r.setUid(vm.getMetadata().getUid());
        r.setController(true);
        r.setBlockOwnerDeletion(true);
        return r;
    }

    /**
     * KubeVirt's VM controller takes its finalizer off a VMI once the VMI is final and its status is recorded
     * on the VM.
     */
    private void releaseFinalVmi(VirtualMachineInstance vmi) {
        if (Phase.isFinal(phase(vmi)) && Objects2.hasFinalizer(vmi, VM_FINALIZER)) {
            patcher.finalizer(VirtualMachineInstance.class, vmi, VM_FINALIZER, false);
        }
    }

    /** Halted + a start request: KubeVirt sets {@code runStrategy: Always} (or {@code running: true}). */
    private void switchToAlways(VirtualMachine vm) {
        ObjectNode patch = NODES.objectNode();
        ObjectNode spec = patch.putObject("spec");
        if (vm.getSpec().getRunStrategy() != null) {
            spec.put("runStrategy", RunStrategy.ALWAYS);
        } else {
            spec.put("running", true);
        }
        own.wrote(Objects2.key(vm), vm, patcher.patch(VirtualMachine.class, vm,
                fresh -> strategy(fresh).equals(RunStrategy.HALTED) ? patch : null, false));
    }

    /**
     * Creates the VMI of {@code vm}, as KubeVirt's {@code startVMI}/{@code setupVMIFromVM}: the template's metadata
     * and spec, an owner reference to the VM (controller, blockOwnerDeletion), the VMI finalizer (KubeVirt's
     * webhook adds it) and the VM controller's, the {@code kubevirt.io/vm-generation} annotation,
     * {@code startStrategy: Paused} for a start request asking for it, KubeVirt's defaults. Records an Event
     * either way.
     *
     * @param request the first state change request, or null
     * @return the VMI as the server created it; null if one already existed (the cache was behind)
     */
    private VirtualMachineInstance createVmi(VirtualMachine vm, StateChangeRequest request,
                                             InstancetypeExpander.Specs specs) {
        VirtualMachineInstance vmi;
        NetworkSettings network = config.get().network();
        if (VmInstancetypes.references(vm)) {
            try {
                vmi = instancetypes.vmi(vm, specs, network);
            } catch (IllegalStateException e) {
                events.record(vm, Events.WARNING, "FailedCreate", "Error creating virtual machine instance: " + e.getMessage());
                throw e;
            }
        } else {
            vmi = LoadedManifest.fromVm(vm);
        }
        vmi.getMetadata().setFinalizers(new ArrayList<>(List.of(VMI_FINALIZER, VM_FINALIZER)));
        Map<String, String> annotations = new LinkedHashMap<>();
        if (vmi.getMetadata().getAnnotations() != null) {
            annotations.putAll(vmi.getMetadata().getAnnotations());
        }
        if (vm.getMetadata().getGeneration() != null) {
            annotations.put(GENERATION_ANNOTATION, Long.toString(vm.getMetadata().getGeneration()));
        }
        vmi.getMetadata().setAnnotations(annotations);
        if (request != null && START.equals(request.getAction()) && request.getData() != null
                && "true".equals(request.getData().get("paused"))) {
            vmi.getSpec().setStartStrategy("Paused");
        }
        String revision = ensureRevision(vm);
        VmiDefaults.apply(vmi, network);
        if (vmi.getStatus() == null) {
            vmi.setStatus(new io.qvirt.api.model.VirtualMachineInstanceStatus());
        }
        vmi.getStatus().getAdditionalProperties().put("virtualMachineRevisionName", revision);
        // The VMI CRD has no status subresource, so a create keeps its status: the Ready condition the VMI
        // controller writes when it makes the pod is there from the start, and the VM's copy of it, written
        // below, need not change then.
        vmi.getStatus().setConditions(new ArrayList<>(List.of(VmiReconciler.guestNotRunning(clock.instant()))));
        String key = Objects2.key(vm);
        vmiCreations.put(key, new Expectation(vm.getMetadata().getUid(), clock.instant()));
        try {
            VirtualMachineInstance created = client.resources(VirtualMachineInstance.class)
                    .inNamespace(vm.getMetadata().getNamespace()).resource(vmi).create();
            events.record(vm, Events.NORMAL, "SuccessfulCreate",
                    "Started the virtual machine by creating the new virtual machine instance "
                            + created.getMetadata().getName());
            return created;
        } catch (KubernetesClientException e) {
            if (e.getCode() == 409) {
                return null; // it exists: the expectation stands until the cache shows it
            }
            vmiCreations.remove(key);
            events.record(vm, Events.WARNING, "FailedCreate", "Error creating virtual machine instance: "
                    + e.getMessage());
            throw e;
        }
    }

    /** Deletes a VMI gracefully (KubeVirt's stopVMI): the handler shuts the guest down within its grace period. */
    private boolean deleteVmi(VirtualMachine vm, VirtualMachineInstance vmi) {
        if (Objects2.deleting(vmi)) {
            return false;
        }
        try {
            client.resources(VirtualMachineInstance.class).inNamespace(vmi.getMetadata().getNamespace())
                    .withName(vmi.getMetadata().getName()).delete();
            events.record(vm, Events.NORMAL, "SuccessfulDelete",
                    "Stopped the virtual machine by deleting the virtual machine instance " + vmi.getMetadata().getUid());
            return true;
        } catch (KubernetesClientException e) {
            if (Objects2.isNotFound(e)) {
                return false;
            }
            throw e;
        }
    }

    /**
     * Writes the VM's status as KubeVirt's updateStatus: printableStatus, ready, created, conditions (Ready, the
     * VMI's others, Failure), observed/desiredGeneration, runStrategy (once a VMI was made) and the
     * back-off/request bookkeeping; skipped when unchanged.
     *
     * @param vmi     the VMI as the status should see it (null if none)
     * @param errors  validation errors (a Failure condition), or empty
     * @param problem another reason for a Failure condition, or null
     * @return the VM as written (or as read, if nothing changed); null if it is gone
     */
    private VirtualMachine writeStatus(VirtualMachine vm, VirtualMachineInstance vmi, Action action,
                                       List<FieldError> errors, String problem, Extra extra) {
        return own.wrote(Objects2.key(vm), vm, patcher.patchStatus(VirtualMachine.class, vm, fresh -> {
            VirtualMachineStatus cur = fresh.getStatus() == null ? new VirtualMachineStatus() : fresh.getStatus();
            ObjectNode s = NODES.objectNode();
            boolean vmiExists = action == Action.CREATED || vmi != null;
            StartFailure failure = extra != null && extra.failureChanged() ? extra.failure() : cur.getStartFailure();
            Instant now = extra == null ? clock.instant() : extra.now();
            s.put("printableStatus", printable(fresh, vmi, action, failure,
                    setToStart(fresh, vmi) && unboundClaim(fresh)));
            s.put("created", vmiExists);
            s.put("ready", vmi != null && Objects2.isTrue(conditions(vmi), ConditionType.READY));
            List<Condition> conds = conditions(cur, vmi, vmiExists, errors, problem, now);
            Condition oldRestart = Objects2.condition(cur.getConditions(), RESTART_REQUIRED);
            boolean restart = extra == null || extra.restartRequired() == null ? oldRestart != null
                    : extra.restartRequired();
            if (restart) {
                Condition r = new Condition();
                r.setType(RESTART_REQUIRED);
                r.setStatus("True");
                r.setMessage("a non-live-updatable field was changed in the template spec");
                r.setLastTransitionTime(oldRestart != null && oldRestart.getLastTransitionTime() != null
                        ? oldRestart.getLastTransitionTime() : now.toString());
                conds.add(r);
            }
            s.set("conditions", KubevirtJson.toTree(conds));
            Long generation = vmi == null ? null : generationOf(vmi);
            if (generation != null) {
                s.put("observedGeneration", generation);
            }
            if (vmi != null && fresh.getMetadata().getGeneration() != null) {
                s.put("desiredGeneration", fresh.getMetadata().getGeneration());
            }
            if (cur.getRunStrategy() != null || vmiExists) {
                s.put("runStrategy", strategy(fresh)); // KubeVirt records it from the first VMI on
            }
            if (extra != null && extra.failureChanged()) {
                s.set("startFailure", failure == null ? NODES.nullNode() : KubevirtJson.toTree(failure));
            }
            if (extra != null && extra.requests() != null) {
                s.set("stateChangeRequests", extra.requests().isEmpty() ? NODES.nullNode()
                        : KubevirtJson.toTree(extra.requests()));
            }
            s.putNull("qvirtRanOnce"); // an earlier qvirt's own field; KubeVirt has none
            return changed(KubevirtJson.toTree(cur), s) ? s : null;
        }, true));
    }

    /** The VM generation a VMI was made from (its {@code kubevirt.io/vm-generation} annotation), or null. */
    private static Long generationOf(VirtualMachineInstance vmi) {
        String g = vmi.getMetadata().getAnnotations() == null ? null
                : vmi.getMetadata().getAnnotations().get(GENERATION_ANNOTATION);
        try {
            return g == null ? null : Long.valueOf(g);
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /** True if any field of {@code patch} differs from {@code current} (null means absent). */
    private static boolean changed(JsonNode current, ObjectNode patch) {
        for (var e : patch.properties()) {
            JsonNode c = current.get(e.getKey());
            JsonNode p = e.getValue();
            if (p.isNull() ? c != null && !c.isNull() : !p.equals(c)) {
                return true;
            }
        }
        return false;
    }

    /**
     * KubeVirt's migrations.IsMigrating: the VMI's migrationState has a startTimestamp (the source handler began) and no
     * endTimestamp yet.
     */
    static boolean migrating(VirtualMachineInstance vmi) {
        var ms = vmi == null || vmi.getStatus() == null ? null : vmi.getStatus().getMigrationState();
        if (ms == null) {
            return false;
        }
        java.time.Instant now = java.time.Instant.now();
        java.time.Instant start = Objects2.time(ms.getStartTimestamp());
        java.time.Instant end = Objects2.time(ms.getEndTimestamp());
        return start != null && !now.isBefore(start) && (end == null || now.isBefore(end));
    }

    /** As {@link #printable(VirtualMachine, VirtualMachineInstance, Action, StartFailure, boolean)}, every claim bound. */
    static String printable(VirtualMachine vm, VirtualMachineInstance vmi, Action action, StartFailure failure) {
        return printable(vm, vmi, action, failure, false);
    }

    /**
     * KubeVirt's setPrintableStatus: the first that holds of Terminating, Stopping, Paused, Running,
     * ErrorPvcNotFound, ErrorUnschedulable, WaitingForVolumeBinding, ErrImagePull, ImagePullBackOff, Starting,
     * CrashLoopBackOff, Stopped; else Unknown. "Start expected" and "stop expected" are this pass's own create and
     * delete.
     *
     * @param unboundClaim the VM is set to start and a claim its template names exists but is not Bound (KubeVirt's
     *                     isSetToStart and HasUnboundPVC)
     */
    static String printable(VirtualMachine vm, VirtualMachineInstance vmi, Action action, StartFailure failure,
                            boolean unboundClaim) {
        boolean startExpected = action == Action.CREATED;
        String phase = vmi == null ? "" : phase(vmi);
        List<Condition> c = conditions(vmi);
        if (Objects2.deleting(vm)) {
            return PrintableStatus.TERMINATING;
        }
        if (vmi != null && !Phase.isFinal(phase) && (Objects2.deleting(vmi) || action == Action.DELETED)) {
            return PrintableStatus.STOPPING;
        }
        if (migrating(vmi)) {
            return PrintableStatus.MIGRATING;
        }
        if (Phase.RUNNING.equals(phase)) {
            return Objects2.isTrue(c, ConditionType.PAUSED) ? PrintableStatus.PAUSED : PrintableStatus.RUNNING;
        }
        Condition sync = Objects2.condition(c, VmiReconciler.SYNCHRONIZED);
        if (sync != null && "False".equals(sync.getStatus())
                && VmiReconciler.FAILED_PVC_NOT_FOUND.equals(sync.getReason())) {
            return PrintableStatus.ERROR_PVC_NOT_FOUND;
        }
        Condition scheduled = Objects2.condition(c, ConditionType.POD_SCHEDULED);
        if (scheduled != null && "False".equals(scheduled.getStatus()) && "Unschedulable".equals(scheduled.getReason())) {
            return PrintableStatus.UNSCHEDULABLE;
        }
        if (unboundClaim) {
            return PrintableStatus.WAITING_FOR_VOLUME_BINDING;
        }
        if (sync != null && "False".equals(sync.getStatus())) {
            if (PrintableStatus.ERR_IMAGE_PULL.equals(sync.getReason())) {
                return PrintableStatus.ERR_IMAGE_PULL;
            }
            if (PrintableStatus.IMAGE_PULL_BACK_OFF.equals(sync.getReason())) {
                return PrintableStatus.IMAGE_PULL_BACK_OFF;
            }
        }
        if (vmi == null ? startExpected : phase.isEmpty() || Phase.PENDING.equals(phase)
                || Phase.SCHEDULING.equals(phase) || Phase.SCHEDULED.equals(phase)) {
            return PrintableStatus.STARTING;
        }
        boolean notRunning = vmi == null || Phase.isFinal(phase);
        String strategy = strategy(vm);
        if (notRunning && !startExpected && failure != null && failure.getConsecutiveFailCount() != null
                && failure.getConsecutiveFailCount() > 0 && (RunStrategy.ALWAYS.equals(strategy)
                        || RunStrategy.RERUN_ON_FAILURE.equals(strategy) || RunStrategy.ONCE.equals(strategy))) {
            return PrintableStatus.CRASH_LOOP_BACK_OFF;
        }
        if (vmi != null ? Phase.isFinal(phase) : !startExpected) {
            return PrintableStatus.STOPPED;
        }
        return PrintableStatus.UNKNOWN;
    }

    /**
     * KubeVirt's isSetToStart: Always; Manual with a VMI not asked to stop, or without one a start request;
     * RerunOnFailure with a VMI that has not Succeeded, or without one a start request; Once without a VMI.
     */
    static boolean setToStart(VirtualMachine vm, VirtualMachineInstance vmi) {
        List<StateChangeRequest> requests = vm.getStatus() == null || vm.getStatus().getStateChangeRequests() == null
                ? List.of() : vm.getStatus().getStateChangeRequests();
        StateChangeRequest first = requests.isEmpty() ? null : requests.get(0);
        boolean startRequest = first != null && START.equals(first.getAction());
        return switch (strategy(vm)) {
            case RunStrategy.ALWAYS -> true;
            case RunStrategy.MANUAL -> vmi != null ? !(first != null && STOP.equals(first.getAction())
                    && vmi.getMetadata().getUid() != null && vmi.getMetadata().getUid().equals(first.getUid()))
                    : startRequest;
            case RunStrategy.RERUN_ON_FAILURE -> vmi != null ? !Phase.SUCCEEDED.equals(phase(vmi)) : startRequest;
            case RunStrategy.ONCE -> vmi == null;
            default -> false;
        };
    }

    /** KubeVirt's HasUnboundPVC: a claim the VM's template names is in the cache and not Bound. */
    private boolean unboundClaim(VirtualMachine vm) {
        if (vm.getSpec() == null || vm.getSpec().getTemplate() == null || vm.getSpec().getTemplate().getSpec() == null
                || vm.getSpec().getTemplate().getSpec().getVolumes() == null) {
            return false;
        }
        for (io.qvirt.api.model.Volume v : vm.getSpec().getTemplate().getSpec().getVolumes()) {
            String claim = VolumeClaims.claimName(v);
            var pvc = claim == null ? null : caches.pvc(vm.getMetadata().getNamespace(), claim);
            if (pvc != null && !VolumeClaims.bound(pvc)) {
                return true;
            }
        }
        return false;
    }

    private static List<Condition> conditions(VirtualMachineInstance vmi) {
        return vmi == null || vmi.getStatus() == null || vmi.getStatus().getConditions() == null ? List.of()
                : vmi.getStatus().getConditions();
    }

    /**
     * KubeVirt's syncConditions: Ready from the VMI (False VMINotExists without one, False VMIConditionMissing
     * if it has none), the VMI's other conditions copied, and a Failure condition for validation errors or
     * another problem (keeping its transition time while it stays the same).
     */
    private static List<Condition> conditions(VirtualMachineStatus cur, VirtualMachineInstance vmi, boolean vmiExists,
                                              List<FieldError> errors, String problem, Instant now) {
        List<Condition> out = new ArrayList<>();
        for (Condition c : conditions(vmi)) {
            if (!ConditionType.FAILURE.equals(c.getType()) && !RESTART_REQUIRED.equals(c.getType())) {
                out.add(KubevirtJson.deepCopy(c, Condition.class));
            }
        }
        if (Objects2.condition(out, ConditionType.READY) == null) {
            Condition ready = new Condition();
            ready.setType(ConditionType.READY);
            ready.setStatus("False");
            ready.setReason(vmi == null ? "VMINotExists" : "VMIConditionMissing");
            ready.setMessage(vmi == null ? "VMI does not exist" : "VMI is missing the Ready condition");
            Condition old = Objects2.condition(cur.getConditions(), ConditionType.READY);
            ready.setLastTransitionTime(old != null && "False".equals(old.getStatus()) && old.getLastTransitionTime() != null
                    ? old.getLastTransitionTime() : now.toString());
            out.add(ready);
        }
        String message = !errors.isEmpty() ? errors.stream().map(FieldError::toString).collect(Collectors.joining("; "))
                : problem;
        if (message != null) {
            Condition f = new Condition();
            f.setType(ConditionType.FAILURE);
            f.setStatus("True");
            f.setReason(!errors.isEmpty() ? "FailedCreate" : "VMIExists");
            f.setMessage(!errors.isEmpty() ? "VirtualMachine is invalid: " + message : message);
            Condition old = Objects2.condition(cur.getConditions(), ConditionType.FAILURE);
            f.setLastTransitionTime(old != null && message.equals(stripPrefix(old.getMessage()))
                    && old.getLastTransitionTime() != null ? old.getLastTransitionTime() : now.toString());
            out.add(f);
        }
        return out;
    }

    private static String stripPrefix(String m) {
        return m != null && m.startsWith("VirtualMachine is invalid: ") ? m.substring(27) : m;
    }
}
