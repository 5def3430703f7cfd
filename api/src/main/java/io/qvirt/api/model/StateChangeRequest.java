package io.qvirt.api.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.Map;

/** A pending start/stop request (KubeVirt's {@code VirtualMachineStateChangeRequest}). Fields qvirt does not model are kept in {@link #getAdditionalProperties()}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class StateChangeRequest extends Extensible {
    /** {@code Start} or {@code Stop}. */
    private String action;

    private Map<String, String> data;

    private String uid;

    public String getAction() {
        return action;
    }

    public void setAction(String action) {
        this.action = action;
    }

    public Map<String, String> getData() {
        return data;
    }

    public void setData(Map<String, String> data) {
        this.data = data;
    }

    public String getUid() {
        return uid;
    }

    public void setUid(String uid) {
        this.uid = uid;
    }
}
