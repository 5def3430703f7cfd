package io.qvirt.api.model;

import com.fasterxml.jackson.annotation.JsonInclude;

/** APIC feature. Fields qvirt does not model are kept in {@link #getAdditionalProperties()}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class FeatureAPIC extends Extensible {
    private Boolean enabled;

    private Boolean endOfInterrupt;

    public Boolean getEnabled() {
        return enabled;
    }

    public void setEnabled(Boolean enabled) {
        this.enabled = enabled;
    }

    public Boolean getEndOfInterrupt() {
        return endOfInterrupt;
    }

    public void setEndOfInterrupt(Boolean endOfInterrupt) {
        this.endOfInterrupt = endOfInterrupt;
    }
}
