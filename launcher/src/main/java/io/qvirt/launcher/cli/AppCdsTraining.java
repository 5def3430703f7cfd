package io.qvirt.launcher.cli;

import io.qvirt.launcher.process.Exec;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The training run {@code bin/_java-app} dumps the launcher's AppCDS archive from
 * ({@code -XX:ArchiveClassesAtExit}, once per build): JDK 17 archives only the classes a run loaded, so this run
 * takes every command's real start path on a throw-away VM, and `run` and `exec` then start with their classes
 * already parsed, verified and laid out (picocli, Jackson and the KubeVirt model, jnr-ffi, Netty, the QMP client).
 *
 * <p>The VM is written in the YAML styles manifests use (comments, a document marker, block and flow
 * collections, sequences indented or not, plain, quoted and block scalars): SnakeYAML loads a parser class per construct. What it does, in a temporary directory that it removes: {@code --help}; {@code validate} and {@code render}
 * (TCG, and {@code --exec} with the accelerator chosen as `run` chooses it, so kvm-probe's verdict is read or
 * made); {@code run --console} of a diskless VM with a cloud-init disk, a created hostDisk and a port forward,
 * under TCG with the real QEMU (QVIRT_QEMU or PATH), answered by {@code status}, {@code list} and
 * {@code shutdown --grace 0}; and exec's own steps short of the exec (its free fd range, the native binding).
 * Best effort: a step that fails (no QEMU here, say) is skipped, and the archive covers less. Prints nothing;
 * exits 0. Not a subcommand, so no help text names it.
 */
public final class AppCdsTraining {
    private static final String VM = """
            # A comment, as most manifests have (SnakeYAML loads its comment classes then).
            ---
            apiVersion: kubevirt.io/v1
            kind: VirtualMachine
            metadata:
              name: cds-training
            spec:
              running: false
              template:
                spec:
                  domain:
                    devices:
                      disks:
                      - name: scratch
                        disk: {bus: virtio}
                      - name: cloudinit
                        disk:
                          bus: virtio
                      interfaces:
                        - name: default
                          masquerade: {}
                          ports: [{name: ssh, port: 22}]
                    resources:
                      requests: {memory: 32Mi}
                  networks:
                  - name: default
                    pod: {}
                  volumes:
                    - name: scratch
                      hostDisk: {path: '%s', type: DiskOrCreate, capacity: 1Mi}
                    - name: cloudinit
                      cloudInitNoCloud:
                        userData: |
                          #cloud-config
                        networkData: >-
                          version: 2
            """;

    private AppCdsTraining() {
    }

    public static void main(String[] args) {
        LauncherCommand.avoidClassPathScans();
        try {
            Path dir = Files.createTempDirectory("qvirt-cds-training");
            try {
                train(dir);
            } finally {
                deleteTree(dir);
            }
        } catch (Exception e) {
            // Best effort (see above); System.exit also ends any thread a failed step left running.
        }
        System.exit(0);
    }

    private static void train(Path dir) throws Exception {
        Path spec = dir.resolve("vm.yaml");
        Files.writeString(spec, String.format(VM, dir.resolve("scratch.img")));
        String rt = dir.resolve("rt").toString();
        String file = spec.toString();
        ManifestWarmUp.start();
        launcher("--help");
        launcher("validate", file);
        launcher("render", file, "--accel", "tcg");
        launcher("render", "--exec", file);
        try {
            Exec.freeFdBase(4);
            Exec.pid();
        } catch (RuntimeException | LinkageError e) {
            // No native binding here: exec would fail the same way, with its own message.
        }
        CompletableFuture<Integer> run = CompletableFuture.supplyAsync(() ->
                launcher("--log-format=json", "run", file, "--console", "--accel", "tcg", "--grace", "0",
                        "--runtime-root", rt));
        // Until QEMU answers on qmp.sock (or the run has ended: no QEMU on this machine, say).
        for (int i = 0; i < 200 && !run.isDone(); i++) {
            if (launcher("status", "cds-training", "--runtime-root", rt, "--timeout", "1") == 0) {
                launcher("list", "--runtime-root", rt);
                launcher("shutdown", "cds-training", "--grace", "0", "--runtime-root", rt);
                break;
            }
            Thread.sleep(50);
        }
        try {
            run.get(30, TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            launcher("kill", "cds-training", "--runtime-root", rt);
            run.get(10, TimeUnit.SECONDS);
        }
    }

    /** One launcher command line in this JVM, its output discarded; its exit code. */
    private static int launcher(String... args) {
        PrintWriter sink = new PrintWriter(Writer.nullWriter());
        try {
            return LauncherCommand.create(sink, new PrintWriter(new StringWriter()), args).execute(args);
        } catch (RuntimeException e) {
            return -1;
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
