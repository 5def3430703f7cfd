package io.qvirt.api.model;

import com.fasterxml.jackson.annotation.JsonInclude;

/** When a phase was entered. Fields qvirt does not model are kept in {@link #getAdditionalProperties()}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class PhaseTransition extends Extensible {
    private String phase;

    private String phaseTransitionTimestamp;

    public String getPhase() {
        return phase;
    }

    public void setPhase(String phase) {
        this.phase = phase;
    }

    public String getPhaseTransitionTimestamp() {
        return phaseTransitionTimestamp;
    }

    public void setPhaseTransitionTimestamp(String phaseTransitionTimestamp) {
        this.phaseTransitionTimestamp = phaseTransitionTimestamp;
    }
}
