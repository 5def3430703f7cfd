package io.qvirt.api.model;

import com.fasterxml.jackson.annotation.JsonInclude;

/** A disk device; {@code name} refers to a volume. Fields qvirt does not model are kept in {@link #getAdditionalProperties()}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class Disk extends Extensible {
    private String name;

    private DiskTarget disk;

    private LunTarget lun;

    private CDRomTarget cdrom;

    private Integer bootOrder;

    private String serial;

    private Boolean dedicatedIOThread;

    /** {@code none}, {@code writethrough} or {@code writeback}. */
    private String cache;

    /** {@code native} or {@code threads}. */
    private String io;

    private String tag;

    private Boolean shareable;

    private String errorPolicy;

    public String getName() {
        return name;
    }

    public void setName(String name) {
        this.name = name;
    }

    public DiskTarget getDisk() {
        return disk;
    }

    public void setDisk(DiskTarget disk) {
        this.disk = disk;
    }

    public LunTarget getLun() {
        return lun;
    }

    public void setLun(LunTarget lun) {
        this.lun = lun;
    }

    public CDRomTarget getCdrom() {
        return cdrom;
    }

    public void setCdrom(CDRomTarget cdrom) {
        this.cdrom = cdrom;
    }

    public Integer getBootOrder() {
        return bootOrder;
    }

    public void setBootOrder(Integer bootOrder) {
        this.bootOrder = bootOrder;
    }

    public String getSerial() {
        return serial;
    }

    public void setSerial(String serial) {
        this.serial = serial;
    }

    public Boolean getDedicatedIOThread() {
        return dedicatedIOThread;
    }

    public void setDedicatedIOThread(Boolean dedicatedIOThread) {
        this.dedicatedIOThread = dedicatedIOThread;
    }

    public String getCache() {
        return cache;
    }

    public void setCache(String cache) {
        this.cache = cache;
    }

    public String getIo() {
        return io;
    }

    public void setIo(String io) {
        this.io = io;
    }

    public String getTag() {
        return tag;
    }

    public void setTag(String tag) {
        this.tag = tag;
    }

    public Boolean getShareable() {
        return shareable;
    }

    public void setShareable(Boolean shareable) {
        this.shareable = shareable;
    }

    public String getErrorPolicy() {
        return errorPolicy;
    }

    public void setErrorPolicy(String errorPolicy) {
        this.errorPolicy = errorPolicy;
    }
}
