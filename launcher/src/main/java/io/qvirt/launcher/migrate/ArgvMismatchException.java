package io.qvirt.launcher.migrate;

import java.util.List;

/**
 * The target QEMU's command line would not build the device tree the source runs, so the migration stream
 * would be refused by the target (or worse, load into different devices): refused before anything is made.
 */
public final class ArgvMismatchException extends MigrationException {
    private final List<String> differences;

    public ArgvMismatchException(String message, List<String> differences) {
        super(message);
        this.differences = List.copyOf(differences);
    }

    /** One line per difference, e.g. {@code source has "-m 128M", target has "-m 192M"}. */
    public List<String> differences() {
        return differences;
    }
}
