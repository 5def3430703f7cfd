package io.qvirt.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.Container;
import io.qvirt.api.model.ContainerDiskSource;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The containerDisk container's script ({@link LauncherPods#diskContainer}) run by this host's static busybox (what
 * the pod's init container copies in), with the pod's paths moved under a temporary directory: it makes the
 * {@code <volume>.alive} FIFO before the link, ends 0 once the last writer of the FIFO (the launcher, then QEMU)
 * closes it, and ends 0 on SIGTERM.
 */
class DiskContainerScriptTest {
    private static final Path BUSYBOX = Path.of("/bin/busybox");

    @TempDir
    Path tmp;

    private final List<Process> started = new ArrayList<>();
    private final List<ProcessHandle> children = new ArrayList<>();

    @AfterEach
    void tearDown() throws Exception {
        for (Process p : started) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
        }
        for (ProcessHandle c : children) {
            c.destroyForcibly();
            c.onExit().get(10, TimeUnit.SECONDS);
        }
    }

    /** A process under {@code sh} has {@code fifo} open (the reader's open returned). */
    private static boolean readerOf(Process sh, Path fifo) {
        for (ProcessHandle d : sh.descendants().toList()) {
            try (var fds = Files.list(Path.of("/proc/" + d.pid() + "/fd"))) {
                for (Path fd : fds.toList()) {
                    try {
                        if (Files.readSymbolicLink(fd).equals(fifo)) {
                            return true;
                        }
                    } catch (java.io.IOException e) {
                        // closed meanwhile
                    }
                }
            } catch (java.io.IOException e) {
                // gone meanwhile
            }
        }
        return false;
    }

    @Test
    void theContainerEndsWhenTheLastWriterOfItsFifoIsGone() throws Exception {
        Path disks = Files.createDirectories(tmp.resolve("container-disks"));
        Process sh = start(disks);
        Path fifo = disks.resolve("vol1.alive");
        Path link = disks.resolve("vol1");
        awaitTrue(() -> Files.isSymbolicLink(link), "the link is published");
        assertTrue(Files.exists(fifo), "the FIFO exists once the link does (the launcher looks for it then)");
        assertEquals("/proc/" + sh.pid() + "/root/disk", Files.readSymbolicLink(link).toString());
        // The launcher's side: opened read-write (never blocks), held, closed as QEMU's exit would.
        try (RandomAccessFile writer = new RandomAccessFile(fifo.toFile(), "rw")) {
            awaitTrue(() -> readerOf(sh, fifo), "the script's reader has the FIFO open");
            Thread.sleep(200);
            assertTrue(sh.isAlive(), "the container runs while a writer holds the FIFO");
        }
        assertTrue(sh.waitFor(10, TimeUnit.SECONDS), "the container ends when the writer is gone");
        assertEquals(0, sh.exitValue());
    }

    @Test
    void sigtermStillEndsItWith0() throws Exception {
        Path disks = Files.createDirectories(tmp.resolve("container-disks"));
        Process sh = start(disks);
        awaitTrue(() -> Files.isSymbolicLink(disks.resolve("vol1")), "the link is published");
        assertTrue(sh.isAlive(), "no writer came and went: it waits");
        awaitTrue(() -> !sh.descendants().toList().isEmpty(), "the reader runs");
        children.addAll(sh.descendants().toList()); // a container's runtime ends them; here the test does
        sh.destroy(); // SIGTERM
        assertTrue(sh.waitFor(10, TimeUnit.SECONDS), "ends on SIGTERM");
        assertEquals(0, sh.exitValue());
        assertFalse(sh.isAlive());
    }

    private Process start(Path disks) throws Exception {
        ContainerDiskSource cd = new ContainerDiskSource();
        cd.setImage("registry.example/disk:v1");
        Container c = LauncherPods.diskContainer("vol1", cd, false);
        List<String> cmd = c.getCommand();
        assertEquals(List.of(LauncherPods.BIN_DIR + "/busybox", "sh", "-c"), cmd.subList(0, 3));
        String script = cmd.get(3).replace(LauncherPods.BIN_DIR + "/busybox", BUSYBOX.toString())
                .replace(LauncherPods.DISKS_DIR, disks.toString());
        assertFalse(script.contains(LauncherPods.BIN_DIR) || script.contains(LauncherPods.DISKS_DIR), script);
        Process p = new ProcessBuilder(BUSYBOX.toString(), "sh", "-c", script).redirectErrorStream(true).start();
        started.add(p);
        return p;
    }

    @FunctionalInterface
    private interface Check {
        boolean ok() throws Exception;
    }

    private static void awaitTrue(Check c, String what) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!c.ok()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out: " + what);
            }
            Thread.sleep(20);
        }
    }
}
