package io.qvirt.api.instancetype;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.fabric8.kubernetes.api.model.Quantity;
import io.qvirt.api.model.Extensible;

/** KubeVirt's {@code MemoryPreferenceRequirement}. Fields qvirt does not model are kept in {@link #getAdditionalProperties()}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class MemoryPreferenceRequirement extends Extensible {
    /** Required: the least guest memory. */
    private Quantity guest;

    public Quantity getGuest() {
        return guest;
    }

    public void setGuest(Quantity guest) {
        this.guest = guest;
    }
}
