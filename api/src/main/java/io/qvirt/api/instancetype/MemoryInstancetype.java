package io.qvirt.api.instancetype;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.fabric8.kubernetes.api.model.Quantity;
import io.qvirt.api.model.Extensible;

/** KubeVirt's {@code MemoryInstancetype}. Fields qvirt does not model are kept in {@link #getAdditionalProperties()}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class MemoryInstancetype extends Extensible {
    /** Memory the guest sees. */
    private Quantity guest;

    private io.qvirt.api.model.Hugepages hugepages;

    /** 0-100: the pod's memory request is the guest memory less this percentage. */
    private Integer overcommitPercent;

    private Quantity maxGuest;

    public Quantity getGuest() {
        return guest;
    }

    public void setGuest(Quantity guest) {
        this.guest = guest;
    }

    public io.qvirt.api.model.Hugepages getHugepages() {
        return hugepages;
    }

    public void setHugepages(io.qvirt.api.model.Hugepages hugepages) {
        this.hugepages = hugepages;
    }

    public Integer getOvercommitPercent() {
        return overcommitPercent;
    }

    public void setOvercommitPercent(Integer overcommitPercent) {
        this.overcommitPercent = overcommitPercent;
    }

    public Quantity getMaxGuest() {
        return maxGuest;
    }

    public void setMaxGuest(Quantity maxGuest) {
        this.maxGuest = maxGuest;
    }
}
