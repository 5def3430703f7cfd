package io.qvirt.launcher.runtime;

/** A runtime failure of the launcher (exit code 1): the message is for the user, complete on one line. */
public class LauncherException extends RuntimeException {
    public LauncherException(String message) {
        super(message);
    }

    public LauncherException(String message, Throwable cause) {
        super(message, cause);
    }
}
