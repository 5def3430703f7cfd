package io.qvirt.api.instancetype;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.qvirt.api.model.Extensible;

/** KubeVirt's {@code PreferenceRequirements}. Fields qvirt does not model are kept in {@link #getAdditionalProperties()}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class PreferenceRequirements extends Extensible {
    private CPUPreferenceRequirement cpu;

    private MemoryPreferenceRequirement memory;

    private String architecture;

    public CPUPreferenceRequirement getCpu() {
        return cpu;
    }

    public void setCpu(CPUPreferenceRequirement cpu) {
        this.cpu = cpu;
    }

    public MemoryPreferenceRequirement getMemory() {
        return memory;
    }

    public void setMemory(MemoryPreferenceRequirement memory) {
        this.memory = memory;
    }

    public String getArchitecture() {
        return architecture;
    }

    public void setArchitecture(String architecture) {
        this.architecture = architecture;
    }
}
