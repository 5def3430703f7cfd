package io.qvirt.api.model;

import com.fasterxml.jackson.annotation.JsonInclude;

/** A CD-ROM. Fields qvirt does not model are kept in {@link #getAdditionalProperties()}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class CDRomTarget extends Extensible {
    /** {@code sata} or {@code scsi} ({@code virtio} is refused). */
    private String bus;

    private Boolean readonly;

    private String tray;

    public String getBus() {
        return bus;
    }

    public void setBus(String bus) {
        this.bus = bus;
    }

    public Boolean getReadonly() {
        return readonly;
    }

    public void setReadonly(Boolean readonly) {
        this.readonly = readonly;
    }

    public String getTray() {
        return tray;
    }

    public void setTray(String tray) {
        this.tray = tray;
    }
}
