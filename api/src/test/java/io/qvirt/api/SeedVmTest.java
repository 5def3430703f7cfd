package io.qvirt.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.qvirt.api.model.Disk;
import io.qvirt.api.model.Volume;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The seed's demo VM: testdata/vm.yaml loads, defaults, validates and round-trips. */
class SeedVmTest {
    @Test
    void isTheSeedByteForByte() throws Exception {
        Path seed = Path.of("/work/shared/seed/vm.yaml");
        if (Files.exists(seed)) {
            assertArrayEquals(Files.readAllBytes(seed), Files.readAllBytes(TestFiles.seedVm()));
        }
    }

    @Test
    void loads() throws Exception {
        List<LoadedManifest> docs = ManifestLoader.load(TestFiles.seedVm());
        assertEquals(1, docs.size());
        LoadedManifest m = docs.get(0);
        assertEquals("VirtualMachine", m.kind());
        assertTrue(m.isVirtualMachine());
        assertEquals("testvm", m.name());
        assertEquals("default", m.namespace());
        VirtualMachine vm = m.vm();
        assertEquals(Boolean.FALSE, vm.getSpec().getRunning());
        assertNull(vm.getSpec().getRunStrategy());
        assertEquals("small", vm.getSpec().getTemplate().getMetadata().getLabels().get("kubevirt.io/size"));

        VirtualMachineInstance vmi = m.vmi();
        assertEquals("testvm", vmi.getMetadata().getName());
        assertEquals("default", vmi.getMetadata().getNamespace());
        assertEquals("testvm", vmi.getMetadata().getLabels().get("kubevirt.io/domain"));
        List<Disk> disks = vmi.getSpec().getDomain().getDevices().getDisks();
        assertEquals(List.of("containerdisk", "cloudinitdisk"), disks.stream().map(Disk::getName).toList());
        assertEquals("virtio", disks.get(0).getDisk().getBus());
        assertEquals(64_000_000, Quantities.bytes(vmi.getSpec().getDomain().getResources().getRequests().get("memory")));
        Volume cd = vmi.getSpec().getVolumes().get(0);
        assertEquals("quay.io/kubevirt/cirros-container-disk-demo", cd.getContainerDisk().getImage());
        Volume ci = vmi.getSpec().getVolumes().get(1);
        byte[] userData = Base64.getDecoder().decode(ci.getCloudInitNoCloud().getUserDataBase64());
        assertArrayEquals("Hi.\\n".getBytes(StandardCharsets.US_ASCII), userData);
        assertEquals(5, userData.length);
        assertEquals('\\', userData[3]);
        assertEquals("default", vmi.getSpec().getNetworks().get(0).getName());
        assertTrue(vmi.getSpec().getNetworks().get(0).getPod() != null);
        assertTrue(vmi.getSpec().getDomain().getDevices().getInterfaces().get(0).getMasquerade() != null);
    }

    @Test
    void validates() throws Exception {
        LoadedManifest m = ManifestLoader.load(TestFiles.seedVm()).get(0);
        assertEquals(List.of(), m.validate());
        assertEquals(List.of(), VmValidator.validate(m.vm()));
        assertEquals(List.of(), VmiValidator.validate(m.vmi()));
    }

    @Test
    void defaults() throws Exception {
        VirtualMachineInstance vmi = VmiDefaults.apply(ManifestLoader.load(TestFiles.seedVm()).get(0).vmi());
        var domain = vmi.getSpec().getDomain();
        assertEquals("q35", domain.getMachine().getType());
        assertEquals("amd64", vmi.getSpec().getArchitecture());
        assertEquals(1, domain.getCpu().getSockets());
        assertEquals(1, domain.getCpu().getCores());
        assertEquals(1, domain.getCpu().getThreads());
        assertEquals("host-model", domain.getCpu().getModel());
        assertEquals("64M", Quantities.text(domain.getMemory().getGuest()));
        assertEquals(64_000_000, Quantities.bytes(domain.getMemory().getGuest()));
        assertEquals("virtio", domain.getDevices().getInterfaces().get(0).getModel());
        assertEquals("virtio", domain.getDevices().getDisks().get(1).getDisk().getBus());
        assertEquals(30L, vmi.getSpec().getTerminationGracePeriodSeconds());
        assertEquals(VmiDefaults.firmwareUuid("testvm"), domain.getFirmware().getUuid());
        assertEquals("Always", vmi.getSpec().getVolumes().get(0).getContainerDisk().getImagePullPolicy());
        assertEquals(List.of(), VmiValidator.validate(vmi));
        // idempotent
        String once = KubevirtJson.toJson(vmi);
        assertEquals(once, KubevirtJson.toJson(VmiDefaults.apply(vmi)));
    }

    @Test
    void roundTripsUnchanged() throws Exception {
        String text = Files.readString(TestFiles.seedVm());
        LoadedManifest m = ManifestLoader.loadString(text, "vm.yaml").get(0);
        JsonNode original = KubevirtJson.yaml().readTree(text);
        ((com.fasterxml.jackson.databind.node.ObjectNode) original.get("metadata")).put("namespace", "default");
        JsonNode written = KubevirtJson.yaml().readTree(KubevirtJson.toYaml(m.vm()));
        assertEquals(original, written);
        // and the YAML written reads back to the same
        LoadedManifest again = ManifestLoader.loadString(KubevirtJson.toYaml(m.vm()), "again").get(0);
        assertEquals(KubevirtJson.toJson(m.vm()), KubevirtJson.toJson(again.vm()));
        assertFalse(KubevirtJson.toYaml(m.vm()).contains("status"));
    }
}
