package io.qvirt.api.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/** Devices of the domain. Fields qvirt does not model are kept in {@link #getAdditionalProperties()}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class Devices extends Extensible {
    private List<Disk> disks;

    private List<Interface> interfaces;

    private List<Input> inputs;

    private Rng rng;

    private Boolean autoattachPodInterface;

    private Boolean autoattachGraphicsDevice;

    private Boolean autoattachSerialConsole;

    private Boolean logSerialConsole;

    private Boolean autoattachMemBalloon;

    private Boolean autoattachInputDevice;

    private Boolean autoattachVSOCK;

    private Boolean blockMultiQueue;

    private Boolean networkInterfaceMultiqueue;

    private Boolean useVirtioTransitional;

    private Boolean disableHotplug;

    public List<Disk> getDisks() {
        return disks;
    }

    public void setDisks(List<Disk> disks) {
        this.disks = disks;
    }

    public List<Interface> getInterfaces() {
        return interfaces;
    }

    public void setInterfaces(List<Interface> interfaces) {
        this.interfaces = interfaces;
    }

    public List<Input> getInputs() {
        return inputs;
    }

    public void setInputs(List<Input> inputs) {
        this.inputs = inputs;
    }

    public Rng getRng() {
        return rng;
    }

    public void setRng(Rng rng) {
        this.rng = rng;
    }

    public Boolean getAutoattachPodInterface() {
        return autoattachPodInterface;
    }

    public void setAutoattachPodInterface(Boolean autoattachPodInterface) {
        this.autoattachPodInterface = autoattachPodInterface;
    }

    public Boolean getAutoattachGraphicsDevice() {
        return autoattachGraphicsDevice;
    }

    public void setAutoattachGraphicsDevice(Boolean autoattachGraphicsDevice) {
        this.autoattachGraphicsDevice = autoattachGraphicsDevice;
    }

    public Boolean getAutoattachSerialConsole() {
        return autoattachSerialConsole;
    }

    public void setAutoattachSerialConsole(Boolean autoattachSerialConsole) {
        this.autoattachSerialConsole = autoattachSerialConsole;
    }

    public Boolean getLogSerialConsole() {
        return logSerialConsole;
    }

    public void setLogSerialConsole(Boolean logSerialConsole) {
        this.logSerialConsole = logSerialConsole;
    }

    public Boolean getAutoattachMemBalloon() {
        return autoattachMemBalloon;
    }

    public void setAutoattachMemBalloon(Boolean autoattachMemBalloon) {
        this.autoattachMemBalloon = autoattachMemBalloon;
    }

    public Boolean getAutoattachInputDevice() {
        return autoattachInputDevice;
    }

    public void setAutoattachInputDevice(Boolean autoattachInputDevice) {
        this.autoattachInputDevice = autoattachInputDevice;
    }

    public Boolean getAutoattachVSOCK() {
        return autoattachVSOCK;
    }

    public void setAutoattachVSOCK(Boolean autoattachVSOCK) {
        this.autoattachVSOCK = autoattachVSOCK;
    }

    public Boolean getBlockMultiQueue() {
        return blockMultiQueue;
    }

    public void setBlockMultiQueue(Boolean blockMultiQueue) {
        this.blockMultiQueue = blockMultiQueue;
    }

    public Boolean getNetworkInterfaceMultiqueue() {
        return networkInterfaceMultiqueue;
    }

    public void setNetworkInterfaceMultiqueue(Boolean networkInterfaceMultiqueue) {
        this.networkInterfaceMultiqueue = networkInterfaceMultiqueue;
    }

    public Boolean getUseVirtioTransitional() {
        return useVirtioTransitional;
    }

    public void setUseVirtioTransitional(Boolean useVirtioTransitional) {
        this.useVirtioTransitional = useVirtioTransitional;
    }

    public Boolean getDisableHotplug() {
        return disableHotplug;
    }

    public void setDisableHotplug(Boolean disableHotplug) {
        this.disableHotplug = disableHotplug;
    }
}
