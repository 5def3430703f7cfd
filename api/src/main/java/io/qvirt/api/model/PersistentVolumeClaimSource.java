package io.qvirt.api.model;

import com.fasterxml.jackson.annotation.JsonInclude;

/** A PVC. Fields qvirt does not model are kept in {@link #getAdditionalProperties()}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class PersistentVolumeClaimSource extends Extensible {
    private String claimName;

    private Boolean readOnly;

    private Boolean hotpluggable;

    public String getClaimName() {
        return claimName;
    }

    public void setClaimName(String claimName) {
        this.claimName = claimName;
    }

    public Boolean getReadOnly() {
        return readOnly;
    }

    public void setReadOnly(Boolean readOnly) {
        this.readOnly = readOnly;
    }

    public Boolean getHotpluggable() {
        return hotpluggable;
    }

    public void setHotpluggable(Boolean hotpluggable) {
        this.hotpluggable = hotpluggable;
    }
}
