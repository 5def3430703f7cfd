package io.qvirt.api.model;

import com.fasterxml.jackson.annotation.JsonInclude;

/** qvirt only ({@code status.qvirtAccelerator}): the accelerator in use and why. Fields qvirt does not model are kept in {@link #getAdditionalProperties()}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class AcceleratorStatus extends Extensible {
    /** {@code kvm} or {@code tcg}. */
    private String name;

    /** Why, e.g. {@code /dev/kvm usable} or {@code useEmulation: /dev/kvm missing}. */
    private String reason;

    public String getName() {
        return name;
    }

    public void setName(String name) {
        this.name = name;
    }

    public String getReason() {
        return reason;
    }

    public void setReason(String reason) {
        this.reason = reason;
    }
}
