package io.qvirt.apiserver;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.qvirt.api.FieldError;
import io.qvirt.api.KubevirtJson;
import io.qvirt.api.NetworkSettings;
import io.qvirt.api.VirtualMachine;
import io.qvirt.api.VirtualMachineInstance;
import io.qvirt.api.instancetype.InstancetypeExpander;
import io.qvirt.api.instancetype.InstancetypeLookup;
import io.qvirt.api.model.Condition;
import io.qvirt.api.model.RunStrategy;
import io.qvirt.api.model.StateChangeRequest;
import io.qvirt.api.model.VirtualMachineStatus;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.logging.Logger;

/**
 * The VirtualMachine subresources {@code start}, {@code stop}, {@code restart}, {@code migrate} and
 * {@code expand-spec}, with the rules of KubeVirt's {@code pkg/virt-api/rest/subresource.go} per run strategy:
 *
 * <pre>
 *              start                                   stop                                   restart
 * Halted       running/runStrategy -> true/Always;      409 unless a VMI runs and a shorter     409 "RunStategy Halted does not
 *              paused: a Start request (paused=true)    gracePeriod: then a Stop request        support manual restart requests"
 * Manual       a Start request (Stop+Start if the VMI   a Stop request; 409 "VM is not running" Stop+Start requests
 *              is final)                                without a live VMI
 * Always       409 "Always does not support manual      running/runStrategy -> false/Halted     Stop+Start requests
 *              start requests"
 * RerunOnFail. a Start request (Stop+Start after        running/runStrategy -> false/Halted     Stop+Start requests
 *              Succeeded; 409 after Failed)
 * Once         409 "Once does not support ..."          running/runStrategy -> false/Halted     409 (as Halted)
 * </pre>
 *
 * start also refuses a VM whose VMI exists and is neither final nor Unknown/unset ("VM is already running");
 * restart needs a VMI ("VM is not running: Halted"). Requests are written to {@code status.stateChangeRequests}
 * with a JSON Patch (a pending request makes a second one fail: "unable to complete request: stop/start already
 * underway", except a single Stop, which replaces them), and a {@code status.startFailure} is removed with them.
 * stop with a {@code gracePeriod} first sets the VMI's {@code terminationGracePeriodSeconds}; {@code gracePeriod: 0}
 * is force. restart with {@code gracePeriodSeconds: 0} also deletes the running launcher pod at once.
 *
 * <p>{@code dryRun: ["All"]}: everything is checked and computed, nothing is written (KubeVirt sends the write with
 * {@code dryRun=All} to the API server; qvirt does not send it at all, so the API server's own admission of the
 * write is not part of a dry run).
 */
public final class VmSubresources {
    private static final Logger LOG = Logger.getLogger(VmSubresources.class.getName());
    static final String VM = "virtualmachine";
    static final String VMI = "virtualmachineinstance";
    static final ResourceDefinitionContext MIGRATIONS = new ResourceDefinitionContext.Builder()
            .withGroup("kubevirt.io").withVersion("v1").withPlural("virtualmachineinstancemigrations")
            .withKind("VirtualMachineInstanceMigration").withNamespaced(true).build();

    private final KubernetesClient client;
    private final InstancetypeLookup instancetypes;
    private final java.util.function.Supplier<NetworkSettings> network;
    /** Test seam: runs between a state change's read of the VM and its guarded status patch (the race's window). */
    volatile java.util.function.Consumer<VirtualMachine> beforeStatusPatch = vm -> { };

    public VmSubresources(KubernetesClient client) {
        this(client, () -> NetworkSettings.QVIRT_DEFAULTS);
    }

    /** @param network the KubeVirt CR's network settings, read live: the interface a VM that declares none gets */
    public VmSubresources(KubernetesClient client, java.util.function.Supplier<NetworkSettings> network) {
        this.client = client;
        this.instancetypes = new io.qvirt.api.client.ApiServerInstancetypes(client);
        this.network = network;
    }

    /** PUT .../virtualmachines/{name}/start. */
    public void start(String ns, String name, byte[] body) {
        retrying(name, () -> startOnce(ns, name, body));
    }

    private void startOnce(String ns, String name, byte[] body) {
        VirtualMachine vm = fetchVm(ns, name);
        VirtualMachineInstance vmi = fetchVmiOrNull(ns, name);
        String phase = phase(vmi);
        if (vmi != null && !isFinal(vmi) && !"Unknown".equals(phase) && !phase.isEmpty()) {
            throw ApiError.conflict(VM, name, "VM is already running");
        }
        Options o = Options.parse(body, null);
        Map<String, String> data = new LinkedHashMap<>();
        if (o.paused()) {
            data.put("paused", "true");
        }
        String rs = runStrategy(vm);
        switch (rs) {
            case RunStrategy.HALTED -> {
                if (o.paused()) {
                    patchStatus(vm, changeRequests(vm, request("Start", null, data)), o.dryRun());
                } else {
                    patchSpec(vm, runningPatch(vm, true), o.dryRun());
                }
            }
            case RunStrategy.RERUN_ON_FAILURE, RunStrategy.MANUAL -> {
                boolean restart = (RunStrategy.RERUN_ON_FAILURE.equals(rs) && vmi != null && "Succeeded".equals(phase))
                        || (RunStrategy.MANUAL.equals(rs) && vmi != null && isFinal(vmi));
                if (RunStrategy.RERUN_ON_FAILURE.equals(rs) && vmi != null && "Failed".equals(phase)) {
                    throw ApiError.conflict(VM, name, "RerunOnFailure does not support starting VM from failed state");
                }
                String patch = restart
                        ? changeRequests(vm, request("Stop", vmi.getMetadata().getUid(), null), request("Start", null, data))
                        : changeRequests(vm, request("Start", null, data));
                patchStatus(vm, patch, o.dryRun());
            }
            case RunStrategy.ALWAYS, RunStrategy.ONCE ->
                    throw ApiError.conflict(VM, name, rs + " does not support manual start requests");
            default -> throw ApiError.internal("unknown runStrategy " + rs);
        }
        LOG.info("start " + ns + "/" + name + " (runStrategy " + rs + (o.paused() ? ", paused" : "") + (o.dryRun() ? ", dry run" : "") + ")");
    }

    /** PUT .../virtualmachines/{name}/stop. */
    public void stop(String ns, String name, byte[] body) {
        retrying(name, () -> stopOnce(ns, name, body));
    }

    private void stopOnce(String ns, String name, byte[] body) {
        Options o = Options.parse(body, "gracePeriod");
        VirtualMachine vm = fetchVm(ns, name);
        String rs = runStrategy(vm);
        VirtualMachineInstance vmi = fetchVmiOrNull(ns, name);
        boolean hasVmi = vmi != null;
        long oldGrace = 0;
        Long vmiGrace = hasVmi && vmi.getSpec() != null ? vmi.getSpec().getTerminationGracePeriodSeconds() : null;
        if (hasVmi && !isFinal(vmi) && o.gracePeriod() != null) {
            if (vmiGrace != null) {
                oldGrace = vmiGrace;
            }
            if (!o.dryRun()) {
                try {
                    client.resources(VirtualMachineInstance.class).inNamespace(ns).withName(name)
                            .patch(PatchContext.of(PatchType.JSON_MERGE),
                                    "{\"spec\":{\"terminationGracePeriodSeconds\": " + o.gracePeriod() + " }}");
                } catch (KubernetesClientException e) {
                    throw ApiError.internal(e.getMessage());
                }
            }
        }
        switch (rs) {
            case RunStrategy.HALTED -> {
                if (!hasVmi || isFinal(vmi)) {
                    throw ApiError.conflict(VM, name, "VM is not running");
                }
                if (o.gracePeriod() == null || (vmiGrace != null && o.gracePeriod() >= oldGrace)) {
                    throw ApiError.conflict(VM, name, "Halted only supports manual stop requests with a shorter graceperiod");
                }
                patchStatus(vm, changeRequests(vm, request("Stop", vmi.getMetadata().getUid(), null)), o.dryRun());
            }
            case RunStrategy.MANUAL -> {
                if (!hasVmi || isFinal(vmi)) {
                    throw ApiError.conflict(VM, name, "VM is not running");
                }
                patchStatus(vm, changeRequests(vm, request("Stop", vmi.getMetadata().getUid(), null)), o.dryRun());
            }
            case RunStrategy.RERUN_ON_FAILURE, RunStrategy.ALWAYS, RunStrategy.ONCE ->
                    patchSpec(vm, runningPatch(vm, false), o.dryRun());
            default -> throw ApiError.internal("unknown runStrategy " + rs);
        }
        LOG.info("stop " + ns + "/" + name + " (runStrategy " + rs
                + (o.gracePeriod() != null ? ", gracePeriod " + o.gracePeriod() : "") + (o.dryRun() ? ", dry run" : "") + ")");
    }

    /** PUT .../virtualmachines/{name}/restart. */
    public void restart(String ns, String name, byte[] body) {
        retrying(name, () -> restartOnce(ns, name, body));
    }

    private void restartOnce(String ns, String name, byte[] body) {
        Options o = Options.parse(body, "gracePeriodSeconds");
        if (o.gracePeriod() != null) {
            if (o.gracePeriod() > 0) {
                throw ApiError.badRequest("For force restart, only gracePeriod=0 is supported for now");
            } else if (o.gracePeriod() < 0) {
                throw ApiError.badRequest("gracePeriod has to be greater or equal to 0");
            }
        }
        VirtualMachine vm = fetchVm(ns, name);
        String rs = runStrategy(vm);
        if (RunStrategy.HALTED.equals(rs) || RunStrategy.ONCE.equals(rs)) {
            // KubeVirt's message, its spelling included.
            throw ApiError.conflict(VM, name, "RunStategy " + rs + " does not support manual restart requests");
        }
        VirtualMachineInstance vmi = fetchVmiOrNull(ns, name);
        if (vmi == null) {
            throw ApiError.conflict(VM, name, "VM is not running: Halted");
        }
        patchStatus(vm, changeRequests(vm, request("Stop", vmi.getMetadata().getUid(), null), request("Start", null, null)),
                o.dryRun());
        if (o.gracePeriod() != null && o.gracePeriod() == 0 && !o.dryRun()) {
            Pod pod = runningLauncherPod(ns, vmi);
            if (pod != null) {
                try {
                    client.pods().inNamespace(ns).withName(pod.getMetadata().getName()).withGracePeriod(0).delete();
                } catch (KubernetesClientException e) {
                    if (e.getCode() != 404) {
                        throw ApiError.internal(e.getMessage());
                    }
                }
            }
        }
        LOG.info("restart " + ns + "/" + name + " (runStrategy " + rs + (o.dryRun() ? ", dry run" : "") + ")");
    }

    /**
     * PUT .../virtualmachines/{name}/migrate: a {@code VirtualMachineInstanceMigration} named
     * {@code kubevirt-migrate-vm-*} for the VM's running VMI. Nothing in qvirt acts on it yet.
     */
    public String migrate(String ns, String name, byte[] body) {
        Options o = Options.parse(body, null);
        VirtualMachine vm = fetchVm(ns, name);
        VirtualMachineInstance vmi = fetchVmiOrNull(ns, name);
        if (vmi == null) {
            throw ApiError.notFound(VMI, name);
        }
        if (!"Running".equals(phase(vmi))) {
            throw ApiError.conflict(VM, name, "VM is not running");
        }
        List<Condition> conds = vm.getStatus() == null ? null : vm.getStatus().getConditions();
        if (conds != null && conds.stream().anyMatch(c -> "Paused".equals(c.getType()) && "True".equals(c.getStatus()))) {
            throw ApiError.conflict(VM, name, "VM is paused");
        }
        GenericKubernetesResource m = new GenericKubernetesResource();
        m.setApiVersion("kubevirt.io/v1");
        m.setKind("VirtualMachineInstanceMigration");
        m.setMetadata(new io.fabric8.kubernetes.api.model.ObjectMetaBuilder().withGenerateName("kubevirt-migrate-vm-")
                .withNamespace(ns).build());
        m.setAdditionalProperty("spec", Map.of("vmiName", name));
        if (o.dryRun()) {
            return null;
        }
        try {
            GenericKubernetesResource made = client.genericKubernetesResources(MIGRATIONS).inNamespace(ns).resource(m).create();
            LOG.info("migrate " + ns + "/" + name + ": created VirtualMachineInstanceMigration " + made.getMetadata().getName()
                    + "; the controller takes it from here");
            return made.getMetadata().getName();
        } catch (KubernetesClientException e) {
            throw ApiError.internal(e.getMessage());
        }
    }

    /**
     * GET .../virtualmachines/{name}/expand-spec: the stored VM expanded ({@link #expand}); what cannot be expanded
     * is a 500, as in KubeVirt ({@code errors.NewInternalError}).
     */
    public JsonNode expandSpec(String ns, String name) {
        return expand(fetchVm(ns, name), ApiError::internal);
    }

    /**
     * PUT .../namespaces/{ns}/expand-vm-spec: the VM in the body expanded in namespace {@code ns} ({@link #expand});
     * what cannot be expanded is a 400, as in KubeVirt ({@code errors.NewBadRequest}).
     */
    public JsonNode expandVmSpec(String ns, byte[] body) {
        VirtualMachine vm;
        try {
            vm = KubevirtJson.json().readValue(body, VirtualMachine.class);
        } catch (java.io.IOException | IllegalArgumentException e) {
            throw ApiError.badRequest("Can not unmarshal Request body to struct, error: " + e.getMessage());
        }
        if (vm == null) {
            throw ApiError.badRequest("empty request body");
        }
        if (vm.getMetadata() == null) {
            vm.setMetadata(new io.fabric8.kubernetes.api.model.ObjectMeta());
        }
        String given = vm.getMetadata().getNamespace();
        if (given != null && !given.isEmpty() && !given.equals(ns)) {
            throw ApiError.badRequest("VM namespace must be empty or " + ns);
        }
        vm.getMetadata().setNamespace(ns);
        return expand(vm, ApiError::badRequest);
    }

    /**
     * KubeVirt's {@code expand.Expand} ({@link InstancetypeExpander#expand}): the VM's instancetype and preference
     * (read from the API server) applied to its template, the template's spec defaults set (with the KubeVirt CR's
     * network settings: a template with no interface gets its defaultNetworkInterface), the matchers removed.
     * The argument is not changed.
     */
    JsonNode expand(VirtualMachine vm, java.util.function.Function<String, ApiError> failure) {
        InstancetypeExpander.Expanded e = InstancetypeExpander.expand(vm, instancetypes, network.get());
        if (!e.errors().isEmpty()) {
            throw failure.apply(expandFailure(e.errors()));
        }
        return KubevirtJson.toTree(e.vm());
    }

    /** KubeVirt's words: conflicts as one {@code Conflicts.Error()}, anything else its own message. */
    static String expandFailure(List<FieldError> errors) {
        List<String> conflicts = errors.stream().filter(f -> f.message().endsWith("conflicts with selected instance type"))
                .map(FieldError::path).toList();
        if (conflicts.size() == errors.size()) {
            return "VM field(s) " + String.join(", ", conflicts) + " conflicts with selected instance type";
        }
        return String.join("; ", errors.stream().map(FieldError::message).toList());
    }

    // ---- KubeVirt's helpers, as facts ----

    VirtualMachine fetchVm(String ns, String name) {
        try {
            VirtualMachine vm = client.resources(VirtualMachine.class).inNamespace(ns).withName(name).get();
            if (vm == null) {
                throw ApiError.notFound(VM, name);
            }
            return vm;
        } catch (KubernetesClientException e) {
            throw ApiError.internal("unable to retrieve vm [" + name + "]: " + e.getMessage());
        }
    }

    VirtualMachineInstance fetchVmiOrNull(String ns, String name) {
        try {
            return client.resources(VirtualMachineInstance.class).inNamespace(ns).withName(name).get();
        } catch (KubernetesClientException e) {
            throw ApiError.internal(e.getMessage());
        }
    }

    /** {@code vm.RunStrategy()}: running true/false is Always/Halted; neither is Halted; both is an error. */
    static String runStrategy(VirtualMachine vm) {
        Boolean running = vm.getSpec() == null ? null : vm.getSpec().getRunning();
        String rs = vm.getSpec() == null ? null : vm.getSpec().getRunStrategy();
        if (running != null && rs != null) {
            throw ApiError.internal("running and runstrategy are mutually exclusive");
        }
        if (running != null) {
            return running ? RunStrategy.ALWAYS : RunStrategy.HALTED;
        }
        return rs == null ? RunStrategy.HALTED : rs;
    }

    static String phase(VirtualMachineInstance vmi) {
        return vmi == null || vmi.getStatus() == null || vmi.getStatus().getPhase() == null ? "" : vmi.getStatus().getPhase();
    }

    static boolean isFinal(VirtualMachineInstance vmi) {
        String p = phase(vmi);
        return "Succeeded".equals(p) || "Failed".equals(p);
    }

    /** The merge patch KubeVirt sends: {@code runStrategy} if the VM uses it, else {@code running}. */
    static String runningPatch(VirtualMachine vm, boolean running) {
        if (vm.getSpec() != null && vm.getSpec().getRunStrategy() != null) {
            return "{\"spec\":{\"runStrategy\": \"" + (running ? RunStrategy.ALWAYS : RunStrategy.HALTED) + "\"}}";
        }
        return "{\"spec\":{\"running\": " + running + "}}";
    }

    static StateChangeRequest request(String action, String uid, Map<String, String> data) {
        StateChangeRequest r = new StateChangeRequest();
        r.setAction(action);
        r.setUid(uid);
        r.setData(data == null || data.isEmpty() ? null : data);
        return r;
    }

    /**
     * The JSON Patch for {@code status.stateChangeRequests}, as KubeVirt's {@code getChangeRequestJson}: an empty
     * status gets {@code add /status}; otherwise a pending request refuses (unless the change is a single Stop,
     * which replaces them). A {@code startFailure} is removed with it. KubeVirt guards the patch with a JSON Patch
     * {@code test} of the requests it saw; qvirt guards it with the VM's resourceVersion instead (the first op
     * replaces it with the version read, so the API server answers 409 if the VM changed), and {@link #start} and
     * the others then decide again from a fresh read. Why: fabric8's mock never answers a failed {@code test}
     * (the request hangs until the client's timeout), and a test of an absent member fails on some servers.
     */
    static String changeRequests(VirtualMachine vm, StateChangeRequest... changes) {
        ArrayNode ops = JsonNodeFactory.instance.arrayNode();
        if (vm.getMetadata().getResourceVersion() != null) {
            ops.addObject().put("op", "replace").put("path", "/metadata/resourceVersion")
                    .put("value", vm.getMetadata().getResourceVersion());
        }
        VirtualMachineStatus st = vm.getStatus();
        JsonNode stTree = st == null ? null : KubevirtJson.toTree(st);
        if (stTree == null || stTree.isEmpty()) {
            ObjectNode value = JsonNodeFactory.instance.objectNode();
            ArrayNode list = value.putArray("stateChangeRequests");
            for (StateChangeRequest c : changes) {
                list.add(KubevirtJson.toTree(c));
            }
            ops.addObject().put("op", "add").put("path", "/status").set("value", value);
        } else {
            boolean failOnConflict = !(changes.length == 1 && "Stop".equals(changes[0].getAction()));
            List<StateChangeRequest> old = st.getStateChangeRequests();
            String verb = "add";
            if (old != null && !old.isEmpty()) {
                if (failOnConflict) {
                    throw ApiError.internal("unable to complete request: stop/start already underway");
                }
                verb = "replace";
            }
            ArrayNode list = JsonNodeFactory.instance.arrayNode();
            for (StateChangeRequest c : changes) {
                list.add(KubevirtJson.toTree(c));
            }
            ops.addObject().put("op", verb).put("path", "/status/stateChangeRequests").set("value", list);
        }
        if (st != null && st.getStartFailure() != null) {
            ops.addObject().put("op", "remove").put("path", "/status/startFailure");
        }
        return ops.toString();
    }

    private void patchStatus(VirtualMachine vm, String jsonPatch, boolean dryRun) {
        if (dryRun) {
            return;
        }
        beforeStatusPatch.accept(vm);
        String name = vm.getMetadata().getName();
        try {
            client.resources(VirtualMachine.class).inNamespace(vm.getMetadata().getNamespace()).withName(name)
                    .subresource("status").patch(PatchContext.of(PatchType.JSON), jsonPatch);
        } catch (KubernetesClientException e) {
            throw patchError(name, e);
        }
    }

    private void patchSpec(VirtualMachine vm, String mergePatch, boolean dryRun) {
        if (dryRun) {
            return;
        }
        String name = vm.getMetadata().getName();
        try {
            client.resources(VirtualMachine.class).inNamespace(vm.getMetadata().getNamespace()).withName(name)
                    .patch(PatchContext.of(PatchType.JSON_MERGE), mergePatch);
        } catch (KubernetesClientException e) {
            throw patchError(name, e);
        }
    }

    /** The VM changed between its read and the status patch guarded by its resourceVersion. */
    private static final class StaleVmException extends RuntimeException {
        StaleVmException() {
            super(null, null, false, false);
        }
    }

    /** Attempts at a state change whose guarded patch keeps meeting a newer VM, before the 409 reaches the caller. */
    static final int ATTEMPTS = 5;

    /** Runs {@code change} (read, decide, patch) again from a fresh read while its patch meets a newer VM. */
    private static void retrying(String name, Runnable change) {
        for (int i = 1; ; i++) {
            try {
                change.run();
                return;
            } catch (StaleVmException e) {
                if (i == ATTEMPTS) {
                    throw ApiError.conflict(VM, name,
                            "the object has been modified; please apply your changes to the latest version and try again");
                }
                // A short, growing, jittered pause (runs on virt-api's worker pool): a writer that just won is
                // often about to write again (the controller's status passes come in bursts).
                try {
                    Thread.sleep(java.util.concurrent.ThreadLocalRandom.current().nextLong(5L * i, 20L * i));
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw ApiError.internal("interrupted");
                }
            }
        }
    }

    /** A 409 (the VM changed since it was read) is retried by {@link #retrying}; the rest is a 500. */
    private static RuntimeException patchError(String name, KubernetesClientException e) {
        if (e.getCode() == 409) {
            return new StaleVmException();
        }
        return ApiError.internal(String.valueOf(e.getMessage()));
    }

    /** The VMI's launcher pod in phase Running (labels {@code kubevirt.io=virt-launcher}, {@code kubevirt.io/created-by}). */
    private Pod runningLauncherPod(String ns, VirtualMachineInstance vmi) {
        List<Pod> pods = client.pods().inNamespace(ns).withLabel("kubevirt.io", "virt-launcher")
                .withLabel("kubevirt.io/created-by", vmi.getMetadata().getUid()).list().getItems();
        return pods.stream().filter(p -> p.getStatus() != null && "Running".equals(p.getStatus().getPhase()))
                .findFirst().orElse(null);
    }
}
