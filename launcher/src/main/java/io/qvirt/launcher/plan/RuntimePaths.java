package io.qvirt.launcher.plan;

import java.nio.file.Path;

/**
 * The files of one VM's private directory ({@code <root>/<namespace>/<name>/}, mode 0700): the same
 * layout for {@code launcher run}, {@code launcher exec} and the handler.
 */
public record RuntimePaths(Path dir) {
    public Path qmpSocket() {
        return dir.resolve("qmp.sock");
    }

    public Path consoleSocket() {
        return dir.resolve("console.sock");
    }

    public Path consoleLog() {
        return dir.resolve("console.log");
    }

    /** Held (flock) by the one console client attached, so a second one is told who has it. */
    public Path consoleLock() {
        return dir.resolve("console.lock");
    }

    public Path vmiJson() {
        return dir.resolve("vmi.json");
    }

    public Path launcherJson() {
        return dir.resolve("launcher.json");
    }

    /** QEMU's stderr when qvirt started it (run, handler); kept for the reason of a crash. */
    public Path qemuStderr() {
        return dir.resolve("qemu.stderr");
    }

    /** The VM's copy of the EFI variable store (OVMF's VARS), made from the firmware's template at every start. */
    public Path efiVars() {
        return dir.resolve("efi-vars.fd");
    }

    public Path disksDir() {
        return dir.resolve("disks");
    }
}
