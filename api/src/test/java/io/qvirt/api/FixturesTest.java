package io.qvirt.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every manifest in testdata/fixtures/ (written from KubeVirt's documentation) loads or fails as KubeVirt
 * would. Expected: "valid", "invalid: path|path" (the error paths, in order), or "load: text" (the loader
 * refuses it with a message containing text).
 */
class FixturesTest {
    static Stream<Arguments> fixtures() {
        return Stream.of(
                Arguments.of("vm-cirros.yaml", "valid"),
                Arguments.of("vmi-fedora-cloudinit-networkdata.yaml", "valid"),
                Arguments.of("vm-several-disks.yaml", "valid"),
                Arguments.of("vmi-bridge-multus.yaml", "valid"),
                Arguments.of("vmi-emptydisk.yaml", "valid"),
                Arguments.of("vmi-hostdisk.yaml", "invalid: spec.volumes[1]"),
                Arguments.of("vmi-kernelboot.yaml", "valid"),
                Arguments.of("vm-efi-secureboot.yaml", "valid"),
                Arguments.of("vmi-efi-without-smm.yaml", "invalid: spec.domain"),
                Arguments.of("vm-cpu-topology.yaml", "valid"),
                Arguments.of("vm-pvc-datavolume.yaml", "valid"),
                Arguments.of("vmi-configdrive-secrets.yaml", "valid"),
                Arguments.of("vm-running-and-runstrategy.yaml", "invalid: spec.running"),
                Arguments.of("vmi-cdrom-virtio.yaml",
                        "invalid: spec.domain.devices.disks[0].cdrom.bus|spec.domain.devices.disks[1].disk.bus"),
                Arguments.of("vmi-sriov.yaml", "valid"),
                Arguments.of("vmi-two-pod-networks.yaml",
                        "invalid: spec.interfaces|spec.domain.devices.interfaces[2].name"),
                Arguments.of("vmi-pvc-ephemeral.yaml", "valid"),
                Arguments.of("vmi-bridge-pod.yaml", "valid"),
                Arguments.of("vmi-firmware-uuid-serial.yaml", "valid"),
                Arguments.of("vmi-unknown-fields.yaml", "invalid: spec.domain.cpu.coress|"
                        + "spec.domain.devices.disks[0].disk.buss|spec.volumes[0].containerDisk.imagee|spec.volumes[0].containerDisk.image"),
                Arguments.of("multi-document.yaml", "valid"),
                Arguments.of("vm.json", "valid"),
                Arguments.of("bad-syntax.yaml", "load: bad-syntax.yaml:13:12: YAML syntax error"),
                Arguments.of("bad-kind.yaml", "load: unknown kind 'Pod'"),
                Arguments.of("bad-apiversion.yaml", "load: apiVersion 'kubevirt.io/v2' is not served"));
    }

    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("fixtures")
    void loadsOrFailsAsKubevirtWould(String name, String expected) throws Exception {
        if (expected.startsWith("load: ")) {
            ManifestException e = assertThrows(ManifestException.class, () -> ManifestLoader.load(TestFiles.fixture(name)));
            assertTrue(e.getMessage().contains(expected.substring(6)), e.getMessage());
            return;
        }
        List<LoadedManifest> docs = ManifestLoader.load(TestFiles.fixture(name));
        List<FieldError> errors = new ArrayList<>();
        for (LoadedManifest m : docs) {
            errors.addAll(m.validate());
            // what the launcher does: the VMI, defaulted, then validated
            VirtualMachineInstance vmi = VmiDefaults.apply(m.vmi());
            if (expected.equals("valid")) {
                assertEquals(List.of(), VmiValidator.validate(vmi), name + " as a defaulted VMI");
                // defaulted VMIs round-trip through YAML unchanged
                VirtualMachineInstance again = ManifestLoader.loadString(KubevirtJson.toYaml(vmi), name).get(0).vmi();
                assertEquals(KubevirtJson.toJson(vmi), KubevirtJson.toJson(again));
            }
        }
        if (expected.equals("valid")) {
            assertEquals(List.of(), errors, name);
        } else {
            String paths = errors.stream().map(FieldError::path).collect(Collectors.joining("|"));
            assertEquals(expected.substring("invalid: ".length()), paths, name + ": " + errors);
        }
    }

    @Test
    void hostDiskIsValidWithTheGate() throws Exception {
        LoadedManifest m = ManifestLoader.loadOne(TestFiles.fixture("vmi-hostdisk.yaml"));
        assertEquals(List.of(new FieldError("spec.volumes[1]", "HostDisk feature gate is not enabled")), m.validate());
        assertEquals(List.of(), m.validate(FeatureGates.kubevirtDefaults().with(FeatureGates.HOST_DISK)));
    }

    @Test
    void everyFixtureIsInTheTable() throws Exception {
        Set<String> listed = fixtures().map(a -> (String) a.get()[0]).collect(Collectors.toCollection(TreeSet::new));
        Set<String> present;
        try (Stream<java.nio.file.Path> s = Files.list(TestFiles.root().resolve("testdata/fixtures"))) {
            present = s.map(p -> p.getFileName().toString()).collect(Collectors.toCollection(TreeSet::new));
        }
        assertEquals(present, listed);
        assertTrue(listed.stream().filter(n -> !n.startsWith("bad-")).count() >= 12);
    }
}
