package io.qvirt.launcher;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qvirt.api.FeatureGates;
import io.qvirt.api.LoadedManifest;
import io.qvirt.api.ManifestLoader;
import io.qvirt.api.ValidationException;
import io.qvirt.api.VirtualMachineInstance;
import io.qvirt.api.VmiDefaults;
import io.qvirt.launcher.plan.Accelerator;
import io.qvirt.launcher.plan.InheritedFd;
import io.qvirt.launcher.plan.PlanOptions;
import io.qvirt.launcher.plan.ResolvedVolumes;
import io.qvirt.launcher.plan.PreparedFile;
import io.qvirt.launcher.plan.RuntimePaths;
import io.qvirt.launcher.plan.VmPlan;
import io.qvirt.launcher.plan.VmPlanner;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/**
 * The argv each configurator contributes, pinned by golden files (src/test/resources/golden/NAME.argv).
 * Regenerate after an intended change with -Dqvirt.updateGolden=true and review the diff.
 */
class VmPlannerGoldenTest {
    private static final Path GOLDEN = Path.of("src/test/resources/golden");
    private static final Path QEMU = Path.of("/usr/bin/qemu-system-x86_64");

    static VmPlan plan(String name, Accelerator accel, boolean owner) throws Exception {
        LoadedManifest doc = ManifestLoader.loadOne(GOLDEN.resolve(name + ".yaml"));
        assertEquals(List.of(), doc.validate(FeatureGates.kubevirtDefaults().with(FeatureGates.HOST_DISK)), name + " is valid");
        VirtualMachineInstance vmi = VmiDefaults.apply(doc.vmi());
        String prefix = doc.isVirtualMachine() ? "spec.template.spec." : "spec.";
        RuntimePaths paths = new RuntimePaths(Path.of("/run/qvirt", vmi.getMetadata().getNamespace(), vmi.getMetadata().getName()));
        return new VmPlanner(QEMU).plan(vmi, new PlanOptions(paths, accel, owner, true, prefix, "127.0.0.1",
                p -> p + 10000, PlanOptions.SPAWN_FIRST_FD, ResolvedVolumes.NONE));
    }

    @ParameterizedTest
    @ValueSource(strings = {"hostdisk", "masquerade", "cloudinit", "efi"})
    void argvMatchesGolden(String name) throws Exception {
        VmPlan p = plan(name, new Accelerator(Accelerator.TCG, "test"), true);
        String actual = String.join("\n", p.argv()) + "\n";
        Path golden = GOLDEN.resolve(name + ".argv");
        if (Boolean.getBoolean("qvirt.updateGolden") || !Files.exists(golden)) {
            Files.writeString(golden, actual, StandardCharsets.UTF_8);
        }
        assertEquals(Files.readString(golden), actual, "argv of " + name + " (see " + golden + ")");
    }

    @Test
    void specValuesCannotAddQemuOptions() throws Exception {
        VmPlan p = plan("hostdisk", new Accelerator(Accelerator.TCG, "test"), true);
        String smbios = p.argv().get(p.argv().indexOf("-smbios") + 1);
        assertTrue(smbios.contains("serial=abc,,file=/etc/shadow"), smbios);
        assertTrue(p.argv().stream().anyMatch(a -> a.contains("filename=/var/lib/qvirt-golden/root,,format=raw.img,")),
                "a comma in a path is escaped: " + p.argv());
        assertTrue(p.argv().stream().anyMatch(a -> a.endsWith("bootindex=1,serial=d1")), p.argv().toString());
    }

    @Test
    void hostDiskOrCreateAndEmptyDiskArePreparedAndOnlyEmptyDiskGoesWithTheVm() throws Exception {
        VmPlan p = plan("hostdisk", new Accelerator(Accelerator.TCG, "test"), true);
        assertEquals(2, p.files().size());
        PreparedFile.SparseRaw host = assertInstanceOf(PreparedFile.SparseRaw.class, p.files().get(0));
        assertEquals(1L << 30, host.sizeBytes());
        assertEquals(false, host.removeWithVm());
        PreparedFile.NewQcow2 empty = assertInstanceOf(PreparedFile.NewQcow2.class, p.files().get(1));
        assertEquals(2L << 30, empty.sizeBytes());
        assertEquals(true, empty.removeWithVm());
        assertEquals(Path.of("/run/qvirt/ns1/hostdisk/disks/scratch.qcow2"), empty.path());
    }

    @Test
    void efiVarsAreAPrivateCopyOfTheSecureBootTemplateGoingWithTheVm() throws Exception {
        VmPlan p = plan("efi", new Accelerator(Accelerator.TCG, "test"), true);
        assertEquals(2, p.files().size(), p.files().toString());
        PreparedFile.Copy vars = assertInstanceOf(PreparedFile.Copy.class, p.files().get(0));
        assertEquals(Path.of("/run/qvirt/ns3/efi/efi-vars.fd"), vars.path());
        assertEquals(Path.of("/usr/share/OVMF/OVMF_VARS_4M.ms.fd"), vars.source(), "Microsoft's keys enrolled");
        assertEquals("spec.domain.firmware.bootloader.efi", vars.field());
        assertEquals(true, vars.removeWithVm());
    }

    @Test
    void cloudInitNoCloudIsAnIsoWithTheSpecsExactBytes() throws Exception {
        VmPlan p = plan("cloudinit", new Accelerator(Accelerator.TCG, "test"), true);
        PreparedFile.Iso iso = assertInstanceOf(PreparedFile.Iso.class, p.files().get(1));
        assertEquals("cidata", iso.volumeId());
        assertEquals(Path.of("/run/qvirt/ns2/ci/disks/cloudinitdisk.iso"), iso.path());
        assertEquals(true, iso.removeWithVm());
        assertArrayEquals(new byte[] {'H', 'i', '.', '\\', 'n'}, iso.files().get("user-data"));
        String meta = new String(iso.files().get("meta-data"), StandardCharsets.UTF_8);
        assertTrue(meta.contains("\"instance-id\": \"ci.ns2\""), meta);
        assertTrue(meta.contains("\"local-hostname\": \"ci\""), meta);
        assertEquals("version: 2\nethernets: {eth0: {dhcp4: true}}\n",
                new String(iso.files().get("network-config"), StandardCharsets.UTF_8));
        assertTrue(p.argv().stream().anyMatch(a -> a.startsWith("driver=file,filename=/run/qvirt/ns2/ci/disks/cloudinitdisk.iso,")
                && a.contains("read-only=on")), "the ISO is attached read-only: " + p.argv());
    }

    @Test
    void cloudInitSecretRefsAreRefusedByFieldOnOneMachine() throws Exception {
        LoadedManifest doc = ManifestLoader.loadString("""
                apiVersion: kubevirt.io/v1
                kind: VirtualMachineInstance
                metadata: {name: s}
                spec:
                  domain:
                    devices:
                      autoattachPodInterface: false
                      disks: [{name: c, disk: {bus: virtio}}]
                    resources: {requests: {memory: 64M}}
                  volumes:
                  - name: c
                    cloudInitNoCloud: {secretRef: {name: my-secret}}
                """, "inline").get(0);
        VirtualMachineInstance vmi = VmiDefaults.apply(doc.vmi());
        ValidationException e = assertThrows(ValidationException.class, () -> new VmPlanner(QEMU).plan(vmi,
                new PlanOptions(new RuntimePaths(Path.of("/r")), new Accelerator(Accelerator.TCG, "t"), true, true,
                        "spec.", "127.0.0.1", x -> x, 3, ResolvedVolumes.NONE)));
        assertEquals("spec.volumes[0].cloudInitNoCloud.secretRef", e.errors().get(0).path(), e.getMessage());
    }

    @Test
    void memoryIsRoundedUpToWholeMibAndKvmUsesTheHostCpu() throws Exception {
        VmPlan p = plan("hostdisk", new Accelerator(Accelerator.KVM, "test"), true);
        assertEquals("62M", p.argv().get(p.argv().indexOf("-m") + 1), "64M = 61.04 MiB -> 62M");
        assertEquals("host", p.argv().get(p.argv().indexOf("-cpu") + 1));
        assertEquals("kvm", p.argv().get(p.argv().indexOf("-accel") + 1));
    }

    @Test
    void execPlansHaveNoOwnerMonitorAndNumberFdsFromTheGivenBase() throws Exception {
        LoadedManifest doc = ManifestLoader.loadOne(GOLDEN.resolve("hostdisk.yaml"));
        VirtualMachineInstance vmi = VmiDefaults.apply(doc.vmi());
        VmPlan p = new VmPlanner(QEMU).plan(vmi, new PlanOptions(new RuntimePaths(Path.of("/r")),
                new Accelerator(Accelerator.TCG, "t"), false, false, "spec.", "127.0.0.1", x -> x, 512, ResolvedVolumes.NONE));
        assertEquals(List.of(InheritedFd.MANAGER_QMP, InheritedFd.CONSOLE), p.fds());
        String joined = String.join(" ", p.argv());
        assertTrue(joined.contains("socket,id=qmp,fd=512,server=on"), joined);
        assertTrue(joined.contains("socket,id=serial0,fd=513,server=on"), joined);
        assertTrue(!p.argv().contains("-S"), "not paused at start when asked");
    }

    @Test
    void forwardsUseTheChosenHostPorts() throws Exception {
        VmPlan p = plan("masquerade", new Accelerator(Accelerator.TCG, "test"), true);
        assertEquals("tcp 127.0.0.1:10080 -> guest:80 (default/http)", p.forwards().get(0).toString());
        assertEquals("udp 127.0.0.1:10053 -> guest:53 (default)", p.forwards().get(1).toString());
    }

    @Test
    void vsockExecProbesAndAccessCredentialsAreRefusedByField() throws Exception {
        LoadedManifest doc = ManifestLoader.loadString(Files.readString(GOLDEN.resolve("masquerade.yaml")), "edited").get(0);
        VirtualMachineInstance vmi = VmiDefaults.apply(doc.vmi());
        vmi.getSpec().getDomain().getDevices().setAutoattachVSOCK(true);
        vmi.getSpec().setAdditionalProperty("readinessProbe", java.util.Map.of("exec", java.util.Map.of("command", java.util.List.of("true"))));
        vmi.getSpec().setAdditionalProperty("livenessProbe", java.util.Map.of("httpGet", java.util.Map.of("port", 80)));
        vmi.getSpec().setAdditionalProperty("accessCredentials", java.util.List.of(java.util.Map.of("sshPublicKey", java.util.Map.of())));
        ValidationException e = assertThrows(ValidationException.class, () -> new VmPlanner(QEMU).plan(vmi,
                new PlanOptions(new RuntimePaths(Path.of("/r")), new Accelerator(Accelerator.TCG, "t"), true, true,
                        "spec.template.spec.", "127.0.0.1", x -> x, 3, ResolvedVolumes.NONE)));
        String errors = e.errors().stream().map(Object::toString).collect(Collectors.joining("\n"));
        assertTrue(errors.contains("spec.template.spec.domain.devices.autoattachVSOCK: vsock is not supported by qvirt"), errors);
        assertTrue(errors.contains("spec.template.spec.readinessProbe.exec: exec probes run a command through the guest agent"), errors);
        assertTrue(errors.contains("spec.template.spec.accessCredentials[0]: not supported by qvirt"), errors);
        assertEquals(3, e.errors().size(), "an httpGet probe is allowed: " + errors);
    }

    @Test
    void whatQemuCannotHonourIsRefusedByFieldAllAtOnce() throws Exception {
        String y = Files.readString(GOLDEN.resolve("masquerade.yaml"))
                .replace("masquerade: {}", "bridge: {}")
                .replace("bus: scsi", "bus: usb")
                .replace("autoattachSerialConsole: false", "autoattachSerialConsole: false\n          tpm: {}");
        LoadedManifest doc = ManifestLoader.loadString(y, "edited").get(0);
        VirtualMachineInstance vmi = VmiDefaults.apply(doc.vmi());
        ValidationException e = assertThrows(ValidationException.class, () -> new VmPlanner(QEMU).plan(vmi,
                new PlanOptions(new RuntimePaths(Path.of("/r")), new Accelerator(Accelerator.TCG, "t"), true, true,
                        "spec.template.spec.", "127.0.0.1", x -> x, 3, ResolvedVolumes.NONE)));
        String errors = e.errors().stream().map(Object::toString).collect(Collectors.joining("\n"));
        assertTrue(errors.contains("spec.template.spec.domain.devices.interfaces[0].bridge: not supported by qvirt on one machine"), errors);
        assertTrue(errors.contains("spec.template.spec.domain.devices.disks[0].cdrom.bus: 'usb' is not supported by qvirt"), errors);
        assertTrue(errors.contains("spec.template.spec.domain.devices.tpm: not supported by qvirt"), errors);
        assertEquals(3, e.errors().size(), errors);
    }
}
