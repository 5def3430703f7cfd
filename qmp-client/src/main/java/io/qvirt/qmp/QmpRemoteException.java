package io.qvirt.qmp;

/** QEMU answered a command with {@code {"error": {"class": ..., "desc": ...}}}. */
public class QmpRemoteException extends QmpException {
    private final String command;
    private final String errorClass;
    private final String description;

    /**
     * @param command     the command that failed (for the message only; may be null)
     * @param errorClass  QMP's error {@code class}, e.g. {@code CommandNotFound}, {@code GenericError}
     * @param description QMP's {@code desc}, meant for humans
     */
    public QmpRemoteException(String command, String errorClass, String description) {
        super((command == null ? "QMP command" : "QMP command '" + command + "'") + " failed: "
                + errorClass + ": " + description);
        this.command = command;
        this.errorClass = errorClass;
        this.description = description;
    }

    /** The command that failed, or null if unknown. */
    public String command() {
        return command;
    }

    /** QMP's error class, e.g. {@code CommandNotFound}, {@code DeviceNotFound}, {@code GenericError}. */
    public String errorClass() {
        return errorClass;
    }

    /** QMP's human-readable description. */
    public String description() {
        return description;
    }
}
