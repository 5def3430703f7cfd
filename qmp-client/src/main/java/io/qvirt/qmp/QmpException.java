package io.qvirt.qmp;

/**
 * Base of every failure this client reports. Unchecked, because every operation is asynchronous and
 * the exception usually arrives through a {@link java.util.concurrent.CompletableFuture}.
 */
public class QmpException extends RuntimeException {
    public QmpException(String message) {
        super(message);
    }

    public QmpException(String message, Throwable cause) {
        super(message, cause);
    }
}
