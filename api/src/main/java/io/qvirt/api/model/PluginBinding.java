package io.qvirt.api.model;

import com.fasterxml.jackson.annotation.JsonInclude;

/** A binding plugin by name. Fields qvirt does not model are kept in {@link #getAdditionalProperties()}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class PluginBinding extends Extensible {
    private String name;

    public String getName() {
        return name;
    }

    public void setName(String name) {
        this.name = name;
    }
}
