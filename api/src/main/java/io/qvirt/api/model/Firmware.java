package io.qvirt.api.model;

import com.fasterxml.jackson.annotation.JsonInclude;

/** Firmware: boot loader, SMBIOS UUID and serial, direct kernel boot. Fields qvirt does not model are kept in {@link #getAdditionalProperties()}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class Firmware extends Extensible {
    /** SMBIOS UUID; derived from the name when absent (see {@code VmiDefaults}). */
    private String uuid;

    private Bootloader bootloader;

    private String serial;

    private KernelBoot kernelBoot;

    public String getUuid() {
        return uuid;
    }

    public void setUuid(String uuid) {
        this.uuid = uuid;
    }

    public Bootloader getBootloader() {
        return bootloader;
    }

    public void setBootloader(Bootloader bootloader) {
        this.bootloader = bootloader;
    }

    public String getSerial() {
        return serial;
    }

    public void setSerial(String serial) {
        this.serial = serial;
    }

    public KernelBoot getKernelBoot() {
        return kernelBoot;
    }

    public void setKernelBoot(KernelBoot kernelBoot) {
        this.kernelBoot = kernelBoot;
    }
}
