package io.qvirt.api.instancetype;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.qvirt.api.model.Extensible;

/** KubeVirt's {@code MachinePreferences}. Fields qvirt does not model are kept in {@link #getAdditionalProperties()}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class MachinePreferences extends Extensible {
    private String preferredMachineType;

    public String getPreferredMachineType() {
        return preferredMachineType;
    }

    public void setPreferredMachineType(String preferredMachineType) {
        this.preferredMachineType = preferredMachineType;
    }
}
