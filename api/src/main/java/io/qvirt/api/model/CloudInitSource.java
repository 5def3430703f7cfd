package io.qvirt.api.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

/** cloud-init NoCloud or ConfigDrive data: at most one user-data and one network-data source. Fields qvirt does not model are kept in {@link #getAdditionalProperties()}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class CloudInitSource extends Extensible {
    @JsonProperty("secretRef") private LocalObjectReference userDataSecretRef;

    private String userDataBase64;

    private String userData;

    private LocalObjectReference networkDataSecretRef;

    private String networkDataBase64;

    private String networkData;

    public LocalObjectReference getUserDataSecretRef() {
        return userDataSecretRef;
    }

    public void setUserDataSecretRef(LocalObjectReference userDataSecretRef) {
        this.userDataSecretRef = userDataSecretRef;
    }

    public String getUserDataBase64() {
        return userDataBase64;
    }

    public void setUserDataBase64(String userDataBase64) {
        this.userDataBase64 = userDataBase64;
    }

    public String getUserData() {
        return userData;
    }

    public void setUserData(String userData) {
        this.userData = userData;
    }

    public LocalObjectReference getNetworkDataSecretRef() {
        return networkDataSecretRef;
    }

    public void setNetworkDataSecretRef(LocalObjectReference networkDataSecretRef) {
        this.networkDataSecretRef = networkDataSecretRef;
    }

    public String getNetworkDataBase64() {
        return networkDataBase64;
    }

    public void setNetworkDataBase64(String networkDataBase64) {
        this.networkDataBase64 = networkDataBase64;
    }

    public String getNetworkData() {
        return networkData;
    }

    public void setNetworkData(String networkData) {
        this.networkData = networkData;
    }
}
