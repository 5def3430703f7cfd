package io.qvirt.api.model;

import com.fasterxml.jackson.annotation.JsonInclude;

/** A network the VMI attaches to: the pod network or a Multus network. Fields qvirt does not model are kept in {@link #getAdditionalProperties()}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class Network extends Extensible {
    private String name;

    private PodNetwork pod;

    private MultusNetwork multus;

    public String getName() {
        return name;
    }

    public void setName(String name) {
        this.name = name;
    }

    public PodNetwork getPod() {
        return pod;
    }

    public void setPod(PodNetwork pod) {
        this.pod = pod;
    }

    public MultusNetwork getMultus() {
        return multus;
    }

    public void setMultus(MultusNetwork multus) {
        this.multus = multus;
    }
}
