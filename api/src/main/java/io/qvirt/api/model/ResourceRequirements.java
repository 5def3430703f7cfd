package io.qvirt.api.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.fabric8.kubernetes.api.model.Quantity;
import java.util.Map;

/** Requests and limits of the launcher pod ({@code memory}, {@code cpu}, ...). Fields qvirt does not model are kept in {@link #getAdditionalProperties()}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class ResourceRequirements extends Extensible {
    private Map<String, Quantity> requests;

    private Map<String, Quantity> limits;

    private Boolean overcommitGuestOverhead;

    public Map<String, Quantity> getRequests() {
        return requests;
    }

    public void setRequests(Map<String, Quantity> requests) {
        this.requests = requests;
    }

    public Map<String, Quantity> getLimits() {
        return limits;
    }

    public void setLimits(Map<String, Quantity> limits) {
        this.limits = limits;
    }

    public Boolean getOvercommitGuestOverhead() {
        return overcommitGuestOverhead;
    }

    public void setOvercommitGuestOverhead(Boolean overcommitGuestOverhead) {
        this.overcommitGuestOverhead = overcommitGuestOverhead;
    }
}
