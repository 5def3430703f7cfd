package io.qvirt.api.model;

import com.fasterxml.jackson.annotation.JsonInclude;

/** Direct kernel boot. Fields qvirt does not model are kept in {@link #getAdditionalProperties()}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class KernelBoot extends Extensible {
    private String kernelArgs;

    private KernelBootContainer container;

    public String getKernelArgs() {
        return kernelArgs;
    }

    public void setKernelArgs(String kernelArgs) {
        this.kernelArgs = kernelArgs;
    }

    public KernelBootContainer getContainer() {
        return container;
    }

    public void setContainer(KernelBootContainer container) {
        this.container = container;
    }
}
