package io.qvirt.handler.migration;

/** The other handler did not answer within the call's timeout; the connection may still be open. */
public final class ProxyTimeoutException extends MigrationProxyException {
    public ProxyTimeoutException(String message) {
        super(message);
    }

    public ProxyTimeoutException(String message, Throwable cause) {
        super(message, cause);
    }
}
