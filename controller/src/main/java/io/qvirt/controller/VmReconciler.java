package io.qvirt.controller;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.qvirt.api.FieldError;
import io.qvirt.api.KubevirtJson;
import io.qvirt.api.LoadedManifest;
import io.qvirt.api.VirtualMachine;
import io.qvirt.api.VirtualMachineInstance;
import io.qvirt.api.VmValidator;
import io.qvirt.api.VmiDefaults;
import io.qvirt.api.model.Condition;
import io.qvirt.api.model.ConditionType;
import io.qvirt.api.model.Phase;
import io.qvirt.api.model.PhaseTransition;
import io.qvirt.api.model.PrintableStatus;
import io.qvirt.api.model.RunStrategy;
import io.qvirt.api.model.StartFailure;
import io.qvirt.api.model.StateChangeRequest;
import io.qvirt.api.model.VirtualMachineStatus;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import java.util.logging.Logger;
import java.util.stream.Collectors;

/**
 * VirtualMachine -> VirtualMachineInstance, by run strategy, as KubeVirt's VM controller
 * ({@code pkg/virt-controller/watch/vm.go}):
 * <ul>
 * <li>{@code running: true} is Always, {@code running: false} is Halted.</li>
 * <li>Always: a VMI whenever there is none; a finished one (Succeeded or Failed) is deleted and made anew.</li>
 * <li>RerunOnFailure: as Always after Failed; a Succeeded VMI is left stopped.</li>
 * <li>Once: one VMI; when it finishes it is left as it is and nothing is restarted. (qvirt records
 *     {@code status.qvirtRanOnce} when it creates that VMI, so deleting the finished VMI does not start a
 *     second run either.)</li>
 * <li>Halted: no VMI; a running one is deleted gracefully (the handler honours its
 *     {@code terminationGracePeriodSeconds}).</li>
 * <li>Manual: nothing happens by itself; {@code status.stateChangeRequests} (virtctl start/stop) act, in
 *     order, and are removed once done. (Requests act under every strategy, as in KubeVirt.)</li>
 * </ul>
 * A restart after a failure is delayed by a crash-loop back-off (KubeVirt's {@code status.startFailure}:
 * base delay doubling per consecutive failure up to a cap; printableStatus CrashLoopBackOff meanwhile); a
 * VMI that ran at least the reset time before failing starts the count afresh. An invalid VM (KubeVirt's
 * admission rules) gets a {@code Failure} condition naming every field and no VMI. The VM carries KubeVirt's
 * finalizer so that deleting it first deletes its VMI gracefully.
 *
 * <p>Idempotent: reads only the caches, acts on the difference, writes status as one guarded merge patch
 * through the status subresource (and only when it changes).
 */
final class VmReconciler implements Reconciler {
    static final String VM_FINALIZER = "kubevirt.io/virtualMachineControllerFinalize";
    static final String VMI_FINALIZER = VmiReconciler.VMI_FINALIZER;
    private static final Logger LOG = Logger.getLogger(VmReconciler.class.getName());
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private final KubernetesClient client;
    private final Caches caches;
    private final Patcher patcher;
    private final Supplier<ClusterConfig> config;
    private final ControllerOptions options;
    private final Clock clock;

    VmReconciler(KubernetesClient client, Caches caches, Supplier<ClusterConfig> config, ControllerOptions options,
                 Clock clock) {
        this.client = client;
        this.caches = caches;
        this.patcher = new Patcher(client);
        this.config = config;
        this.options = options;
        this.clock = clock;
    }

    /** What this reconcile did to the VMI, for the status it writes. */
    private enum Action { NONE, CREATED, DELETED }

    @Override
    public Duration reconcile(String key) {
        VirtualMachine vm = caches.vm(key);
        if (vm == null) {
            return null;
        }
        VirtualMachineInstance vmi = caches.vmi(key);
        if (vmi != null && !ownedBy(vmi, vm)) {
            // A VMI of the same name that this VM did not create (or an earlier VM of the same name made): never
            // touch it; report it, as KubeVirt does, and wait for it to go.
            writeStatus(vm, null, Action.NONE, List.of(), "VMI " + key + " exists and is not owned by this VM", null);
            return null;
        }

        if (Objects2.deleting(vm)) {
            if (vmi != null) {
                Action a = deleteVmi(vmi) ? Action.DELETED : Action.NONE;
                writeStatus(vm, vmi, a, List.of(), null, null);
                return null; // the VMI's deletion event brings the VM back
            }
            patcher.finalizer(VirtualMachine.class, vm, VM_FINALIZER, false);
            return null;
        }
        if (!Objects2.hasFinalizer(vm, VM_FINALIZER)) {
            vm = patcher.finalizer(VirtualMachine.class, vm, VM_FINALIZER, true);
            if (vm == null) {
                return null;
            }
        }

        List<FieldError> errors = VmValidator.validate(vm, config.get().gates());
        if (!errors.isEmpty()) {
            writeStatus(vm, vmi, Action.NONE, errors, null, null);
            return null;
        }

        String strategy = strategy(vm);
        Instant now = clock.instant();
        VirtualMachineStatus st = vm.getStatus() == null ? new VirtualMachineStatus() : vm.getStatus();
        StartFailure failure = st.getStartFailure();

        // A failed VMI under a restarting strategy: count it once (by uid), and record that before deleting the
        // VMI, so a failed status write can never lose the back-off.
        if (vmi != null && Phase.FAILED.equals(phase(vmi)) && restartsAfterFailure(strategy)
                && (failure == null || !vmi.getMetadata().getUid().equals(failure.getLastFailedVMIUID()))) {
            failure = nextFailure(failure, vmi, now);
            VirtualMachine updated = writeStatus(vm, vmi, Action.NONE, List.of(), null,
                    new Extra(failure, true, null, strategy, now));
            if (updated == null) {
                return null;
            }
            vm = updated;
            st = vm.getStatus() == null ? new VirtualMachineStatus() : vm.getStatus();
        }
        boolean failureChanged = false;
        // A VMI that has been running for the reset time clears the count.
        Duration requeue = null;
        if (vmi != null && failure != null && Phase.RUNNING.equals(phase(vmi))) {
            // KubeVirt clears startFailure once a VMI runs; qvirt waits the reset time, so a guest that dies
            // right after boot keeps backing off.
            Instant since = runningSince(vmi);
            if (since != null) {
                Instant resetAt = since.plus(options.crashLoopReset());
                if (!now.isBefore(resetAt)) {
                    failure = null;
                    failureChanged = true;
                } else {
                    requeue = Duration.between(now, resetAt);
                }
            }
        }
        Instant retryAfter = failure == null ? null : Objects2.time(failure.getRetryAfterTimestamp());
        boolean backingOff = retryAfter != null && now.isBefore(retryAfter);

        List<StateChangeRequest> requests = st.getStateChangeRequests() == null ? List.of()
                : st.getStateChangeRequests();
        List<StateChangeRequest> remaining = new ArrayList<>(requests);
        Action action = Action.NONE;
        if (!remaining.isEmpty()) {
            StateChangeRequest req = remaining.get(0);
            if ("Stop".equals(req.getAction())) {
                boolean matches = vmi != null && (req.getUid() == null || req.getUid().equals(vmi.getMetadata().getUid()));
                if (matches && !Objects2.deleting(vmi)) {
                    action = deleteVmi(vmi) ? Action.DELETED : Action.NONE;
                } else if (!matches) {
                    remaining.remove(0); // done: no such VMI (any more)
                }
            } else if ("Start".equals(req.getAction())) {
                if (vmi == null) {
                    action = createVmi(vm) ? Action.CREATED : Action.NONE;
                    remaining.remove(0);
                } else if (Phase.isFinal(phase(vmi)) && !Objects2.deleting(vmi)) {
                    action = deleteVmi(vmi) ? Action.DELETED : Action.NONE; // then start it on the next pass
                } else if (!Objects2.deleting(vmi)) {
                    remaining.remove(0); // already running
                }
            } else {
                LOG.warning("VM " + key + ": ignoring state change request " + req.getAction());
                remaining.remove(0);
            }
        } else {
            switch (strategy) {
                case RunStrategy.HALTED -> {
                    if (vmi != null && !Objects2.deleting(vmi)) {
                        action = deleteVmi(vmi) ? Action.DELETED : Action.NONE;
                    }
                }
                case RunStrategy.ALWAYS, RunStrategy.RERUN_ON_FAILURE -> {
                    if (vmi == null) {
                        if (backingOff) {
                            requeue = min(requeue, Duration.between(now, retryAfter));
                        } else {
                            action = createVmi(vm) ? Action.CREATED : Action.NONE;
                        }
                    } else if (!Objects2.deleting(vmi) && (Phase.FAILED.equals(phase(vmi))
                            || (Phase.SUCCEEDED.equals(phase(vmi)) && RunStrategy.ALWAYS.equals(strategy)))) {
                        action = deleteVmi(vmi) ? Action.DELETED : Action.NONE;
                    }
                }
                case RunStrategy.ONCE -> {
                    if (vmi == null && !ranOnce(vm)) {
                        action = createVmi(vm) ? Action.CREATED : Action.NONE;
                    }
                }
                default -> {
                    // Manual: only requests act.
                }
            }
        }
        List<StateChangeRequest> finalRemaining = remaining.size() == requests.size() ? null : remaining;
        writeStatus(vm, action == Action.CREATED ? null : vmi, action, List.of(), null,
                new Extra(failure, failureChanged, finalRemaining, strategy, now));
        if (action == Action.CREATED || action == Action.DELETED) {
            return requeue;
        }
        if (finalRemaining != null && !finalRemaining.isEmpty()) {
            return Duration.ZERO; // more requests to work through
        }
        return requeue;
    }

    /** Status fields beside the computed ones: back-off bookkeeping and the request list. */
    private record Extra(StartFailure failure, boolean failureChanged, List<StateChangeRequest> requests,
                         String strategy, Instant now) {
    }

    /** True if a Once VM has already had its run (recorded in its status when the VMI was made). */
    private static boolean ranOnce(VirtualMachine vm) {
        return vm.getStatus() != null && vm.getStatus().getAdditionalProperties().get("qvirtRanOnce") != null;
    }

    private static boolean restartsAfterFailure(String strategy) {
        return RunStrategy.ALWAYS.equals(strategy) || RunStrategy.RERUN_ON_FAILURE.equals(strategy);
    }

    /** The effective strategy: {@code running} maps to Always/Halted; neither set means Halted. */
    static String strategy(VirtualMachine vm) {
        if (vm.getSpec().getRunStrategy() != null) {
            return vm.getSpec().getRunStrategy();
        }
        return Boolean.TRUE.equals(vm.getSpec().getRunning()) ? RunStrategy.ALWAYS : RunStrategy.HALTED;
    }

    private StartFailure nextFailure(StartFailure previous, VirtualMachineInstance vmi, Instant now) {
        int count = previous == null || previous.getConsecutiveFailCount() == null ? 0
                : previous.getConsecutiveFailCount();
        Instant since = runningSince(vmi);
        Instant end = finishedAt(vmi);
        if (since != null && Duration.between(since, end == null ? now : end).compareTo(options.crashLoopReset()) >= 0) {
            count = 0; // it ran long enough: not a crash loop
        }
        count++;
        StartFailure f = new StartFailure();
        f.setConsecutiveFailCount(count);
        f.setLastFailedVMIUID(vmi.getMetadata().getUid());
        f.setRetryAfterTimestamp(now.plus(crashLoopDelay(count)).toString());
        return f;
    }

    /** base x 2^(n-1), capped. */
    Duration crashLoopDelay(int failures) {
        long ms = options.crashLoopBase().toMillis() << Math.min(failures - 1, 20);
        return ms <= 0 || ms > options.crashLoopMax().toMillis() ? options.crashLoopMax() : Duration.ofMillis(ms);
    }

    private static Instant runningSince(VirtualMachineInstance vmi) {
        return transition(vmi, Phase.RUNNING);
    }

    private static Instant finishedAt(VirtualMachineInstance vmi) {
        Instant f = transition(vmi, Phase.FAILED);
        return f != null ? f : transition(vmi, Phase.SUCCEEDED);
    }

    private static Instant transition(VirtualMachineInstance vmi, String phase) {
        if (vmi.getStatus() == null || vmi.getStatus().getPhaseTransitionTimestamps() == null) {
            return null;
        }
        for (PhaseTransition t : vmi.getStatus().getPhaseTransitionTimestamps()) {
            if (phase.equals(t.getPhase())) {
                return Objects2.time(t.getPhaseTransitionTimestamp());
            }
        }
        return null;
    }

    private static Duration min(Duration a, Duration b) {
        return a == null ? b : (a.compareTo(b) <= 0 ? a : b);
    }

    static String phase(VirtualMachineInstance vmi) {
        return vmi.getStatus() == null || vmi.getStatus().getPhase() == null ? "" : vmi.getStatus().getPhase();
    }

    private static boolean ownedBy(VirtualMachineInstance vmi, VirtualMachine vm) {
        OwnerReference r = Objects2.controllerOf(vmi, VirtualMachine.KIND);
        return r != null && r.getUid() != null && r.getUid().equals(vm.getMetadata().getUid());
    }

    /**
     * Creates the VMI of {@code vm}: the template's metadata and spec (KubeVirt's {@code setupVMIFromVM}),
     * an owner reference to the VM (controller, blockOwnerDeletion), the VMI finalizer, KubeVirt's defaults.
     *
     * @return true if created; false if one already existed (the cache was behind)
     */
    private boolean createVmi(VirtualMachine vm) {
        VirtualMachineInstance vmi = LoadedManifest.fromVm(vm);
        vmi.getMetadata().setFinalizers(new ArrayList<>(List.of(VMI_FINALIZER)));
        VmiDefaults.apply(vmi);
        try {
            client.resources(VirtualMachineInstance.class).inNamespace(vm.getMetadata().getNamespace()).resource(vmi)
                    .create();
            return true;
        } catch (KubernetesClientException e) {
            if (e.getCode() == 409) {
                return false;
            }
            throw e;
        }
    }

    /** Deletes a VMI gracefully: the handler shuts the guest down within its grace period. */
    private boolean deleteVmi(VirtualMachineInstance vmi) {
        if (Objects2.deleting(vmi)) {
            return false;
        }
        try {
            client.resources(VirtualMachineInstance.class).inNamespace(vmi.getMetadata().getNamespace())
                    .withName(vmi.getMetadata().getName()).delete();
            return true;
        } catch (KubernetesClientException e) {
            if (Objects2.isNotFound(e)) {
                return false;
            }
            throw e;
        }
    }

    /**
     * Writes the VM's status: printableStatus, ready, created, conditions (the VMI's, plus Failure),
     * observedGeneration, runStrategy and the back-off/request bookkeeping; skipped when unchanged.
     *
     * @param vmi     the VMI as the status should see it (null if none)
     * @param errors  validation errors (a Failure condition), or empty
     * @param problem another reason for a Failure condition, or null
     * @return the VM as written (or as read, if nothing changed); null if it is gone
     */
    private VirtualMachine writeStatus(VirtualMachine vm, VirtualMachineInstance vmi, Action action,
                                       List<FieldError> errors, String problem, Extra extra) {
        return patcher.patchStatus(VirtualMachine.class, vm, fresh -> {
            VirtualMachineStatus cur = fresh.getStatus() == null ? new VirtualMachineStatus() : fresh.getStatus();
            ObjectNode s = NODES.objectNode();
            boolean vmiExists = action == Action.CREATED || vmi != null;
            boolean vmiDeleting = action == Action.DELETED || (vmi != null && Objects2.deleting(vmi));
            StartFailure failure = extra == null ? cur.getStartFailure()
                    : (extra.failureChanged() ? extra.failure() : cur.getStartFailure());
            Instant now = extra == null ? clock.instant() : extra.now();
            Instant retry = failure == null ? null : Objects2.time(failure.getRetryAfterTimestamp());
            boolean backingOff = retry != null && now.isBefore(retry);
            s.put("printableStatus", printable(fresh, vmi, action, vmiDeleting, backingOff));
            s.put("created", vmiExists);
            s.put("ready", vmi != null && !vmiDeleting && Objects2.isTrue(conditions(vmi), ConditionType.READY));
            s.set("conditions", KubevirtJson.toTree(conditions(cur, vmi, vmiExists, errors, problem, now)));
            if (fresh.getMetadata().getGeneration() != null) {
                s.put("observedGeneration", fresh.getMetadata().getGeneration());
            }
            s.put("runStrategy", strategy(fresh));
            if (extra != null && extra.failureChanged()) {
                s.set("startFailure", failure == null ? NODES.nullNode() : KubevirtJson.toTree(failure));
            }
            if (extra != null && extra.requests() != null) {
                s.set("stateChangeRequests", extra.requests().isEmpty() ? NODES.nullNode()
                        : KubevirtJson.toTree(extra.requests()));
            }
            if (action == Action.CREATED && RunStrategy.ONCE.equals(strategy(fresh))) {
                s.put("qvirtRanOnce", true); // Once never starts a second VMI, even if the first is deleted
            }
            return changed(KubevirtJson.toTree(cur), s) ? s : null;
        }, true);
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

    /** KubeVirt's printableStatus, in KubeVirt's order of precedence. */
    private String printable(VirtualMachine vm, VirtualMachineInstance vmi, Action action, boolean vmiDeleting,
                             boolean backingOff) {
        if (Objects2.deleting(vm)) {
            return PrintableStatus.TERMINATING;
        }
        if (action == Action.CREATED) {
            return PrintableStatus.STARTING;
        }
        if (vmi == null) {
            return backingOff ? PrintableStatus.CRASH_LOOP_BACK_OFF : PrintableStatus.STOPPED;
        }
        String phase = phase(vmi);
        if (vmiDeleting && !Phase.isFinal(phase)) {
            return PrintableStatus.STOPPING;
        }
        if (Phase.isFinal(phase)) {
            return backingOff ? PrintableStatus.CRASH_LOOP_BACK_OFF : PrintableStatus.STOPPED;
        }
        List<Condition> c = conditions(vmi);
        if (Phase.RUNNING.equals(phase)) {
            return Objects2.isTrue(c, ConditionType.PAUSED) ? PrintableStatus.PAUSED : PrintableStatus.RUNNING;
        }
        if (Phase.UNKNOWN.equals(phase)) {
            return PrintableStatus.UNKNOWN;
        }
        Condition scheduled = Objects2.condition(c, ConditionType.POD_SCHEDULED);
        if (scheduled != null && "False".equals(scheduled.getStatus()) && "Unschedulable".equals(scheduled.getReason())) {
            return PrintableStatus.UNSCHEDULABLE;
        }
        Condition sync = Objects2.condition(c, VmiReconciler.SYNCHRONIZED);
        if (sync != null && "False".equals(sync.getStatus())) {
            if (PrintableStatus.ERR_IMAGE_PULL.equals(sync.getReason())) {
                return PrintableStatus.ERR_IMAGE_PULL;
            }
            if (PrintableStatus.IMAGE_PULL_BACK_OFF.equals(sync.getReason())) {
                return PrintableStatus.IMAGE_PULL_BACK_OFF;
            }
        }
        return PrintableStatus.STARTING;
    }

    private static List<Condition> conditions(VirtualMachineInstance vmi) {
        return vmi == null || vmi.getStatus() == null || vmi.getStatus().getConditions() == null ? List.of()
                : vmi.getStatus().getConditions();
    }

    /**
     * The VMI's conditions, mirrored; Ready False when there is no VMI (as KubeVirt); a Failure condition
     * for validation errors or another problem (keeping its transition time while it stays the same).
     */
    private static List<Condition> conditions(VirtualMachineStatus cur, VirtualMachineInstance vmi, boolean vmiExists,
                                              List<FieldError> errors, String problem, Instant now) {
        List<Condition> out = new ArrayList<>();
        for (Condition c : conditions(vmi)) {
            if (!ConditionType.FAILURE.equals(c.getType())) {
                out.add(KubevirtJson.deepCopy(c, Condition.class));
            }
        }
        if (vmi == null && !vmiExists) {
            Condition ready = new Condition();
            ready.setType(ConditionType.READY);
            ready.setStatus("False");
            ready.setReason("VMINotExists");
            ready.setMessage("VMI does not exist");
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
