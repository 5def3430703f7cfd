package io.qvirt.launcher;

import static io.qvirt.launcher.LauncherHarness.waitFor;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 22's resource refusals as a user meets them: the packaged {@code launcher run} and {@code exec} given a
 * guest with more vCPUs than QEMU's q35 machine takes, or a {@code DiskOrCreate} hostDisk larger than its file
 * system can hold, exit 2 naming the field and the numbers, spawn no QEMU (QEMU runs through a recorder, and a
 * guest that fits shows the recorder does see a spawn), create no image and leave nothing under the runtime
 * root. (Memory above MemAvailable: {@code LauncherIT.guestLargerThanTheHostIsRefusedBeforeAnythingIsSpawned}.)
 */
class HostFitIT {
    private static final long GIB = 1L << 30;

    @TempDir
    Path tmp;

    LauncherHarness h;
    Path calls;
    Map<String, String> env;

    @BeforeEach
    void setUp() throws IOException {
        h = new LauncherHarness(tmp);
        calls = tmp.resolve("qemu-calls");
        Path qemu = tmp.resolve("qemu-recorder");
        Files.writeString(qemu, "#!/bin/sh\necho \"$$ $*\" >> '" + calls + "'\nexec qemu-system-x86_64 \"$@\"\n");
        assertTrue(qemu.toFile().setExecutable(true));
        env = Map.of("QVIRT_QEMU", qemu.toString());
    }

    @AfterEach
    void tearDown() {
        h.close();
    }

    /** {@code run} and {@code exec} of {@code yaml}: exit 2 with {@code expected} in stderr, nothing spawned or left. */
    private void refusedByBoth(Path yaml, String expected) throws Exception {
        for (String cmd : new String[] {"run", "exec"}) {
            LauncherHarness.Result r = h.exec(env, cmd, yaml.toString(), "--accel", "tcg");
            assertEquals(2, r.code(), cmd + ": " + r);
            assertTrue(r.err().contains(expected), cmd + " names the field and the numbers: " + r);
            assertFalse(r.err().contains("Exception") || r.err().contains("\tat "), r.toString());
            assertFalse(Files.exists(calls), cmd + " spawned no QEMU: " + (Files.exists(calls) ? Files.readString(calls) : ""));
            try (var entries = Files.list(h.root)) {
                assertEquals(List.of(), entries.toList(), cmd + " left nothing under the runtime root");
            }
        }
    }

    @Test
    void moreVcpusThanQemuTakesAreRefusedBeforeSpawning() throws Exception {
        Path yaml = h.vmYaml("cpus", h.overlay("cpus"), null);
        String fits = Files.readString(yaml);
        Files.writeString(yaml, fits.replace("        resources:\n", "        cpu: {sockets: 1, cores: 289, threads: 1}\n"
                + "        resources:\n"));
        assertEquals(0, h.exec("validate", yaml.toString()).code(), "the spec itself is valid; only run checks the host");
        refusedByBoth(yaml, "spec.template.spec.domain.cpu.cores: 1 sockets x 289 cores x 1 threads = 289 vCPUs; at "
                + "most 288 can run here (QEMU's limit for machine type q35, accelerator tcg)");

        // Control: the same VM with 2 vCPUs is spawned through the recorder.
        Files.writeString(yaml, fits.replace("        resources:\n", "        cpu: {cores: 2}\n        resources:\n"));
        LauncherHarness.Started ok = h.start(env, "exec", yaml.toString(), "--accel", "tcg");
        waitFor(() -> Files.exists(calls), Duration.ofSeconds(30), "QEMU spawned through the recorder: " + ok.err());
        assertTrue(Files.readString(calls).contains("-smp"), Files.readString(calls));
        assertEquals(0, h.exec("kill", "cpus").code());
    }

    @Test
    void aDiskOrCreateLargerThanItsFileSystemIsRefusedAndNotCreated() throws Exception {
        Path images = Files.createDirectories(tmp.resolve("images"));
        Path img = images.resolve("data.img");
        long usable = Files.getFileStore(images).getUsableSpace();
        long capacityGi = usable / GIB + 1024;
        String data = """
                      - name: data
                        hostDisk:
                          path: %s
                          type: DiskOrCreate
                          capacity: %dGi
                """.formatted(img, capacityGi);
        Path yaml = h.vmYaml("bigdisk", h.overlay("bigdisk"), data);
        Files.writeString(yaml, Files.readString(yaml).replace("            bootOrder: 1\n",
                "            bootOrder: 1\n          - name: data\n            disk: {bus: virtio}\n"));
        assertEquals(0, h.exec("validate", yaml.toString()).code(), "the spec itself is valid; only run checks the host");
        // The size is also written readably (1.1 TiB here); the bytes are exact.
        refusedByBoth(yaml, "(" + capacityGi * GIB + " bytes) for new image " + img + " does not fit: its file system ");
        assertTrue(h.exec(env, "run", yaml.toString(), "--accel", "tcg").err().contains(
                "\n  spec.template.spec.volumes[1].hostDisk.capacity: "), "named by field");
        assertFalse(Files.exists(img), "no image created");
    }
}
