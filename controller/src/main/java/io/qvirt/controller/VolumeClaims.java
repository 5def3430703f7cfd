package io.qvirt.controller;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.qvirt.api.KubevirtJson;
import io.qvirt.api.model.Volume;
import io.qvirt.api.model.VirtualMachineInstanceSpec;
import java.util.ArrayList;
import java.util.List;

/**
 * The claims a VMI's volumes name, as KubeVirt's storage types read them: a {@code persistentVolumeClaim} volume's
 * {@code claimName} and an {@code ephemeral} volume's {@code persistentVolumeClaim.claimName} (the launcher pod mounts
 * both; an ephemeral one is only read, under the VM's own overlay). {@code dataVolume} volumes are refused before
 * (they need CDI), so they name no claim here.
 */
final class VolumeClaims {
    /** KubeVirt's file system overhead when CDI is not installed (its {@code DefaultFSOverhead}). */
    static final String DEFAULT_FS_OVERHEAD = "0.055";
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private VolumeClaims() {
    }

    /** The claim a volume names, or null if it names none. */
    static String claimName(Volume v) {
        if (v.getPersistentVolumeClaim() != null) {
            return v.getPersistentVolumeClaim().getClaimName();
        }
        if (v.getEphemeral() != null && v.getEphemeral().getPersistentVolumeClaim() != null) {
            return v.getEphemeral().getPersistentVolumeClaim().getClaimName();
        }
        return null;
    }

    /** Every claim volume of a spec, in spec order. */
    static List<Volume> claimVolumes(VirtualMachineInstanceSpec spec) {
        List<Volume> out = new ArrayList<>();
        if (spec != null && spec.getVolumes() != null) {
            for (Volume v : spec.getVolumes()) {
                if (claimName(v) != null) {
                    out.add(v);
                }
            }
        }
        return out;
    }

    /** Phase Bound. */
    static boolean bound(PersistentVolumeClaim pvc) {
        return pvc.getStatus() != null && "Bound".equals(pvc.getStatus().getPhase());
    }

    /** KubeVirt's IsPVCBlock: volumeMode Block. */
    static boolean block(PersistentVolumeClaim pvc) {
        return pvc.getSpec() != null && "Block".equals(pvc.getSpec().getVolumeMode());
    }

    /**
     * KubeVirt's {@code status.volumeStatus[].persistentVolumeClaimInfo} of a claim (its processPVCInfo): claimName,
     * accessModes, volumeMode, capacity (the claim's status), requests (its spec), preallocated, filesystemOverhead
     * (without CDI, KubeVirt's default 5.5 %). Fields the claim leaves out are left out.
     */
    static ObjectNode claimInfo(PersistentVolumeClaim pvc) {
        ObjectNode info = NODES.objectNode();
        info.put("claimName", pvc.getMetadata().getName());
        if (pvc.getSpec() != null && pvc.getSpec().getAccessModes() != null) {
            info.set("accessModes", KubevirtJson.toTree(pvc.getSpec().getAccessModes()));
        }
        if (pvc.getSpec() != null && pvc.getSpec().getVolumeMode() != null) {
            info.put("volumeMode", pvc.getSpec().getVolumeMode());
        }
        if (pvc.getStatus() != null && pvc.getStatus().getCapacity() != null && !pvc.getStatus().getCapacity().isEmpty()) {
            info.set("capacity", KubevirtJson.toTree(pvc.getStatus().getCapacity()));
        }
        if (pvc.getSpec() != null && pvc.getSpec().getResources() != null
                && pvc.getSpec().getResources().getRequests() != null
                && !pvc.getSpec().getResources().getRequests().isEmpty()) {
            info.set("requests", KubevirtJson.toTree(pvc.getSpec().getResources().getRequests()));
        }
        boolean preallocated = pvc.getMetadata().getAnnotations() != null && pvc.getMetadata().getAnnotations()
                .entrySet().stream().anyMatch(e -> "true".equals(e.getValue())
                        && (e.getKey().contains("/storage.preallocation")
                        || e.getKey().contains("/storage.thick-provisioned")));
        if (preallocated) {
            info.put("preallocated", true);
        }
        info.put("filesystemOverhead", DEFAULT_FS_OVERHEAD);
        return info;
    }
}
