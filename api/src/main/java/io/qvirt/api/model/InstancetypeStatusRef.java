package io.qvirt.api.model;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * A VM's {@code status.instancetypeRef} or {@code status.preferenceRef} (KubeVirt's {@code InstancetypeStatusRef}):
 * what the controller resolved the matcher to, and the ControllerRevision it stored the object in. Fields qvirt
 * does not model are kept in {@link #getAdditionalProperties()}.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class InstancetypeStatusRef extends Extensible {
    private String name;

    private String kind;

    /** {@code {name: REVISION}}: the ControllerRevision holding the object. */
    private LocalObjectReference controllerRevisionRef;

    private String inferFromVolume;

    private String inferFromVolumeFailurePolicy;

    public String getName() {
        return name;
    }

    public void setName(String name) {
        this.name = name;
    }

    public String getKind() {
        return kind;
    }

    public void setKind(String kind) {
        this.kind = kind;
    }

    public LocalObjectReference getControllerRevisionRef() {
        return controllerRevisionRef;
    }

    public void setControllerRevisionRef(LocalObjectReference controllerRevisionRef) {
        this.controllerRevisionRef = controllerRevisionRef;
    }

    public String getInferFromVolume() {
        return inferFromVolume;
    }

    public void setInferFromVolume(String inferFromVolume) {
        this.inferFromVolume = inferFromVolume;
    }

    public String getInferFromVolumeFailurePolicy() {
        return inferFromVolumeFailurePolicy;
    }

    public void setInferFromVolumeFailurePolicy(String inferFromVolumeFailurePolicy) {
        this.inferFromVolumeFailurePolicy = inferFromVolumeFailurePolicy;
    }
}
