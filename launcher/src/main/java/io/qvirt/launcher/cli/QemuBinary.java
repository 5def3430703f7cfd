package io.qvirt.launcher.cli;

import io.qvirt.launcher.runtime.LauncherException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The QEMU binary: {@code $QVIRT_QEMU}, else qemu-system-x86_64 on PATH. */
final class QemuBinary {
    private QemuBinary() {
    }

    static Path find() {
        String env = System.getenv("QVIRT_QEMU");
        if (env != null && !env.isBlank()) {
            Path p = Path.of(env).toAbsolutePath();
            if (!Files.isExecutable(p)) {
                throw new LauncherException("QVIRT_QEMU=" + env + " is not an executable file");
            }
            return p;
        }
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            Path p = Path.of(dir, "qemu-system-x86_64");
            if (Files.isExecutable(p)) {
                return p.toAbsolutePath();
            }
        }
        throw new LauncherException("qemu-system-x86_64 not found on PATH: apt-get install qemu-system-x86");
    }
}
