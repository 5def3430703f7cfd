package io.qvirt.api.model;

import com.fasterxml.jackson.annotation.JsonInclude;

/** A port forwarded to the guest (masquerade). Fields qvirt does not model are kept in {@link #getAdditionalProperties()}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class Port extends Extensible {
    private String name;

    /** {@code TCP} or {@code UDP}. */
    private String protocol;

    private Integer port;

    public String getName() {
        return name;
    }

    public void setName(String name) {
        this.name = name;
    }

    public String getProtocol() {
        return protocol;
    }

    public void setProtocol(String protocol) {
        this.protocol = protocol;
    }

    public Integer getPort() {
        return port;
    }

    public void setPort(Integer port) {
        this.port = port;
    }
}
