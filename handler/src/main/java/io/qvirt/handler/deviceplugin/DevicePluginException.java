package io.qvirt.handler.deviceplugin;

/** The device plugin could not serve its socket or register with the kubelet; the message says which. */
public final class DevicePluginException extends Exception {
    private static final long serialVersionUID = 1L;

    public DevicePluginException(String message, Throwable cause) {
        super(message, cause);
    }
}
