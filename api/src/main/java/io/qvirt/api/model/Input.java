package io.qvirt.api.model;

import com.fasterxml.jackson.annotation.JsonInclude;

/** An input device. Fields qvirt does not model are kept in {@link #getAdditionalProperties()}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class Input extends Extensible {
    private String name;

    /** {@code usb} or {@code virtio}. */
    private String bus;

    /** {@code tablet}. */
    private String type;

    public String getName() {
        return name;
    }

    public void setName(String name) {
        this.name = name;
    }

    public String getBus() {
        return bus;
    }

    public void setBus(String bus) {
        this.bus = bus;
    }

    public String getType() {
        return type;
    }

    public void setType(String type) {
        this.type = type;
    }
}
