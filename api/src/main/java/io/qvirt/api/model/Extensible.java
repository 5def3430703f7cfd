package io.qvirt.api.model;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonAnySetter;
import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Base of every KubeVirt bean: fields qvirt does not model are kept, in order, and written back, so a
 * read-modify-write by qvirt never drops what KubeVirt or another tool wrote. The CRD generator marks
 * every such object {@code x-kubernetes-preserve-unknown-fields: true} (see the api README).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public abstract class Extensible {
    @JsonIgnore
    private final Map<String, Object> additionalProperties = new LinkedHashMap<>();

    /** Fields of this object that qvirt does not model, as Jackson read them (maps, lists, scalars). */
    @JsonAnyGetter
    public Map<String, Object> getAdditionalProperties() {
        return additionalProperties;
    }

    @JsonAnySetter
    public void setAdditionalProperty(String name, Object value) {
        additionalProperties.put(name, value);
    }
}
