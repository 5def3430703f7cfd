package io.qvirt.handler.vmi;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Finds a VM's QEMU among this host's processes by what it is, not by a pid someone wrote down: the launcher
 * names every QEMU {@code -name guest=<namespace>_<name>,...} (namespaces and names cannot hold '_'), and
 * {@code launcher.json}'s pid is the one the launcher saw in its pod's pid namespace, which the handler
 * (hostPID) does not share. The pid from the file is tried first (the same namespace on one machine and on the
 * rig), then {@code /proc} is scanned.
 */
final class QemuProcess {
    private QemuProcess() {
    }

    /** The pid of the QEMU named for {@code namespace/name}, or -1 if none is visible from here. */
    static long find(String namespace, String name, long hint) {
        String marker = "guest=" + namespace + "_" + name + ",";
        if (hint > 0 && isQemuFor(hint, marker)) {
            return hint;
        }
        try (DirectoryStream<Path> procs = Files.newDirectoryStream(Path.of("/proc"), p -> p.getFileName().toString().matches("[0-9]+"))) {
            for (Path p : procs) {
                long pid = Long.parseLong(p.getFileName().toString());
                if (isQemuFor(pid, marker)) {
                    return pid;
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }

    private static boolean isQemuFor(long pid, String marker) {
        try {
            byte[] raw = Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline"));
            String[] args = new String(raw, StandardCharsets.UTF_8).split("\0");
            if (args.length == 0 || !args[0].contains("qemu-system")) {
                return false;
            }
            for (int i = 0; i + 1 < args.length; i++) {
                if (args[i].equals("-name") && (args[i + 1] + ",").startsWith(marker)) {
                    return true;
                }
            }
            return false;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }
}
