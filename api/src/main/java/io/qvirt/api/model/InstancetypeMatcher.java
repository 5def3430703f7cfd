package io.qvirt.api.model;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * A VM's {@code spec.instancetype} or {@code spec.preference} (KubeVirt's {@code InstancetypeMatcher} and
 * {@code PreferenceMatcher}, the same fields). Fields qvirt does not model are kept in
 * {@link #getAdditionalProperties()}.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class InstancetypeMatcher extends Extensible {
    /** The object's name; required unless {@code inferFromVolume} is given. */
    private String name;

    /**
     * {@code VirtualMachineInstancetype}/{@code VirtualMachinePreference} (namespaced) or the Cluster kinds; omitted
     * means the Cluster kind. Compared case-insensitively, singular or plural resource name.
     */
    private String kind;

    /** A ControllerRevision holding the object as it was: used instead of the live object. */
    private String revisionName;

    /** Infer the name from this volume's labels (not supported by qvirt: refused). */
    private String inferFromVolume;

    /** Reject (the default) or Ignore. */
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

    public String getRevisionName() {
        return revisionName;
    }

    public void setRevisionName(String revisionName) {
        this.revisionName = revisionName;
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
