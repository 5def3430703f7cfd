package io.qvirt.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.NodeSelectorRequirement;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.qvirt.api.VirtualMachine;
import io.qvirt.api.VirtualMachineInstance;
import io.qvirt.api.VirtualMachineInstanceMigration;
import io.qvirt.api.model.MigrationState;
import io.qvirt.api.model.PhaseTransition;
import io.qvirt.api.model.VirtualMachineInstanceMigrationSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The migration controller ({@link MigrationReconciler}), the VMI controller's two pods while a VMI migrates, and
 * evacuation, on fabric8's CRUD mock API server (not a real kube-apiserver). The test plays the scheduler and kubelet
 * (target pod node and phase) and both handlers (the VMI's {@code status.migrationState} fields the contract gives
 * them: targetNodeAddress, startTimestamp, completed, failed, the hand-over).
 */
class MigrationControllerTest extends WithController {
    private static final Duration QUIET = Duration.ofMillis(1200);

    /** A VM of this name whose VMI runs on node1, live migratable (the handler's condition). */
    private VirtualMachineInstance runningVmi(String name) {
        VirtualMachine vm = MockApi.seedVm();
        vm.getMetadata().setName(name);
        vm.getSpec().setRunning(null);
        vm.getSpec().setRunStrategy("Always");
        h.create(vm);
        h.runToRunning(name, null);
        patchVmi(name, "[{\"op\":\"add\",\"path\":\"/status/conditions\",\"value\":[{\"type\":\"Ready\",\"status\":\"True\"},"
                + "{\"type\":\"LiveMigratable\",\"status\":\"True\"}]}]");
        return h.vmi(name);
    }

    private void patchVmi(String name, String jsonPatch) {
        h.client.resources(VirtualMachineInstance.class).inNamespace(ControllerHarness.NS).withName(name)
                .patch(PatchContext.of(PatchType.JSON), jsonPatch);
    }

    /** The handler: sets one field of the VMI's status.migrationState. */
    private void handlerWrites(String vmi, String field, String json) {
        patchVmi(vmi, "[{\"op\":\"add\",\"path\":\"/status/migrationState/" + field + "\",\"value\":" + json + "}]");
    }

    private VirtualMachineInstanceMigration migrate(String name, String vmi) {
        VirtualMachineInstanceMigration m = new VirtualMachineInstanceMigration();
        m.getMetadata().setName(name);
        m.getMetadata().setNamespace(ControllerHarness.NS);
        VirtualMachineInstanceMigrationSpec spec = new VirtualMachineInstanceMigrationSpec();
        spec.setVmiName(vmi);
        m.setSpec(spec);
        return h.client.resource(m).create();
    }

    private VirtualMachineInstanceMigration vmim(String name) {
        return h.client.resources(VirtualMachineInstanceMigration.class).inNamespace(ControllerHarness.NS)
                .withName(name).get();
    }

    private String phase(String vmim) {
        VirtualMachineInstanceMigration m = vmim(vmim);
        return m == null ? "(gone)" : MigrationReconciler.phase(m);
    }

    private void awaitPhase(String vmim, String phase) {
        try {
            MockApi.await(ControllerHarness.WAIT, "migration " + vmim + " " + phase, () -> phase.equals(phase(vmim)));
        } catch (AssertionError e) {
            VirtualMachineInstanceMigration m = vmim(vmim);
            throw new AssertionError(e.getMessage() + " (is " + phase(vmim) + ")\n"
                    + (m == null ? "" : io.qvirt.api.KubevirtJson.toJson(m.getStatus())), e);
        }
    }

    private void assertPhaseStays(String vmim, String phase) throws InterruptedException {
        long end = System.nanoTime() + QUIET.toNanos();
        while (System.nanoTime() < end) {
            assertEquals(phase, phase(vmim));
            Thread.sleep(50);
        }
    }

    private List<Pod> targets(VirtualMachineInstanceMigration m) {
        return h.client.pods().inNamespace(ControllerHarness.NS)
                .withLabel(MigrationReconciler.JOB_LABEL, m.getMetadata().getUid()).list().getItems();
    }

    private Pod awaitTarget(String vmim) {
        VirtualMachineInstanceMigration m = vmim(vmim);
        return MockApi.awaitValue(ControllerHarness.WAIT, "target pod of " + vmim, () -> {
            List<Pod> t = targets(m);
            return t.isEmpty() ? null : t.get(0);
        });
    }

    private MigrationState state(String vmi) {
        VirtualMachineInstance v = h.vmi(vmi);
        return v == null || v.getStatus() == null ? null : v.getStatus().getMigrationState();
    }

    private Pod sourcePod(VirtualMachineInstance vmi) {
        return h.podsOf(vmi).stream().filter(p -> !VmiReconciler.isMigrationTarget(p)).findFirst().orElseThrow();
    }

    private List<Event> events(String reason) {
        return h.client.v1().events().inNamespace(ControllerHarness.NS).list().getItems().stream()
                .filter(e -> reason.equals(e.getReason())).toList();
    }

    /** Waits for an Event of {@code reason} whose message {@code test} accepts (Events follow the status write). */
    private void awaitEvent(String reason, java.util.function.Predicate<String> test) {
        try {
            MockApi.await(ControllerHarness.WAIT, "Event " + reason, () -> events(reason).stream()
                    .anyMatch(e -> e.getMessage() != null && test.test(e.getMessage())));
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + ": " + events(reason).stream().map(Event::getMessage).toList(), e);
        }
    }

    /** Takes migration {@code vmim} of {@code vmi} to PreparingTarget with its target pod running on node2. */
    private Pod toPreparingTarget(String vmim, String vmi) {
        migrate(vmim, vmi);
        awaitPhase(vmim, "Scheduling");
        Pod target = awaitTarget(vmim);
        h.podRunning(target, "node2");
        awaitPhase(vmim, "PreparingTarget");
        return target;
    }

    @Test
    void everyPhaseInTurnToSucceededWithTheHandOver() throws Exception {
        VirtualMachineInstance vmi = runningVmi("mig");
        Pod source = sourcePod(vmi);
        VirtualMachineInstanceMigration m = migrate("job", "mig");
        String uid = m.getMetadata().getUid();

        awaitPhase("job", "Scheduling");
        VirtualMachineInstanceMigration cur = vmim("job");
        assertTrue(cur.getMetadata().getFinalizers().contains(MigrationReconciler.FINALIZER));
        assertEquals("mig", cur.getMetadata().getLabels().get(MigrationReconciler.VMI_NAME_LABEL));

        // the target pod: the VMI's launcher pod, labelled, with the target env, kept off the source node
        Pod target = awaitTarget("job");
        assertEquals(uid, target.getMetadata().getLabels().get(MigrationReconciler.JOB_LABEL));
        assertEquals(vmi.getMetadata().getUid(), target.getMetadata().getLabels().get(LauncherPods.CREATED_BY_LABEL));
        assertNull(target.getMetadata().getLabels().get(VmiReconciler.NODE_NAME_LABEL));
        assertEquals("job", target.getMetadata().getAnnotations().get(MigrationReconciler.JOB_NAME_ANNOTATION));
        Container compute = target.getSpec().getContainers().stream()
                .filter(c -> LauncherPods.COMPUTE.equals(c.getName())).findFirst().orElseThrow();
        assertTrue(compute.getEnv().stream().anyMatch(e -> MigrationReconciler.TARGET_ENV.equals(e.getName())
                && uid.equals(e.getValue())), "QVIRT_MIGRATION_TARGET on compute");
        List<NodeSelectorRequirement> away = target.getSpec().getAffinity().getNodeAffinity()
                .getRequiredDuringSchedulingIgnoredDuringExecution().getNodeSelectorTerms().get(0).getMatchExpressions();
        assertEquals(List.of(new NodeSelectorRequirement("kubernetes.io/hostname", "NotIn", List.of("node1"))), away);

        MigrationState ms = state("mig");
        assertEquals(uid, ms.getMigrationUid());
        assertEquals("node1", ms.getSourceNode());
        assertEquals(source.getMetadata().getName(), ms.getSourcePod());
        assertEquals(target.getMetadata().getName(), ms.getTargetPod());
        assertEquals("PreCopy", ms.getMode());
        assertNull(ms.getMigrationPolicyName(), "no MigrationPolicy: the KubeVirt CR's settings");
        assertEquals(150L, ms.getMigrationConfiguration().getCompletionTimeoutPerGiB());
        assertEquals(Boolean.FALSE, ms.getMigrationConfiguration().getAllowPostCopy());
        assertNull(ms.getTargetNode(), "no target node before the pod is scheduled");
        assertEquals(1, events("SuccessfulCreate").stream()
                .filter(e -> "VirtualMachineInstanceMigration".equals(e.getInvolvedObject().getKind())).count());

        // scheduled and running on node2: Scheduled, then the target handler is told
        h.podRunning(target, "node2");
        awaitPhase("job", "PreparingTarget");
        assertEquals("node2", state("mig").getTargetNode());
        assertEquals("node2", h.vmi("mig").getMetadata().getLabels().get(MigrationReconciler.TARGET_NODE_LABEL));
        MockApi.await(ControllerHarness.WAIT, "activePods has both pods", () -> {
            Map<String, String> a = h.vmi("mig").getStatus().getActivePods();
            return a != null && "node2".equals(a.get(target.getMetadata().getUid()))
                    && "node1".equals(a.get(source.getMetadata().getUid()));
        });

        handlerWrites("mig", "targetNodeAddress", "\"10.0.0.2\"");
        awaitPhase("job", "TargetReady");
        handlerWrites("mig", "startTimestamp", "\"" + Instant.now() + "\"");
        awaitPhase("job", "Running");
        assertEquals("Running", VmReconciler.phase(h.vmi("mig")));
        h.awaitPrintable("mig", "Migrating"); // KubeVirt's: started, not ended

        // the source reports success; the target handler takes the VMI over; the source pod then ends
        handlerWrites("mig", "completed", "true");
        assertPhaseStays("job", "Running"); // completed, but not handed over yet
        patchVmi("mig", "[{\"op\":\"add\",\"path\":\"/status/nodeName\",\"value\":\"node2\"},"
                + "{\"op\":\"add\",\"path\":\"/metadata/labels/kubevirt.io~1nodeName\",\"value\":\"node2\"},"
                + "{\"op\":\"remove\",\"path\":\"/metadata/labels/kubevirt.io~1migrationTargetNodeName\"},"
                + "{\"op\":\"add\",\"path\":\"/status/migrationState/targetNodeDomainReadyTimestamp\",\"value\":\""
                + Instant.now() + "\"}]");
        awaitPhase("job", "Succeeded");
        handlerWrites("mig", "endTimestamp", "\"" + Instant.now() + "\"");
        h.awaitPrintable("mig", "Running");
        h.podStatus(source, "{\"phase\":\"Succeeded\"}");

        VirtualMachineInstanceMigration done = vmim("job");
        assertEquals(List.of("Pending", "Scheduling", "Scheduled", "PreparingTarget", "TargetReady", "Running", "Succeeded"),
                done.getStatus().getPhaseTransitionTimestamps().stream().map(PhaseTransition::getPhase).toList());
        MockApi.await(ControllerHarness.WAIT, "finalizer off", () -> {
            var f = vmim("job").getMetadata().getFinalizers();
            return f == null || !f.contains(MigrationReconciler.FINALIZER);
        });
        assertEquals(uid, vmim("job").getStatus().getMigrationState().getMigrationUid(), "migrationState copied");
        assertEquals(1, events(MigrationReconciler.SUCCESSFUL_MIGRATION).size());

        // the source pod's end after the hand-over does not fail the VMI; the target pod is its current pod now
        Thread.sleep(QUIET.toMillis());
        assertEquals("Running", VmReconciler.phase(h.vmi("mig")), h.dump("mig"));
        assertEquals(target.getMetadata().getName(),
                VmiReconciler.currentPod(h.vmi("mig"), h.podsOf(vmi)).getMetadata().getName());
        assertEquals(2, h.podsOf(vmi).size(), "the source pod is kept (its logs)");

        // a second migration leaves node2 from the first one's target pod, its source now
        VirtualMachineInstanceMigration again = migrate("job2", "mig");
        awaitPhase("job2", "Scheduling");
        Pod target2 = awaitTarget("job2");
        assertEquals(List.of(new NodeSelectorRequirement("kubernetes.io/hostname", "NotIn", List.of("node2"))),
                target2.getSpec().getAffinity().getNodeAffinity().getRequiredDuringSchedulingIgnoredDuringExecution()
                        .getNodeSelectorTerms().get(0).getMatchExpressions());
        MigrationState ms2 = state("mig");
        assertEquals(again.getMetadata().getUid(), ms2.getMigrationUid());
        assertEquals("node2", ms2.getSourceNode());
        assertEquals(target.getMetadata().getName(), ms2.getSourcePod());
        assertNull(ms2.getCompleted(), "a new migrationState, not the first one's");
    }

    @Test
    void aVmiThatIsNotLiveMigratableOrNotRunningIsRefused() {
        runningVmi("stuck");
        patchVmi("stuck", "[{\"op\":\"add\",\"path\":\"/status/conditions\",\"value\":[{\"type\":\"Ready\",\"status\":\"True\"},"
                + "{\"type\":\"LiveMigratable\",\"status\":\"False\",\"reason\":\"DisksNotLiveMigratable\","
                + "\"message\":\"PVC disk is not shared, live migration requires that all PVCs must be shared\"}]}]");
        migrate("no", "stuck");
        awaitPhase("no", "Failed");
        awaitEvent(MigrationReconciler.FAILED_MIGRATION, msg -> msg
                .contains("not live migratable: PVC disk is not shared"));
        assertTrue(targets(vmim("no")).isEmpty());
        assertNull(state("stuck"));

        // KubeVirt keeps a VMI's 5 newest finished migrations
        for (int i = 1; i <= 6; i++) {
            migrate("no" + i, "stuck");
            awaitPhase("no" + i, "Failed");
        }
        MockApi.await(ControllerHarness.WAIT, "the oldest finished migrations deleted", () -> vmim("no") == null
                && vmim("no1") == null);
        for (int i = 2; i <= 6; i++) {
            assertNotNull(vmim("no" + i), "no" + i + " kept");
        }

        migrate("ghost", "nosuchvmi");
        MockApi.await(ControllerHarness.WAIT, "a migration of a missing VMI is deleted", () -> vmim("ghost") == null);
    }

    @Test
    void perNodeLimitKeepsTheSecondPendingUntilTheFirstEnds() throws Exception {
        KubeVirt cr = new KubeVirt();
        cr.setMetadata(new io.fabric8.kubernetes.api.model.ObjectMetaBuilder().withName("kubevirt")
                .withNamespace("kubevirt").build());
        KubeVirt.Spec spec = new KubeVirt.Spec();
        KubeVirt.Configuration conf = new KubeVirt.Configuration();
        conf.setMigrations(Map.of("parallelOutboundMigrationsPerNode", 1));
        spec.setConfiguration(conf);
        cr.setSpec(spec);
        h.client.resource(cr).create();
        MockApi.await(ControllerHarness.WAIT, "KubeVirt CR seen",
                () -> h.controller.clusterConfig().migrations().parallelOutboundMigrationsPerNode() == 1);
        assertEquals(5, h.controller.clusterConfig().migrations().parallelMigrationsPerCluster());

        runningVmi("a");
        runningVmi("b");
        migrate("first", "a");
        awaitPhase("first", "Scheduling");
        migrate("second", "b");
        awaitPhase("second", "Pending");
        assertPhaseStays("second", "Pending");
        assertTrue(targets(vmim("second")).isEmpty());

        // the first ends (the source reports failure): the slot is free
        handlerWrites("a", "failed", "true");
        handlerWrites("a", "completed", "true");
        awaitPhase("first", "Failed");
        awaitPhase("second", "Scheduling");
        assertEquals(1, targets(vmim("second")).size());
    }

    @Test
    void theBestMatchingMigrationPolicyIsNamedAndAppliedInTheVmisMigrationState() throws Exception {
        for (String yaml : List.of(
                "metadata: {name: gold}\nspec: {selectors: {virtualMachineInstanceSelector: {tier: gold}}, "
                        + "bandwidthPerMigration: 1Mi, allowPostCopy: true}",
                "metadata: {name: everyone}\nspec: {selectors: {}, completionTimeoutPerGiB: 7}",
                "metadata: {name: silver}\nspec: {selectors: {virtualMachineInstanceSelector: {tier: silver}}, "
                        + "allowAutoConverge: true}")) {
            h.client.resource(io.qvirt.api.KubevirtJson.yaml().readValue("apiVersion: migrations.kubevirt.io/v1alpha1\n"
                    + "kind: MigrationPolicy\n" + yaml, io.qvirt.api.migrations.MigrationPolicy.class)).create();
        }
        runningVmi("pol");
        h.client.resources(VirtualMachineInstance.class).inNamespace(ControllerHarness.NS).withName("pol")
                .edit(v -> {
                    v.getMetadata().getLabels().put("tier", "gold");
                    return v;
                });
        migrate("pj", "pol");
        awaitPhase("pj", "Scheduling");
        MigrationState ms = MockApi.awaitValue(ControllerHarness.WAIT, "the VMI's migrationState", () -> state("pol"));
        assertEquals("gold", ms.getMigrationPolicyName(), "one matched label beats the empty selectors");
        var c = ms.getMigrationConfiguration();
        assertEquals("1048576", io.qvirt.api.Quantities.text(c.getBandwidthPerMigration()), "the policy's");
        assertEquals(Boolean.TRUE, c.getAllowPostCopy());
        assertEquals(Boolean.TRUE, c.getAllowWorkloadDisruption(), "follows the policy's allowPostCopy");
        assertEquals(Boolean.FALSE, c.getAllowAutoConverge(), "silver's does not apply");
        assertEquals(150L, c.getCompletionTimeoutPerGiB(), "the cluster's: everyone's does not apply either");
        assertEquals(5L, c.getParallelMigrationsPerCluster());
    }

    @Test
    void clusterLimitCountsEveryNode() throws Exception {
        KubeVirt cr = new KubeVirt();
        cr.setMetadata(new io.fabric8.kubernetes.api.model.ObjectMetaBuilder().withName("kubevirt")
                .withNamespace("kubevirt").build());
        KubeVirt.Spec spec = new KubeVirt.Spec();
        KubeVirt.Configuration conf = new KubeVirt.Configuration();
        conf.setMigrations(Map.of("parallelMigrationsPerCluster", 1));
        spec.setConfiguration(conf);
        cr.setSpec(spec);
        h.client.resource(cr).create();
        MockApi.await(ControllerHarness.WAIT, "KubeVirt CR seen",
                () -> h.controller.clusterConfig().migrations().parallelMigrationsPerCluster() == 1);
        runningVmi("c");
        runningVmi("d");
        // both on node1, whose own limit (2) would let both go: the cluster's (1) holds the second
        migrate("one", "c");
        awaitPhase("one", "Scheduling");
        migrate("two", "d");
        awaitPhase("two", "Pending");
        assertPhaseStays("two", "Pending");
        h.client.resources(VirtualMachineInstanceMigration.class).inNamespace(ControllerHarness.NS).withName("one").delete();
        MockApi.await(ControllerHarness.WAIT, "the first is gone", () -> vmim("one") == null);
        awaitPhase("two", "Scheduling");
    }

    @Test
    void targetPodFailureFailsTheMigrationAndTheVmisMigrationState() throws Exception {
        runningVmi("tf");
        Pod target = toPreparingTarget("tpf", "tf");
        h.podStatus(target, "{\"phase\":\"Failed\",\"containerStatuses\":[{\"name\":\"compute\",\"image\":\"l\","
                + "\"ready\":false,\"state\":{\"terminated\":{\"exitCode\":1,\"reason\":\"Error\"}}}]}");
        awaitPhase("tpf", "Failed");
        MockApi.await(ControllerHarness.WAIT, "VMI migrationState failed", () -> {
            MigrationState ms = state("tf");
            return ms != null && Boolean.TRUE.equals(ms.getFailed()) && Boolean.TRUE.equals(ms.getCompleted());
        });
        MigrationState ms = state("tf");
        assertEquals("Target pod is down", ms.getFailureReason());
        assertNotNull(ms.getEndTimestamp());
        assertNotNull(ms.getStartTimestamp(), "set, so the source handler never starts it");
        awaitEvent(MigrationReconciler.FAILED_MIGRATION, msg -> msg.equals("Migration failed because target pod shutdown during migration"));
        // the VMI runs on at its source: the target pod's end is not its business
        Thread.sleep(QUIET.toMillis());
        assertEquals("Running", VmReconciler.phase(h.vmi("tf")), h.dump("tf"));
    }

    @Test
    void aVanishedTargetPodFailsTheMigration() throws Exception {
        runningVmi("tv");
        Pod target = toPreparingTarget("tpv", "tv");
        h.client.pods().inNamespace(ControllerHarness.NS).withName(target.getMetadata().getName()).delete();
        awaitPhase("tpv", "Failed");
        awaitEvent(MigrationReconciler.FAILED_MIGRATION, msg -> msg.equals("Migration target pod was removed during active migration."));
        MockApi.await(ControllerHarness.WAIT, "VMI migrationState failed",
                () -> Boolean.TRUE.equals(state("tv").getFailed()));
        Thread.sleep(QUIET.toMillis());
        assertEquals("Running", VmReconciler.phase(h.vmi("tv")), h.dump("tv"));
    }

    @Test
    void anUnschedulableTargetPodIsDeletedAfterItsTimeout() {
        runningVmi("us");
        VirtualMachineInstanceMigration m = new VirtualMachineInstanceMigration();
        m.getMetadata().setName("nowhere");
        m.getMetadata().setNamespace(ControllerHarness.NS);
        m.getMetadata().setAnnotations(Map.of(MigrationReconciler.UNSCHEDULABLE_TIMEOUT_ANNOTATION, "2"));
        VirtualMachineInstanceMigrationSpec spec = new VirtualMachineInstanceMigrationSpec();
        spec.setVmiName("us");
        m.setSpec(spec);
        h.client.resource(m).create();
        awaitPhase("nowhere", "Scheduling");
        Pod target = awaitTarget("nowhere");
        // the scheduler finds no node other than the source
        h.podStatus(target, "{\"phase\":\"Pending\",\"conditions\":[{\"type\":\"PodScheduled\",\"status\":\"False\","
                + "\"reason\":\"Unschedulable\",\"message\":\"0/1 nodes are available\"}]}");
        MockApi.await(ControllerHarness.WAIT, "unschedulable Event", () -> !events("migrationTargetPodUnschedulable").isEmpty());
        awaitPhase("nowhere", "Failed");
        awaitEvent("SuccessfulDelete", msg -> msg.startsWith("unschedulable pod default/")
                && msg.endsWith("timeout period exceeded"));
        awaitEvent(MigrationReconciler.FAILED_MIGRATION, msg -> msg.equals("Migration target pod was removed during active migration."));
        assertEquals(1, events("migrationTargetPodUnschedulable").size());
    }

    @Test
    void sourceReportsFailure() {
        runningVmi("sf");
        toPreparingTarget("srcfail", "sf");
        handlerWrites("sf", "targetNodeAddress", "\"10.0.0.2\"");
        handlerWrites("sf", "startTimestamp", "\"" + Instant.now() + "\"");
        awaitPhase("srcfail", "Running");
        patchVmi("sf", "[{\"op\":\"add\",\"path\":\"/status/migrationState/failed\",\"value\":true},"
                + "{\"op\":\"add\",\"path\":\"/status/migrationState/completed\",\"value\":true},"
                + "{\"op\":\"add\",\"path\":\"/status/migrationState/failureReason\",\"value\":\"migration failed: no route\"}]");
        awaitPhase("srcfail", "Failed");
        awaitEvent(MigrationReconciler.FAILED_MIGRATION, msg -> msg.equals("source node reported migration failed: migration failed: no route"));
        assertEquals("migration failed: no route", vmim("srcfail").getStatus().getMigrationState().getFailureReason());
    }

    @Test
    void deletingBeforeTheHandOverCancelsAndDeletesTheTargetPod() {
        runningVmi("ab");
        migrate("cancel", "ab");
        awaitPhase("cancel", "Scheduling");
        Pod target = awaitTarget("cancel");
        VirtualMachineInstanceMigration m = vmim("cancel");
        h.client.resources(VirtualMachineInstanceMigration.class).inNamespace(ControllerHarness.NS).withName("cancel").delete();
        MockApi.await(ControllerHarness.WAIT, "target pod deleted", () -> targets(m).isEmpty()
                || targets(m).stream().allMatch(p -> p.getMetadata().getDeletionTimestamp() != null));
        MockApi.await(ControllerHarness.WAIT, "migration gone (finalizer off)", () -> vmim("cancel") == null);
        awaitEvent(MigrationReconciler.FAILED_MIGRATION, msg -> msg.equals("Migration failed due to being canceled"));
        MockApi.await(ControllerHarness.WAIT, "VMI migrationState ended", () -> Boolean.TRUE.equals(state("ab").getCompleted()));
        assertTrue(state("ab").getFailed());
        assertNotNull(target);
    }

    @Test
    void deletingARunningMigrationAsksTheSourceToAbort() {
        runningVmi("ar");
        toPreparingTarget("abort", "ar");
        handlerWrites("ar", "targetNodeAddress", "\"10.0.0.2\"");
        handlerWrites("ar", "startTimestamp", "\"" + Instant.now() + "\"");
        awaitPhase("abort", "Running");
        h.client.resources(VirtualMachineInstanceMigration.class).inNamespace(ControllerHarness.NS).withName("abort").delete();
        MockApi.await(ControllerHarness.WAIT, "abortRequested", () -> Boolean.TRUE.equals(state("ar").getAbortRequested()));
        VirtualMachineInstanceMigration m = vmim("abort");
        assertNotNull(m, "kept by its finalizer until the source has answered");
        assertEquals("Running", MigrationReconciler.phase(m));
        MockApi.await(ControllerHarness.WAIT, "AbortRequested condition", () -> vmim("abort").getStatus().getConditions() != null
                && vmim("abort").getStatus().getConditions().stream()
                        .anyMatch(c -> MigrationReconciler.ABORT_REQUESTED.equals(c.getType())));
        // the source handler cancels: failed, abortStatus Succeeded
        patchVmi("ar", "[{\"op\":\"add\",\"path\":\"/status/migrationState/failed\",\"value\":true},"
                + "{\"op\":\"add\",\"path\":\"/status/migrationState/completed\",\"value\":true},"
                + "{\"op\":\"add\",\"path\":\"/status/migrationState/abortStatus\",\"value\":\"Succeeded\"}]");
        MockApi.await(ControllerHarness.WAIT, "migration gone", () -> vmim("abort") == null);
        assertEquals(1, events("SuccessfulAbortMigration").size());
    }

    @Test
    void twoPodsWhileMigratingAndDeletionTakesBoth() throws Exception {
        VirtualMachineInstance vmi = runningVmi("two");
        Pod source = sourcePod(vmi);
        Pod target = toPreparingTarget("tp", "two");
        // the target is newer and running, but the current pod stays the one on status.nodeName
        assertEquals(source.getMetadata().getName(),
                VmiReconciler.currentPod(h.vmi("two"), h.podsOf(vmi)).getMetadata().getName());
        assertEquals("node1", h.vmi("two").getStatus().getNodeName());
        // the VMI controller writes nothing that moves the VMI to the target
        Thread.sleep(QUIET.toMillis());
        assertEquals("node1", h.vmi("two").getStatus().getNodeName());
        assertEquals("node1", h.vmi("two").getMetadata().getLabels().get(VmiReconciler.NODE_NAME_LABEL));

        h.client.resources(VirtualMachineInstance.class).inNamespace(ControllerHarness.NS).withName("two").delete();
        h.vmiPhase("two", "Succeeded", null); // the handler shut the guest down
        MockApi.await(ControllerHarness.WAIT, "both pods deleted", () -> h.podsOf(vmi).stream()
                .allMatch(p -> p.getMetadata().getDeletionTimestamp() != null));
        assertNotNull(target);
        // the migration fails with its VMI (or goes with it: KubeVirt deletes a migration whose VMI is gone)
        MockApi.await(ControllerHarness.WAIT, "migration failed or gone",
                () -> "Failed".equals(phase("tp")) || "(gone)".equals(phase("tp")));
    }

    @Test
    void aTargetPodIsNeverCurrentBeforeItHasANode() {
        Pod older = new io.fabric8.kubernetes.api.model.PodBuilder().withNewMetadata().withName("src")
                .withCreationTimestamp("2026-01-01T00:00:00Z").endMetadata().withNewSpec().endSpec().build();
        Pod target = new io.fabric8.kubernetes.api.model.PodBuilder().withNewMetadata().withName("tgt")
                .withCreationTimestamp("2026-01-02T00:00:00Z")
                .withLabels(Map.of(MigrationReconciler.JOB_LABEL, "u")).endMetadata().withNewSpec().endSpec().build();
        VirtualMachineInstance vmi = new VirtualMachineInstance();
        assertEquals("src", VmiReconciler.currentPod(vmi, List.of(older, target)).getMetadata().getName());
        assertFalse(VmiReconciler.isMigrationTarget(older));
    }

    @Test
    void theEvictionStrategyIsTheVmisElseTheClusters() {
        KubeVirt cr = new KubeVirt();
        KubeVirt.Spec spec = new KubeVirt.Spec();
        KubeVirt.Configuration conf = new KubeVirt.Configuration();
        conf.setEvictionStrategy("LiveMigrate");
        spec.setConfiguration(conf);
        cr.setSpec(spec);
        ClusterConfig none = ClusterConfig.defaults();
        ClusterConfig live = none.with(cr);
        assertEquals("LiveMigrate", live.evictionStrategy());
        VirtualMachineInstance vmi = new VirtualMachineInstance();
        vmi.setSpec(new io.qvirt.api.model.VirtualMachineInstanceSpec());
        assertFalse(EvacuationReconciler.migratesOnEviction(vmi, none), "KubeVirt's default: none");
        assertTrue(EvacuationReconciler.migratesOnEviction(vmi, live));
        vmi.getSpec().setEvictionStrategy("None");
        assertFalse(EvacuationReconciler.migratesOnEviction(vmi, live), "the VMI's own strategy wins");
        vmi.getSpec().setEvictionStrategy("LiveMigrateIfPossible");
        assertTrue(EvacuationReconciler.migratesOnEviction(vmi, none));
    }

    @Test
    void evacuationMakesOneMigrationForALiveMigrateVmiAskedToLeave() throws Exception {
        VirtualMachine vm = MockApi.seedVm();
        vm.getMetadata().setName("evac");
        vm.getSpec().setRunning(null);
        vm.getSpec().setRunStrategy("Always");
        vm.getSpec().getTemplate().getSpec().setEvictionStrategy("LiveMigrate");
        h.create(vm);
        h.runToRunning("evac", null);
        patchVmi("evac", "[{\"op\":\"add\",\"path\":\"/status/conditions\",\"value\":[{\"type\":\"Ready\",\"status\":\"True\"},"
                + "{\"type\":\"LiveMigratable\",\"status\":\"True\"}]},"
                + "{\"op\":\"add\",\"path\":\"/status/evacuationNodeName\",\"value\":\"node1\"}]");
        VirtualMachineInstanceMigration m = MockApi.awaitValue(ControllerHarness.WAIT, "evacuation migration", () ->
                h.client.resources(VirtualMachineInstanceMigration.class).inNamespace(ControllerHarness.NS).list()
                        .getItems().stream().findFirst().orElse(null));
        assertTrue(m.getMetadata().getName().startsWith("kubevirt-evacuation-"), m.getMetadata().getName());
        assertEquals("node1", m.getMetadata().getAnnotations().get(EvacuationReconciler.EVACUATION_ANNOTATION));
        assertEquals("evac", m.getSpec().getVmiName());
        awaitPhase(m.getMetadata().getName(), "Scheduling");
        Thread.sleep(QUIET.toMillis());
        assertEquals(1, h.client.resources(VirtualMachineInstanceMigration.class).inNamespace(ControllerHarness.NS)
                .list().getItems().size(), "one migration while one is in flight");

        // a VMI without LiveMigrate is not evacuated
        runningVmi("stay");
        patchVmi("stay", "[{\"op\":\"add\",\"path\":\"/status/evacuationNodeName\",\"value\":\"node1\"}]");
        Thread.sleep(QUIET.toMillis());
        assertTrue(h.client.resources(VirtualMachineInstanceMigration.class).inNamespace(ControllerHarness.NS).list()
                .getItems().stream().noneMatch(x -> "stay".equals(x.getSpec().getVmiName())));
    }
}
