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
import java.util.List;
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

    /** Plays the kubelet after the handler's final phase: QEMU quits, the containerDisk container sleeps on. */
    private void computeExited(VirtualMachineInstance vmi) {
        List<Pod> pods = h.podsOf(vmi);
        if (pods.isEmpty()) {
            return; // already deleted with its VMI (Always, RerunOnFailure)
        }
        h.podStatus(pods.get(0), "{\"phase\":\"Running\",\"containerStatuses\":[{\"name\":\"compute\","
                + "\"image\":\"l\",\"state\":{\"terminated\":{\"exitCode\":0}}}]}");
    }

    /** Plays the kubelet: the pod fails before the hand-over (the launcher exits), so the VMI never runs. */
    private void failBeforeRunning(VirtualMachineInstance vmi) {
        h.podStatus(h.awaitPod(vmi), "{\"phase\":\"Failed\",\"containerStatuses\":[{\"name\":\"compute\","
                + "\"image\":\"l\",\"state\":{\"terminated\":{\"exitCode\":1}}}]}");
    }

    /**
     * The table, as KubeVirt's syncRunStrategy: strategy, what the handler reports after Running, whether a new
     * VMI follows, whether the finished VMI is kept (else deleted), and the printableStatus while none runs.
     */
    @ParameterizedTest(name = "{0}: VMI {1} -> restart={2}, kept={3}")
    @CsvSource({
        "Always,         Succeeded, true,  false, ",
        "Always,         Failed,    true,  false, ",
        "RerunOnFailure, Succeeded, false, false, Stopped",
        "RerunOnFailure, Failed,    true,  false, ",
        "Once,           Succeeded, false, true,  Stopped",
        "Once,           Failed,    false, true,  Stopped",
        "Manual,         Succeeded, false, true,  Stopped",
        "Manual,         Failed,    false, true,  Stopped",
    })
    void finishedVmi(String strategy, String phase, boolean restart, boolean kept, String printable) throws Exception {
        h.create(vm(strategy));
        if ("Manual".equals(strategy)) {
            h.awaitPrintable("testvm", "Stopped");
            h.setVmStatusField("testvm", "stateChangeRequests", "[{\"action\":\"Start\"}]");
        }
        VirtualMachineInstance first = h.runToRunning("testvm", null);
        assertEquals(strategy, h.vm("testvm").getStatus().getRunStrategy());
        h.vmiPhase("testvm", phase, null);
        computeExited(first);
        if (restart) {
            VirtualMachineInstance second = h.awaitVmi("testvm", first.getMetadata().getUid());
            assertNotEquals(first.getMetadata().getUid(), second.getMetadata().getUid());
            h.runToRunning("testvm", first.getMetadata().getUid());
            // it had run: no crash-loop count (KubeVirt counts only VMIs that never reached Running)
            assertNull(h.vm("testvm").getStatus().getStartFailure());
        } else {
            h.awaitPrintable("testvm", printable);
            if (kept) {
                assertVmiStaysFor(QUIET, first.getMetadata().getUid(), strategy + " must not restart after " + phase);
            } else {
                MockApi.await(ControllerHarness.WAIT, "finished VMI deleted", () -> h.vmi("testvm") == null);
                assertNoVmiFor(QUIET, strategy + " must not restart after " + phase);
            }
            MockApi.await(ControllerHarness.WAIT, "launcher pod cleaned up", () -> h.podsOf(first).isEmpty());
            assertEquals(Boolean.FALSE, h.vm("testvm").getStatus().getReady());
            assertEquals("Stopped", h.printable("testvm"));
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

    /**
     * Deleting the VMI is no failure: RerunOnFailure and Manual stay stopped (KubeVirt starts RerunOnFailure only
     * after a failure or on a start request); Once runs again, as it has no VMI (KubeVirt keeps no "ran once").
     */
    @ParameterizedTest(name = "{0}: VMI deleted -> restart={1}")
    @CsvSource({"RerunOnFailure, false", "Manual, false", "Once, true"})
    void deletedVmi(String strategy, boolean restart) throws Exception {
        h.create(vm(strategy));
        if ("Manual".equals(strategy)) {
            h.awaitPrintable("testvm", "Stopped");
            h.setVmStatusField("testvm", "stateChangeRequests", "[{\"action\":\"Start\"}]");
        }
        VirtualMachineInstance first = h.runToRunning("testvm", null);
        h.client.resource(first).delete();
        h.vmiPhase("testvm", "Succeeded", null);
        computeExited(first);
        if (restart) {
            h.runToRunning("testvm", first.getMetadata().getUid());
        } else {
            MockApi.await(ControllerHarness.WAIT, "VMI gone", () -> h.vmi("testvm") == null);
            h.awaitPrintable("testvm", "Stopped");
            assertNoVmiFor(QUIET, strategy + " must not start again after its VMI was deleted");
        }
    }

    /**
     * Once runs again when the strategy is switched away and back (KubeVirt's Once starts whenever there is no VMI
     * and keeps no record of an earlier run): its finished VMI is kept under Once, deleted under Halted, and the
     * switch back to Once starts a new one.
     */
    @Test
    void onceRunsAgainWhenSwitchedBack() throws Exception {
        h.create(vm("Once"));
        VirtualMachineInstance first = h.runToRunning("testvm", null);
        h.vmiPhase("testvm", "Succeeded", null);
        computeExited(first);
        h.awaitPrintable("testvm", "Stopped");
        assertVmiStaysFor(QUIET, first.getMetadata().getUid(), "Once must not restart by itself");

        h.patchVm("testvm", "{\"spec\":{\"runStrategy\":\"Halted\"}}");
        MockApi.await(ControllerHarness.WAIT, "finished VMI deleted under Halted", () -> h.vmi("testvm") == null);
        assertNoVmiFor(QUIET, "Halted must not start it");

        h.patchVm("testvm", "{\"spec\":{\"runStrategy\":\"Once\"}}");
        VirtualMachineInstance second = h.runToRunning("testvm", first.getMetadata().getUid());
        assertNotEquals(first.getMetadata().getUid(), second.getMetadata().getUid());
        assertEquals("Once", h.vm("testvm").getStatus().getRunStrategy());
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

        // Start again, as virtctl asks for it with a finished VMI: stop that one, then start.
        h.setVmStatusField("testvm", "stateChangeRequests", "[{\"action\":\"Stop\",\"uid\":\""
                + vmi.getMetadata().getUid() + "\"},{\"action\":\"Start\"}]");
        VirtualMachineInstance second = h.runToRunning("testvm", vmi.getMetadata().getUid());
        MockApi.await(ControllerHarness.WAIT, "both requests consumed",
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

    /**
     * State-change requests, as KubeVirt's VM controller acts on them: strategy x request -> whether the running
     * VMI is deleted, whether a new one follows, and the request list afterwards (empty: consumed).
     */
    @ParameterizedTest(name = "{0} + {1} -> deleted={2}, restart={3}")
    @CsvSource({
        // a stop request without a uid can never be acted on: dropped (KubeVirt), the VMI keeps running
        "Manual,         Stop-no-uid, false, false",
        "RerunOnFailure, Stop-no-uid, false, false",
        // a stop request for the VMI: Always restarts it, the others stop
        "Always,         Stop,        true,  true",
        "RerunOnFailure, Stop,        true,  false",
        "Manual,         Stop,        true,  false",
        // a stop request for an earlier VMI is stale: dropped
        "Manual,         Stop-stale,  false, false",
        // a start request while the VMI runs: nothing to do, consumed
        "Manual,         Start,       false, false",
        "Always,         Start,       false, false",
    })
    void stateChangeRequestOnARunningVmi(String strategy, String request, boolean deleted, boolean restart)
            throws Exception {
        h.create(vm(strategy));
        if ("Manual".equals(strategy)) {
            h.awaitPrintable("testvm", "Stopped");
            h.setVmStatusField("testvm", "stateChangeRequests", "[{\"action\":\"Start\"}]");
        }
        VirtualMachineInstance vmi = h.runToRunning("testvm", null);
        MockApi.await(ControllerHarness.WAIT, "start consumed", () -> h.vm("testvm").getStatus().getStateChangeRequests() == null);
        String uid = vmi.getMetadata().getUid();
        String json = switch (request) {
            case "Stop-no-uid" -> "[{\"action\":\"Stop\"}]";
            case "Stop" -> "[{\"action\":\"Stop\",\"uid\":\"" + uid + "\"}]";
            case "Stop-stale" -> "[{\"action\":\"Stop\",\"uid\":\"0000-earlier\"}]";
            case "Start" -> "[{\"action\":\"Start\"}]";
            default -> throw new IllegalArgumentException(request);
        };
        h.setVmStatusField("testvm", "stateChangeRequests", json);
        if (deleted) {
            MockApi.await(ControllerHarness.WAIT, "VMI marked for deletion",
                    () -> h.vmi("testvm") == null || Objects2.deleting(h.vmi("testvm")));
            if (h.vmi("testvm") != null) {
                h.vmiPhase("testvm", "Succeeded", null); // the handler shuts the guest down
            }
            if (restart) {
                h.runToRunning("testvm", uid);
            } else {
                MockApi.await(ControllerHarness.WAIT, "VMI gone", () -> h.vmi("testvm") == null);
                h.awaitPrintable("testvm", "Stopped");
                assertNoVmiFor(QUIET, strategy + " must stay stopped");
            }
        } else {
            MockApi.await(ControllerHarness.WAIT, "request consumed",
                    () -> h.vm("testvm").getStatus().getStateChangeRequests() == null);
            assertVmiStaysFor(QUIET, uid, "the VMI must keep running");
            assertEquals("Running", h.printable("testvm"));
        }
        MockApi.await(ControllerHarness.WAIT, "no request left",
                () -> h.vm("testvm").getStatus().getStateChangeRequests() == null);
    }

    /**
     * A start request under Halted switches the VM to Always (KubeVirt: what {@code virtctl start --paused}
     * relies on); the request's {@code paused: true} makes the VMI start paused, under Manual too.
     */
    @ParameterizedTest(name = "{0} (running field: {1}) + start paused={2}")
    @CsvSource({"Halted, false, true", "Halted, true, false", "Halted, false, false", "Manual, false, true"})
    void startRequest(String strategy, boolean runningField, boolean paused) {
        VirtualMachine vm = vm(strategy);
        if (runningField) {
            vm.getSpec().setRunStrategy(null);
            vm.getSpec().setRunning(false);
        }
        h.create(vm);
        h.awaitPrintable("testvm", "Stopped");
        h.setVmStatusField("testvm", "stateChangeRequests", paused
                ? "[{\"action\":\"Start\",\"data\":{\"paused\":\"true\"}}]" : "[{\"action\":\"Start\"}]");
        VirtualMachineInstance vmi = h.awaitVmi("testvm", null);
        assertEquals(paused ? "Paused" : null, vmi.getSpec().getStartStrategy());
        VirtualMachine after = h.vm("testvm");
        if ("Halted".equals(strategy)) {
            if (runningField) {
                assertEquals(Boolean.TRUE, after.getSpec().getRunning());
                assertNull(after.getSpec().getRunStrategy());
            } else {
                assertEquals("Always", after.getSpec().getRunStrategy());
            }
        } else {
            assertEquals("Manual", after.getSpec().getRunStrategy());
        }
        h.runToRunning("testvm", null);
        MockApi.await(ControllerHarness.WAIT, "start consumed", () -> h.vm("testvm").getStatus().getStateChangeRequests() == null);
    }

    /**
     * KubeVirt's crash loop: only VMIs that end without ever reaching Running count; the n-th waits
     * {@code interval x n^2} plus up to half again (here interval 1 s, cap 4 s); CrashLoopBackOff shows
     * meanwhile, for Once too; a VMI that reaches Running clears the count.
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource({"Always", "RerunOnFailure"})
    void crashLoopBacksOffAndClearsOnRunning(String strategy) throws Exception {
        h.create(vm(strategy));
        VirtualMachineInstance first = h.awaitVmi("testvm", null);
        Instant failed1 = Instant.now();
        failBeforeRunning(first);
        h.awaitPrintable("testvm", "CrashLoopBackOff");
        StartFailure f1 = h.vm("testvm").getStatus().getStartFailure();
        assertEquals(1, f1.getConsecutiveFailCount());
        assertEquals(first.getMetadata().getUid(), f1.getLastFailedVMIUID());
        VirtualMachineInstance second = h.awaitVmi("testvm", first.getMetadata().getUid());
        long waited1 = Duration.between(failed1, Instant.now()).toMillis();
        assertTrue(waited1 >= 900, "restarted after " + waited1 + " ms, before the 1 s back-off");

        Instant failed2 = Instant.now();
        failBeforeRunning(second);
        MockApi.await(ControllerHarness.WAIT, "second failure counted", () -> {
            StartFailure f = h.vm("testvm").getStatus().getStartFailure();
            return f != null && f.getConsecutiveFailCount() == 2;
        });
        h.awaitPrintable("testvm", "CrashLoopBackOff");
        VirtualMachineInstance third = h.awaitVmi("testvm", second.getMetadata().getUid());
        long waited2 = Duration.between(failed2, Instant.now()).toMillis();
        assertTrue(waited2 >= 3900, "restarted after " + waited2 + " ms, before the 4 s (1 s x 2^2) back-off");

        // The third one runs: the count is cleared at once (KubeVirt), and a later failure is no crash loop.
        Pod pod = h.awaitPod(third);
        h.podRunning(pod, "node1");
        MockApi.await(ControllerHarness.WAIT, "Scheduled", () -> "Scheduled".equals(VmReconciler.phase(h.vmi("testvm"))));
        h.vmiPhase("testvm", "Running", null);
        h.awaitPrintable("testvm", "Running");
        MockApi.await(ControllerHarness.WAIT, "count cleared", () -> h.vm("testvm").getStatus().getStartFailure() == null);
        h.vmiPhase("testvm", "Failed", null);
        computeExited(third);
        h.runToRunning("testvm", third.getMetadata().getUid());
        assertNull(h.vm("testvm").getStatus().getStartFailure());
    }

    /** Once counts a VMI that failed before running too, and shows CrashLoopBackOff; it never restarts. */
    @Test
    void onceFailingBeforeRunningIsACrashLoopWithoutRestart() throws Exception {
        h.create(vm("Once"));
        VirtualMachineInstance first = h.awaitVmi("testvm", null);
        failBeforeRunning(first);
        h.awaitPrintable("testvm", "CrashLoopBackOff");
        assertEquals(1, h.vm("testvm").getStatus().getStartFailure().getConsecutiveFailCount());
        assertVmiStaysFor(QUIET, first.getMetadata().getUid(), "Once must not restart");
        assertEquals("CrashLoopBackOff", h.printable("testvm"));
    }

    /**
     * KubeVirt's start revision and RestartRequired: each start records the VM's spec in the ControllerRevision
     * {@code revision-start-vm-<uid>-<generation>} (named in the VMI's status); changing the template of a
     * running VM sets RestartRequired; the restart (a stop request under Always) clears it and replaces the
     * revision.
     */
    @Test
    void templateChangeOfARunningVmRequiresARestart() throws Exception {
        VirtualMachine created = h.create(vm("Always"));
        String uid = created.getMetadata().getUid();
        VirtualMachineInstance first = h.runToRunning("testvm", null);
        String rev1 = "revision-start-vm-" + uid + "-" + created.getMetadata().getGeneration();
        assertEquals(rev1, first.getStatus().getAdditionalProperties().get("virtualMachineRevisionName"));
        var cr = h.client.apps().controllerRevisions().inNamespace("default").withName(rev1).get();
        assertNotNull(cr, "start revision");
        assertEquals(uid, cr.getMetadata().getOwnerReferences().get(0).getUid());
        Thread.sleep(300);
        assertNull(Objects2.condition(h.vm("testvm").getStatus().getConditions(), "RestartRequired"));

        // A change outside the template (no restart needed): the VMI's generation annotation and the VM's
        // observedGeneration follow it (KubeVirt bumps them).
        h.patchVm("testvm", "{\"spec\":{\"dataVolumeTemplates\":[]}}");
        long g2 = h.vm("testvm").getMetadata().getGeneration();
        assertTrue(g2 > created.getMetadata().getGeneration(), "the API server bumps generation on a spec change");
        MockApi.await(ControllerHarness.WAIT, "observedGeneration follows", () ->
                Long.valueOf(g2).equals(h.vm("testvm").getStatus().getObservedGeneration()));
        assertEquals(String.valueOf(g2), h.vmi("testvm").getMetadata().getAnnotations().get("kubevirt.io/vm-generation"));
        assertEquals(first.getMetadata().getUid(), h.vmi("testvm").getMetadata().getUid());
        assertNull(Objects2.condition(h.vm("testvm").getStatus().getConditions(), "RestartRequired"));

        h.patchVm("testvm", "{\"spec\":{\"template\":{\"spec\":{\"domain\":{\"cpu\":{\"cores\":2}}}}}}");
        MockApi.await(ControllerHarness.WAIT, "RestartRequired", () -> Objects2.isTrue(
                h.vm("testvm").getStatus().getConditions(), "RestartRequired"));
        assertEquals("Running", h.printable("testvm"));
        assertEquals(first.getMetadata().getUid(), h.vmi("testvm").getMetadata().getUid(), "no restart by itself");

        h.setVmStatusField("testvm", "stateChangeRequests", "[{\"action\":\"Stop\",\"uid\":\""
                + first.getMetadata().getUid() + "\"}]"); // virtctl restart
        MockApi.await(ControllerHarness.WAIT, "VMI deleting", () -> h.vmi("testvm") == null
                || Objects2.deleting(h.vmi("testvm")));
        h.vmiPhase("testvm", "Succeeded", null);
        VirtualMachineInstance second = h.runToRunning("testvm", first.getMetadata().getUid());
        MockApi.await(ControllerHarness.WAIT, "RestartRequired cleared", () -> Objects2.condition(
                h.vm("testvm").getStatus().getConditions(), "RestartRequired") == null);
        String rev2 = "revision-start-vm-" + uid + "-" + h.vm("testvm").getMetadata().getGeneration();
        assertNotEquals(rev1, rev2);
        assertEquals(rev2, second.getStatus().getAdditionalProperties().get("virtualMachineRevisionName"));
        assertEquals(2, second.getSpec().getDomain().getCpu().getCores());
        MockApi.await(ControllerHarness.WAIT, "older revision deleted",
                () -> h.client.apps().controllerRevisions().inNamespace("default").withName(rev1).get() == null);
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
