package io.qvirt.launcher;

import static io.qvirt.launcher.LauncherHarness.waitFor;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qvirt.launcher.LauncherHarness.ConsoleTap;
import io.qvirt.testdata.GuestMarkers;
import io.qvirt.testdata.TestGuest;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The cluster's claim contract (the controller mounts each claim of a launcher pod at DIR/&lt;volume&gt; and
 * records its capacity in the VMI's status.volumeStatus): {@code launcher exec --pvc-dir DIR} boots the real
 * test guest from a claim's raw disk.img, makes a missing disk.img sparse at KubeVirt's size, and the guest's
 * writes land in the claim itself. Here the test plays the kubelet's mounts with plain directories.
 */
class ClaimDiskIT {
    private static final Duration BOOT = Duration.ofSeconds(90);
    private static final long MIB = 1024 * 1024;

    @TempDir
    Path tmp;

    LauncherHarness h;

    @BeforeEach
    void setUp() throws Exception {
        h = new LauncherHarness(tmp);
    }

    @AfterEach
    void tearDown() {
        h.close();
    }

    @Test
    void execBootsFromAClaimAndMakesAMissingDiskImageAtTheClaimsSize() throws Exception {
        Path claims = tmp.resolve("claims");
        Path rootImg = Files.createDirectories(claims.resolve("root")).resolve("disk.img");
        Process convert = new ProcessBuilder("qemu-img", "convert", "-O", "raw",
                TestGuest.get().diskQcow2().toString(), rootImg.toString()).inheritIO().start();
        assertEquals(0, convert.waitFor(), "qemu-img convert of the test guest to a raw disk.img");
        Files.createDirectories(claims.resolve("data"));
        Path yaml = tmp.resolve("pvcvm.yaml");
        Files.writeString(yaml, vmi("pvcvm", List.of("root", "data"), """
                  volumes:
                  - name: root
                    persistentVolumeClaim: {claimName: root-claim}
                  - name: data
                    persistentVolumeClaim: {claimName: data-claim}
                status:
                  volumeStatus:
                  - name: data
                    target: vdb
                    persistentVolumeClaimInfo:
                      claimName: data-claim
                      volumeMode: Filesystem
                      capacity: {storage: 64Mi}
                      filesystemOverhead: "0.055"
                """));
        LauncherHarness.Started ex = h.start("exec", yaml.toString(), "--accel", "tcg", "--autostart",
                "--pvc-dir", claims.toString());
        Path dataImg = claims.resolve("data/disk.img");
        try (ConsoleTap c = ConsoleTap.attach(waitForSocket("pvcvm", ex))) {
            c.out.await(GuestMarkers.PROMPT_PATTERN, BOOT);
            // 64 MiB less 5.5 % = 60.48 MiB, aligned down to 60 MiB: the guest sees exactly that.
            c.type("echo size-$(cat /sys/block/vdb/size)-end; printf CLAIM-WRITTEN | dd of=/dev/vdb bs=512 seek=2048 "
                    + "conv=fsync 2>/dev/null; echo written-$((6*7))\n");
            c.out.await(Pattern.compile("size-" + (60 * MIB / 512) + "-end"), Duration.ofSeconds(20));
            c.out.await(Pattern.compile("written-42\\r?\\n"), Duration.ofSeconds(20));
        }
        assertEquals(0, h.exec("kill", "pvcvm").code());
        assertTrue(ex.awaitExit(Duration.ofSeconds(10)) >= 0, "QEMU exited");
        assertEquals(60 * MIB, Files.size(dataImg), "disk.img made at the claim's capacity less the overhead");
        byte[] got = new byte[13];
        try (RandomAccessFile f = new RandomAccessFile(dataImg.toFile(), "r")) {
            f.seek(2048 * 512);
            f.readFully(got);
        }
        assertEquals("CLAIM-WRITTEN", new String(got, StandardCharsets.US_ASCII), "the guest wrote the claim itself");
        assertFalse(Files.exists(h.vmDir("pvcvm").resolve("disks/data.qcow2")), "no overlay: a claim is written in place");
    }

    @Test
    void aClaimThatIsNotMountedIsRefusedByFieldBeforeAnythingIsMadeAndRunRefusesClaimsByName() throws Exception {
        Path claims = Files.createDirectories(tmp.resolve("claims"));
        Path yaml = tmp.resolve("nopvc.yaml");
        Files.writeString(yaml, vmi("nopvc", List.of("root"), """
                  volumes:
                  - name: root
                    persistentVolumeClaim: {claimName: missing-claim}
                """));
        LauncherHarness.Result r = h.exec("exec", yaml.toString(), "--accel", "tcg", "--pvc-dir", claims.toString());
        assertEquals(2, r.code(), r.toString());
        assertTrue(r.err().contains("spec.volumes[0].persistentVolumeClaim.claimName")
                && r.err().contains("claim 'missing-claim' is not mounted in the launcher pod"), r.toString());
        assertFalse(Files.exists(h.vmDir("nopvc")), "no VM directory made");
        LauncherHarness.Result run = h.exec("run", yaml.toString(), "--accel", "tcg");
        assertEquals(2, run.code(), run.toString());
        assertTrue(run.err().contains("spec.volumes[0].persistentVolumeClaim")
                && run.err().contains("not supported by qvirt on one machine"), run.toString());
    }

    /** A VMI of the test guest's size with one virtio disk per name, and the given volumes (and status). */
    private static String vmi(String name, List<String> disks, String volumesAndStatus) {
        StringBuilder d = new StringBuilder();
        for (String disk : disks) {
            d.append("      - name: ").append(disk).append("\n        disk: {bus: virtio}\n");
        }
        return """
                apiVersion: kubevirt.io/v1
                kind: VirtualMachineInstance
                metadata:
                  name: %s
                spec:
                  domain:
                    devices:
                      autoattachPodInterface: false
                      disks:
                %s    resources:
                      requests:
                        memory: 128Mi
                """.formatted(name, d) + volumesAndStatus;
    }

    private Path waitForSocket(String name, LauncherHarness.Started ex) throws Exception {
        Path sock = h.vmDir(name).resolve("console.sock");
        waitFor(() -> Files.exists(sock), Duration.ofSeconds(30), "console.sock: " + ex.err());
        return sock;
    }
}
