package io.qvirt.handler.migration;

/** Bytes that are not the migration proxy's wire format: a header or control line over its cap, a line that is not the expected header or JSON message. */
public final class ProxyProtocolException extends MigrationProxyException {
    public ProxyProtocolException(String message) {
        super(message);
    }

    public ProxyProtocolException(String message, Throwable cause) {
        super(message, cause);
    }
}
