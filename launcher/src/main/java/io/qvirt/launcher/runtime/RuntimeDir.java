package io.qvirt.launcher.runtime;

import io.qvirt.launcher.plan.RuntimePaths;
import java.io.IOException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The runtime root ({@code /run/qvirt}, or {@code $QVIRT_RUNTIME_ROOT}, or {@code --runtime-root}) and one
 * VM's private directory in it, {@code <root>/<namespace>/<name>/} (mode 0700).
 */
public final class RuntimeDir {
    public static final Path DEFAULT_ROOT = Path.of("/run/qvirt");
    /** Kubernetes names (DNS-1123): never a path separator or "..", so a name cannot escape the root. */
    private static final Pattern NAME = Pattern.compile("[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?");

    private RuntimeDir() {
    }

    /** {@code --runtime-root} if given, else {@code $QVIRT_RUNTIME_ROOT}, else /run/qvirt. */
    public static Path root(Path override) {
        if (override != null) {
            return override.toAbsolutePath();
        }
        String env = System.getenv("QVIRT_RUNTIME_ROOT");
        return env != null && !env.isBlank() ? Path.of(env).toAbsolutePath() : DEFAULT_ROOT;
    }

    public static RuntimePaths paths(Path root, String namespace, String name) {
        if (!NAME.matcher(namespace).matches() || namespace.contains("..")) {
            throw new IllegalArgumentException("namespace '" + namespace + "' is not a DNS-1123 name");
        }
        if (!NAME.matcher(name).matches() || name.contains("..")) {
            throw new IllegalArgumentException("name '" + name + "' is not a DNS-1123 name");
        }
        return new RuntimePaths(root.resolve(namespace).resolve(name));
    }

    /**
     * Creates the VM's directory, exclusively. A directory left by a VM whose QEMU is gone is removed
     * first; one whose QEMU still answers on qmp.sock is a running VM.
     *
     * @throws LauncherException naming the VM if it is already running
     */
    public static RuntimePaths create(Path root, String namespace, String name) {
        RuntimePaths p = paths(root, namespace, name);
        try {
            Files.createDirectories(p.dir().getParent());
            try {
                Files.createDirectory(p.dir(), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            } catch (FileAlreadyExistsException e) {
                if (isLive(p)) {
                    throw new LauncherException("VM " + namespace + "/" + name + " is already running (" + p.dir()
                            + "); stop it first: launcher shutdown " + name + (namespace.equals("default") ? "" : " -n " + namespace));
                }
                delete(p);
                Files.createDirectory(p.dir(), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            }
            return p;
        } catch (IOException e) {
            throw new LauncherException("cannot create " + p.dir() + ": " + e.getMessage(), e);
        }
    }

    /** True if something accepts connections on the VM's qmp.sock. */
    public static boolean isLive(RuntimePaths p) {
        if (!Files.exists(p.qmpSocket())) {
            return false;
        }
        try (var ch = java.nio.channels.SocketChannel.open(java.net.StandardProtocolFamily.UNIX)) {
            ch.connect(java.net.UnixDomainSocketAddress.of(p.qmpSocket()));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** Removes the VM's directory and everything in it; harmless if already gone. */
    public static void delete(RuntimePaths p) {
        if (!Files.exists(p.dir())) {
            return;
        }
        try (Stream<Path> s = Files.walk(p.dir())) {
            for (Path f : (Iterable<Path>) s.sorted(Comparator.reverseOrder())::iterator) {
                try {
                    Files.deleteIfExists(f);
                } catch (DirectoryNotEmptyException | NoSuchFileException e) {
                    // A racing writer (QEMU's log) or a racing delete: the next pass or caller sees it.
                }
            }
        } catch (IOException e) {
            throw new LauncherException("cannot remove " + p.dir() + ": " + e.getMessage(), e);
        }
    }
}
