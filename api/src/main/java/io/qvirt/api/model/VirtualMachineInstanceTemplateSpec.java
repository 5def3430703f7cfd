package io.qvirt.api.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.fabric8.crd.generator.annotation.PreserveUnknownFields;
import io.fabric8.kubernetes.api.model.ObjectMeta;

/** A VMI template: metadata and VMI spec. Fields qvirt does not model are kept in {@link #getAdditionalProperties()}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class VirtualMachineInstanceTemplateSpec extends Extensible {
    /** Labels and annotations for the VMI (name and namespace come from the VM). */
    @PreserveUnknownFields private ObjectMeta metadata;

    private VirtualMachineInstanceSpec spec;

    public ObjectMeta getMetadata() {
        return metadata;
    }

    public void setMetadata(ObjectMeta metadata) {
        this.metadata = metadata;
    }

    public VirtualMachineInstanceSpec getSpec() {
        return spec;
    }

    public void setSpec(VirtualMachineInstanceSpec spec) {
        this.spec = spec;
    }
}
