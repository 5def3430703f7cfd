package io.qvirt.api.instancetype;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.qvirt.api.model.Extensible;

/** KubeVirt's {@code DevicePreferences}. Fields qvirt does not model are kept in {@link #getAdditionalProperties()}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class DevicePreferences extends Extensible {
    private Boolean preferredAutoattachGraphicsDevice;

    private Boolean preferredAutoattachMemBalloon;

    private Boolean preferredAutoattachPodInterface;

    private Boolean preferredAutoattachSerialConsole;

    private Boolean preferredAutoattachInputDevice;

    private Boolean preferredDisableHotplug;

    private Boolean preferredUseVirtioTransitional;

    private Boolean preferredBlockMultiQueue;

    private Boolean preferredNetworkInterfaceMultiQueue;

    private String preferredSoundModel;

    private String preferredInputBus;

    private String preferredInputType;

    private String preferredDiskBus;

    private String preferredLunBus;

    private String preferredCdromBus;

    private Boolean preferredDiskDedicatedIoThread;

    private String preferredDiskCache;

    private String preferredDiskIO;

    private String preferredInterfaceModel;

    private io.qvirt.api.model.Rng preferredRng;

    private String preferredVideoType;

    public Boolean getPreferredAutoattachGraphicsDevice() {
        return preferredAutoattachGraphicsDevice;
    }

    public void setPreferredAutoattachGraphicsDevice(Boolean preferredAutoattachGraphicsDevice) {
        this.preferredAutoattachGraphicsDevice = preferredAutoattachGraphicsDevice;
    }

    public Boolean getPreferredAutoattachMemBalloon() {
        return preferredAutoattachMemBalloon;
    }

    public void setPreferredAutoattachMemBalloon(Boolean preferredAutoattachMemBalloon) {
        this.preferredAutoattachMemBalloon = preferredAutoattachMemBalloon;
    }

    public Boolean getPreferredAutoattachPodInterface() {
        return preferredAutoattachPodInterface;
    }

    public void setPreferredAutoattachPodInterface(Boolean preferredAutoattachPodInterface) {
        this.preferredAutoattachPodInterface = preferredAutoattachPodInterface;
    }

    public Boolean getPreferredAutoattachSerialConsole() {
        return preferredAutoattachSerialConsole;
    }

    public void setPreferredAutoattachSerialConsole(Boolean preferredAutoattachSerialConsole) {
        this.preferredAutoattachSerialConsole = preferredAutoattachSerialConsole;
    }

    public Boolean getPreferredAutoattachInputDevice() {
        return preferredAutoattachInputDevice;
    }

    public void setPreferredAutoattachInputDevice(Boolean preferredAutoattachInputDevice) {
        this.preferredAutoattachInputDevice = preferredAutoattachInputDevice;
    }

    public Boolean getPreferredDisableHotplug() {
        return preferredDisableHotplug;
    }

    public void setPreferredDisableHotplug(Boolean preferredDisableHotplug) {
        this.preferredDisableHotplug = preferredDisableHotplug;
    }

    public Boolean getPreferredUseVirtioTransitional() {
        return preferredUseVirtioTransitional;
    }

    public void setPreferredUseVirtioTransitional(Boolean preferredUseVirtioTransitional) {
        this.preferredUseVirtioTransitional = preferredUseVirtioTransitional;
    }

    public Boolean getPreferredBlockMultiQueue() {
        return preferredBlockMultiQueue;
    }

    public void setPreferredBlockMultiQueue(Boolean preferredBlockMultiQueue) {
        this.preferredBlockMultiQueue = preferredBlockMultiQueue;
    }

    public Boolean getPreferredNetworkInterfaceMultiQueue() {
        return preferredNetworkInterfaceMultiQueue;
    }

    public void setPreferredNetworkInterfaceMultiQueue(Boolean preferredNetworkInterfaceMultiQueue) {
        this.preferredNetworkInterfaceMultiQueue = preferredNetworkInterfaceMultiQueue;
    }

    public String getPreferredSoundModel() {
        return preferredSoundModel;
    }

    public void setPreferredSoundModel(String preferredSoundModel) {
        this.preferredSoundModel = preferredSoundModel;
    }

    public String getPreferredInputBus() {
        return preferredInputBus;
    }

    public void setPreferredInputBus(String preferredInputBus) {
        this.preferredInputBus = preferredInputBus;
    }

    public String getPreferredInputType() {
        return preferredInputType;
    }

    public void setPreferredInputType(String preferredInputType) {
        this.preferredInputType = preferredInputType;
    }

    public String getPreferredDiskBus() {
        return preferredDiskBus;
    }

    public void setPreferredDiskBus(String preferredDiskBus) {
        this.preferredDiskBus = preferredDiskBus;
    }

    public String getPreferredLunBus() {
        return preferredLunBus;
    }

    public void setPreferredLunBus(String preferredLunBus) {
        this.preferredLunBus = preferredLunBus;
    }

    public String getPreferredCdromBus() {
        return preferredCdromBus;
    }

    public void setPreferredCdromBus(String preferredCdromBus) {
        this.preferredCdromBus = preferredCdromBus;
    }

    public Boolean getPreferredDiskDedicatedIoThread() {
        return preferredDiskDedicatedIoThread;
    }

    public void setPreferredDiskDedicatedIoThread(Boolean preferredDiskDedicatedIoThread) {
        this.preferredDiskDedicatedIoThread = preferredDiskDedicatedIoThread;
    }

    public String getPreferredDiskCache() {
        return preferredDiskCache;
    }

    public void setPreferredDiskCache(String preferredDiskCache) {
        this.preferredDiskCache = preferredDiskCache;
    }

    public String getPreferredDiskIO() {
        return preferredDiskIO;
    }

    public void setPreferredDiskIO(String preferredDiskIO) {
        this.preferredDiskIO = preferredDiskIO;
    }

    public String getPreferredInterfaceModel() {
        return preferredInterfaceModel;
    }

    public void setPreferredInterfaceModel(String preferredInterfaceModel) {
        this.preferredInterfaceModel = preferredInterfaceModel;
    }

    public io.qvirt.api.model.Rng getPreferredRng() {
        return preferredRng;
    }

    public void setPreferredRng(io.qvirt.api.model.Rng preferredRng) {
        this.preferredRng = preferredRng;
    }

    public String getPreferredVideoType() {
        return preferredVideoType;
    }

    public void setPreferredVideoType(String preferredVideoType) {
        this.preferredVideoType = preferredVideoType;
    }
}
