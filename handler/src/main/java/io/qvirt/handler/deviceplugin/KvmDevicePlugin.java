package io.qvirt.handler.deviceplugin;

/**
 * The {@code devices.kubevirt.io/kvm} device plugin: {@code kvm0}, {@code kvm1}, ... all standing for the node's
 * one {@code /dev/kvm}. A device is {@code Healthy} only while kvm-probe says FULL: on a LIMITED host (such as
 * kvm_pvm) a stock guest kernel dies under KVM, so the kubelet must offer none.
 */
public final class KvmDevicePlugin extends CharDevicePlugin {
    public static final String RESOURCE = "devices.kubevirt.io/kvm";

    /**
     * @param devicePath the host's KVM device, also its path in the container (normally {@code /dev/kvm})
     * @param count      how many devices to advertise, at least 1 (the most launcher pods at once)
     * @param healthy    the initial health
     * @param why        why, for logs and allocation errors
     */
    public KvmDevicePlugin(String devicePath, int count, boolean healthy, String why) {
        super(RESOURCE, "kvm", devicePath, count, healthy, why);
    }
}
