package io.qvirt.handler.vmi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.qvirt.api.KubevirtJson;
import io.qvirt.api.VirtualMachineInstance;
import io.qvirt.api.model.AcceleratorStatus;
import io.qvirt.api.model.VirtualMachineInstanceStatus;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** The handler's status computation: what it writes, and that a second pass over its own result writes nothing. */
class VmiStatusesTest {
    private static final Instant T0 = Instant.parse("2026-12-01T10:00:00Z");
    private static final Instant T1 = Instant.parse("2026-12-01T10:00:05Z");

    private static VirtualMachineInstance vmi(String phase) throws Exception {
        VirtualMachineInstance v = KubevirtJson.yaml().readValue("""
                apiVersion: kubevirt.io/v1
                kind: VirtualMachineInstance
                metadata: {name: a, namespace: default, uid: u1}
                spec:
                  domain:
                    devices:
                      interfaces: [{name: default, masquerade: {}, macAddress: "02:00:00:00:00:01"}]
                  networks: [{name: default, pod: {}}]
                status:
                  phase: %s
                  nodeName: n1
                  conditions: [{type: PodScheduled, status: "True"}]
                """.formatted(phase), VirtualMachineInstance.class);
        return v;
    }

    /** {@code vmi} with {@code statusPatch} merged into its status (as the API server would store it). */
    private static VirtualMachineInstance apply(VirtualMachineInstance vmi, ObjectNode statusPatch) throws Exception {
        ObjectNode tree = (ObjectNode) KubevirtJson.toTree(vmi);
        ObjectNode st = (ObjectNode) tree.get("status");
        statusPatch.properties().forEach(e -> st.set(e.getKey(), e.getValue()));
        return KubevirtJson.json().treeToValue(tree, VirtualMachineInstance.class);
    }

    private static VmiStatuses.Observed observed(boolean paused) {
        AcceleratorStatus a = new AcceleratorStatus();
        a.setName("tcg");
        a.setReason("useEmulation");
        return new VmiStatuses.Observed(paused, "10.0.0.7", "reg/virt-launcher:v1", "Burstable", a);
    }

    @Test
    void runningWritesPhaseConditionsInterfacesOnceAndKeepsOthersConditions() throws Exception {
        VirtualMachineInstance v = vmi("Scheduled");
        ObjectNode p = VmiStatuses.running(v, observed(false), T0);
        assertNotNull(p);
        assertEquals("Running", p.path("phase").asText());
        assertEquals("Running", p.path("phaseTransitionTimestamps").get(0).path("phase").asText());
        JsonNode itf = p.path("interfaces").get(0);
        assertEquals("10.0.0.7", itf.path("ipAddress").asText());
        assertEquals("02:00:00:00:00:01", itf.path("mac").asText());
        assertEquals("tcg", p.path("qvirtAccelerator").path("name").asText());
        VirtualMachineInstance after = apply(v, p);
        VirtualMachineInstanceStatus s = after.getStatus();
        assertTrue(s.getConditions().stream().anyMatch(c -> c.getType().equals("PodScheduled")), "the controller's condition stays");
        assertTrue(s.getConditions().stream().anyMatch(c -> c.getType().equals("Ready") && c.getStatus().equals("True")));
        assertNull(VmiStatuses.running(after, observed(false), T1), "nothing changed: nothing to write");
    }

    @Test
    void aBridgeInterfaceWithoutMacAddressReportsTheMacTheHandlerGaveTheGuest() throws Exception {
        VirtualMachineInstance v = vmi("Scheduled");
        var itf = v.getSpec().getDomain().getDevices().getInterfaces().get(0);
        itf.setMacAddress(null);
        AcceleratorStatus a = new AcceleratorStatus();
        a.setName("tcg");
        VmiStatuses.Observed o = new VmiStatuses.Observed(false, "10.0.0.7", "img", "Burstable", a,
                java.util.Map.of(itf.getName(), "0a:58:0a:00:00:07"));
        JsonNode st = VmiStatuses.running(v, o, T0).path("interfaces").get(0);
        assertEquals("0a:58:0a:00:00:07", st.path("mac").asText());
        assertEquals("10.0.0.7", st.path("ipAddress").asText());
        // A spec's macAddress wins, as the launcher gives the guest that one.
        itf.setMacAddress("02:00:00:00:00:09");
        assertEquals("02:00:00:00:00:09", VmiStatuses.running(v, o, T0).path("interfaces").get(0).path("mac").asText());
    }

    @Test
    void pausedFlipsReadyAndAddsPausedThenBackWithoutTouchingUnchangedConditions() throws Exception {
        VirtualMachineInstance running = apply(vmi("Scheduled"), VmiStatuses.running(vmi("Scheduled"), observed(false), T0));
        ObjectNode p = VmiStatuses.running(running, observed(true), T1);
        assertFalse(p.has("phase"), "still Running");
        VirtualMachineInstance paused = apply(running, p);
        assertEquals("True", paused.getStatus().getConditions().stream().filter(c -> c.getType().equals("Paused"))
                .findFirst().orElseThrow().getStatus());
        assertEquals("False", paused.getStatus().getConditions().stream().filter(c -> c.getType().equals("Ready"))
                .findFirst().orElseThrow().getStatus());
        String migratableSince = paused.getStatus().getConditions().stream().filter(c -> c.getType().equals("LiveMigratable"))
                .findFirst().orElseThrow().getLastTransitionTime();
        assertEquals(T0.toString(), migratableSince, "an unchanged condition keeps its transition time");
        VirtualMachineInstance back = apply(paused, VmiStatuses.running(paused, observed(false), T1));
        assertTrue(back.getStatus().getConditions().stream().noneMatch(c -> c.getType().equals("Paused")));
    }

    @Test
    void liveMigratableFollowsTheSpec() throws Exception {
        VirtualMachineInstance v = vmi("Scheduled");
        JsonNode conds = VmiStatuses.running(v, observed(false), T0).path("conditions");
        JsonNode lm = null;
        for (JsonNode c : conds) {
            if (c.path("type").asText().equals("LiveMigratable")) {
                lm = c;
            }
        }
        assertNotNull(lm);
        assertEquals("True", lm.path("status").asText(), "masquerade, no volumes: migratable");
        assertFalse(lm.has("reason"));
        v.getSpec().getDomain().getDevices().getInterfaces().get(0).setMasquerade(null);
        v.getSpec().getDomain().getDevices().getInterfaces().get(0).setBridge(new io.qvirt.api.model.BindingMethod());
        var c = VmiStatuses.liveMigratable(v, T0);
        assertEquals("False", c.getStatus());
        assertEquals("InterfaceNotLiveMigratable", c.getReason());
    }

    @Test
    void endedWritesOnceAndNeverRewritesAFinalPhase() throws Exception {
        VirtualMachineInstance v = vmi("Running");
        ObjectNode p = VmiStatuses.ended(v, "Failed", "QemuExited", "QEMU exited: killed by signal 9 (SIGKILL)", T0);
        assertEquals("Failed", p.path("phase").asText());
        assertEquals("QemuExited", p.path("reason").asText());
        VirtualMachineInstance failed = apply(v, p);
        assertTrue(failed.getStatus().getConditions().stream().anyMatch(c -> c.getType().equals("Ready")
                && c.getMessage().contains("signal 9")));
        assertNull(VmiStatuses.ended(failed, "Succeeded", "GuestShutdown", "late", T1), "a final phase stays");
    }
}
