package io.qvirt.api.model;

import com.fasterxml.jackson.annotation.JsonInclude;

/** A reference by name within the namespace. Fields qvirt does not model are kept in {@link #getAdditionalProperties()}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class LocalObjectReference extends Extensible {
    private String name;

    public String getName() {
        return name;
    }

    public void setName(String name) {
        this.name = name;
    }
}
