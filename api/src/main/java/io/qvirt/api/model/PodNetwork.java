package io.qvirt.api.model;

import com.fasterxml.jackson.annotation.JsonInclude;

/** The pod's own network. Fields qvirt does not model are kept in {@link #getAdditionalProperties()}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class PodNetwork extends Extensible {
    private String vmNetworkCIDR;

    private String vmIPv6NetworkCIDR;

    public String getVmNetworkCIDR() {
        return vmNetworkCIDR;
    }

    public void setVmNetworkCIDR(String vmNetworkCIDR) {
        this.vmNetworkCIDR = vmNetworkCIDR;
    }

    public String getVmIPv6NetworkCIDR() {
        return vmIPv6NetworkCIDR;
    }

    public void setVmIPv6NetworkCIDR(String vmIPv6NetworkCIDR) {
        this.vmIPv6NetworkCIDR = vmIPv6NetworkCIDR;
    }
}
