package io.qvirt.launcher.runtime;

import io.qvirt.api.KubevirtJson;
import io.qvirt.api.VirtualMachineInstance;
import io.qvirt.launcher.plan.InheritedFd;
import io.qvirt.launcher.plan.PreparedFile;
import io.qvirt.launcher.plan.RuntimePaths;
import io.qvirt.launcher.plan.VmPlan;
import io.qvirt.launcher.process.Fd;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Makes a planned VM's directory ready for QEMU, the same way for run, exec and the handler: the
 * directory (exclusive), the files the plan asks for, {@code vmi.json}, and the sockets QEMU inherits.
 * On any failure everything it made is removed again, so nothing half-made is left.
 */
public final class VmPreparer {
    private VmPreparer() {
    }

    /**
     * @param root the runtime root
     * @throws LauncherException if the VM is already running or anything cannot be made
     */
    public static PreparedVm prepare(Path root, VmPlan plan, VirtualMachineInstance vmi) {
        RuntimePaths p = RuntimeDir.create(root, plan.namespace(), plan.name());
        List<Fd> child = new ArrayList<>();
        Fd owner = null;
        try {
            for (PreparedFile f : plan.files()) {
                make(f);
            }
            Files.writeString(p.vmiJson(), KubevirtJson.toJson(vmi), StandardCharsets.UTF_8);
            for (InheritedFd role : plan.fds()) {
                switch (role) {
                    case OWNER_QMP -> {
                        Fd[] pair = Fd.socketPair();
                        owner = pair[0];
                        child.add(pair[1]);
                    }
                    case MANAGER_QMP -> child.add(Fd.listenUnix(p.qmpSocket()));
                    case CONSOLE -> child.add(Fd.listenUnix(p.consoleSocket()));
                    default -> throw new IllegalStateException("unknown fd role " + role);
                }
            }
            return new PreparedVm(plan, List.copyOf(child), owner);
        } catch (RuntimeException | IOException e) {
            child.forEach(Fd::close);
            if (owner != null) {
                owner.close();
            }
            cleanup(plan);
            if (e instanceof LauncherException le) {
                throw le;
            }
            throw new LauncherException("cannot prepare " + p.dir() + ": " + e.getMessage(), e);
        }
    }

    /** Removes the VM's directory and the files the plan made for it alone (emptyDisk), not hostDisks. */
    public static void cleanup(VmPlan plan) {
        for (PreparedFile f : plan.files()) {
            if (f.removeWithVm()) {
                try {
                    Files.deleteIfExists(f.path());
                } catch (IOException e) {
                    // Inside the VM's directory, which goes next anyway.
                }
            }
        }
        RuntimeDir.delete(plan.paths());
    }

    private static void make(PreparedFile f) throws IOException {
        Files.createDirectories(f.path().getParent());
        if (f instanceof PreparedFile.SparseRaw r) {
            try (RandomAccessFile raf = new RandomAccessFile(r.path().toFile(), "rw")) {
                raf.setLength(r.sizeBytes());
            }
        } else if (f instanceof PreparedFile.NewQcow2 q) {
            qemuImg("create", "-q", "-f", "qcow2", q.path().toString(), Long.toString(q.sizeBytes()));
        } else if (f instanceof PreparedFile.Overlay o) {
            qemuImg("create", "-q", "-f", "qcow2", "-F", o.backingFormat().qemuName(), "-b", o.backing().toString(),
                    o.path().toString());
        } else if (f instanceof PreparedFile.Copy c) {
            Files.copy(c.source(), c.path());
        } else if (f instanceof PreparedFile.Iso iso) {
            NoCloudIso.write(iso.path(), iso.volumeId(), iso.files());
        } else {
            throw new IllegalStateException("unknown prepared file " + f);
        }
    }

    /** Runs qemu-img with an argument list (never a shell string). */
    static void qemuImg(String... args) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add("qemu-img");
        cmd.addAll(List.of(args));
        Process proc = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        try {
            String out = new String(proc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!proc.waitFor(60, TimeUnit.SECONDS)) {
                proc.destroyForcibly();
                throw new IOException("qemu-img " + String.join(" ", args) + ": no answer within 60 s");
            }
            if (proc.exitValue() != 0) {
                throw new IOException("qemu-img " + String.join(" ", args) + " failed: " + out.strip());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            proc.destroyForcibly();
            throw new IOException("interrupted", e);
        }
    }
}
