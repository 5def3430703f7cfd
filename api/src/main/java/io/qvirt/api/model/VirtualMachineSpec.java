package io.qvirt.api.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/** Spec of a {@code kubevirt.io/v1} VirtualMachine (KubeVirt's {@code VirtualMachineSpec}). Fields qvirt does not model are kept in {@link #getAdditionalProperties()}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class VirtualMachineSpec extends Extensible {
    /** Deprecated by KubeVirt; mutually exclusive with {@code runStrategy}. */
    private Boolean running;

    /** One of {@link RunStrategy}. */
    private String runStrategy;

    /** The VMI to create. */
    private VirtualMachineInstanceTemplateSpec template;

    /** Kept as written; qvirt does not act on them. */
    private List<DataVolumeTemplateSpec> dataVolumeTemplates;

    /** The instancetype whose CPU and memory the VM gets (see {@code io.qvirt.api.instancetype}). */
    private InstancetypeMatcher instancetype;

    /** The preference whose values fill what the template leaves unset. */
    private InstancetypeMatcher preference;

    public Boolean getRunning() {
        return running;
    }

    public void setRunning(Boolean running) {
        this.running = running;
    }

    public String getRunStrategy() {
        return runStrategy;
    }

    public void setRunStrategy(String runStrategy) {
        this.runStrategy = runStrategy;
    }

    public VirtualMachineInstanceTemplateSpec getTemplate() {
        return template;
    }

    public void setTemplate(VirtualMachineInstanceTemplateSpec template) {
        this.template = template;
    }

    public List<DataVolumeTemplateSpec> getDataVolumeTemplates() {
        return dataVolumeTemplates;
    }

    public void setDataVolumeTemplates(List<DataVolumeTemplateSpec> dataVolumeTemplates) {
        this.dataVolumeTemplates = dataVolumeTemplates;
    }

    public InstancetypeMatcher getInstancetype() {
        return instancetype;
    }

    public void setInstancetype(InstancetypeMatcher instancetype) {
        this.instancetype = instancetype;
    }

    public InstancetypeMatcher getPreference() {
        return preference;
    }

    public void setPreference(InstancetypeMatcher preference) {
        this.preference = preference;
    }
}
