package io.qvirt.api.model;

import com.fasterxml.jackson.annotation.JsonInclude;

/** vCPU topology and model. Fields qvirt does not model are kept in {@link #getAdditionalProperties()}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class CPU extends Extensible {
    private Integer cores;

    private Integer sockets;

    private Integer threads;

    private Integer maxSockets;

    /** {@code host-model}, {@code host-passthrough} or a named model. */
    private String model;

    private Boolean dedicatedCpuPlacement;

    private Boolean isolateEmulatorThread;

    public Integer getCores() {
        return cores;
    }

    public void setCores(Integer cores) {
        this.cores = cores;
    }

    public Integer getSockets() {
        return sockets;
    }

    public void setSockets(Integer sockets) {
        this.sockets = sockets;
    }

    public Integer getThreads() {
        return threads;
    }

    public void setThreads(Integer threads) {
        this.threads = threads;
    }

    public Integer getMaxSockets() {
        return maxSockets;
    }

    public void setMaxSockets(Integer maxSockets) {
        this.maxSockets = maxSockets;
    }

    public String getModel() {
        return model;
    }

    public void setModel(String model) {
        this.model = model;
    }

    public Boolean getDedicatedCpuPlacement() {
        return dedicatedCpuPlacement;
    }

    public void setDedicatedCpuPlacement(Boolean dedicatedCpuPlacement) {
        this.dedicatedCpuPlacement = dedicatedCpuPlacement;
    }

    public Boolean getIsolateEmulatorThread() {
        return isolateEmulatorThread;
    }

    public void setIsolateEmulatorThread(Boolean isolateEmulatorThread) {
        this.isolateEmulatorThread = isolateEmulatorThread;
    }
}
