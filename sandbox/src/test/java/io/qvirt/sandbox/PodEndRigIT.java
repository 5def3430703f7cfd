package io.qvirt.sandbox;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.ContainerStateTerminated;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.qvirt.api.ManifestLoader;
import io.qvirt.api.VirtualMachine;
import io.qvirt.testdata.TestGuest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * On the rig ({@code bin/qvirt-sandbox}: the real controller and handler, the FAKE node agent): the seed VM's launcher
 * pod's containerDisk container ends by itself, exit 0, once its QEMU is gone, because QEMU holds the container's
 * {@code <volume>.alive} FIFO from {@code launcher exec}. QEMU is SIGKILLed, as a crash would end it; before, the
 * disk container ran on until the pod was deleted.
 */
class PodEndRigIT {
    @TempDir
    Path tmp;
    private Path dir;

    @BeforeAll
    static void registry() throws Exception {
        SandboxIT.registry();
    }

    @AfterEach
    void down() throws Exception {
        if (dir != null) {
            SandboxIT.run(Duration.ofSeconds(120), SandboxIT.BIN.toString(), "down", "--dir", dir.toString());
        }
    }

    @Test
    void theDiskContainerEndsWithQemu() throws Exception {
        dir = tmp.resolve("podend");
        SandboxIT.Result up = SandboxIT.run(Duration.ofSeconds(240), SandboxIT.BIN.toString(), "up", "--dir",
                dir.toString(), "--nodes", "1");
        assertEquals(0, up.code(), up.out());
        try (KubernetesClient client = SandboxIT.client(dir)) {
            VirtualMachine vm = ManifestLoader.loadOne(TestGuest.testVmYaml()).vm();
            vm.getMetadata().setNamespace("default");
            vm.getSpec().setRunning(true);
            client.resources(VirtualMachine.class).inNamespace("default").resource(vm).create();
            Pod pod = SandboxIT.awaitValue(Duration.ofSeconds(90), "the launcher pod with compute and disk running", () -> {
                for (Pod p : client.pods().inNamespace("default").withLabel("kubevirt.io", "virt-launcher").list().getItems()) {
                    if (p.getStatus() != null && p.getStatus().getContainerStatuses() != null
                            && p.getStatus().getContainerStatuses().size() == 2 && p.getStatus().getContainerStatuses()
                            .stream().allMatch(c -> c.getState().getRunning() != null)) {
                        return p;
                    }
                }
                return null;
            });
            String name = pod.getMetadata().getName();
            ContainerStatus compute = status(pod, "compute");
            long qemu = SandboxIT.containerPid(compute);
            SandboxIT.await(Duration.ofSeconds(60), "the compute process became QEMU", () -> SandboxMain.isQemu(qemu));
            List<Path> held = alive(qemu);
            assertEquals(1, held.size(), "QEMU holds the disk container's FIFO: " + held);
            assertTrue(held.get(0).getFileName().toString().endsWith(".alive"), held.toString());
            Pod still = client.pods().inNamespace("default").withName(name).get();
            String disk = still.getStatus().getContainerStatuses().stream().map(ContainerStatus::getName)
                    .filter(n -> !n.equals("compute")).findFirst().orElseThrow();
            assertTrue(status(still, disk).getState().getRunning() != null, "the disk container runs beside QEMU");

            ProcessHandle.of(qemu).orElseThrow().destroyForcibly();
            ContainerStateTerminated[] ended = new ContainerStateTerminated[1];
            SandboxIT.await(Duration.ofSeconds(30), "the disk container terminated", () -> {
                Pod p = client.pods().inNamespace("default").withName(name).get();
                ContainerStatus d = p == null ? null : status(p, disk);
                if (d != null && d.getState().getTerminated() != null) {
                    // Ended by itself: not because the pod is going (a deleted pod's containers get SIGTERM).
                    assertEquals(null, p.getMetadata().getDeletionTimestamp(),
                            "the disk container ended only once the pod was being deleted");
                    ended[0] = d.getState().getTerminated();
                    return true;
                }
                assertTrue(p != null, "the pod went before its disk container was seen ending");
                return false;
            });
            assertEquals(0, ended[0].getExitCode(), "the disk container's exit: " + ended[0]);
            assertEquals("Completed", ended[0].getReason());
        }
        SandboxIT.Result down = SandboxIT.run(Duration.ofSeconds(120), SandboxIT.BIN.toString(), "down", "--dir",
                dir.toString());
        assertEquals(0, down.code(), down.out());
        assertFalse(down.out().contains("killed leftover"), "down stopped everything itself: " + down.out());
        assertEquals(List.of(), SandboxIT.processesMentioning(dir), "no process of the sandbox left");
        dir = null;
    }

    private static ContainerStatus status(Pod p, String container) {
        return p.getStatus().getContainerStatuses().stream().filter(c -> c.getName().equals(container)).findFirst()
                .orElse(null);
    }

    /** {@code pid}'s fds open on a {@code *.alive} file. */
    private static List<Path> alive(long pid) throws IOException {
        List<Path> out = new ArrayList<>();
        try (var s = Files.list(Path.of("/proc/" + pid + "/fd"))) {
            for (Path fd : s.toList()) {
                try {
                    Path target = Files.readSymbolicLink(fd);
                    if (target.toString().endsWith(".alive")) {
                        out.add(target);
                    }
                } catch (IOException e) {
                    // closed meanwhile
                }
            }
        }
        return out;
    }
}
