package io.qvirt.launcher;

import static io.qvirt.launcher.LauncherHarness.waitFor;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The containerDisk container's end (see the controller's LauncherPods): each disk container makes the FIFO
 * DIR/&lt;volume&gt;.alive and reads it until EOF; {@code launcher exec} opens it for writing and keeps that fd
 * across its execve into QEMU, so the reader gets EOF when QEMU exits, not before. The disk container is played
 * by a real {@code cat} of the FIFO; QEMU is real (TCG), killed with SIGKILL as a crash would.
 */
class ContainerDiskAliveIT {
    @TempDir
    Path tmp;

    LauncherHarness h;
    private final List<Process> readers = new ArrayList<>();

    @BeforeEach
    void setUp() throws IOException {
        h = new LauncherHarness(tmp);
    }

    @AfterEach
    void tearDown() throws InterruptedException {
        h.close();
        for (Process r : readers) {
            r.destroyForcibly();
            r.waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void theDiskContainersFifoReaderSeesEofOnlyWhenTheExecdQemuExits() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("container-disks"));
        // Volume "containerdisk": a disk container of now (FIFO, then link). Volume "older": a link only, as a disk
        // container from before the FIFO: exec runs the same and says once that it has nothing to hold.
        Path root = Files.createDirectories(tmp.resolve("root1/disk"));
        Files.copy(io.qvirt.testdata.TestGuest.get().diskQcow2(), root.resolve("disk.qcow2"));
        Path older = Files.createDirectories(tmp.resolve("root2/disk"));
        try (var f = new java.io.RandomAccessFile(older.resolve("disk.img").toFile(), "rw")) {
            f.setLength(1 << 20);
        }
        Path fifo = dir.resolve("containerdisk.alive");
        Process mk = new ProcessBuilder("mkfifo", fifo.toString()).redirectErrorStream(true).start();
        assertEquals(0, mk.waitFor(), new String(mk.getInputStream().readAllBytes()));
        // The disk container's read: blocks in open until a writer comes, then until the last writer goes.
        Process reader = new ProcessBuilder("cat", fifo.toString()).redirectErrorStream(true).start();
        readers.add(reader);
        Files.createSymbolicLink(dir.resolve("containerdisk"), root);
        Files.createSymbolicLink(dir.resolve("older"), older);

        Path yaml = tmp.resolve("alive.yaml");
        Files.writeString(yaml, """
                apiVersion: kubevirt.io/v1
                kind: VirtualMachineInstance
                metadata:
                  name: alive
                spec:
                  domain:
                    devices:
                      autoattachPodInterface: false
                      disks:
                      - name: containerdisk
                        disk:
                          bus: virtio
                      - name: older
                        disk:
                          bus: virtio
                    resources:
                      requests:
                        memory: 128Mi
                  volumes:
                  - name: containerdisk
                    containerDisk:
                      image: registry.invalid/never/pulled:v1
                  - name: older
                    containerDisk:
                      image: registry.invalid/never/pulled-either:v1
                """);
        LauncherHarness.Started ex = h.start("exec", yaml.toString(), "--accel", "tcg",
                "--container-disk-dir", dir.toString());
        long pid = ex.process().pid();
        waitFor(() -> exeOf(pid).endsWith("qemu-system-x86_64"), Duration.ofSeconds(60),
                "pid " + pid + " becomes QEMU: " + ex.err());
        List<Path> held = fdsTo(pid, fifo);
        assertEquals(1, held.size(), "QEMU holds the FIFO once, inherited across the execve: " + held);
        Path qmp = h.vmDir("alive").resolve("qmp.sock");
        waitFor(() -> Files.exists(qmp), Duration.ofSeconds(10), "qmp.sock");
        try (io.qvirt.testdata.RawQmp m = io.qvirt.testdata.RawQmp.connect(qmp, Duration.ofSeconds(10))) {
            m.negotiate();
            m.execute("{\"execute\":\"query-status\"}"); // QEMU is up and serving, the reader still waits
        }
        assertTrue(reader.isAlive(), "no EOF while QEMU runs");
        String err = ex.err();
        assertEquals(1, count(err, "no FIFO to hold"), "one warning for the disk container without a FIFO: " + err);
        assertTrue(err.contains("older: no " + dir.resolve("older.alive")), err);

        ex.process().destroyForcibly(); // SIGKILL: QEMU gets no say, the kernel closes its fds
        assertTrue(ex.awaitExit(Duration.ofSeconds(10)) >= 0, "QEMU exited");
        assertTrue(reader.waitFor(10, TimeUnit.SECONDS), "EOF once QEMU is gone");
        assertEquals(0, reader.exitValue(), "the reader ends with 0, as the disk container then does");
    }

    private static int count(String s, String what) {
        int n = 0;
        for (int i = s.indexOf(what); i >= 0; i = s.indexOf(what, i + 1)) {
            n++;
        }
        return n;
    }

    /** {@code pid}'s fds open on {@code file}. */
    private static List<Path> fdsTo(long pid, Path file) throws IOException {
        List<Path> out = new ArrayList<>();
        try (var s = Files.list(Path.of("/proc/" + pid + "/fd"))) {
            for (Path fd : s.toList()) {
                try {
                    if (Files.readSymbolicLink(fd).equals(file)) {
                        out.add(fd);
                    }
                } catch (IOException e) {
                    // closed meanwhile
                }
            }
        }
        return out;
    }

    private static String exeOf(long pid) {
        try {
            return Files.readSymbolicLink(Path.of("/proc/" + pid + "/exe")).toString();
        } catch (IOException e) {
            return "";
        }
    }
}
