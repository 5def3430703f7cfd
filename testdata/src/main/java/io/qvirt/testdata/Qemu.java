package io.qvirt.testdata;

import java.nio.file.Files;
import java.nio.file.Path;

/** Finding the host's QEMU for tests. */
public final class Qemu {
    private Qemu() {
    }

    /** {@code qemu-system-x86_64} on PATH (or /usr/bin); throws naming the package to install if absent. */
    public static Path binary() {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin").split(":")) {
            Path p = Path.of(dir, "qemu-system-x86_64");
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        throw new IllegalStateException("qemu-system-x86_64 not found: apt-get install qemu-system-x86");
    }
}
