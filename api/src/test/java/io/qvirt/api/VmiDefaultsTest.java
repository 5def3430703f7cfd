package io.qvirt.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qvirt.api.model.Devices;
import io.qvirt.api.model.Disk;
import org.junit.jupiter.api.Test;

/** One test per default of {@link VmiDefaults}. */
class VmiDefaultsTest {
    static VirtualMachineInstance vmi(String specYaml) throws Exception {
        String doc = "apiVersion: kubevirt.io/v1\nkind: VirtualMachineInstance\nmetadata:\n  name: t\nspec:\n"
                + specYaml.indent(2);
        return ManifestLoader.loadString(doc, "test").get(0).vmi();
    }

    static VirtualMachineInstance defaulted(String specYaml) throws Exception {
        return VmiDefaults.apply(vmi(specYaml));
    }

    @Test
    void machineTypeQ35() throws Exception {
        assertEquals("q35", defaulted("domain: {devices: {}}").getSpec().getDomain().getMachine().getType());
        assertEquals("pc-q35-9.2", defaulted("domain: {devices: {}, machine: {type: pc-q35-9.2}}")
                .getSpec().getDomain().getMachine().getType());
        assertEquals("virt", defaulted("architecture: arm64\ndomain: {devices: {}}").getSpec().getDomain()
                .getMachine().getType());
    }

    @Test
    void architectureAmd64() throws Exception {
        assertEquals("amd64", defaulted("domain: {devices: {}}").getSpec().getArchitecture());
    }

    @Test
    void cpuOneSocketOneCoreOneThread() throws Exception {
        var cpu = defaulted("domain: {devices: {}}").getSpec().getDomain().getCpu();
        assertEquals(1, cpu.getSockets());
        assertEquals(1, cpu.getCores());
        assertEquals(1, cpu.getThreads());
        assertEquals("host-model", cpu.getModel());
    }

    @Test
    void socketsFromCpuLimitThenRequest() throws Exception {
        assertEquals(3, defaulted("domain: {devices: {}, resources: {limits: {cpu: '3'}, requests: {cpu: '2'}}}")
                .getSpec().getDomain().getCpu().getSockets());
        assertEquals(2, defaulted("domain: {devices: {}, resources: {requests: {cpu: 1500m}}}")
                .getSpec().getDomain().getCpu().getSockets());
    }

    @Test
    void partialTopologyFilledWithOnes() throws Exception {
        var cpu = defaulted("domain: {devices: {}, cpu: {cores: 4}}").getSpec().getDomain().getCpu();
        assertEquals(4, cpu.getCores());
        assertEquals(1, cpu.getSockets());
        assertEquals(1, cpu.getThreads());
    }

    @Test
    void cpuRequestFromLimit() throws Exception {
        var res = defaulted("domain: {devices: {}, resources: {limits: {cpu: '2'}}}").getSpec().getDomain()
                .getResources();
        assertEquals("2", Quantities.text(res.getRequests().get("cpu")));
    }

    @Test
    void guestMemoryFromRequestThenLimitThenHugepages() throws Exception {
        assertEquals("64M", Quantities.text(defaulted("domain: {devices: {}, resources: {requests: {memory: 64M}}}")
                .getSpec().getDomain().getMemory().getGuest()));
        assertEquals("1Gi", Quantities.text(defaulted("domain: {devices: {}, resources: {limits: {memory: 1Gi}}}")
                .getSpec().getDomain().getMemory().getGuest()));
        assertEquals("2Mi", Quantities.text(defaulted("domain: {devices: {}, memory: {hugepages: {pageSize: 2Mi}}}")
                .getSpec().getDomain().getMemory().getGuest()));
        assertEquals("1G", Quantities.text(defaulted(
                "domain: {devices: {}, memory: {guest: 1G}, resources: {requests: {memory: 2G}}}")
                .getSpec().getDomain().getMemory().getGuest()));
    }

    @Test
    void diskTargetAndBus() throws Exception {
        var disks = defaulted("""
                domain:
                  devices:
                    disks:
                    - name: a
                    - name: b
                      cdrom: {}
                    - name: c
                      disk: {bus: virtio}
                    - name: d
                      lun: {}
                volumes:
                - {name: a, emptyDisk: {capacity: 1Gi}}
                - {name: b, emptyDisk: {capacity: 1Gi}}
                - {name: c, emptyDisk: {capacity: 1Gi}}
                - {name: d, persistentVolumeClaim: {claimName: x}}
                """).getSpec().getDomain().getDevices().getDisks();
        assertNotNull(disks.get(0).getDisk());
        assertEquals("sata", disks.get(0).getDisk().getBus(), "KubeVirt's amd64 default bus");
        assertEquals("sata", disks.get(1).getCdrom().getBus());
        assertEquals(Boolean.TRUE, disks.get(1).getCdrom().getReadonly());
        assertEquals("closed", disks.get(1).getCdrom().getTray());
        assertEquals("virtio", disks.get(2).getDisk().getBus());
        assertEquals("sata", disks.get(3).getLun().getBus());
        assertEquals("virtio", VmiDefaults.defaultDiskBus("arm64"));
    }

    @Test
    void diskForEveryVolume() throws Exception {
        var disks = defaulted("domain: {devices: {}}\nvolumes: [{name: extra, emptyDisk: {capacity: 1Gi}}]")
                .getSpec().getDomain().getDevices().getDisks();
        assertEquals(1, disks.size());
        Disk d = disks.get(0);
        assertEquals("extra", d.getName());
        assertEquals("sata", d.getDisk().getBus());
    }

    @Test
    void defaultPodNetworkWithQvirtsMasquerade() throws Exception {
        var spec = defaulted("domain: {devices: {}}").getSpec();
        assertEquals(1, spec.getNetworks().size());
        assertEquals("default", spec.getNetworks().get(0).getName());
        assertNotNull(spec.getNetworks().get(0).getPod());
        assertEquals(1, spec.getDomain().getDevices().getInterfaces().size());
        var iface = spec.getDomain().getDevices().getInterfaces().get(0);
        assertEquals("default", iface.getName());
        assertNotNull(iface.getMasquerade());
        assertNull(iface.getBridge());
        assertEquals("virtio", iface.getModel());
    }

    @Test
    void defaultPodNetworkWithKubeVirtsBridgeWhenTheClusterSaysSo() throws Exception {
        var spec = VmiDefaults.apply(vmi("domain: {devices: {}}"), NetworkSettings.KUBEVIRT_DEFAULTS).getSpec();
        assertEquals("default", spec.getNetworks().get(0).getName());
        assertNotNull(spec.getNetworks().get(0).getPod());
        var iface = spec.getDomain().getDevices().getInterfaces().get(0);
        assertEquals("default", iface.getName());
        assertNotNull(iface.getBridge());
        assertNull(iface.getMasquerade());
    }

    @Test
    void declaredInterfacesAreNeverReplacedByTheDefault() throws Exception {
        var spec = VmiDefaults.apply(vmi("domain: {devices: {interfaces: [{name: blue, bridge: {}}]}}\n"
                + "networks: [{name: blue, multus: {networkName: n}}]"), NetworkSettings.QVIRT_DEFAULTS).getSpec();
        assertEquals(1, spec.getDomain().getDevices().getInterfaces().size());
        assertNotNull(spec.getDomain().getDevices().getInterfaces().get(0).getBridge());
        assertEquals("blue", spec.getNetworks().get(0).getName());
    }

    @Test
    void noDefaultNetworkWhenAutoattachPodInterfaceFalse() throws Exception {
        var spec = defaulted("domain: {devices: {autoattachPodInterface: false}}").getSpec();
        assertNull(spec.getNetworks());
        assertNull(spec.getDomain().getDevices().getInterfaces());
    }

    @Test
    void interfaceModelVirtio() throws Exception {
        var spec = defaulted("domain: {devices: {interfaces: [{name: default, masquerade: {}}, "
                + "{name: x, bridge: {}, model: e1000}]}}\nnetworks: [{name: default, pod: {}}, "
                + "{name: x, multus: {networkName: n}}]").getSpec();
        assertEquals("virtio", spec.getDomain().getDevices().getInterfaces().get(0).getModel());
        assertEquals("e1000", spec.getDomain().getDevices().getInterfaces().get(1).getModel());
    }

    @Test
    void autoattachDefaults() throws Exception {
        Devices d = defaulted("domain: {devices: {autoattachGraphicsDevice: false}}").getSpec().getDomain()
                .getDevices();
        assertEquals(true, d.getAutoattachPodInterface());
        assertEquals(true, d.getAutoattachSerialConsole());
        assertEquals(false, d.getAutoattachGraphicsDevice());
        assertEquals(true, d.getAutoattachMemBalloon());
        assertEquals(false, d.getAutoattachInputDevice());
        assertEquals(false, d.getAutoattachVSOCK());
    }

    @Test
    void terminationGracePeriod30() throws Exception {
        assertEquals(30L, defaulted("domain: {devices: {}}").getSpec().getTerminationGracePeriodSeconds());
        assertEquals(0L, defaulted("domain: {devices: {}}\nterminationGracePeriodSeconds: 0").getSpec()
                .getTerminationGracePeriodSeconds());
    }

    @Test
    void firmwareUuidDerivedFromName() throws Exception {
        // KubeVirt's CalculateLegacyUUID("testvm"): uuid.NewSHA1(6a1a24a1-..., "testvm")
        String uuid = VmiDefaults.firmwareUuid("testvm");
        assertEquals(VmiDefaults.firmwareUuid("t"), defaulted("domain: {devices: {}}").getSpec().getDomain()
                .getFirmware().getUuid());
        assertEquals('5', uuid.charAt(14), "version 5");
        assertTrue("89ab".indexOf(uuid.charAt(19)) >= 0, "RFC 4122 variant");
        assertEquals("given", defaulted("domain: {devices: {}, firmware: {uuid: given}}").getSpec().getDomain()
                .getFirmware().getUuid());
    }

    @Test
    void firmwareUuidMatchesGoUuidNewSha1() {
        // Computed independently: python3 -c "import uuid; print(uuid.uuid5(uuid.UUID('6a1a24a1-4061-4607-8bf4-a3963d0c5895'), 'testvm'))"
        assertEquals("5a9fc181-957e-5c32-9e5a-2de5e9673531", VmiDefaults.firmwareUuid("testvm"));
    }

    @Test
    void featuresAcpiOnAndPresentFeaturesEnabled() throws Exception {
        var f = defaulted("domain: {devices: {}, features: {smm: {}, apic: {}}}").getSpec().getDomain().getFeatures();
        assertEquals(true, f.getAcpi().getEnabled());
        assertEquals(true, f.getSmm().getEnabled());
        assertEquals(true, f.getApic().getEnabled());
        assertNull(f.getPvspinlock());
    }

    @Test
    void pullPolicies() {
        assertEquals("Always", VmiDefaults.pullPolicy("quay.io/kubevirt/cirros-container-disk-demo"));
        assertEquals("Always", VmiDefaults.pullPolicy("quay.io/kubevirt/cirros:latest"));
        assertEquals("IfNotPresent", VmiDefaults.pullPolicy("quay.io/kubevirt/cirros:v1"));
        assertEquals("IfNotPresent", VmiDefaults.pullPolicy("registry:5000/cirros@sha256:abc"));
        assertEquals("Always", VmiDefaults.pullPolicy("registry:5000/cirros"));
    }

    @Test
    void inputDefaults() throws Exception {
        var in = defaulted("domain: {devices: {inputs: [{name: t}]}}").getSpec().getDomain().getDevices()
                .getInputs().get(0);
        assertEquals("usb", in.getBus());
        assertEquals("tablet", in.getType());
    }

    @Test
    void namespaceDefault() throws Exception {
        VirtualMachineInstance v = new VirtualMachineInstance();
        v.setMetadata(new io.fabric8.kubernetes.api.model.ObjectMeta());
        VmiDefaults.apply(v);
        assertEquals("default", v.getMetadata().getNamespace());
    }
}
