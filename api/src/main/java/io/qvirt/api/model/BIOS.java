package io.qvirt.api.model;

import com.fasterxml.jackson.annotation.JsonInclude;

/** Legacy BIOS (SeaBIOS). Fields qvirt does not model are kept in {@link #getAdditionalProperties()}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class BIOS extends Extensible {
    private Boolean useSerial;

    public Boolean getUseSerial() {
        return useSerial;
    }

    public void setUseSerial(Boolean useSerial) {
        this.useSerial = useSerial;
    }
}
