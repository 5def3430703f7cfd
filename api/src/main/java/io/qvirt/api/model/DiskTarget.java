package io.qvirt.api.model;

import com.fasterxml.jackson.annotation.JsonInclude;

/** A disk. Fields qvirt does not model are kept in {@link #getAdditionalProperties()}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class DiskTarget extends Extensible {
    /** {@code virtio}, {@code sata}, {@code scsi} or {@code usb}. */
    private String bus;

    private Boolean readonly;

    private String pciAddress;

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

    public String getPciAddress() {
        return pciAddress;
    }

    public void setPciAddress(String pciAddress) {
        this.pciAddress = pciAddress;
    }
}
