package io.qvirt.api.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.fabric8.kubernetes.api.model.Quantity;

/** Guest memory. Fields qvirt does not model are kept in {@link #getAdditionalProperties()}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class Memory extends Extensible {
    /** Memory the guest sees; defaults to the memory request. */
    private Quantity guest;

    private Quantity maxGuest;

    private Hugepages hugepages;

    public Quantity getGuest() {
        return guest;
    }

    public void setGuest(Quantity guest) {
        this.guest = guest;
    }

    public Quantity getMaxGuest() {
        return maxGuest;
    }

    public void setMaxGuest(Quantity maxGuest) {
        this.maxGuest = maxGuest;
    }

    public Hugepages getHugepages() {
        return hugepages;
    }

    public void setHugepages(Hugepages hugepages) {
        this.hugepages = hugepages;
    }
}
