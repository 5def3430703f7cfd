package io.qvirt.handler.vmi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.qvirt.api.KubevirtJson;
import io.qvirt.api.VirtualMachineInstance;
import io.qvirt.api.model.VmiInterfaceStatus;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What each migration role writes: the controller's fields kept, each write once, nothing for another migration. */
class MigrationStatusesTest {
    private static final Instant T0 = Instant.parse("2026-12-02T10:00:00Z");
    private static final Instant T1 = Instant.parse("2026-12-02T10:00:07Z");

    private static VirtualMachineInstance vmi(String extraState) throws Exception {
        return KubevirtJson.yaml().readValue("""
                apiVersion: kubevirt.io/v1
                kind: VirtualMachineInstance
                metadata:
                  name: a
                  namespace: default
                  uid: u1
                  labels: {kubevirt.io/nodeName: node-1, kubevirt.io/migrationTargetNodeName: node-2, app: x}
                spec:
                  domain: {devices: {interfaces: [{name: default, masquerade: {}}]}}
                  networks: [{name: default, pod: {}}]
                status:
                  phase: Running
                  nodeName: node-1
                  evacuationNodeName: node-1
                  migrationState:
                    migrationUid: m1
                    sourceNode: node-1
                    sourcePod: virt-launcher-a-1
                    targetNode: node-2
                    targetPod: virt-launcher-a-2
                    mode: PreCopy
                """ + extraState.indent(4), VirtualMachineInstance.class);
    }

    /** {@code vmi} with a two-level patch applied as the API server would (second-level fields replaced or removed). */
    private static VirtualMachineInstance apply(VirtualMachineInstance vmi, ObjectNode patch) throws Exception {
        ObjectNode tree = (ObjectNode) KubevirtJson.toTree(vmi);
        patch.properties().forEach(top -> {
            ObjectNode part = (ObjectNode) tree.get(top.getKey());
            top.getValue().properties().forEach(f -> {
                if (f.getValue().isNull()) {
                    part.remove(f.getKey());
                } else {
                    part.set(f.getKey(), f.getValue());
                }
            });
        });
        return KubevirtJson.json().treeToValue(tree, VirtualMachineInstance.class);
    }

    private static ObjectNode statusPatch(ObjectNode status) {
        ObjectNode p = KubevirtJson.json().createObjectNode();
        p.set("status", status);
        return p;
    }

    @Test
    void targetReadyOnceKeepingTheControllersFields() throws Exception {
        VirtualMachineInstance v = vmi("");
        ObjectNode s = MigrationStatuses.targetReady(v, "m1", "127.0.2.1", 40123);
        JsonNode ms = s.path("migrationState");
        assertEquals("127.0.2.1", ms.path("targetNodeAddress").asText());
        assertEquals(0, ms.path("targetDirectMigrationNodePorts").path("40123").asInt(-1));
        assertTrue(ms.path("targetNodeDomainDetected").asBoolean());
        assertEquals("virt-launcher-a-2", ms.path("targetPod").asText(), "the controller's fields stay");
        assertEquals("PreCopy", ms.path("mode").asText());
        VirtualMachineInstance after = apply(v, statusPatch(s));
        assertNull(MigrationStatuses.targetReady(after, "m1", "127.0.2.1", 40123), "written: nothing more");
        assertEquals("127.0.2.9", MigrationStatuses.targetReady(after, "m1", "127.0.2.9", 40123)
                .path("migrationState").path("targetNodeAddress").asText(), "a new address (handler restarted) is written");
        assertNull(MigrationStatuses.targetReady(v, "other", "127.0.2.1", 40123), "another migration's VMI");
    }

    @Test
    void startedOnce() throws Exception {
        VirtualMachineInstance v = vmi("targetNodeAddress: 127.0.2.1");
        ObjectNode s = MigrationStatuses.started(v, "m1", T0);
        assertEquals(T0.toString(), s.path("migrationState").path("startTimestamp").asText());
        assertEquals("127.0.2.1", s.path("migrationState").path("targetNodeAddress").asText());
        assertNull(MigrationStatuses.started(apply(v, statusPatch(s)), "m1", T1));
    }

    @Test
    void successFailureAndAbort() throws Exception {
        VirtualMachineInstance v = vmi("startTimestamp: '" + T0 + "'");
        JsonNode ok = MigrationStatuses.finished(v, "m1", false, null, T1).path("migrationState");
        assertTrue(ok.path("completed").asBoolean());
        assertFalse(ok.path("failed").asBoolean());
        assertEquals(T1.toString(), ok.path("endTimestamp").asText());
        assertFalse(ok.has("failureReason"));
        assertFalse(ok.has("abortStatus"));

        ObjectNode bad = MigrationStatuses.finished(v, "m1", true, "migration failed: boom; the VM runs on the source", T1);
        assertEquals("migration failed: boom; the VM runs on the source",
                bad.path("migrationState").path("failureReason").asText());
        VirtualMachineInstance failed = apply(v, statusPatch(bad));
        assertNull(MigrationStatuses.finished(failed, "m1", false, null, T1), "the first end stays");
        assertTrue(MigrationStatuses.ended(failed.getStatus().getMigrationState()));

        VirtualMachineInstance aborting = vmi("startTimestamp: '" + T0 + "'\nabortRequested: true");
        assertEquals("Succeeded", MigrationStatuses.finished(aborting, "m1", true, MigrationStatuses.ABORTED, T1)
                .path("migrationState").path("abortStatus").asText());
        assertEquals("Failed", MigrationStatuses.finished(aborting, "m1", false, null, T1)
                .path("migrationState").path("abortStatus").asText(), "too late: it completed");

        // the controller ended it first (the target quit on the abort): the source adds only how the abort went
        VirtualMachineInstance endedByController = vmi("startTimestamp: '" + T0 + "'\nabortRequested: true\n"
                + "completed: true\nfailed: true\nfailureReason: Target pod is down\nendTimestamp: '" + T0 + "'");
        JsonNode late = MigrationStatuses.finished(endedByController, "m1", true, MigrationStatuses.ABORTED, T1)
                .path("migrationState");
        assertEquals("Succeeded", late.path("abortStatus").asText());
        assertEquals("Target pod is down", late.path("failureReason").asText(), "the first end's reason stays");
        assertEquals(T0.toString(), late.path("endTimestamp").asText(), "the first end's time stays");
        assertNull(MigrationStatuses.finished(apply(endedByController, statusPatch(
                MigrationStatuses.finished(endedByController, "m1", true, MigrationStatuses.ABORTED, T1))), "m1", true,
                MigrationStatuses.ABORTED, T1), "written once");
    }

    @Test
    void modeWrittenOnceWhileTheMigrationRuns() throws Exception {
        VirtualMachineInstance v = vmi("startTimestamp: '" + T0 + "'\nmode: PreCopy");
        ObjectNode post = MigrationStatuses.mode(v, "m1", "PostCopy");
        assertEquals("PostCopy", post.path("migrationState").path("mode").asText());
        assertEquals(T0.toString(), post.path("migrationState").path("startTimestamp").asText());
        assertNull(MigrationStatuses.mode(apply(v, statusPatch(post)), "m1", "PostCopy"), "written already");
        assertNull(MigrationStatuses.mode(v, "other", "Paused"), "another migration's");
        assertNull(MigrationStatuses.mode(vmi("startTimestamp: '" + T0 + "'\ncompleted: true"), "m1", "Paused"),
                "it ended");
    }

    @Test
    void handoverMovesTheVmiToTheTargetInOnePatch() throws Exception {
        VirtualMachineInstance v = vmi("startTimestamp: '" + T0 + "'\ncompleted: true\nfailed: false\nendTimestamp: '" + T1 + "'");
        VmiInterfaceStatus itf = new VmiInterfaceStatus();
        itf.setName("default");
        itf.setIpAddress("10.2.0.9");
        ObjectNode p = MigrationStatuses.handover(v, "m1", "node-2", List.of(itf), T1);
        VirtualMachineInstance after = apply(v, p);
        assertEquals("node-2", after.getStatus().getNodeName());
        assertEquals("node-2", after.getMetadata().getLabels().get("kubevirt.io/nodeName"));
        assertFalse(after.getMetadata().getLabels().containsKey("kubevirt.io/migrationTargetNodeName"));
        assertEquals("x", after.getMetadata().getLabels().get("app"), "others' labels stay");
        assertEquals(T1.toString(), after.getStatus().getMigrationState().getTargetNodeDomainReadyTimestamp());
        assertEquals(T1.toString(), after.getStatus().getMigrationState().getEndTimestamp(), "the source's end kept");
        assertNull(after.getStatus().getEvacuationNodeName());
        assertEquals("10.2.0.9", after.getStatus().getInterfaces().get(0).getIpAddress());
        assertNull(MigrationStatuses.handover(after, "m1", "node-2", List.of(itf), T1), "done: nothing more");
        assertTrue(MigrationStatuses.migratedAway(after, "node-1"), "the source forgets it");
        assertFalse(MigrationStatuses.migratedAway(after, "node-2"));
    }

    @Test
    void noHandoverOfAFailedMigration() throws Exception {
        VirtualMachineInstance v = vmi("completed: true\nfailed: true\nfailureReason: boom");
        assertNull(MigrationStatuses.handover(v, "m1", "node-2", List.of(), T1));
        assertFalse(MigrationStatuses.migratedAway(v, "node-1"), "a failed migration leaves the VMI with its source");
    }
}
