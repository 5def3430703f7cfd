package io.qvirt.launcher.cli;

import java.util.Map;
import java.util.regex.Pattern;

/**
 * {@code QVIRT_MIGRATION_TARGET}: set by the controller on a migration's target launcher pod to the migration's
 * uid; {@code exec} then starts QEMU with {@code -incoming defer} and records the uid in launcher.json, where the
 * target node's handler finds it.
 */
final class MigrationTargetEnv {
    static final String NAME = "QVIRT_MIGRATION_TARGET";
    /** A Kubernetes uid (a UUID) or any name of its characters: nothing that could be read as an option or a path. */
    private static final Pattern UID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9-]{0,63}");

    private MigrationTargetEnv() {
    }

    /**
     * @return the migration's uid, or null when the variable is not set
     * @throws IllegalArgumentException naming the variable if it is set but not a plausible uid
     */
    static String read(Map<String, String> env) {
        String v = env.get(NAME);
        if (v == null) {
            return null;
        }
        if (!UID.matcher(v).matches()) {
            String shown = v.length() > 80 ? v.substring(0, 80) + "..." : v;
            throw new IllegalArgumentException(NAME + ": \"" + shown + "\" is not a migration uid: 1 to 64 characters "
                    + "of A-Z, a-z, 0-9 and '-', the first a letter or digit (the VirtualMachineInstanceMigration's "
                    + "metadata.uid)");
        }
        return v;
    }
}
