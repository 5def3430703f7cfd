package io.qvirt.api.model;

import com.fasterxml.jackson.annotation.JsonInclude;

/** Crash-loop back-off bookkeeping of a VM. Fields qvirt does not model are kept in {@link #getAdditionalProperties()}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class StartFailure extends Extensible {
    private Integer consecutiveFailCount;

    private String lastFailedVMIUID;

    private String retryAfterTimestamp;

    public Integer getConsecutiveFailCount() {
        return consecutiveFailCount;
    }

    public void setConsecutiveFailCount(Integer consecutiveFailCount) {
        this.consecutiveFailCount = consecutiveFailCount;
    }

    public String getLastFailedVMIUID() {
        return lastFailedVMIUID;
    }

    public void setLastFailedVMIUID(String lastFailedVMIUID) {
        this.lastFailedVMIUID = lastFailedVMIUID;
    }

    public String getRetryAfterTimestamp() {
        return retryAfterTimestamp;
    }

    public void setRetryAfterTimestamp(String retryAfterTimestamp) {
        this.retryAfterTimestamp = retryAfterTimestamp;
    }
}
