package io.qvirt.api.model;

import com.fasterxml.jackson.annotation.JsonInclude;

/** KubeVirt's {@code VirtualMachineInstanceMigrationSpec}: which VMI to move, and where it may go. {@code sendTo}, {@code receive} (cross-cluster) are kept unmodelled. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class VirtualMachineInstanceMigrationSpec extends Extensible {
    /** The VMI to migrate, in the migration's namespace (required). */
    private String vmiName;

    /** Restricts the target nodes further than the VM's own selector and affinity. */
    private java.util.Map<String, String> addedNodeSelector;

    /** {@code system-critical}, {@code user-triggered} or {@code system-maintenance}. */
    private String priority;

    public String getVmiName() {
        return vmiName;
    }

    public void setVmiName(String vmiName) {
        this.vmiName = vmiName;
    }

    public java.util.Map<String, String> getAddedNodeSelector() {
        return addedNodeSelector;
    }

    public void setAddedNodeSelector(java.util.Map<String, String> addedNodeSelector) {
        this.addedNodeSelector = addedNodeSelector;
    }

    public String getPriority() {
        return priority;
    }

    public void setPriority(String priority) {
        this.priority = priority;
    }
}
