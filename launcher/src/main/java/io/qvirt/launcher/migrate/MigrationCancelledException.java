package io.qvirt.launcher.migrate;

/** The migration was cancelled on request (Ctrl-C, SIGTERM, or {@code migrate_cancel} by another client). */
public final class MigrationCancelledException extends MigrationException {
    public MigrationCancelledException(String message) {
        super(message);
    }
}
