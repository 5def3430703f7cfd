package io.qvirt.api.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

/** A Multus NetworkAttachmentDefinition. Fields qvirt does not model are kept in {@link #getAdditionalProperties()}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class MultusNetwork extends Extensible {
    private String networkName;

    @JsonProperty("default") private Boolean defaultNetwork;

    public String getNetworkName() {
        return networkName;
    }

    public void setNetworkName(String networkName) {
        this.networkName = networkName;
    }

    public Boolean getDefaultNetwork() {
        return defaultNetwork;
    }

    public void setDefaultNetwork(Boolean defaultNetwork) {
        this.defaultNetwork = defaultNetwork;
    }
}
