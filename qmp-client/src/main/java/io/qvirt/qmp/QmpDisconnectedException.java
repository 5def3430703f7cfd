package io.qvirt.qmp;

/**
 * The connection ended (peer closed, QEMU died, I/O error, or {@link QmpClient#close()}) before an
 * answer came. Every command pending at that moment fails with this at once, as does anything
 * submitted afterwards.
 */
public class QmpDisconnectedException extends QmpException {
    public QmpDisconnectedException(String message) {
        super(message);
    }

    public QmpDisconnectedException(String message, Throwable cause) {
        super(message, cause);
    }
}
