package io.qvirt.launcher.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qvirt.api.FeatureGates;
import io.qvirt.api.LoadedManifest;
import io.qvirt.api.ManifestLoader;
import io.qvirt.api.ValidationException;
import io.qvirt.api.VirtualMachineInstance;
import io.qvirt.api.VmiDefaults;
import io.qvirt.launcher.plan.Accelerator;
import io.qvirt.launcher.plan.ImageFormat;
import io.qvirt.launcher.plan.PlanOptions;
import io.qvirt.launcher.plan.PreparedFile;
import io.qvirt.launcher.plan.ResolvedVolumes;
import io.qvirt.launcher.plan.RuntimePaths;
import io.qvirt.launcher.plan.VmPlan;
import io.qvirt.launcher.plan.VmPlanner;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** How fetched images enter the plan: a qcow2 overlay per containerDisk, -kernel/-initrd/-append for kernelBoot. */
class ImagePlanTest {
    private static final String VMI = """
            apiVersion: kubevirt.io/v1
            kind: VirtualMachineInstance
            metadata: {name: img}
            spec:
              domain:
                devices:
                  autoattachPodInterface: false
                  disks:
                  - name: root
                    disk: {bus: virtio}
                firmware:
                  kernelBoot:
                    kernelArgs: console=ttyS0 panic=-1 quiet
                    container:
                      image: 127.0.0.1:5000/qvirt/kernel:latest
                      kernelPath: %s
                      initrdPath: /boot/initrd.gz
                      imagePullPolicy: %s
                resources: {requests: {memory: 128Mi}}
              volumes:
              - name: root
                containerDisk:
                  image: 127.0.0.1:5000/qvirt/guest:latest
                  imagePullPolicy: %s
            """;

    static VirtualMachineInstance vmi(String kernelPath, String kernelPolicy, String diskPolicy) throws Exception {
        LoadedManifest doc = ManifestLoader.loadString(VMI.formatted(kernelPath, kernelPolicy, diskPolicy), "test.yaml").get(0);
        assertEquals(List.of(), doc.validate(FeatureGates.kubevirtDefaults()));
        return VmiDefaults.apply(doc.vmi());
    }

    static VmPlan plan(VirtualMachineInstance vmi, ResolvedVolumes v) {
        return new VmPlanner(Path.of("/usr/bin/qemu-system-x86_64")).plan(vmi, new PlanOptions(
                new RuntimePaths(Path.of("/run/qvirt/default/img")), new Accelerator(Accelerator.TCG, "test"), true, true,
                "spec.", "127.0.0.1", p -> p, PlanOptions.SPAWN_FIRST_FD, v));
    }

    @Test
    void containerDiskIsAnOverlayAndKernelBootAddsKernelInitrdAppend() throws Exception {
        Path base = Path.of("/cache/images/sha256/abc/disk/disk.qcow2");
        ResolvedVolumes v = new ResolvedVolumes(Map.of("root", new ResolvedVolumes.BaseDisk(base, ImageFormat.QCOW2)),
                Path.of("/cache/k/vmlinuz"), Path.of("/cache/k/initrd.gz"));
        VmPlan p = plan(vmi("/boot/vmlinuz", "IfNotPresent", "Always"), v);
        PreparedFile.Overlay o = (PreparedFile.Overlay) p.files().stream().filter(f -> f instanceof PreparedFile.Overlay)
                .findFirst().orElseThrow();
        assertEquals(new PreparedFile.Overlay(p.paths().disksDir().resolve("root.qcow2"), base, ImageFormat.QCOW2,
                "spec.volumes[0].containerDisk"), o);
        String argv = String.join(" ", p.argv());
        assertTrue(argv.contains("filename=" + p.paths().disksDir().resolve("root.qcow2") + ","), argv);
        assertTrue(!argv.contains(base.toString()), "QEMU gets the overlay, never the base on its command line: " + argv);
        int k = p.argv().indexOf("-kernel");
        assertEquals("/cache/k/vmlinuz", p.argv().get(k + 1));
        assertEquals("/cache/k/initrd.gz", p.argv().get(p.argv().indexOf("-initrd") + 1));
        assertEquals("console=ttyS0 panic=-1 quiet", p.argv().get(p.argv().indexOf("-append") + 1));
    }

    @Test
    void placeholdersLetValidationAndRenderRunWithoutPulling() throws Exception {
        VirtualMachineInstance vmi = vmi("/boot/vmlinuz", "Never", "IfNotPresent");
        VmPlan p = plan(vmi, ResolvedVolumes.placeholders(vmi));
        assertEquals(ResolvedVolumes.PLACEHOLDER_ROOT.resolve("127.0.0.1:5000_qvirt_kernel:latest/boot/vmlinuz").toString(),
                p.argv().get(p.argv().indexOf("-kernel") + 1));
    }

    @Test
    void refusedByFieldBeforeAnythingIsFetched() throws Exception {
        VirtualMachineInstance vmi = vmi("/boot/vmlinuz", "Sometimes", "Often");
        ValidationException e = assertThrows(ValidationException.class, () -> plan(vmi, ResolvedVolumes.placeholders(vmi)));
        assertTrue(e.getMessage().contains("spec.volumes[0].containerDisk.imagePullPolicy: 'Often' is not allowed: Always, IfNotPresent, Never"),
                e.getMessage());
        assertTrue(e.getMessage().contains("spec.domain.firmware.kernelBoot.container.imagePullPolicy: 'Sometimes' is not allowed"),
                e.getMessage());
        VirtualMachineInstance ok = vmi("/boot/vmlinuz", "Always", "Always");
        e = assertThrows(ValidationException.class, () -> plan(ok, ResolvedVolumes.NONE));
        assertTrue(e.getMessage().contains("spec.volumes[0].containerDisk.image: image 127.0.0.1:5000/qvirt/guest:latest was not fetched"),
                e.getMessage());
    }

    @Test
    void pullPolicyDefaultsAsKubeVirt() {
        assertEquals(PullPolicy.ALWAYS, ImageResolver.policy(null, "quay.io/a/b:latest", "f"));
        assertEquals(PullPolicy.ALWAYS, ImageResolver.policy("", "quay.io/a/b", "f"));
        assertEquals(PullPolicy.IF_NOT_PRESENT, ImageResolver.policy(null, "quay.io/a/b:v1", "f"));
        assertEquals(PullPolicy.IF_NOT_PRESENT, ImageResolver.policy(null, "quay.io/a/b@sha256:" + "0".repeat(64), "f"));
        assertEquals(PullPolicy.NEVER, ImageResolver.policy("Never", "quay.io/a/b:latest", "f"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ImageResolver.policy("never", "x", "spec.x"))
                .getMessage().startsWith("spec.x: 'never' is not allowed: Always, IfNotPresent, Never"));
    }
}
