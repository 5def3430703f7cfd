package io.qvirt.bench;

import io.qvirt.testdata.TestGuest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * What every contender shares: the one QEMU binary (behind the spawn-stamp wrapper), the guest, the
 * VM spec, and the raw argv, which is qvirt's own rendered argv with its inherited fds replaced by paths,
 * so raw QEMU has exactly qvirt's device set.
 *
 * @param wrapper   the QEMU every contender runs: bench/scripts/qemu-spawn-stamp installed with fixed paths
 * @param stampDir  where the wrapper writes NAME.stamp
 * @param rawArgv   qvirt's argv for VM {@link #TEMPLATE_NAME} on disk {@code templateDisk}, without the binary
 */
record Ctx(Path root, Path work, Path realQemu, Path wrapper, Path stampDir, Path supervisor, TestGuest guest,
           int memMib, List<String> rawArgv, Path templateDisk, Libvirt libvirt) {
    static final String TEMPLATE_NAME = "tmplvm";
    /** A fixed place, so libvirt's capability cache for the wrapper survives bench runs. */
    static final Path BENCH_RUN = Path.of("/run/qvirt-bench");

    static Ctx create(Path root, Path work, int memMib, Libvirt libvirt) throws Exception {
        Path realQemu = io.qvirt.testdata.Qemu.binary().toRealPath();
        Path stampDir = BENCH_RUN.resolve("stamps");
        Files.createDirectories(stampDir);
        Path wrapper = BENCH_RUN.resolve("qemu");
        String text = Files.readString(root.resolve("bench/scripts/qemu-spawn-stamp"))
                .replace("@STAMP_DIR@", stampDir.toString()).replace("@QEMU@", realQemu.toString());
        // Rewrite only on change: a new ctime makes libvirt probe the emulator's capabilities again.
        if (!Files.exists(wrapper) || !Files.readString(wrapper).equals(text)) {
            Path tmp = BENCH_RUN.resolve("qemu.tmp");
            Files.writeString(tmp, text);
            tmp.toFile().setExecutable(true);
            Files.move(tmp, wrapper, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                    java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        }
        TestGuest guest = TestGuest.get();
        Path templateDisk = work.resolve("template.qcow2");
        Ctx partial = new Ctx(root, work, realQemu, wrapper, stampDir, root.resolve("bench/scripts/raw-supervisor"),
                guest, memMib, List.of(), templateDisk, libvirt);
        partial.overlay(templateDisk);
        Path yaml = partial.vmYaml(TEMPLATE_NAME, templateDisk, work.resolve("rt-template"));
        String rendered = Procs.run(Duration.ofSeconds(60), Procs.cmd(root.resolve("bin/launcher").toString(),
                "render", yaml.toString(), "--accel", "tcg", "--runtime-root", work.resolve("rt-template").toString()));
        List<String> argv = new ArrayList<>(List.of(rendered.strip().split("\n")));
        argv.remove(0);
        return new Ctx(root, work, realQemu, wrapper, stampDir, partial.supervisor(), guest, memMib, List.copyOf(argv),
                templateDisk, libvirt);
    }

    Path launcher() {
        return root.resolve("bin/launcher");
    }

    /** A fresh copy-on-write overlay on the guest's disk (the guest image itself is never written). */
    Path overlay(Path ov) throws Exception {
        Files.deleteIfExists(ov);
        Process p = new ProcessBuilder("qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b",
                guest.diskQcow2().toRealPath().toString(), ov.toString())
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        try {
            if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException("qemu-img create failed for " + ov);
            }
        } finally {
            Procs.kill(p);
        }
        return ov;
    }

    /** The VM every qvirt contender runs: the guest's disk (virtio), no NIC, memMib of RAM. */
    Path vmYaml(String name, Path disk, Path dir) throws IOException {
        Files.createDirectories(dir);
        Path f = dir.resolve(name + ".yaml");
        Files.writeString(f, """
                apiVersion: kubevirt.io/v1
                kind: VirtualMachine
                metadata:
                  name: %s
                spec:
                  running: true
                  template:
                    spec:
                      terminationGracePeriodSeconds: 60
                      domain:
                        devices:
                          autoattachPodInterface: false
                          disks:
                          - name: root
                            disk:
                              bus: virtio
                        resources:
                          requests:
                            memory: %dMi
                      volumes:
                      - name: root
                        hostDisk:
                          path: %s
                          type: Disk
                """.formatted(name, memMib, disk.toAbsolutePath()), StandardCharsets.UTF_8);
        return f;
    }

    /**
     * qvirt's argv for VM {@code name}: the owner monitor on FIFOs DIR/qmp.in/.out for the raw supervisor,
     * the managers' monitor on DIR/qmp.sock, the serial console on stdio; everything else as qvirt renders it.
     */
    List<String> rawArgv(String name, Path disk, Path dir) {
        return rawArgv(name, disk, dir, false);
    }

    /**
     * As {@link #rawArgv(String, Path, Path)}; with {@code socketConsole} the serial console is qvirt's own
     * (DIR/console.sock, a server nobody needs to attach to, logged to DIR/console.log) instead of stdio: what the
     * migration scenario's QEMUs run.
     */
    List<String> rawArgv(String name, Path disk, Path dir, boolean socketConsole) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < rawArgv.size(); i++) {
            String a = rawArgv.get(i);
            String prev = i > 0 ? rawArgv.get(i - 1) : "";
            if (prev.equals("-chardev") && a.contains(",fd=")) {
                String id = a.replaceAll(".*\\bid=([^,]+).*", "$1");
                a = switch (id) {
                    case "qmp-owner" -> "pipe,id=qmp-owner,path=" + dir.resolve("qmp");
                    case "qmp" -> "socket,id=qmp,path=" + dir.resolve("qmp.sock") + ",server=on,wait=off";
                    case "serial0" -> socketConsole
                            ? "socket,id=serial0,path=" + dir.resolve("console.sock") + ",server=on,wait=off,logfile="
                                    + dir.resolve("console.log") + ",logappend=on"
                            : "stdio,id=serial0,signal=off";
                    default -> throw new IllegalStateException("qvirt's argv has an fd chardev the bench does not "
                            + "know how to replace: " + a);
                };
            } else if (a.contains(",fd=") || a.startsWith("fd=")) {
                throw new IllegalStateException("qvirt's argv passes an fd the bench cannot replace: " + a);
            }
            a = a.replace("default_" + TEMPLATE_NAME, name).replace(templateDisk.toString(), disk.toString());
            out.add(a);
        }
        return out;
    }

    Path stamp(String qemuName) {
        return stampDir.resolve(qemuName + ".stamp");
    }
}
