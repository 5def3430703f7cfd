package io.qvirt.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.mockwebserver.http.Dispatcher;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.qvirt.api.VirtualMachine;
import io.qvirt.api.VirtualMachineInstance;
import io.qvirt.api.model.Condition;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The launcher pod's state against the VMI's phase, row by row as KubeVirt's VMI controller
 * ({@code pkg/virt-controller/watch/vmi/lifecycle.go}): a pod that is down or going down (phase Succeeded or
 * Failed, the {@code compute} container terminated, or the pod deleted) fails the VMI only while it is being
 * scheduled; from Scheduled on the handler owns the phase, and only a missing pod fails the VMI. On fabric8's
 * CRUD mock API server (not a real kube-apiserver); the test plays kubelet and handler.
 */
class VmiPodLifecycleTest extends WithController {
    private static final Duration QUIET = Duration.ofMillis(800);

    private static final String COMPUTE_RUNNING = "{\"name\":\"compute\",\"image\":\"l\",\"ready\":true,"
            + "\"state\":{\"running\":{}}}";
    private static final String COMPUTE_EXITED = "{\"name\":\"compute\",\"image\":\"l\",\"ready\":false,"
            + "\"state\":{\"terminated\":{\"exitCode\":0,\"reason\":\"Completed\"}}}";
    private static final String DISK_SLEEPING = "{\"name\":\"volumecontainerdisk\",\"image\":\"d\",\"ready\":true,"
            + "\"state\":{\"running\":{}}}";
    private static final String DISK_STARTING = "{\"name\":\"volumecontainerdisk\",\"image\":\"d\",\"ready\":false,"
            + "\"state\":{\"running\":{}}}";

    private static String podStatus(String phase, String compute, String disk) {
        return "{\"phase\":\"" + phase + "\",\"conditions\":[{\"type\":\"PodScheduled\",\"status\":\"True\"}],"
                + "\"containerStatuses\":[" + compute + "," + disk + "]}";
    }

    private static String container(String name) {
        return switch (name) {
            case "running" -> COMPUTE_RUNNING;
            case "exited" -> COMPUTE_EXITED;
            case "sleeping" -> DISK_SLEEPING;
            case "starting" -> DISK_STARTING;
            default -> throw new IllegalArgumentException(name);
        };
    }

    /**
     * A VM with runStrategy Once (a failed VMI stays to be looked at) whose VMI is taken to {@code phase} with
     * its pod bound to node1.
     */
    private VirtualMachineInstance vmiIn(String phase) {
        VirtualMachine vm = MockApi.seedVm();
        vm.getSpec().setRunning(null);
        vm.getSpec().setRunStrategy("Once");
        h.create(vm);
        VirtualMachineInstance vmi = h.awaitVmi("testvm", null);
        Pod pod = h.awaitPod(vmi);
        MockApi.await(ControllerHarness.WAIT, "VMI Scheduling", () -> "Scheduling".equals(phase()));
        if (phase.equals("Scheduling")) {
            // bound to a node, containers still starting
            h.client.pods().inNamespace("default").withName(pod.getMetadata().getName())
                    .patch(io.fabric8.kubernetes.client.dsl.base.PatchContext.of(
                            io.fabric8.kubernetes.client.dsl.base.PatchType.JSON),
                            "[{\"op\":\"add\",\"path\":\"/spec/nodeName\",\"value\":\"node1\"}]");
            return h.vmi("testvm");
        }
        h.podRunning(pod, "node1");
        MockApi.await(ControllerHarness.WAIT, "VMI Scheduled", () -> "Scheduled".equals(phase()));
        if (phase.equals("Running")) {
            h.vmiPhase("testvm", "Running", null);
            h.awaitPrintable("testvm", "Running");
        }
        return h.vmi("testvm");
    }

    private String phase() {
        VirtualMachineInstance v = h.vmi("testvm");
        return v == null ? "(none)" : VmReconciler.phase(v);
    }

    private void assertPhaseStays(String phase, String why) throws InterruptedException {
        long end = System.nanoTime() + QUIET.toNanos();
        while (System.nanoTime() < end) {
            assertEquals(phase, phase(), () -> why + "\n" + h.dump("testvm"));
            Thread.sleep(50);
        }
    }

    /**
     * VMI phase x pod phase x compute container x disk container -> the VMI's phase. "Failed" rows fail on
     * the controller; the others are left as they are (Scheduling waits, later phases are the handler's).
     */
    @ParameterizedTest(name = "VMI {0}, pod {1}, compute {2}, disk {3} -> {4}")
    @CsvSource({
        // while scheduling: the hand-over needs the compute container running and the others ready
        "Scheduling, Running,   running, sleeping, Scheduled",
        "Scheduling, Running,   running, starting, Scheduling",
        "Scheduling, Running,   exited,  sleeping, Failed",
        "Scheduling, Succeeded, exited,  sleeping, Failed",
        "Scheduling, Failed,    exited,  sleeping, Failed",
        // after the hand-over the handler writes Succeeded/Failed: a finished pod does not fail the VMI
        "Scheduled,  Succeeded, exited,  sleeping, Scheduled",
        "Scheduled,  Running,   exited,  sleeping, Scheduled",
        "Running,    Succeeded, exited,  sleeping, Running",
        "Running,    Failed,    exited,  sleeping, Running",
        "Running,    Running,   exited,  sleeping, Running",
    })
    void podStateAgainstVmiPhase(String vmiPhase, String podPhase, String compute, String disk, String expected)
            throws Exception {
        VirtualMachineInstance vmi = vmiIn(vmiPhase);
        Pod pod = h.awaitPod(vmi);
        h.podStatus(pod, podStatus(podPhase, container(compute), container(disk)));
        if (expected.equals(vmiPhase)) {
            assertPhaseStays(vmiPhase, "pod " + podPhase + "/" + compute + " must leave a " + vmiPhase + " VMI alone");
            if (!"Scheduling".equals(vmiPhase)) {
                assertEquals(1, h.podsOf(vmi).size(), "the pod stays while the handler owns the VMI");
            }
        } else {
            try {
                MockApi.await(ControllerHarness.WAIT, "VMI " + expected, () -> expected.equals(phase()));
            } catch (AssertionError e) {
                throw new AssertionError(e.getMessage() + "\n" + h.dump("testvm"), e);
            }
        }
        if ("Scheduled".equals(expected)) {
            assertEquals("node1", h.vmi("testvm").getMetadata().getLabels().get(VmiReconciler.NODE_NAME_LABEL));
        }
    }

    /** A VMI past scheduling whose pod is gone: failed by the controller (KubeVirt: "pod does not exist"). */
    @ParameterizedTest(name = "VMI {0}, pod deleted -> Failed")
    @CsvSource({"Scheduled", "Running"})
    void missingPodFailsTheVmi(String vmiPhase) {
        VirtualMachineInstance vmi = vmiIn(vmiPhase);
        h.client.pods().inNamespace("default").resource(h.awaitPod(vmi)).withGracePeriod(0).delete();
        MockApi.await(ControllerHarness.WAIT, "VMI Failed", () -> "Failed".equals(phase()));
        assertEquals("PodDisappeared", h.vmi("testvm").getStatus().getReason());
    }

    /**
     * The VMI's Ready condition before the handler takes over, as KubeVirt's syncReadyConditionFromPod: False
     * with reason GuestNotRunning while scheduling (copied to the VM); the handler's Ready after Running is kept.
     */
    @Test
    void readyConditionBeforeAndAfterTheHandOver() throws InterruptedException {
        VirtualMachineInstance vmi = vmiIn("Scheduling");
        MockApi.await(ControllerHarness.WAIT, "VMI Ready False GuestNotRunning", () -> {
            Condition r = Objects2.condition(h.vmi("testvm").getStatus().getConditions(), "Ready");
            return r != null && "False".equals(r.getStatus()) && "GuestNotRunning".equals(r.getReason());
        });
        MockApi.await(ControllerHarness.WAIT, "VM Ready condition copied", () -> {
            Condition r = Objects2.condition(h.vm("testvm").getStatus().getConditions(), "Ready");
            return r != null && "GuestNotRunning".equals(r.getReason());
        });
        h.podRunning(h.awaitPod(vmi), "node1");
        MockApi.await(ControllerHarness.WAIT, "VMI Scheduled", () -> "Scheduled".equals(phase()));
        h.vmiPhase("testvm", "Running", null); // the handler: Ready True
        MockApi.await(ControllerHarness.WAIT, "VM ready", () -> Boolean.TRUE.equals(h.vm("testvm").getStatus().getReady()));
        // the pod finishing a moment before the handler's final phase changes nothing of the handler's
        h.podStatus(h.awaitPod(vmi), podStatus("Running", COMPUTE_EXITED, DISK_SLEEPING));
        long end = System.nanoTime() + QUIET.toNanos();
        while (System.nanoTime() < end) {
            assertTrue(Objects2.isTrue(h.vmi("testvm").getStatus().getConditions(), "Ready"), h.dump("testvm"));
            Thread.sleep(50);
        }
    }

    /** KubeVirt's activePods (pod uid -> node) and the pod's qosClass while scheduling, on the VMI. */
    @Test
    void activePodsAndQosClass() {
        VirtualMachineInstance vmi = vmiIn("Scheduling");
        Pod pod = h.awaitPod(vmi);
        h.podStatus(pod, "{\"phase\":\"Pending\",\"qosClass\":\"Burstable\",\"conditions\":[{\"type\":"
                + "\"PodScheduled\",\"status\":\"True\"}]}");
        MockApi.await(ControllerHarness.WAIT, "qosClass and activePods", () -> {
            VirtualMachineInstance v = h.vmi("testvm");
            Object active = v.getStatus().getActivePods();
            return "Burstable".equals(v.getStatus().getQosClass())
                    && java.util.Map.of(pod.getMetadata().getUid(), "node1").equals(active);
        });
    }

    /**
     * KubeVirt's volumeStatus from the hand-over on: an entry per volume; what the handler adds to an entry
     * stays.
     */
    @Test
    void volumeStatusFromTheHandOver() throws InterruptedException {
        VirtualMachineInstance vmi = vmiIn("Running");
        List<String> names = vmi.getSpec().getVolumes().stream().map(io.qvirt.api.model.Volume::getName).toList();
        MockApi.await(ControllerHarness.WAIT, "an entry per volume", () -> {
            Object vs = h.vmi("testvm").getStatus().getAdditionalProperties().get("volumeStatus");
            return vs instanceof List<?> l && l.size() == names.size()
                    && l.stream().map(e -> ((java.util.Map<?, ?>) e).get("name")).toList().equals(names);
        });
        // the handler fills in a target
        h.client.resources(VirtualMachineInstance.class).inNamespace("default").withName("testvm").patch(
                io.fabric8.kubernetes.client.dsl.base.PatchContext.of(io.fabric8.kubernetes.client.dsl.base.PatchType.JSON),
                "[{\"op\":\"add\",\"path\":\"/status/volumeStatus/0/target\",\"value\":\"vda\"}]");
        h.podStatus(h.awaitPod(vmi), podStatus("Running", COMPUTE_RUNNING, DISK_SLEEPING)); // another pass
        long end = System.nanoTime() + QUIET.toNanos();
        while (System.nanoTime() < end) {
            List<?> vs = (List<?>) h.vmi("testvm").getStatus().getAdditionalProperties().get("volumeStatus");
            assertEquals("vda", ((java.util.Map<?, ?>) vs.get(0)).get("target"), "the handler's target is kept");
            Thread.sleep(50);
        }
    }

    private String unpaused(Pod pod) {
        Pod p = h.client.pods().inNamespace("default").withName(pod.getMetadata().getName()).get();
        return p == null || p.getStatus() == null || p.getStatus().getConditions() == null ? null
                : p.getStatus().getConditions().stream()
                        .filter(c -> "kubevirt.io/virtual-machine-unpaused".equals(c.getType()))
                        .map(c -> c.getStatus()).findFirst().orElse(null);
    }

    /**
     * The handler's Paused condition: the VM shows Paused, and the pod's readiness gate condition
     * {@code kubevirt.io/virtual-machine-unpaused} turns False (KubeVirt's syncPausedConditionToPod), then True
     * again on unpause. The handler's conditions stay as it wrote them.
     */
    @Test
    void pausedVmiShowsOnVmAndPodReadinessGate() {
        VirtualMachineInstance vmi = vmiIn("Running");
        Pod pod = h.awaitPod(vmi);
        MockApi.await(ControllerHarness.WAIT, "unpaused True", () -> "True".equals(unpaused(pod)));
        String now = java.time.Instant.now().toString();
        String running = "{\"type\":\"Ready\",\"status\":\"True\",\"lastTransitionTime\":\"" + now + "\"}";
        String paused = "{\"type\":\"Paused\",\"status\":\"True\",\"reason\":\"PausedByUser\","
                + "\"lastTransitionTime\":\"" + now + "\"}";
        var vmis = h.client.resources(VirtualMachineInstance.class).inNamespace("default").withName("testvm");
        vmis.patch(io.fabric8.kubernetes.client.dsl.base.PatchContext.of(io.fabric8.kubernetes.client.dsl.base.PatchType.JSON),
                "[{\"op\":\"add\",\"path\":\"/status/conditions\",\"value\":[" + running + "," + paused + "]}]");
        h.awaitPrintable("testvm", "Paused");
        MockApi.await(ControllerHarness.WAIT, "unpaused False", () -> "False".equals(unpaused(pod)));
        assertEquals("PausedByUser", Objects2.condition(h.vmi("testvm").getStatus().getConditions(), "Paused").getReason(),
                "the handler's condition is kept");
        vmis.patch(io.fabric8.kubernetes.client.dsl.base.PatchContext.of(io.fabric8.kubernetes.client.dsl.base.PatchType.JSON),
                "[{\"op\":\"add\",\"path\":\"/status/conditions\",\"value\":[" + running + "]}]");
        h.awaitPrintable("testvm", "Running");
        MockApi.await(ControllerHarness.WAIT, "unpaused True again", () -> "True".equals(unpaused(pod)));
    }

    /**
     * A final VMI's pod: KubeVirt keeps the completed pod (its logs) and the VMI's finalizer until the VMI is
     * deleted. A pod still running (its containerDisk containers sleep after compute exited) is deleted, or it
     * would hold its node's resources for ever.
     */
    @ParameterizedTest(name = "final VMI, pod {0} -> kept={1}")
    @CsvSource({"Succeeded, true", "Running, false"})
    void finalVmiPod(String podPhase, boolean kept) throws Exception {
        VirtualMachine vm = MockApi.seedVm();
        vm.getSpec().setRunStrategy("Once");
        vm.getSpec().setRunning(null);
        h.create(vm);
        VirtualMachineInstance vmi = h.runToRunning("testvm", null);
        Pod pod = h.awaitPod(vmi);
        h.vmiPhase("testvm", "Succeeded", null);
        h.podStatus(pod, podStatus(podPhase, COMPUTE_EXITED, "Succeeded".equals(podPhase)
                ? "{\"name\":\"volumecontainerdisk\",\"image\":\"d\",\"ready\":false,\"state\":{\"terminated\":{\"exitCode\":0}}}"
                : DISK_SLEEPING));
        h.awaitPrintable("testvm", "Stopped");
        if (kept) {
            long end = System.nanoTime() + QUIET.toNanos();
            while (System.nanoTime() < end) {
                assertEquals(1, h.podsOf(vmi).size(), "the completed pod is kept for its logs");
                Thread.sleep(50);
            }
            assertTrue(h.vmi("testvm").getMetadata().getFinalizers().contains(VmiReconciler.VMI_FINALIZER));
        } else {
            MockApi.await(ControllerHarness.WAIT, "pod deleted", () -> h.podsOf(vmi).isEmpty());
            MockApi.await(ControllerHarness.WAIT, "VMI finalizer released", () -> {
                List<String> f = h.vmi("testvm").getMetadata().getFinalizers();
                return f == null || !f.contains(VmiReconciler.VMI_FINALIZER);
            });
        }
    }

    /** Refuses pod creation as Pod Security admission does, while {@link #refuse} is set. */
    static final class RefusingDispatcher extends Dispatcher {
        final Dispatcher crud;
        volatile boolean refuse = true;

        RefusingDispatcher(Dispatcher crud) {
            this.crud = crud;
        }

        @Override
        public MockResponse dispatch(RecordedRequest request) {
            if (refuse && "POST".equals(request.getMethod()) && request.getPath().startsWith("/api/v1/namespaces/default/pods")) {
                return new MockResponse().setResponseCode(403).setBody("{\"kind\":\"Status\",\"apiVersion\":\"v1\","
                        + "\"status\":\"Failure\",\"code\":403,\"reason\":\"Forbidden\",\"message\":\"pods \\\"x\\\" is "
                        + "forbidden: violates PodSecurity \\\"restricted:latest\\\"\"}");
            }
            return crud.dispatch(request);
        }

        @Override
        public void shutdown() {
            crud.shutdown();
        }
    }

    /**
     * A pod the API server refuses: KubeVirt's Synchronized=False reason FailedCreate on the VMI, copied to the
     * VM, and a Warning Event FailedCreate; once the pod can be created the condition goes.
     */
    @Test
    void refusedPodCreationIsAConditionAndAnEvent() throws Exception {
        h.close();
        RefusingDispatcher[] d = new RefusingDispatcher[1];
        ControllerOptions o = ControllerHarness.options();
        // failed reconciles retried at most 1 s apart, so the test sees the retry after the fix soon
        o = new ControllerOptions(o.namespace(), o.kubevirtNamespace(), o.workers(), o.defaults(), o.crashLoopBase(),
                o.crashLoopMax(), o.retryBase(), Duration.ofSeconds(1), o.resync());
        h = new ControllerHarness(new MockApi(crud -> d[0] = new RefusingDispatcher(crud)), o);
        VirtualMachine vm = MockApi.seedVm();
        vm.getSpec().setRunning(true);
        h.create(vm);
        MockApi.await(ControllerHarness.WAIT, "VM condition Synchronized FailedCreate", () -> {
            VirtualMachine v = h.vm("testvm");
            Condition c = v.getStatus() == null ? null : Objects2.condition(v.getStatus().getConditions(), "Synchronized");
            return c != null && "False".equals(c.getStatus()) && "FailedCreate".equals(c.getReason());
        });
        VirtualMachineInstance vmi = h.vmi("testvm");
        assertEquals("Pending", VmReconciler.phase(vmi));
        Condition sync = Objects2.condition(vmi.getStatus().getConditions(), "Synchronized");
        assertTrue(sync.getMessage().contains("violates PodSecurity"), sync.getMessage());
        List<Event> events = h.client.v1().events().inNamespace("default").list().getItems();
        Event failed = events.stream().filter(e -> "FailedCreate".equals(e.getReason())).findFirst().orElse(null);
        assertNotNull(failed, "a FailedCreate event");
        assertEquals("Warning", failed.getType());
        assertEquals("VirtualMachineInstance", failed.getInvolvedObject().getKind());
        assertEquals(vmi.getMetadata().getUid(), failed.getInvolvedObject().getUid());

        d[0].refuse = false; // the namespace is fixed: the retry creates the pod
        h.awaitPod(vmi);
        MockApi.await(ControllerHarness.WAIT, "FailedCreate cleared", () -> Objects2.condition(
                h.vmi("testvm").getStatus().getConditions(), "Synchronized") == null);
        h.awaitPrintable("testvm", "Starting");
    }
}
