package io.qvirt.api.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/** A guest network interface; {@code name} refers to a network. Exactly one binding. Fields qvirt does not model are kept in {@link #getAdditionalProperties()}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class Interface extends Extensible {
    private String name;

    /** {@code virtio} (default), {@code e1000}, {@code e1000e}, {@code igb}, {@code ne2k_pci}, {@code pcnet}, {@code rtl8139}. */
    private String model;

    private BindingMethod bridge;

    private BindingMethod masquerade;

    private BindingMethod sriov;

    /** Discontinued in KubeVirt 1.3. */
    private BindingMethod slirp;

    /** Discontinued in KubeVirt 1.3. */
    private BindingMethod macvtap;

    /** Discontinued in KubeVirt 1.3. */
    private BindingMethod passt;

    private BindingMethod passtBinding;

    /** A network binding plugin. */
    private PluginBinding binding;

    private List<Port> ports;

    private String macAddress;

    private Integer bootOrder;

    private String pciAddress;

    private String tag;

    /** {@code up}, {@code down} or {@code absent}. */
    private String state;

    public String getName() {
        return name;
    }

    public void setName(String name) {
        this.name = name;
    }

    public String getModel() {
        return model;
    }

    public void setModel(String model) {
        this.model = model;
    }

    public BindingMethod getBridge() {
        return bridge;
    }

    public void setBridge(BindingMethod bridge) {
        this.bridge = bridge;
    }

    public BindingMethod getMasquerade() {
        return masquerade;
    }

    public void setMasquerade(BindingMethod masquerade) {
        this.masquerade = masquerade;
    }

    public BindingMethod getSriov() {
        return sriov;
    }

    public void setSriov(BindingMethod sriov) {
        this.sriov = sriov;
    }

    public BindingMethod getSlirp() {
        return slirp;
    }

    public void setSlirp(BindingMethod slirp) {
        this.slirp = slirp;
    }

    public BindingMethod getMacvtap() {
        return macvtap;
    }

    public void setMacvtap(BindingMethod macvtap) {
        this.macvtap = macvtap;
    }

    public BindingMethod getPasst() {
        return passt;
    }

    public void setPasst(BindingMethod passt) {
        this.passt = passt;
    }

    public BindingMethod getPasstBinding() {
        return passtBinding;
    }

    public void setPasstBinding(BindingMethod passtBinding) {
        this.passtBinding = passtBinding;
    }

    public PluginBinding getBinding() {
        return binding;
    }

    public void setBinding(PluginBinding binding) {
        this.binding = binding;
    }

    public List<Port> getPorts() {
        return ports;
    }

    public void setPorts(List<Port> ports) {
        this.ports = ports;
    }

    public String getMacAddress() {
        return macAddress;
    }

    public void setMacAddress(String macAddress) {
        this.macAddress = macAddress;
    }

    public Integer getBootOrder() {
        return bootOrder;
    }

    public void setBootOrder(Integer bootOrder) {
        this.bootOrder = bootOrder;
    }

    public String getPciAddress() {
        return pciAddress;
    }

    public void setPciAddress(String pciAddress) {
        this.pciAddress = pciAddress;
    }

    public String getTag() {
        return tag;
    }

    public void setTag(String tag) {
        this.tag = tag;
    }

    public String getState() {
        return state;
    }

    public void setState(String state) {
        this.state = state;
    }
}
