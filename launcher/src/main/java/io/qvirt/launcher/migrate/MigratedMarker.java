package io.qvirt.launcher.migrate;

import io.qvirt.launcher.plan.RuntimePaths;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * {@code migrated-to} in a source VM's directory: written by a completed migration just before it quits the
 * source QEMU, so the source's owner ({@code launcher run}) can tell a VM that moved from one that was quit,
 * and say where it went.
 */
public final class MigratedMarker {
    private MigratedMarker() {
    }

    public static Path file(RuntimePaths source) {
        return source.dir().resolve("migrated-to");
    }

    static void write(RuntimePaths source, RuntimePaths target, long targetQemuPid) {
        try {
            Files.writeString(file(source), target.dir() + " (QEMU pid " + targetQemuPid + ")\n", StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new MigrationException("cannot write " + file(source) + ": " + e.getMessage(), e);
        }
    }

    /** Where the VM went ({@code DIR (QEMU pid N)}), or null if it did not migrate away. */
    public static String read(RuntimePaths source) {
        try {
            return Files.exists(file(source)) ? Files.readString(file(source), StandardCharsets.UTF_8).strip() : null;
        } catch (IOException e) {
            return null;
        }
    }
}
