package io.qvirt.api.model;

import com.fasterxml.jackson.annotation.JsonInclude;

/** UEFI (OVMF). Fields qvirt does not model are kept in {@link #getAdditionalProperties()}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class EFI extends Extensible {
    /** Defaults to true in KubeVirt; needs the SMM feature. */
    private Boolean secureBoot;

    private Boolean persistent;

    public Boolean getSecureBoot() {
        return secureBoot;
    }

    public void setSecureBoot(Boolean secureBoot) {
        this.secureBoot = secureBoot;
    }

    public Boolean getPersistent() {
        return persistent;
    }

    public void setPersistent(Boolean persistent) {
        this.persistent = persistent;
    }
}
