package io.qvirt.api.model;

import com.fasterxml.jackson.annotation.JsonInclude;

/** One phase a migration went through, and when (KubeVirt's {@code VirtualMachineInstanceMigrationPhaseTransitionTimestamp}). */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class MigrationPhaseTransition extends Extensible {
    private String phase;

    /** RFC 3339, as the API server wrote it. */
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
