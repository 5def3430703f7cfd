package io.qvirt.api.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/** A guest interface as seen by the handler or the guest agent. Fields qvirt does not model are kept in {@link #getAdditionalProperties()}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class VmiInterfaceStatus extends Extensible {
    private String name;

    private String ipAddress;

    private List<String> ipAddresses;

    private String mac;

    private String interfaceName;

    private String infoSource;

    private Integer queueCount;

    private String linkState;

    private String podInterfaceName;

    public String getName() {
        return name;
    }

    public void setName(String name) {
        this.name = name;
    }

    public String getIpAddress() {
        return ipAddress;
    }

    public void setIpAddress(String ipAddress) {
        this.ipAddress = ipAddress;
    }

    public List<String> getIpAddresses() {
        return ipAddresses;
    }

    public void setIpAddresses(List<String> ipAddresses) {
        this.ipAddresses = ipAddresses;
    }

    public String getMac() {
        return mac;
    }

    public void setMac(String mac) {
        this.mac = mac;
    }

    public String getInterfaceName() {
        return interfaceName;
    }

    public void setInterfaceName(String interfaceName) {
        this.interfaceName = interfaceName;
    }

    public String getInfoSource() {
        return infoSource;
    }

    public void setInfoSource(String infoSource) {
        this.infoSource = infoSource;
    }

    public Integer getQueueCount() {
        return queueCount;
    }

    public void setQueueCount(Integer queueCount) {
        this.queueCount = queueCount;
    }

    public String getLinkState() {
        return linkState;
    }

    public void setLinkState(String linkState) {
        this.linkState = linkState;
    }

    public String getPodInterfaceName() {
        return podInterfaceName;
    }

    public void setPodInterfaceName(String podInterfaceName) {
        this.podInterfaceName = podInterfaceName;
    }
}
