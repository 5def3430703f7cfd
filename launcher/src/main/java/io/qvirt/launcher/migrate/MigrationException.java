package io.qvirt.launcher.migrate;

import io.qvirt.launcher.runtime.LauncherException;

/**
 * A migration that did not happen or did not finish (exit code 1); the message says at which step and why,
 * and where the VM runs now. Subtypes: {@link ArgvMismatchException} (refused before anything moved),
 * {@link MigrationCancelledException} (stopped on request).
 */
public class MigrationException extends LauncherException {
    public MigrationException(String message) {
        super(message);
    }

    public MigrationException(String message, Throwable cause) {
        super(message, cause);
    }
}
