package io.qvirt.handler.migration;

/** The other handler answered with an error: it refused a header (unknown migration, bad header) or a control operation failed there (its QEMU refused a step). */
public final class ProxyRemoteException extends MigrationProxyException {
    public ProxyRemoteException(String message) {
        super(message);
    }

    public ProxyRemoteException(String message, Throwable cause) {
        super(message, cause);
    }
}
