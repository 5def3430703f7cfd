package io.qvirt.sandbox;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.qvirt.api.KubevirtJson;
import io.qvirt.api.ManifestLoader;
import io.qvirt.api.VirtualMachine;
import io.qvirt.api.VirtualMachineInstance;
import io.qvirt.api.model.Disk;
import io.qvirt.api.model.Volume;
import io.qvirt.testdata.GuestMarkers;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Claims on the rig (fabric8's CRUD mock API, NOT a kube-apiserver; the FAKE provisioner binds claims to hostPath
 * PVs under the rig's {@code claims/}; FAKE node agents): the real virt-controller mounts a claim into the launcher
 * pod, the real {@code launcher exec} makes its {@code disk.img} sparse at KubeVirt's size and real QEMU (TCG) writes
 * it; the guest's write is in the claim after the VM restarts. A VM whose claim is missing is ErrorPvcNotFound until
 * the claim is created, then runs; one whose claim stays Pending is WaitingForVolumeBinding. A hostDisk behind the
 * HostDisk gate is made in the node's hostPath directory; an ephemeral claim's image is read under the VM's overlay and
 * never written.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@org.junit.jupiter.api.extension.ExtendWith(ClusterE2EIT.FailureFlag.class)
class PvcRigIT {
    private static final Duration BOOT = Duration.ofSeconds(300);
    private static final Duration SHORT = Duration.ofSeconds(30);
    private static final long MIB = 1024 * 1024;
    private static final String MARK = "PVC-RIG-MARK";

    @BeforeAll
    static void up() throws Exception {
        SandboxIT.registry();
        ClusterE2EIT.failed = false;
        ClusterE2EIT.dir = Files.createTempDirectory("qvirt-pvc-");
        SandboxIT.Result up = SandboxIT.run(Duration.ofSeconds(240), SandboxIT.BIN.toString(), "up", "--dir",
                ClusterE2EIT.dir.toString(), "--nodes", "1");
        assertEquals(0, up.code(), up.out());
        ClusterE2EIT.client = SandboxIT.client(ClusterE2EIT.dir);
    }

    @AfterAll
    static void down() throws Exception {
        ClusterE2EIT.down();
        ClusterE2EIT.client = null;
        ClusterE2EIT.dir = null;
    }

    private static KubernetesClient client() {
        return ClusterE2EIT.client;
    }

    @Test
    @Order(1)
    void aClaimDiskIsMadeAtKubeVirtsSizeAndKeepsTheGuestsWritesOverARestart() throws Exception {
        PersistentVolumeClaim pvc = client().persistentVolumeClaims().inNamespace("default")
                .resource(claim("data-claim", null)).create();
        SandboxIT.await(SHORT, "claim bound by the FAKE provisioner", () -> "Bound".equals(client()
                .persistentVolumeClaims().inNamespace("default").withName("data-claim").get().getStatus().getPhase()));
        vmWithClaim("pvcvm", "data-claim");
        VirtualMachineInstance v = ClusterE2EIT.awaitVmi("pvcvm", BOOT, "Running and Ready", ClusterE2EIT::ready);
        SandboxIT.await(SHORT, "VM printableStatus Running", () -> "Running".equals(ClusterE2EIT.printable("pvcvm")));
        var info = KubevirtJson.toTree(v.getStatus()).path("volumeStatus");
        String capacity = null;
        for (var e : info) {
            if ("data".equals(e.path("name").asText())) {
                capacity = e.path("persistentVolumeClaimInfo").path("capacity").path("storage").asText();
            }
        }
        assertEquals("64Mi", capacity, "the claim's capacity in status.volumeStatus: " + info);

        Path img = ClusterE2EIT.dir.resolve("claims").resolve("pvc-" + pvc.getMetadata().getUid()).resolve("disk.img");
        assertTrue(Files.isRegularFile(img), img + " made by the launcher");
        // 64 MiB less KubeVirt's 5.5 % file system overhead = 60.48 MiB, aligned down to a MiB
        assertEquals(60 * MIB, Files.size(img));
        assertTrue(allocatedBytes(img) < 8 * MIB, "sparse: " + allocatedBytes(img) + " bytes allocated");

        long pid = ClusterE2EIT.qemuPid(v);
        awaitPrompt(v);
        try (ClusterE2EIT.Tap tap = ClusterE2EIT.Tap.open(v)) {
            // containerdisk vda, cloudinitdisk vdb, the claim vdc: the guest writes a marker 1 MiB into it
            tap.console().type("printf " + MARK + " | dd of=/dev/vdc bs=512 seek=2048 conv=fsync 2>/dev/null; "
                    + "echo wrote-$((6*7))\n");
            tap.out().await(Pattern.compile("wrote-42\\r?\\n"), SHORT);
        }
        assertEquals(MARK, read(img, MIB, MARK.length()), "the guest's write is in the claim's disk.img");

        String uid = v.getMetadata().getUid();
        ClusterE2EIT.setRunning("pvcvm", false);
        SandboxIT.await(Duration.ofSeconds(90), "VMI and pod gone", () -> ClusterE2EIT.vmi("pvcvm") == null
                && ClusterE2EIT.pods(uid).isEmpty());
        SandboxIT.await(SHORT, "QEMU gone", () -> !ClusterE2EIT.qemuAlive(pid));
        assertEquals(MARK, read(img, MIB, MARK.length()), "the claim outlives the VM");

        ClusterE2EIT.setRunning("pvcvm", true);
        VirtualMachineInstance again = ClusterE2EIT.awaitVmi("pvcvm", BOOT, "Running and Ready again",
                x -> !x.getMetadata().getUid().equals(uid) && ClusterE2EIT.ready(x));
        assertNotEquals(pid, ClusterE2EIT.qemuPid(again));
        assertEquals(60 * MIB, Files.size(img), "the existing disk.img is used, not made anew");
        awaitPrompt(again);
        try (ClusterE2EIT.Tap tap = ClusterE2EIT.Tap.open(again)) {
            tap.console().type("echo read-$(dd if=/dev/vdc bs=512 skip=2048 count=1 2>/dev/null | head -c "
                    + MARK.length() + ")-end\n");
            tap.out().await(Pattern.compile("read-" + MARK + "-end"), SHORT);
        }
        ClusterE2EIT.deleteVm("pvcvm");
    }

    @Test
    @Order(2)
    void aMissingClaimIsErrorPvcNotFoundThenTheVmRunsOnceItIsCreated() throws Exception {
        vmWithClaim("lateclaim", "late-claim");
        SandboxIT.await(SHORT, "VM printableStatus ErrorPvcNotFound",
                () -> "ErrorPvcNotFound".equals(ClusterE2EIT.printable("lateclaim")));
        VirtualMachineInstance pending = ClusterE2EIT.vmi("lateclaim");
        assertEquals("Pending", ClusterE2EIT.phase(pending));
        assertEquals("FailedPvcNotFound", ClusterE2EIT.condition(pending, "Synchronized").getReason());
        assertTrue(ClusterE2EIT.pods(pending.getMetadata().getUid()).isEmpty(), "no launcher pod without the claim");

        client().persistentVolumeClaims().inNamespace("default").resource(claim("late-claim", null)).create();
        VirtualMachineInstance v = ClusterE2EIT.awaitVmi("lateclaim", BOOT, "Running and Ready once the claim exists",
                ClusterE2EIT::ready);
        assertEquals(pending.getMetadata().getUid(), v.getMetadata().getUid(), "the same VMI, now with its pod");
        SandboxIT.await(SHORT, "VM printableStatus Running", () -> "Running".equals(ClusterE2EIT.printable("lateclaim")));
        ClusterE2EIT.deleteVm("lateclaim");
    }

    @Test
    @Order(3)
    void aClaimThatStaysPendingIsWaitingForVolumeBinding() throws Exception {
        client().persistentVolumeClaims().inNamespace("default")
                .resource(claim("slow-claim", "qvirt-fake-wait")).create();
        vmWithClaim("waiting", "slow-claim");
        SandboxIT.await(SHORT, "VM printableStatus WaitingForVolumeBinding",
                () -> "WaitingForVolumeBinding".equals(ClusterE2EIT.printable("waiting")));
        Thread.sleep(2000);
        assertEquals("WaitingForVolumeBinding", ClusterE2EIT.printable("waiting"), "it stays so");
        ClusterE2EIT.deleteVm("waiting");
    }

    @Test
    @Order(4)
    void aHostDiskBehindTheFeatureGateIsMadeInItsHostDirectory() throws Exception {
        client().genericKubernetesResources(io.qvirt.api.client.KubeVirtCrReader.KUBEVIRT).inNamespace("kubevirt")
                .withName("kubevirt").patch(io.fabric8.kubernetes.client.dsl.base.PatchContext.of(
                        io.fabric8.kubernetes.client.dsl.base.PatchType.JSON_MERGE),
                        "{\"spec\":{\"configuration\":{\"developerConfiguration\":{\"featureGates\":[\"HostDisk\"]}}}}");
        VirtualMachine vm = ManifestLoader.loadOne(io.qvirt.testdata.TestGuest.testVmYaml()).vm();
        vm.getMetadata().setName("hostdiskvm");
        vm.getMetadata().setNamespace("default");
        vm.getSpec().setRunning(true);
        var spec = vm.getSpec().getTemplate().getSpec();
        List<Volume> vols = new ArrayList<>(spec.getVolumes());
        vols.add(KubevirtJson.json().convertValue(Map.of("name", "data", "hostDisk", Map.of("path",
                "/var/lib/qvirt-rig-disks/data.img", "type", "DiskOrCreate", "capacity", "16Mi")), Volume.class));
        spec.setVolumes(vols);
        spec.getDomain().getDevices().getDisks().add(KubevirtJson.json().convertValue(Map.of("name", "data", "disk",
                Map.of("bus", "virtio")), Disk.class));
        // virt-api's webhook reads the gate live: a create refused before it has seen the change is tried again
        SandboxIT.await(SHORT, "the VM admitted with the HostDisk gate on", () -> {
            try {
                client().resources(VirtualMachine.class).resource(vm).create();
                return true;
            } catch (io.fabric8.kubernetes.client.KubernetesClientException e) {
                return false;
            }
        });
        VirtualMachineInstance v = ClusterE2EIT.awaitVmi("hostdiskvm", BOOT, "Running and Ready", ClusterE2EIT::ready);
        Path img = ClusterE2EIT.dir.resolve("nodes").resolve(v.getStatus().getNodeName())
                .resolve("host/var/lib/qvirt-rig-disks/data.img");
        assertTrue(Files.isRegularFile(img), img + ": the node's (FAKE) root holds the disk the launcher made");
        assertEquals(16 * MIB, Files.size(img));
        awaitPrompt(v);
        try (ClusterE2EIT.Tap tap = ClusterE2EIT.Tap.open(v)) {
            tap.console().type("printf " + MARK + " | dd of=/dev/vdc bs=512 seek=2048 conv=fsync 2>/dev/null; "
                    + "echo wrote-$((6*7))\n");
            tap.out().await(Pattern.compile("wrote-42\\r?\\n"), SHORT);
        }
        assertEquals(MARK, read(img, MIB, MARK.length()), "the guest's write is in the hostDisk");
        ClusterE2EIT.deleteVm("hostdiskvm");
    }

    @Test
    @Order(5)
    void anEphemeralClaimIsReadUnderTheVmsOverlayAndNeverWritten() throws Exception {
        PersistentVolumeClaim pvc = client().persistentVolumeClaims().inNamespace("default")
                .resource(claim("golden-claim", null)).create();
        SandboxIT.await(SHORT, "claim bound by the FAKE provisioner", () -> "Bound".equals(client()
                .persistentVolumeClaims().inNamespace("default").withName("golden-claim").get().getStatus().getPhase()));
        // the claim's image, as a user would have filled it: 16 MiB with a marker 1 MiB in
        Path img = ClusterE2EIT.dir.resolve("claims").resolve("pvc-" + pvc.getMetadata().getUid()).resolve("disk.img");
        try (RandomAccessFile f = new RandomAccessFile(img.toFile(), "rw")) {
            f.setLength(16 * MIB);
            f.seek(MIB);
            f.write("GOLDEN-IMAGE".getBytes(StandardCharsets.US_ASCII));
        }
        VirtualMachine vm = ManifestLoader.loadOne(io.qvirt.testdata.TestGuest.testVmYaml()).vm();
        vm.getMetadata().setName("ephvm");
        vm.getMetadata().setNamespace("default");
        vm.getSpec().setRunning(true);
        var spec = vm.getSpec().getTemplate().getSpec();
        List<Volume> vols = new ArrayList<>(spec.getVolumes());
        vols.add(KubevirtJson.json().convertValue(Map.of("name", "data", "ephemeral", Map.of("persistentVolumeClaim",
                Map.of("claimName", "golden-claim"))), Volume.class));
        spec.setVolumes(vols);
        spec.getDomain().getDevices().getDisks().add(KubevirtJson.json().convertValue(Map.of("name", "data", "disk",
                Map.of("bus", "virtio")), Disk.class));
        client().resources(VirtualMachine.class).resource(vm).create();
        VirtualMachineInstance v = ClusterE2EIT.awaitVmi("ephvm", BOOT, "Running and Ready", ClusterE2EIT::ready);
        awaitPrompt(v);
        try (ClusterE2EIT.Tap tap = ClusterE2EIT.Tap.open(v)) {
            String read = "echo read-$(dd if=/dev/vdc bs=512 skip=2048 count=1 2>/dev/null | head -c 12)-end\n";
            tap.console().type(read);
            tap.out().await(Pattern.compile("read-GOLDEN-IMAGE-end"), SHORT);
            tap.console().type("printf OVERLAY-MARK | dd of=/dev/vdc bs=512 seek=2048 conv=fsync 2>/dev/null; "
                    + "echo wrote-$((6*7))\n");
            tap.out().await(Pattern.compile("wrote-42\\r?\\n"), SHORT);
            tap.console().type(read);
            tap.out().await(Pattern.compile("read-OVERLAY-MARK-end"), SHORT);
        }
        assertEquals("GOLDEN-IMAGE", read(img, MIB, 12), "the claim's image is never written");
        assertEquals(16 * MIB, Files.size(img));
        ClusterE2EIT.deleteVm("ephvm");
    }

    /** testdata/testvm.yaml named {@code name}, running, with a third disk {@code data} on the claim. */
    private static void vmWithClaim(String name, String claim) throws Exception {
        VirtualMachine vm = ManifestLoader.loadOne(io.qvirt.testdata.TestGuest.testVmYaml()).vm();
        vm.getMetadata().setName(name);
        vm.getMetadata().setNamespace("default");
        vm.getSpec().setRunning(true);
        var spec = vm.getSpec().getTemplate().getSpec();
        List<Volume> vols = new ArrayList<>(spec.getVolumes());
        vols.add(KubevirtJson.json().convertValue(Map.of("name", "data", "persistentVolumeClaim",
                Map.of("claimName", claim)), Volume.class));
        spec.setVolumes(vols);
        spec.getDomain().getDevices().getDisks().add(KubevirtJson.json().convertValue(Map.of("name", "data", "disk",
                Map.of("bus", "virtio")), Disk.class));
        client().resources(VirtualMachine.class).resource(vm).create();
    }

    private static PersistentVolumeClaim claim(String name, String storageClass) {
        return new PersistentVolumeClaimBuilder().withNewMetadata().withName(name).endMetadata()
                .withNewSpec().withAccessModes("ReadWriteOnce").withStorageClassName(storageClass)
                .withNewResources().addToRequests("storage", new Quantity("64Mi")).endResources().endSpec().build();
    }

    private static void awaitPrompt(VirtualMachineInstance v) throws Exception {
        Path log = ClusterE2EIT.vmDir(v).resolve("console.log");
        SandboxIT.await(BOOT, "the guest's shell prompt in console.log", () -> {
            try {
                return Files.readString(log).contains(GuestMarkers.PROMPT);
            } catch (java.io.IOException e) {
                return false;
            }
        });
    }

    private static String read(Path file, long offset, int length) throws Exception {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
            byte[] b = new byte[length];
            f.seek(offset);
            f.readFully(b);
            return new String(b, StandardCharsets.US_ASCII);
        }
    }

    /** Bytes the file system allocated for the file ({@code stat %b x %B}). */
    private static long allocatedBytes(Path file) throws Exception {
        Process p = new ProcessBuilder("stat", "-c", "%b %B", file.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).trim();
        assertEquals(0, p.waitFor(), out);
        String[] f = out.split(" ");
        return Long.parseLong(f[0]) * Long.parseLong(f[1]);
    }
}
