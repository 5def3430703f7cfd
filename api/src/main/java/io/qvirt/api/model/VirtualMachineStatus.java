package io.qvirt.api.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/** Status of a VirtualMachine, written by the controller through the status subresource. Fields qvirt does not model are kept in {@link #getAdditionalProperties()}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class VirtualMachineStatus extends Extensible {
    /** One of {@link PrintableStatus}. */
    private String printableStatus;

    private Boolean ready;

    private Boolean created;

    private List<Condition> conditions;

    private List<StateChangeRequest> stateChangeRequests;

    private List<VolumeSnapshotStatus> volumeSnapshotStatuses;

    /** The run strategy in effect. */
    private String runStrategy;

    private Long observedGeneration;

    private Long desiredGeneration;

    private StartFailure startFailure;

    /** The instancetype the controller resolved {@code spec.instancetype} to, and its ControllerRevision. */
    private InstancetypeStatusRef instancetypeRef;

    /** The preference the controller resolved {@code spec.preference} to, and its ControllerRevision. */
    private InstancetypeStatusRef preferenceRef;

    public String getPrintableStatus() {
        return printableStatus;
    }

    public void setPrintableStatus(String printableStatus) {
        this.printableStatus = printableStatus;
    }

    public Boolean getReady() {
        return ready;
    }

    public void setReady(Boolean ready) {
        this.ready = ready;
    }

    public Boolean getCreated() {
        return created;
    }

    public void setCreated(Boolean created) {
        this.created = created;
    }

    public List<Condition> getConditions() {
        return conditions;
    }

    public void setConditions(List<Condition> conditions) {
        this.conditions = conditions;
    }

    public List<StateChangeRequest> getStateChangeRequests() {
        return stateChangeRequests;
    }

    public void setStateChangeRequests(List<StateChangeRequest> stateChangeRequests) {
        this.stateChangeRequests = stateChangeRequests;
    }

    public List<VolumeSnapshotStatus> getVolumeSnapshotStatuses() {
        return volumeSnapshotStatuses;
    }

    public void setVolumeSnapshotStatuses(List<VolumeSnapshotStatus> volumeSnapshotStatuses) {
        this.volumeSnapshotStatuses = volumeSnapshotStatuses;
    }

    public String getRunStrategy() {
        return runStrategy;
    }

    public void setRunStrategy(String runStrategy) {
        this.runStrategy = runStrategy;
    }

    public Long getObservedGeneration() {
        return observedGeneration;
    }

    public void setObservedGeneration(Long observedGeneration) {
        this.observedGeneration = observedGeneration;
    }

    public Long getDesiredGeneration() {
        return desiredGeneration;
    }

    public void setDesiredGeneration(Long desiredGeneration) {
        this.desiredGeneration = desiredGeneration;
    }

    public StartFailure getStartFailure() {
        return startFailure;
    }

    public void setStartFailure(StartFailure startFailure) {
        this.startFailure = startFailure;
    }

    public InstancetypeStatusRef getInstancetypeRef() {
        return instancetypeRef;
    }

    public void setInstancetypeRef(InstancetypeStatusRef instancetypeRef) {
        this.instancetypeRef = instancetypeRef;
    }

    public InstancetypeStatusRef getPreferenceRef() {
        return preferenceRef;
    }

    public void setPreferenceRef(InstancetypeStatusRef preferenceRef) {
        this.preferenceRef = preferenceRef;
    }
}
