package io.qvirt.api.model;

/** Condition types KubeVirt uses on VMs and VMIs (the printer columns read Ready, LiveMigratable, Paused). */
public final class ConditionType {
    public static final String READY = "Ready";
    public static final String PAUSED = "Paused";
    public static final String LIVE_MIGRATABLE = "LiveMigratable";
    public static final String AGENT_CONNECTED = "AgentConnected";
    public static final String PROVISIONING = "Provisioning";
    public static final String FAILURE = "Failure";
    public static final String POD_SCHEDULED = "PodScheduled";

    private ConditionType() {
    }
}
