package io.qvirt.api.instancetype;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.qvirt.api.model.Extensible;
import java.util.Map;

/** KubeVirt's {@code VirtualMachineInstancetypeSpec} ({@code instancetype.kubevirt.io/v1beta1}): the resources a VM gets; a VM template must not set them too. Fields qvirt does not model are kept in {@link #getAdditionalProperties()}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class VirtualMachineInstancetypeSpec extends Extensible {
    /** Required: the vCPUs. */
    private CPUInstancetype cpu;

    /** Required: the guest memory. */
    private MemoryInstancetype memory;

    private Map<String, String> nodeSelector;

    private String schedulerName;

    /** Added to the VMI's annotations; a different value already there is a conflict. */
    private Map<String, String> annotations;

    public CPUInstancetype getCpu() {
        return cpu;
    }

    public void setCpu(CPUInstancetype cpu) {
        this.cpu = cpu;
    }

    public MemoryInstancetype getMemory() {
        return memory;
    }

    public void setMemory(MemoryInstancetype memory) {
        this.memory = memory;
    }

    public Map<String, String> getNodeSelector() {
        return nodeSelector;
    }

    public void setNodeSelector(Map<String, String> nodeSelector) {
        this.nodeSelector = nodeSelector;
    }

    public String getSchedulerName() {
        return schedulerName;
    }

    public void setSchedulerName(String schedulerName) {
        this.schedulerName = schedulerName;
    }

    public Map<String, String> getAnnotations() {
        return annotations;
    }

    public void setAnnotations(Map<String, String> annotations) {
        this.annotations = annotations;
    }
}
