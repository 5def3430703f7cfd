package io.qvirt.launcher.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.qvirt.api.ValidationException;
import io.qvirt.api.VirtualMachineInstance;
import io.qvirt.api.ManifestLoader;
import io.qvirt.launcher.plan.ResolvedVolumes.ClaimDisk;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** How the launcher finds a claim's disk in its pod, and sizes a new one, as KubeVirt. */
class ClaimDisksTest {
    private static final long MIB = 1024 * 1024;

    @TempDir
    Path tmp;

    @Test
    void newDiskIsTheCapacityLessTheOverheadAlignedDownToAMebibyte() {
        // 64 MiB x (1 - 0.055) = 60.48 MiB -> 60 MiB.
        assertEquals(60 * MIB, ClaimDisks.newDiskSize(64 * MIB, new BigDecimal("0.055"), Long.MAX_VALUE, "c"));
        assertEquals(64 * MIB, ClaimDisks.newDiskSize(64 * MIB, BigDecimal.ZERO, Long.MAX_VALUE, "c"));
    }

    @Test
    void lessFreeSpaceIsTakenWithinTheTolerationAndRefusedBeyondIt() {
        // Wanted 100 MiB; 95 MiB free is within 10 %: the disk is what is free.
        assertEquals(95 * MIB, ClaimDisks.newDiskSize(100 * MIB, BigDecimal.ZERO, 95 * MIB + 5, "c"));
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> ClaimDisks.newDiskSize(100 * MIB, BigDecimal.ZERO, 80 * MIB, "data"));
        assertTrue(e.getMessage().contains("claim 'data' has 80.0 MiB")
                && e.getMessage().contains("10% toleration"), e.getMessage());
    }

    @Test
    void anExistingImageIsUsedAsItIsAndAMissingOneIsMadeFromTheRecordedCapacity() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("claims/root"));
        Files.write(dir.resolve("disk.img"), new byte[4096]);
        Files.createDirectories(tmp.resolve("claims/data"));
        Map<String, ClaimDisk> found = ClaimDisks.find(vmi(statusFor("data", "64Mi", "0.055")), tmp.resolve("claims"),
                "spec.");
        assertEquals(new ClaimDisk(dir.resolve("disk.img"), false, 0), found.get("root"));
        assertEquals(new ClaimDisk(tmp.resolve("claims/data/disk.img"), false, 60 * MIB), found.get("data"));
        assertFalse(Files.exists(tmp.resolve("claims/data/disk.img")), "finding makes nothing: the plan does");
    }

    @Test
    void everyClaimThatCannotBeUsedIsRefusedByItsFieldAtOnce() throws Exception {
        Files.createDirectories(tmp.resolve("claims/data"));
        ValidationException e = assertThrows(ValidationException.class,
                () -> ClaimDisks.find(vmi(""), tmp.resolve("claims"), "spec."));
        String m = e.getMessage();
        assertTrue(m.contains("spec.volumes[0].persistentVolumeClaim.claimName")
                && m.contains("claim 'root-claim' is not mounted in the launcher pod at " + tmp.resolve("claims/root")), m);
        assertTrue(m.contains("spec.volumes[1].persistentVolumeClaim.claimName")
                && m.contains("its capacity is not known"), m);
    }

    @Test
    void anEphemeralVolumeNeedsTheClaimsImage() throws Exception {
        Files.createDirectories(tmp.resolve("claims/base"));
        VirtualMachineInstance vmi = load("""
                apiVersion: kubevirt.io/v1
                kind: VirtualMachineInstance
                metadata: {name: e, namespace: default}
                spec:
                  domain: {devices: {disks: [{name: base, disk: {}}]}, resources: {requests: {memory: 128Mi}}}
                  volumes:
                  - name: base
                    ephemeral: {persistentVolumeClaim: {claimName: golden}}
                """);
        ValidationException e = assertThrows(ValidationException.class,
                () -> ClaimDisks.find(vmi, tmp.resolve("claims"), "spec."));
        assertTrue(e.getMessage().contains("spec.volumes[0].ephemeral.persistentVolumeClaim.claimName")
                && e.getMessage().contains("claim 'golden' holds no disk.img"), e.getMessage());
    }

    @Test
    void aDeviceMustBeABlockDeviceAndABlockClaimMustBeOne() throws Exception {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> ClaimDisks.disk(Path.of("/dev/null"), ClaimDisks.ClaimInfo.UNKNOWN, false, "c"));
        assertTrue(e.getMessage().contains("/dev/null is not a block device"), e.getMessage());
        Path dir = Files.createDirectories(tmp.resolve("d"));
        e = assertThrows(IllegalStateException.class, () -> ClaimDisks.disk(dir,
                new ClaimDisks.ClaimInfo(MIB, true, BigDecimal.ZERO), false, "c"));
        assertTrue(e.getMessage().contains("volumeMode Block"), e.getMessage());
        Path block = anyBlockDevice();
        assumeTrue(block != null, "this machine has no block device node to look at");
        assertEquals(new ClaimDisk(block, true, 0), ClaimDisks.disk(block, ClaimDisks.ClaimInfo.UNKNOWN, false, "c"));
    }

    @Test
    void theSizeIsTheRequestBelowTheCapacityOrBeforeBindingAsKubeVirts() throws Exception {
        String both = statusFor("data", "100Mi", "0").replace("capacity: {storage: 100Mi}",
                "capacity: {storage: 100Mi}\n      requests: {storage: 64Mi}");
        assertEquals(64 * MIB, ClaimDisks.claimInfo(vmi(both), "data").capacity(), "request below the capacity");
        String unbound = statusFor("data", "100Mi", "0").replace("capacity: {storage: 100Mi}", "requests: {storage: 32Mi}");
        assertEquals(32 * MIB, ClaimDisks.claimInfo(vmi(unbound), "data").capacity(), "no capacity yet: the request");
        String bigger = statusFor("data", "100Mi", "0").replace("capacity: {storage: 100Mi}",
                "capacity: {storage: 100Mi}\n      requests: {storage: 1Gi}");
        assertEquals(100 * MIB, ClaimDisks.claimInfo(vmi(bigger), "data").capacity(), "capacity below the request");
    }

    private static Path anyBlockDevice() throws IOException {
        try (Stream<Path> s = Files.list(Path.of("/dev"))) {
            return s.filter(p -> {
                try {
                    return (((Integer) Files.getAttribute(p, "unix:mode")) & 0170000) == 0060000;
                } catch (IOException e) {
                    return false;
                }
            }).findFirst().orElse(null);
        }
    }

    private static VirtualMachineInstance load(String yaml) throws Exception {
        return ManifestLoader.loadString(yaml, "inline").get(0).vmi();
    }

    private static String statusFor(String volume, String capacity, String overhead) {
        return """
                status:
                  volumeStatus:
                  - name: %s
                    target: vdb
                    persistentVolumeClaimInfo:
                      claimName: %s-claim
                      volumeMode: Filesystem
                      capacity: {storage: %s}
                      filesystemOverhead: "%s"
                """.formatted(volume, volume, capacity, overhead);
    }

    private static VirtualMachineInstance vmi(String status) throws Exception {
        return load("""
                apiVersion: kubevirt.io/v1
                kind: VirtualMachineInstance
                metadata: {name: c, namespace: default}
                spec:
                  domain:
                    devices: {disks: [{name: root, disk: {}}, {name: data, disk: {}}]}
                    resources: {requests: {memory: 128Mi}}
                  volumes:
                  - name: root
                    persistentVolumeClaim: {claimName: root-claim}
                  - name: data
                    persistentVolumeClaim: {claimName: data-claim}
                """ + status);
    }
}
