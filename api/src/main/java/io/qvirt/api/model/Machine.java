package io.qvirt.api.model;

import com.fasterxml.jackson.annotation.JsonInclude;

/** Machine type. Fields qvirt does not model are kept in {@link #getAdditionalProperties()}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class Machine extends Extensible {
    /** e.g. {@code q35}. */
    private String type;

    public String getType() {
        return type;
    }

    public void setType(String type) {
        this.type = type;
    }
}
