package io.qvirt.api.instancetype;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.qvirt.api.model.Extensible;

/** KubeVirt's {@code CPUPreferences}. Fields qvirt does not model are kept in {@link #getAdditionalProperties()}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class CPUPreferences extends Extensible {
    /** sockets (the default), cores, threads, spread, any, or the deprecated preferSockets, preferCores, preferThreads, preferSpread, preferAny. */
    private String preferredCPUTopology;

    private SpreadOptions spreadOptions;

    public String getPreferredCPUTopology() {
        return preferredCPUTopology;
    }

    public void setPreferredCPUTopology(String preferredCPUTopology) {
        this.preferredCPUTopology = preferredCPUTopology;
    }

    public SpreadOptions getSpreadOptions() {
        return spreadOptions;
    }

    public void setSpreadOptions(SpreadOptions spreadOptions) {
        this.spreadOptions = spreadOptions;
    }
}
