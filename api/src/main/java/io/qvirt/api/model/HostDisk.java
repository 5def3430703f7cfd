package io.qvirt.api.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.fabric8.kubernetes.api.model.Quantity;

/** A disk image file on the node. Fields qvirt does not model are kept in {@link #getAdditionalProperties()}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class HostDisk extends Extensible {
    private String path;

    /** {@code Disk} or {@code DiskOrCreate}. */
    private String type;

    private Quantity capacity;

    private Boolean shared;

    public String getPath() {
        return path;
    }

    public void setPath(String path) {
        this.path = path;
    }

    public String getType() {
        return type;
    }

    public void setType(String type) {
        this.type = type;
    }

    public Quantity getCapacity() {
        return capacity;
    }

    public void setCapacity(Quantity capacity) {
        this.capacity = capacity;
    }

    public Boolean getShared() {
        return shared;
    }

    public void setShared(Boolean shared) {
        this.shared = shared;
    }
}
