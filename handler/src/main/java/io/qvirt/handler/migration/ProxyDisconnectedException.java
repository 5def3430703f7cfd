package io.qvirt.handler.migration;

/** The connection to the other handler is gone (closed, reset, TLS refused), or never came up. */
public final class ProxyDisconnectedException extends MigrationProxyException {
    public ProxyDisconnectedException(String message) {
        super(message);
    }

    public ProxyDisconnectedException(String message, Throwable cause) {
        super(message, cause);
    }
}
