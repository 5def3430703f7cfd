package io.qvirt.handler.deviceplugin;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The {@code devices.kubevirt.io/tun} device plugin, as KubeVirt's: {@code tun0}, {@code tun1}, ... all standing for
 * the node's {@code /dev/net/tun}, which a launcher pod with a {@code bridge} interface needs (QEMU opens the tap
 * virt-handler made through it). Healthy while the device node exists.
 */
public final class TunDevicePlugin extends CharDevicePlugin {
    public static final String RESOURCE = "devices.kubevirt.io/tun";
    public static final String DEVICE = "/dev/net/tun";

    /** @param count how many devices to advertise, at least 1 (the most launcher pods at once) */
    public TunDevicePlugin(int count) {
        this(DEVICE, count);
    }

    TunDevicePlugin(String devicePath, int count) {
        super(RESOURCE, "tun", devicePath, count, Files.exists(Path.of(devicePath)),
                Files.exists(Path.of(devicePath)) ? devicePath + " exists" : "no " + devicePath + " on this node (no tun module?)");
    }
}
