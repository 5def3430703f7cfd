package io.qvirt.launcher.control;

/** A lifecycle operation could not be carried out; the message says which and why. */
public class VmControlException extends RuntimeException {
    public VmControlException(String message) {
        super(message);
    }

    public VmControlException(String message, Throwable cause) {
        super(message, cause);
    }
}
