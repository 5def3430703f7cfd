package io.qvirt.qmp;

/**
 * The peer broke the QMP protocol: bytes that are not a JSON object, truncated JSON at end of stream,
 * a message of unknown shape, or a reply whose id matches no command. The connection is closed and
 * every pending command fails with this exception.
 */
public class QmpProtocolException extends QmpException {
    public QmpProtocolException(String message) {
        super(message);
    }

    public QmpProtocolException(String message, Throwable cause) {
        super(message, cause);
    }
}
