package io.qvirt.api.model;

import com.fasterxml.jackson.annotation.JsonInclude;

/** A feature switch; {@code enabled} defaults to true when the feature is present. Fields qvirt does not model are kept in {@link #getAdditionalProperties()}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class FeatureState extends Extensible {
    private Boolean enabled;

    public Boolean getEnabled() {
        return enabled;
    }

    public void setEnabled(Boolean enabled) {
        this.enabled = enabled;
    }
}
