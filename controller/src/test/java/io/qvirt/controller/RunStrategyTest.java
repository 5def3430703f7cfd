package io.qvirt.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.Pod;
import io.qvirt.api.VirtualMachine;
import io.qvirt.api.VirtualMachineInstance;
import io.qvirt.api.model.StartFailure;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * KubeVirt's run strategies, transition by transition, against fabric8's CRUD mock API server (not a real
 * kube-apiserver). The tests play the handler by writing VMI phases (Succeeded, Failed) as it would.
 */
class RunStrategyTest extends WithController {
    /** How long "nothing happens" is watched for. */
    private static final Duration QUIET = Duration.ofMillis(800);

    private VirtualMachine vm(String strategy) {
        VirtualMachine vm = MockApi.seedVm();
        vm.getSpec().setRunning(null);
        vm.getSpec().setRunStrategy(strategy);
        return vm;
    }

    private void assertNoVmiFor(Duration d, String why) throws InterruptedException {
        long end = System.nanoTime() + d.toNanos();
        while (System.nanoTime() < end) {
            assertNull(h.vmi("testvm"), why);
            Thread.sleep(50);
        }
    }

    private void assertVmiStaysFor(Duration d, String uid, String why) throws InterruptedException {
        long end = System.nanoTime() + d.toNanos();
        while (System.nanoTime() < end) {
            VirtualMachineInstance v = h.vmi("testvm");
            assertNotNull(v, why);
            assertEquals(uid, v.getMetadata().getUid(), why);
            Thread.sleep(50);
        }
    }

    /**
     * The table: strategy, what the handler reports, whether a new VMI follows, and the printableStatus
     * while no new one runs. (Failed under Always/RerunOnFailure restarts after the crash-loop back-off.)
     */
    @ParameterizedTest(name = "{0}: VMI {1} -> restart={2}")
    @CsvSource({
        "Always,         Succeeded, true,  ",
        "Always,         Failed,    true,  ",
        "RerunOnFailure, Succeeded, false, Stopped",
        "RerunOnFailure, Failed,    true,  ",
        "Once,           Succeeded, false, Stopped",
        "Once,           Failed,    false, Stopped",
    })
    void finishedVmi(String strategy, String phase, boolean restart, String printable) throws Exception {
        h.create(vm(strategy));
        VirtualMachineInstance first = h.runToRunning("testvm", null);
        assertEquals(strategy, h.vm("testvm").getStatus().getRunStrategy());
        h.vmiPhase("testvm", phase, null);
        if (restart) {
            VirtualMachineInstance second = h.awaitVmi("testvm", first.getMetadata().getUid());
            assertNotEquals(first.getMetadata().getUid(), second.getMetadata().getUid());
            h.runToRunning("testvm", first.getMetadata().getUid());
        } else {
            h.awaitPrintable("testvm", printable);
            assertVmiStaysFor(QUIET, first.getMetadata().getUid(), strategy + " must not restart after " + phase);
            // QEMU quits after the handler's final phase; the containerDisk container keeps the pod running
            h.podStatus(h.awaitPod(first), "{\"phase\":\"Running\",\"containerStatuses\":[{\"name\":\"compute\","
                    + "\"image\":\"l\",\"state\":{\"terminated\":{\"exitCode\":0}}}]}");
            MockApi.await(ControllerHarness.WAIT, "launcher pod cleaned up", () -> h.podsOf(first).isEmpty());
            assertEquals(Boolean.FALSE, h.vm("testvm").getStatus().getReady());
        }
    }

    @Test
    void alwaysRecreatesADeletedVmi() {
        h.create(vm("Always"));
        VirtualMachineInstance first = h.runToRunning("testvm", null);
        h.client.resource(first).delete(); // someone deletes the VMI; the handler reports the guest stopped
        h.vmiPhase("testvm", "Succeeded", null);
        VirtualMachineInstance second = h.awaitVmi("testvm", first.getMetadata().getUid());
        assertNotNull(second);
    }

    @Test
    void haltedNeverStarts() throws Exception {
        h.create(vm("Halted"));
        h.awaitPrintable("testvm", "Stopped");
        assertNoVmiFor(QUIET, "Halted must not create a VMI");
        assertTrue(h.pods().isEmpty());
    }

    @Test
    void manualActsOnlyOnStateChangeRequests() throws Exception {
        h.create(vm("Manual"));
        h.awaitPrintable("testvm", "Stopped");
        assertNoVmiFor(QUIET, "Manual must not start by itself");

        h.setVmStatusField("testvm", "stateChangeRequests", "[{\"action\":\"Start\"}]");
        VirtualMachineInstance vmi = h.runToRunning("testvm", null);
        MockApi.await(ControllerHarness.WAIT, "Start request consumed",
                () -> h.vm("testvm").getStatus().getStateChangeRequests() == null);

        // A finished VMI stays under Manual.
        h.vmiPhase("testvm", "Succeeded", null);
        h.awaitPrintable("testvm", "Stopped");
        assertVmiStaysFor(QUIET, vmi.getMetadata().getUid(), "Manual must not restart");

        // Start again: the finished VMI is replaced.
        h.setVmStatusField("testvm", "stateChangeRequests", "[{\"action\":\"Start\"}]");
        VirtualMachineInstance second = h.runToRunning("testvm", vmi.getMetadata().getUid());
        MockApi.await(ControllerHarness.WAIT, "second Start consumed",
                () -> h.vm("testvm").getStatus().getStateChangeRequests() == null);

        // Stop with the VMI's uid: deleted gracefully; the handler stops the guest.
        h.setVmStatusField("testvm", "stateChangeRequests",
                "[{\"action\":\"Stop\",\"uid\":\"" + second.getMetadata().getUid() + "\"}]");
        MockApi.await(ControllerHarness.WAIT, "VMI marked for deletion",
                () -> h.vmi("testvm") != null && Objects2.deleting(h.vmi("testvm")));
        h.awaitPrintable("testvm", "Stopping");
        h.vmiPhase("testvm", "Succeeded", null);
        MockApi.await(ControllerHarness.WAIT, "VMI gone", () -> h.vmi("testvm") == null);
        h.awaitPrintable("testvm", "Stopped");
        MockApi.await(ControllerHarness.WAIT, "Stop request consumed",
                () -> h.vm("testvm").getStatus().getStateChangeRequests() == null);
        assertNoVmiFor(QUIET, "Manual stays stopped after Stop");
    }

    @Test
    void rerunOnFailureBacksOffThenResetsAfterALongRun() throws Exception {
        h.create(vm("RerunOnFailure"));
        VirtualMachineInstance first = h.runToRunning("testvm", null);

        // 1st failure: back-off 1 s.
        Instant failed1 = Instant.now();
        h.vmiPhase("testvm", "Failed", null);
        h.awaitPrintable("testvm", "CrashLoopBackOff");
        StartFailure f1 = h.vm("testvm").getStatus().getStartFailure();
        assertEquals(1, f1.getConsecutiveFailCount());
        assertEquals(first.getMetadata().getUid(), f1.getLastFailedVMIUID());
        VirtualMachineInstance second = h.awaitVmi("testvm", first.getMetadata().getUid());
        long waited1 = Duration.between(failed1, Instant.now()).toMillis();
        assertTrue(waited1 >= 900, "restarted after " + waited1 + " ms, before the 1 s back-off");

        // 2nd failure right after start: back-off doubles to 2 s.
        h.runToRunning("testvm", first.getMetadata().getUid());
        Instant failed2 = Instant.now();
        h.vmiPhase("testvm", "Failed", null);
        MockApi.await(ControllerHarness.WAIT, "second failure counted", () -> {
            StartFailure f = h.vm("testvm").getStatus().getStartFailure();
            return f != null && f.getConsecutiveFailCount() == 2;
        });
        h.awaitPrintable("testvm", "CrashLoopBackOff");
        VirtualMachineInstance third = h.awaitVmi("testvm", second.getMetadata().getUid());
        long waited2 = Duration.between(failed2, Instant.now()).toMillis();
        assertTrue(waited2 >= 1900, "restarted after " + waited2 + " ms, before the 2 s back-off");

        // 3rd VMI ran longer than the reset time (3 s) before failing: the count starts afresh.
        Pod pod = h.awaitPod(third);
        h.podRunning(pod, "node1");
        MockApi.await(ControllerHarness.WAIT, "Scheduled", () -> "Scheduled".equals(VmReconciler.phase(h.vmi("testvm"))));
        h.vmiPhase("testvm", "Running", Instant.now().minusSeconds(10));
        h.awaitPrintable("testvm", "Running");
        h.vmiPhase("testvm", "Failed", null);
        MockApi.await(ControllerHarness.WAIT, "count reset to 1", () -> {
            StartFailure f = h.vm("testvm").getStatus().getStartFailure();
            return f != null && third.getMetadata().getUid().equals(f.getLastFailedVMIUID())
                    && f.getConsecutiveFailCount() == 1;
        });
    }

    @Test
    void haltedWhileRunningStopsGracefully() throws Exception {
        VirtualMachine vm = vm("Always");
        h.create(vm);
        VirtualMachineInstance vmi = h.runToRunning("testvm", null);
        Pod pod = h.awaitPod(vmi);

        h.patchVm("testvm", "{\"spec\":{\"runStrategy\":\"Halted\"}}");
        MockApi.await(ControllerHarness.WAIT, "VMI marked for deletion", () -> Objects2.deleting(h.vmi("testvm")));
        h.awaitPrintable("testvm", "Stopping");
        // Within the grace period (30 s) the pod stays: deleting it would SIGTERM QEMU, not shut the guest down.
        Thread.sleep(QUIET.toMillis());
        assertEquals(1, h.podsOf(vmi).size(), "launcher pod deleted before the guest stopped");
        assertNotNull(h.vmi("testvm"));

        h.vmiPhase("testvm", "Succeeded", null); // the handler: guest powered off
        MockApi.await(ControllerHarness.WAIT, "pod deleted", () -> h.client.pods().inNamespace("default")
                .withName(pod.getMetadata().getName()).get() == null);
        MockApi.await(ControllerHarness.WAIT, "VMI gone", () -> h.vmi("testvm") == null);
        h.awaitPrintable("testvm", "Stopped");
        assertNoVmiFor(QUIET, "Halted must not restart");
    }

    @Test
    void gracePeriodExpiryDeletesThePodAnyway() throws Exception {
        VirtualMachine vm = vm("Always");
        vm.getSpec().getTemplate().getSpec().setTerminationGracePeriodSeconds(1L);
        h.create(vm);
        VirtualMachineInstance vmi = h.runToRunning("testvm", null);
        Instant stopAt = Instant.now();
        h.patchVm("testvm", "{\"spec\":{\"runStrategy\":\"Halted\"}}");
        // No handler answers: after the VMI's 1 s grace period the pod goes, then the VMI.
        MockApi.await(ControllerHarness.WAIT, "pod deleted after grace", () -> h.podsOf(vmi).isEmpty());
        assertTrue(Duration.between(stopAt, Instant.now()).toMillis() >= 900, "pod deleted before the grace period");
        MockApi.await(ControllerHarness.WAIT, "VMI gone", () -> h.vmi("testvm") == null);
        h.awaitPrintable("testvm", "Stopped");
    }

    @Test
    void deletingTheVmStopsTheVmiAndLeavesNothing() throws Exception {
        h.create(vm("Always"));
        VirtualMachineInstance vmi = h.runToRunning("testvm", null);
        h.client.resources(VirtualMachine.class).inNamespace("default").withName("testvm").delete();
        h.awaitPrintable("testvm", "Terminating");
        MockApi.await(ControllerHarness.WAIT, "VMI marked for deletion", () -> Objects2.deleting(h.vmi("testvm")));
        assertNotNull(h.vm("testvm"), "VM finalizer holds the VM while its VMI stops");
        h.vmiPhase("testvm", "Succeeded", null);
        MockApi.await(ControllerHarness.WAIT, "VM gone", () -> h.vm("testvm") == null);
        assertNull(h.vmi("testvm"));
        assertTrue(h.podsOf(vmi).isEmpty());
        assertTrue(h.pods().isEmpty());
    }
}
