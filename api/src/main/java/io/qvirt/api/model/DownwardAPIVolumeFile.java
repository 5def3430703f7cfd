package io.qvirt.api.model;

import com.fasterxml.jackson.annotation.JsonInclude;

/** One downward API file (fieldRef / resourceFieldRef kept as written). Fields qvirt does not model are kept in {@link #getAdditionalProperties()}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class DownwardAPIVolumeFile extends Extensible {
    private String path;

    public String getPath() {
        return path;
    }

    public void setPath(String path) {
        this.path = path;
    }
}
