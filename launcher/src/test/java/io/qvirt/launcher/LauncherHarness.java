package io.qvirt.launcher;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qvirt.testdata.ConsoleWatcher;
import io.qvirt.testdata.TestGuest;
import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.channels.SocketChannel;
import java.nio.channels.Channels;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Drives the real launcher CLI (the packaged jar, a separate JVM) against real QEMU, for tests.
 * Every process it starts is killed in {@link #close()}.
 */
final class LauncherHarness implements AutoCloseable {
    final Path root;
    final Path tmp;
    private final List<Process> started = new ArrayList<>();

    LauncherHarness(Path tmp) throws IOException {
        this.tmp = tmp;
        this.root = Files.createDirectories(tmp.resolve("run"));
    }

    static Path jar() {
        Path jar = TestGuest.projectRoot().resolve("launcher/target/qvirt-launcher.jar");
        assertTrue(Files.isRegularFile(jar), "launcher jar not built: " + jar);
        return jar;
    }

    /** A copy-on-write overlay of the test guest's disk, so the shared image is never written. */
    Path overlay(String name) throws IOException, InterruptedException {
        Path p = tmp.resolve(name + ".qcow2");
        Process q = new ProcessBuilder("qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b",
                TestGuest.get().diskQcow2().toString(), p.toString()).redirectErrorStream(true).start();
        String out = new String(q.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (q.waitFor() != 0) {
            throw new IOException("qemu-img: " + out);
        }
        return p;
    }

    /** A VM manifest booting {@code disk} through a hostDisk, with extra lines under spec.template.spec.domain.devices. */
    Path vmYaml(String name, Path disk, String extraSpec) throws IOException {
        String y = """
                apiVersion: kubevirt.io/v1
                kind: VirtualMachine
                metadata:
                  name: %s
                spec:
                  running: true
                  template:
                    spec:
                      terminationGracePeriodSeconds: 20
                      domain:
                        devices:
                          autoattachPodInterface: false
                          disks:
                          - name: root
                            disk:
                              bus: virtio
                            bootOrder: 1
                        resources:
                          requests:
                            memory: 128Mi
                      volumes:
                      - name: root
                        hostDisk:
                          path: %s
                          type: Disk
                %s""".formatted(name, disk, extraSpec == null ? "" : extraSpec);
        Path f = tmp.resolve(name + ".yaml");
        Files.writeString(f, y);
        return f;
    }

    /** Starts {@code launcher ARGS} in the background with --runtime-root; stdout is watched. */
    Started start(String... args) throws IOException {
        return start(Map.of(), args);
    }

    /** As {@link #start(String...)}, with {@code env} added to the launcher's environment. */
    Started start(Map<String, String> env, String... args) throws IOException {
        List<String> cmd = command(args);
        Path err = Files.createTempFile(tmp, "launcher", ".err");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(err.toFile());
        pb.environment().putAll(env);
        Process p = pb.start();
        started.add(p);
        return new Started(p, new ConsoleWatcher(p.getInputStream(), "launcher-" + p.pid()), err);
    }

    /** Runs {@code launcher ARGS} to completion (at most 60 s). */
    Result exec(String... args) throws IOException, InterruptedException {
        return exec(Map.of(), args);
    }

    /** As {@link #exec(String...)}, with {@code env} added to the launcher's environment. */
    Result exec(Map<String, String> env, String... args) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command(args));
        pb.environment().putAll(env);
        Process p = pb.start();
        started.add(p);
        byte[] out = p.getInputStream().readAllBytes();
        byte[] err = p.getErrorStream().readAllBytes();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("launcher " + String.join(" ", args) + " did not finish within 60 s");
        }
        return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8), new String(err, StandardCharsets.UTF_8));
    }

    private List<String> command(String... args) {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-jar", jar().toString()));
        cmd.addAll(List.of(args));
        if (args.length > 0 && !args[0].startsWith("-")) {
            cmd.add("--runtime-root");
            cmd.add(root.toString());
        }
        return cmd;
    }

    Path vmDir(String name) {
        return root.resolve("default").resolve(name);
    }

    record Result(int code, String out, String err) {
        @Override
        public String toString() {
            return "exit " + code + "\n--- stdout\n" + out + "--- stderr\n" + err;
        }
    }

    record Started(Process process, ConsoleWatcher out, Path errFile) {
        String err() {
            try {
                return Files.readString(errFile);
            } catch (IOException e) {
                return "";
            }
        }

        int awaitExit(Duration d) throws InterruptedException {
            return process.waitFor(d.toMillis(), TimeUnit.MILLISECONDS) ? process.exitValue() : -999;
        }
    }

    @Override
    public void close() {
        for (Process p : started) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            try {
                p.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Alive and not a zombie: PID 1 here reaps orphans only every few seconds. */
    static boolean alive(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            return stat.charAt(stat.lastIndexOf(')') + 2) != 'Z';
        } catch (IOException e) {
            return false;
        }
    }

    /** A condition a test waits for. */
    @FunctionalInterface
    interface Check {
        boolean ok() throws Exception;
    }

    /** Polls {@code c} every 20 ms; fails naming {@code what} after {@code d}. */
    static void waitFor(Check c, Duration d, String what) throws Exception {
        long deadline = System.nanoTime() + d.toNanos();
        while (!c.ok()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + d + ": " + what);
            }
            Thread.sleep(20);
        }
    }

    /** The test itself as the serial console's client, talking to console.sock directly. */
    static final class ConsoleTap implements AutoCloseable {
        final SocketChannel ch;
        final ConsoleWatcher out;

        private ConsoleTap(SocketChannel ch) {
            this.ch = ch;
            this.out = new ConsoleWatcher(Channels.newInputStream(ch), "tap");
        }

        static ConsoleTap attach(Path sock) throws IOException {
            SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
            ch.connect(UnixDomainSocketAddress.of(sock));
            return new ConsoleTap(ch);
        }

        void type(String s) throws IOException {
            ch.write(ByteBuffer.wrap(s.getBytes(StandardCharsets.UTF_8)));
        }

        @Override
        public void close() throws IOException {
            ch.close();
        }
    }
}
