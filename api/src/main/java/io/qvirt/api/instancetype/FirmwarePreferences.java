package io.qvirt.api.instancetype;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.qvirt.api.model.Extensible;

/** KubeVirt's {@code FirmwarePreferences}. Fields qvirt does not model are kept in {@link #getAdditionalProperties()}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class FirmwarePreferences extends Extensible {
    private Boolean preferredUseBios;

    private Boolean preferredUseBiosSerial;

    /** Deprecated by KubeVirt for preferredEfi. */
    private Boolean preferredUseEfi;

    /** Deprecated by KubeVirt for preferredEfi. */
    private Boolean preferredUseSecureBoot;

    private io.qvirt.api.model.EFI preferredEfi;

    public Boolean getPreferredUseBios() {
        return preferredUseBios;
    }

    public void setPreferredUseBios(Boolean preferredUseBios) {
        this.preferredUseBios = preferredUseBios;
    }

    public Boolean getPreferredUseBiosSerial() {
        return preferredUseBiosSerial;
    }

    public void setPreferredUseBiosSerial(Boolean preferredUseBiosSerial) {
        this.preferredUseBiosSerial = preferredUseBiosSerial;
    }

    public Boolean getPreferredUseEfi() {
        return preferredUseEfi;
    }

    public void setPreferredUseEfi(Boolean preferredUseEfi) {
        this.preferredUseEfi = preferredUseEfi;
    }

    public Boolean getPreferredUseSecureBoot() {
        return preferredUseSecureBoot;
    }

    public void setPreferredUseSecureBoot(Boolean preferredUseSecureBoot) {
        this.preferredUseSecureBoot = preferredUseSecureBoot;
    }

    public io.qvirt.api.model.EFI getPreferredEfi() {
        return preferredEfi;
    }

    public void setPreferredEfi(io.qvirt.api.model.EFI preferredEfi) {
        this.preferredEfi = preferredEfi;
    }
}
