package io.qvirt.api.instancetype;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.qvirt.api.model.Extensible;

/** KubeVirt's {@code CPUInstancetype}. Fields qvirt does not model are kept in {@link #getAdditionalProperties()}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class CPUInstancetype extends Extensible {
    /** vCPUs the guest sees, spread over sockets/cores/threads by the preference's preferredCPUTopology. */
    private Long guest;

    private String model;

    private Boolean dedicatedCPUPlacement;

    private Boolean isolateEmulatorThread;

    private Long maxSockets;

    public Long getGuest() {
        return guest;
    }

    public void setGuest(Long guest) {
        this.guest = guest;
    }

    public String getModel() {
        return model;
    }

    public void setModel(String model) {
        this.model = model;
    }

    public Boolean getDedicatedCPUPlacement() {
        return dedicatedCPUPlacement;
    }

    public void setDedicatedCPUPlacement(Boolean dedicatedCPUPlacement) {
        this.dedicatedCPUPlacement = dedicatedCPUPlacement;
    }

    public Boolean getIsolateEmulatorThread() {
        return isolateEmulatorThread;
    }

    public void setIsolateEmulatorThread(Boolean isolateEmulatorThread) {
        this.isolateEmulatorThread = isolateEmulatorThread;
    }

    public Long getMaxSockets() {
        return maxSockets;
    }

    public void setMaxSockets(Long maxSockets) {
        this.maxSockets = maxSockets;
    }
}
