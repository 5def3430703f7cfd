package io.qvirt.api.model;

import com.fasterxml.jackson.annotation.JsonInclude;

/** KubeVirt's {@code VirtualMachineInstanceMigrationStatus}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class VirtualMachineInstanceMigrationStatus extends Extensible {
    /** {@code Pending}, {@code Scheduling}, {@code Scheduled}, {@code PreparingTarget}, {@code TargetReady}, {@code Running}, {@code Succeeded}, {@code Failed} (KubeVirt's phases). */
    private String phase;

    private java.util.List<Condition> conditions;

    private java.util.List<PhaseTransition> phaseTransitionTimestamps;

    /** The migration as the VMI's {@code status.migrationState} tells it. */
    private MigrationState migrationState;

    private java.util.List<String> synchronizationAddresses;

    public String getPhase() {
        return phase;
    }

    public void setPhase(String phase) {
        this.phase = phase;
    }

    public java.util.List<Condition> getConditions() {
        return conditions;
    }

    public void setConditions(java.util.List<Condition> conditions) {
        this.conditions = conditions;
    }

    public java.util.List<PhaseTransition> getPhaseTransitionTimestamps() {
        return phaseTransitionTimestamps;
    }

    public void setPhaseTransitionTimestamps(java.util.List<PhaseTransition> phaseTransitionTimestamps) {
        this.phaseTransitionTimestamps = phaseTransitionTimestamps;
    }

    public MigrationState getMigrationState() {
        return migrationState;
    }

    public void setMigrationState(MigrationState migrationState) {
        this.migrationState = migrationState;
    }

    public java.util.List<String> getSynchronizationAddresses() {
        return synchronizationAddresses;
    }

    public void setSynchronizationAddresses(java.util.List<String> synchronizationAddresses) {
        this.synchronizationAddresses = synchronizationAddresses;
    }
}
