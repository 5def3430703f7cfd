package io.qvirt.handler.vmi;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.qvirt.api.KubevirtJson;
import io.qvirt.api.VirtualMachineInstance;
import io.qvirt.api.model.MigrationState;
import io.qvirt.api.model.VmiInterfaceStatus;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The VMI fields a handler writes in its two migration roles (KubeVirt's migration-source.go and
 * migration-target.go): pure functions from a fresh VMI to the patch that brings it there, or null when there is
 * nothing to write, when the VMI's {@code status.migrationState} is no longer that migration's (another
 * {@code migrationUid}), or when that migration has ended already. {@code migrationState} is one second-level
 * field of the patch, so each patch carries the whole of it: the controller's fields as the fresh VMI has them,
 * with the handler's changed.
 */
final class MigrationStatuses {
    static final String TARGET_NODE_LABEL = "kubevirt.io/migrationTargetNodeName";
    /** KubeVirt's words for a migration ended by migrate-cancel (migration-target.go). */
    static final String ABORTED = "Live migration has been aborted";
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private MigrationStatuses() {
    }

    /** The VMI's migration state if it is migration {@code uid}'s, else null. */
    static MigrationState of(VirtualMachineInstance vmi, String uid) {
        MigrationState m = vmi.getStatus() == null ? null : vmi.getStatus().getMigrationState();
        return m != null && uid != null && uid.equals(m.getMigrationUid()) ? m : null;
    }

    /** Whether the migration the VMI names has ended (completed, either way). */
    static boolean ended(MigrationState m) {
        return m != null && Boolean.TRUE.equals(m.getCompleted());
    }

    /**
     * Target, step 4: the target QEMU is attached and its proxy registration made: where the source connects.
     *
     * @return status patch, or null if already written or no longer this migration's
     */
    static ObjectNode targetReady(VirtualMachineInstance vmi, String uid, String address, int port) {
        MigrationState m = of(vmi, uid);
        if (m == null || ended(m)) {
            return null;
        }
        Map<String, Integer> ports = Map.of(Integer.toString(port), 0);
        if (Objects.equals(address, m.getTargetNodeAddress()) && ports.equals(m.getTargetDirectMigrationNodePorts())
                && Boolean.TRUE.equals(m.getTargetNodeDomainDetected())) {
            return null;
        }
        ObjectNode ms = state(m);
        ms.put("targetNodeAddress", address);
        ms.set("targetDirectMigrationNodePorts", NODES.objectNode().put(Integer.toString(port), 0));
        ms.put("targetNodeDomainDetected", true);
        return status(ms);
    }

    /** Source, step 5: the migration starts now. Null if it has a start already, or is not this one, or ended. */
    static ObjectNode started(VirtualMachineInstance vmi, String uid, Instant now) {
        MigrationState m = of(vmi, uid);
        if (m == null || ended(m) || m.getStartTimestamp() != null) {
            return null;
        }
        ObjectNode ms = state(m);
        ms.put("startTimestamp", now.toString());
        return status(ms);
    }

    /**
     * The source left pre-copy at the completion timeout: {@code mode} {@code PostCopy} or {@code Paused} (KubeVirt's
     * updateVMIMigrationMode). Null if it is not this migration, it ended, or the mode is written already.
     */
    static ObjectNode mode(VirtualMachineInstance vmi, String uid, String mode) {
        MigrationState m = of(vmi, uid);
        if (m == null || ended(m) || mode.equals(m.getMode())) {
            return null;
        }
        ObjectNode ms = state(m);
        ms.put("mode", mode);
        return status(ms);
    }

    /**
     * The migration's end as its source saw it: completed, failed or not, why, when; with {@code abortStatus} when
     * an abort was asked for ({@code Succeeded} if it ended failed, the VM still here; {@code Failed} if it
     * completed anyway). Null if it is not this migration, or if it ended already (a first end stays) and no
     * {@code abortStatus} is missing: the controller may have ended it first ("Target pod is down", the target
     * having quit on the abort), and only the source knows how the abort went (KubeVirt's handler writes it too).
     *
     * @param failureReason null for a success
     */
    static ObjectNode finished(VirtualMachineInstance vmi, String uid, boolean failed, String failureReason, Instant now) {
        MigrationState m = of(vmi, uid);
        if (m == null) {
            return null;
        }
        if (ended(m)) {
            if (!Boolean.TRUE.equals(m.getAbortRequested()) || m.getAbortStatus() != null) {
                return null;
            }
            ObjectNode ms = state(m);
            ms.put("abortStatus", failed ? "Succeeded" : "Failed");
            return status(ms);
        }
        ObjectNode ms = state(m);
        ms.put("completed", true);
        ms.put("failed", failed);
        ms.put("endTimestamp", now.toString());
        if (m.getStartTimestamp() == null) {
            ms.put("startTimestamp", now.toString());
        }
        if (failed) {
            ms.put("failureReason", failureReason);
        }
        if (Boolean.TRUE.equals(m.getAbortRequested())) {
            ms.put("abortStatus", failed ? "Succeeded" : "Failed");
        }
        return status(ms);
    }

    /**
     * Target, step 6: the VM runs here now. One patch of labels and status: {@code kubevirt.io/nodeName} this
     * node, {@code kubevirt.io/migrationTargetNodeName} gone, {@code status.nodeName} this node,
     * {@code evacuationNodeName} cleared, {@code targetNodeDomainReadyTimestamp}, the interfaces with the target
     * pod's IP (KubeVirt's ackMigrationCompletion; the source may not have written its end yet, so completed and
     * endTimestamp are written too if missing).
     *
     * @return the two-level patch ({@code metadata}, {@code status}), or null if written already / not this migration
     */
    static ObjectNode handover(VirtualMachineInstance vmi, String uid, String node, List<VmiInterfaceStatus> interfaces,
                               Instant now) {
        MigrationState m = of(vmi, uid);
        if (m == null || Boolean.TRUE.equals(m.getFailed())) {
            return null;
        }
        Map<String, String> labels = new LinkedHashMap<>(vmi.getMetadata().getLabels() == null ? Map.of()
                : vmi.getMetadata().getLabels());
        if (node.equals(vmi.getStatus().getNodeName()) && m.getTargetNodeDomainReadyTimestamp() != null
                && node.equals(labels.get(VmiDriver.NODE_NAME_LABEL)) && !labels.containsKey(TARGET_NODE_LABEL)) {
            return null;
        }
        labels.put(VmiDriver.NODE_NAME_LABEL, node);
        labels.remove(TARGET_NODE_LABEL);
        ObjectNode ms = state(m);
        ms.put("targetNodeDomainReadyTimestamp", now.toString());
        ms.put("completed", true);
        ms.put("failed", false);
        if (m.getEndTimestamp() == null) {
            ms.put("endTimestamp", now.toString());
        }
        ObjectNode s = status(ms);
        s.put("nodeName", node);
        s.putNull("evacuationNodeName");
        s.set("interfaces", KubevirtJson.toTree(interfaces));
        ObjectNode patch = NODES.objectNode();
        patch.putObject("metadata").set("labels", KubevirtJson.toTree(labels));
        patch.set("status", s);
        return patch;
    }

    /** Whether this handler, on {@code node}, drove the source of a migration that succeeded: the VMI is not its any more. */
    static boolean migratedAway(VirtualMachineInstance vmi, String node) {
        MigrationState m = vmi.getStatus() == null ? null : vmi.getStatus().getMigrationState();
        return m != null && node.equals(m.getSourceNode()) && Boolean.TRUE.equals(m.getCompleted())
                && !Boolean.TRUE.equals(m.getFailed()) && m.getTargetNode() != null && !node.equals(m.getTargetNode());
    }

    private static ObjectNode state(MigrationState m) {
        return (ObjectNode) KubevirtJson.toTree(m);
    }

    private static ObjectNode status(JsonNode ms) {
        ObjectNode s = NODES.objectNode();
        s.set("migrationState", ms);
        return s;
    }
}
