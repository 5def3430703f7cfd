package io.qvirt.api.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/** Status of a VMI: what QEMU reports, written by the handler. Fields qvirt does not model are kept in {@link #getAdditionalProperties()}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class VirtualMachineInstanceStatus extends Extensible {
    /** One of {@link Phase}. */
    private String phase;

    private List<Condition> conditions;

    private String nodeName;

    private String reason;

    private List<PhaseTransition> phaseTransitionTimestamps;

    private List<VmiInterfaceStatus> interfaces;

    private GuestOSInfo guestOSInfo;

    private String launcherContainerImageVersion;

    private String qosClass;

    private String migrationMethod;

    /** The VMI's live migration, KubeVirt's {@code status.migrationState}; null before its first migration. */
    private MigrationState migrationState;

    /** qvirt only: the accelerator QEMU runs with, and why. */
    private AcceleratorStatus qvirtAccelerator;

    /** KubeVirt's {@code status.activePods}: launcher pod uid -> node name (two while a migration runs). */
    private java.util.Map<String, String> activePods;

    /** KubeVirt's {@code status.evacuationNodeName}: the node this VMI must leave (an eviction asked for it). */
    private String evacuationNodeName;

    public java.util.Map<String, String> getActivePods() {
        return activePods;
    }

    public void setActivePods(java.util.Map<String, String> activePods) {
        this.activePods = activePods;
    }

    public String getEvacuationNodeName() {
        return evacuationNodeName;
    }

    public void setEvacuationNodeName(String evacuationNodeName) {
        this.evacuationNodeName = evacuationNodeName;
    }

    public String getPhase() {
        return phase;
    }

    public void setPhase(String phase) {
        this.phase = phase;
    }

    public List<Condition> getConditions() {
        return conditions;
    }

    public void setConditions(List<Condition> conditions) {
        this.conditions = conditions;
    }

    public String getNodeName() {
        return nodeName;
    }

    public void setNodeName(String nodeName) {
        this.nodeName = nodeName;
    }

    public String getReason() {
        return reason;
    }

    public void setReason(String reason) {
        this.reason = reason;
    }

    public List<PhaseTransition> getPhaseTransitionTimestamps() {
        return phaseTransitionTimestamps;
    }

    public void setPhaseTransitionTimestamps(List<PhaseTransition> phaseTransitionTimestamps) {
        this.phaseTransitionTimestamps = phaseTransitionTimestamps;
    }

    public List<VmiInterfaceStatus> getInterfaces() {
        return interfaces;
    }

    public void setInterfaces(List<VmiInterfaceStatus> interfaces) {
        this.interfaces = interfaces;
    }

    public GuestOSInfo getGuestOSInfo() {
        return guestOSInfo;
    }

    public void setGuestOSInfo(GuestOSInfo guestOSInfo) {
        this.guestOSInfo = guestOSInfo;
    }

    public String getLauncherContainerImageVersion() {
        return launcherContainerImageVersion;
    }

    public void setLauncherContainerImageVersion(String launcherContainerImageVersion) {
        this.launcherContainerImageVersion = launcherContainerImageVersion;
    }

    public String getQosClass() {
        return qosClass;
    }

    public void setQosClass(String qosClass) {
        this.qosClass = qosClass;
    }

    public String getMigrationMethod() {
        return migrationMethod;
    }

    public void setMigrationMethod(String migrationMethod) {
        this.migrationMethod = migrationMethod;
    }

    public AcceleratorStatus getQvirtAccelerator() {
        return qvirtAccelerator;
    }

    public void setQvirtAccelerator(AcceleratorStatus qvirtAccelerator) {
        this.qvirtAccelerator = qvirtAccelerator;
    }

    public MigrationState getMigrationState() {
        return migrationState;
    }

    public void setMigrationState(MigrationState migrationState) {
        this.migrationState = migrationState;
    }
}
