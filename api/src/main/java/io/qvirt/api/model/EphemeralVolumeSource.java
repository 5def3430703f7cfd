package io.qvirt.api.model;

import com.fasterxml.jackson.annotation.JsonInclude;

/** A PVC used copy-on-write. Fields qvirt does not model are kept in {@link #getAdditionalProperties()}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class EphemeralVolumeSource extends Extensible {
    private PersistentVolumeClaimSource persistentVolumeClaim;

    public PersistentVolumeClaimSource getPersistentVolumeClaim() {
        return persistentVolumeClaim;
    }

    public void setPersistentVolumeClaim(PersistentVolumeClaimSource persistentVolumeClaim) {
        this.persistentVolumeClaim = persistentVolumeClaim;
    }
}
