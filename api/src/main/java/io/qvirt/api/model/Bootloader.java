package io.qvirt.api.model;

import com.fasterxml.jackson.annotation.JsonInclude;

/** BIOS or EFI (mutually exclusive). Fields qvirt does not model are kept in {@link #getAdditionalProperties()}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class Bootloader extends Extensible {
    private BIOS bios;

    private EFI efi;

    public BIOS getBios() {
        return bios;
    }

    public void setBios(BIOS bios) {
        this.bios = bios;
    }

    public EFI getEfi() {
        return efi;
    }

    public void setEfi(EFI efi) {
        this.efi = efi;
    }
}
