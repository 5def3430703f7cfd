package io.qvirt.controller;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.qvirt.api.KubevirtJson;
import io.qvirt.api.VirtualMachine;
import io.qvirt.api.VirtualMachineInstance;
import io.qvirt.api.model.VirtualMachineStatus;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * A running {@link Controller} against {@link MockApi} (fabric8's CRUD mock API server, not a real
 * kube-apiserver), with helpers that read objects and play the parts the mock has no one for: the
 * scheduler and kubelet (pod node and phase) and the handler (VMI phases).
 */
final class ControllerHarness implements AutoCloseable {
    static final Duration WAIT = Duration.ofSeconds(10);
    static final String NS = "default";

    final MockApi api;
    final KubernetesClient client;
    final Controller controller;
    final KubernetesClient controllerClient;
    final Metrics metrics = new Metrics();

    ControllerHarness(ControllerOptions options) throws Exception {
        this(new MockApi(), options);
    }

    ControllerHarness(MockApi api, ControllerOptions options) throws Exception {
        this.api = api;
        this.client = api.client;
        long t0 = System.nanoTime();
        this.controllerClient = api.newClient("controller");
        this.controller = new Controller(controllerClient, options, metrics);
        controller.start(WAIT, true);
        long ms = (System.nanoTime() - t0) / 1_000_000;
        if (ms > 2000) {
            System.err.println("slow start: " + ms + " ms");
        }
    }

    /**
     * Test options: namespace default, 2 workers, crash-loop back-off {@code 1 s x n^2} (+ up to 50%) capped at
     * 4 s (KubeVirt's is 10 s and 300 s).
     */
    static ControllerOptions options() {
        return ControllerOptions.standard().withNamespace(NS).withWorkers(2)
                .withCrashLoop(Duration.ofSeconds(1), Duration.ofSeconds(4));
    }

    VirtualMachine vm(String name) {
        return client.resources(VirtualMachine.class).inNamespace(NS).withName(name).get();
    }

    VirtualMachineInstance vmi(String name) {
        return client.resources(VirtualMachineInstance.class).inNamespace(NS).withName(name).get();
    }

    List<Pod> pods() {
        return client.pods().inNamespace(NS).withLabel(LauncherPods.APP_LABEL, LauncherPods.APP_LAUNCHER).list()
                .getItems();
    }

    List<Pod> podsOf(VirtualMachineInstance vmi) {
        return client.pods().inNamespace(NS).withLabel(LauncherPods.CREATED_BY_LABEL, vmi.getMetadata().getUid())
                .list().getItems();
    }

    VirtualMachine create(VirtualMachine vm) {
        return client.resource(vm).create();
    }

    void patchVm(String name, String mergePatch) {
        client.resources(VirtualMachine.class).inNamespace(NS).withName(name)
                .patch(PatchContext.of(PatchType.JSON_MERGE), mergePatch);
    }

    /** Sets one field of the VM's status (as virtctl does for stateChangeRequests). */
    void setVmStatusField(String name, String field, String json) {
        client.resources(VirtualMachine.class).inNamespace(NS).withName(name).subresource("status")
                .patch(PatchContext.of(PatchType.JSON), "[{\"op\":\"add\",\"path\":\"/status/" + field
                        + "\",\"value\":" + json + "}]");
    }

    String printable(String name) {
        VirtualMachine vm = vm(name);
        VirtualMachineStatus s = vm == null ? null : vm.getStatus();
        return s == null ? null : s.getPrintableStatus();
    }

    /** Waits for the VM's printableStatus. */
    void awaitPrintable(String name, String expected) {
        try {
            MockApi.await(WAIT, "VM " + name + " printableStatus " + expected, () -> expected.equals(printable(name)));
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "\n" + dump(name), e);
        }
    }

    /** The VM's status, the VMI and the launcher pods' statuses, for a failure message. */
    String dump(String name) {
        VirtualMachine vm = vm(name);
        VirtualMachineInstance vmi = vmi(name);
        StringBuilder b = new StringBuilder();
        b.append("VM status: ").append(vm == null ? "gone" : KubevirtJson.toJson(vm.getStatus())).append('\n');
        b.append("VMI: ").append(vmi == null ? "none" : KubevirtJson.toJson(vmi.getMetadata()) + " "
                + KubevirtJson.toJson(vmi.getStatus())).append('\n');
        for (Pod p : pods()) {
            b.append("pod ").append(p.getMetadata().getName()).append(": ")
                    .append(KubevirtJson.toJson(p.getStatus())).append('\n');
        }
        return b.toString();
    }

    /** Waits for a VMI of this name that is not {@code notUid} and returns it. */
    VirtualMachineInstance awaitVmi(String name, String notUid) {
        return MockApi.awaitValue(WAIT, "a new VMI " + name, () -> {
            VirtualMachineInstance v = vmi(name);
            return v != null && !v.getMetadata().getUid().equals(notUid) ? v : null;
        });
    }

    Pod awaitPod(VirtualMachineInstance vmi) {
        return MockApi.awaitValue(WAIT, "launcher pod of " + vmi.getMetadata().getName(), () -> {
            List<Pod> p = podsOf(vmi);
            return p.isEmpty() ? null : p.get(0);
        });
    }

    /** The scheduler and kubelet: the pod is bound to {@code node} and its containers run. */
    void podRunning(Pod pod, String node) {
        client.pods().inNamespace(NS).withName(pod.getMetadata().getName())
                .patch(PatchContext.of(PatchType.JSON), "[{\"op\":\"add\",\"path\":\"/spec/nodeName\",\"value\":\""
                        + node + "\"}]");
        podStatus(pod, "{\"phase\":\"Running\",\"podIP\":\"10.0.0.7\",\"conditions\":[{\"type\":\"PodScheduled\","
                + "\"status\":\"True\"}]}");
    }

    /**
     * Replaces the pod's whole status (a JSON Patch: the mock's merge patch appends to lists, where the
     * real API server replaces them).
     */
    void podStatus(Pod pod, String statusJson) {
        try {
            client.pods().inNamespace(NS).withName(pod.getMetadata().getName()).subresource("status")
                    .patch(PatchContext.of(PatchType.JSON), "[{\"op\":\"add\",\"path\":\"/status\",\"value\":"
                            + statusJson + "}]");
        } catch (io.fabric8.kubernetes.client.KubernetesClientException e) {
            if (e.getCode() != 404) {
                throw e;
            }
            // deleted meanwhile: the kubelet has nothing to report
        }
    }

    /**
     * The handler: writes the VMI's phase (and Ready for Running) with a plain update, as KubeVirt's
     * virt-handler does (no status subresource on VMIs).
     *
     * @param runningSince for Running, the transition time to record (to age a VMI); null for now
     */
    void vmiPhase(String name, String phase, Instant runningSince) {
        String now = Instant.now().toString();
        String ready = "Running".equals(phase)
                ? "[{\"type\":\"Ready\",\"status\":\"True\",\"lastTransitionTime\":\"" + now + "\"}]"
                : "[{\"type\":\"Ready\",\"status\":\"False\",\"reason\":\"PodTerminating\"}]";
        String transitions = "Running".equals(phase) ? "[{\"phase\":\"Running\",\"phaseTransitionTimestamp\":\""
                + (runningSince == null ? now : runningSince.toString()) + "\"}]"
                : "[{\"phase\":\"" + phase + "\",\"phaseTransitionTimestamp\":\"" + now + "\"}]";
        VirtualMachineInstance cur = vmi(name);
        if ("Succeeded".equals(phase) || "Failed".equals(phase)) {
            // keep the Running transition, as the handler appends to the list
            var old = cur.getStatus() == null ? null : cur.getStatus().getPhaseTransitionTimestamps();
            if (old != null && !old.isEmpty()) {
                String prev = KubevirtJson.toJson(old);
                transitions = prev.substring(0, prev.length() - 1) + "," + transitions.substring(1);
            }
        }
        client.resources(VirtualMachineInstance.class).inNamespace(NS).withName(name)
                .patch(PatchContext.of(PatchType.JSON), "[{\"op\":\"add\",\"path\":\"/status/phase\",\"value\":\""
                        + phase + "\"},{\"op\":\"add\",\"path\":\"/status/phaseTransitionTimestamps\",\"value\":"
                        + transitions + "},{\"op\":\"add\",\"path\":\"/status/conditions\",\"value\":"
                        + ready + "}]");
    }

    /** Takes a fresh VMI all the way to Running on node1: pod scheduled and running, handler reports Running. */
    VirtualMachineInstance runToRunning(String name, String notUid) {
        VirtualMachineInstance vmi = awaitVmi(name, notUid);
        Pod pod = awaitPod(vmi);
        podRunning(pod, "node1");
        MockApi.await(WAIT, "VMI " + name + " Scheduled", () -> "Scheduled".equals(VmReconciler.phase(vmi(name))));
        vmiPhase(name, "Running", null);
        awaitPrintable(name, "Running");
        return vmi(name);
    }

    @Override
    public void close() {
        long t0 = System.nanoTime();
        controller.close();
        controllerClient.close(); // an open connection keeps the mock server from shutting down
        api.close();
        long ms = (System.nanoTime() - t0) / 1_000_000;
        if (ms > 2000) {
            System.err.println("slow close: " + ms + " ms");
        }
    }
}
