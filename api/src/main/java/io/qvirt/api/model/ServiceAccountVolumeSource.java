package io.qvirt.api.model;

import com.fasterxml.jackson.annotation.JsonInclude;

/** A service account token as a disk. Fields qvirt does not model are kept in {@link #getAdditionalProperties()}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class ServiceAccountVolumeSource extends Extensible {
    private String serviceAccountName;

    public String getServiceAccountName() {
        return serviceAccountName;
    }

    public void setServiceAccountName(String serviceAccountName) {
        this.serviceAccountName = serviceAccountName;
    }
}
