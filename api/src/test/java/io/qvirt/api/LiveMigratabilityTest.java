package io.qvirt.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@link LiveMigratability}: KubeVirt's reasons and words, per volume and interface kind. */
class LiveMigratabilityTest {
    private static final String MASQ = """
            networks: [{name: default, pod: {}}]
            domain:
              devices:
                interfaces: [{name: default, masquerade: {}}]
            """;

    private static VirtualMachineInstance vmi(String spec) throws Exception {
        return KubevirtJson.yaml().readValue("apiVersion: kubevirt.io/v1\nkind: VirtualMachineInstance\n"
                + "metadata: {name: t, namespace: ns}\nspec:\n" + spec.indent(2), VirtualMachineInstance.class);
    }

    private static LiveMigratability.Refusal check(String spec) throws Exception {
        return LiveMigratability.check(vmi(spec));
    }

    @Test
    void containerEmptyCloudInitAndMasqueradeMigrate() throws Exception {
        assertNull(check(MASQ + """
                volumes:
                  - {name: root, containerDisk: {image: x}}
                  - {name: scratch, emptyDisk: {capacity: 1Gi}}
                  - {name: ci, cloudInitNoCloud: {userData: "#cloud-config"}}
                  - {name: eph, ephemeral: {persistentVolumeClaim: {claimName: base}}}
                  - {name: hd, hostDisk: {path: /x/disk.img, type: Disk, shared: true}}
                """));
        assertNull(check("domain: {devices: {}}"), "no interfaces at all");
    }

    @Test
    void bridgeOnThePodNetworkDoesNot() throws Exception {
        LiveMigratability.Refusal r = check("""
                networks: [{name: default, pod: {}}]
                domain: {devices: {interfaces: [{name: default, bridge: {}}]}}
                """);
        assertEquals("InterfaceNotLiveMigratable", r.reason());
        assertEquals("cannot migrate VMI which does not use masquerade or a migratable plugin to connect to the pod network",
                r.message());
    }

    @Test
    void interfaceComesBeforeDisks() throws Exception {
        LiveMigratability.Refusal r = check("""
                networks: [{name: default, pod: {}}]
                domain: {devices: {interfaces: [{name: default, bridge: {}}]}}
                volumes: [{name: hd, hostDisk: {path: /x/disk.img, type: Disk}}]
                """);
        assertEquals("InterfaceNotLiveMigratable", r.reason());
    }

    @Test
    void claimsByAccessMode() throws Exception {
        String spec = MASQ + "volumes: [{name: data, persistentVolumeClaim: {claimName: pvc-a}}]\n";
        VirtualMachineInstance v = vmi(spec);
        LiveMigratability.Refusal unknown = LiveMigratability.check(v);
        assertEquals("DisksNotLiveMigratable", unknown.reason());
        assertEquals("cannot migrate VMI: Unable to determine if PVC pvc-a is shared, live migration requires that "
                + "all PVCs must be shared (using ReadWriteMany access mode)", unknown.message());
        LiveMigratability.Refusal rwo = LiveMigratability.check(v, c -> List.of("ReadWriteOnce"));
        assertEquals("DisksNotLiveMigratable", rwo.reason());
        assertEquals("cannot migrate VMI: PVC pvc-a is not shared, live migration requires that all PVCs must be "
                + "shared (using ReadWriteMany access mode)", rwo.message());
        assertNull(LiveMigratability.check(v, c -> c.equals("pvc-a") ? List.of("ReadWriteMany") : null));
    }

    @Test
    void claimAccessModesFromVolumeStatus() throws Exception {
        VirtualMachineInstance v = vmi(MASQ + "volumes: [{name: data, persistentVolumeClaim: {claimName: pvc-a}}]\n");
        v.setStatus(new io.qvirt.api.model.VirtualMachineInstanceStatus());
        v.getStatus().setAdditionalProperty("volumeStatus", List.of(Map.of("name", "data", "target", "",
                "persistentVolumeClaimInfo", Map.of("claimName", "pvc-a", "accessModes", List.of("ReadWriteMany")))));
        assertNull(LiveMigratability.check(v));
        v.getStatus().setAdditionalProperty("volumeStatus", List.of(Map.of("name", "data",
                "persistentVolumeClaimInfo", Map.of("claimName", "pvc-a", "accessModes", List.of("ReadWriteOnce")))));
        assertEquals("DisksNotLiveMigratable", LiveMigratability.check(v).reason());
    }

    @Test
    void dataVolumeIsAClaim() throws Exception {
        LiveMigratability.Refusal r = LiveMigratability.check(vmi(MASQ + "volumes: [{name: d, dataVolume: {name: dv-1}}]\n"),
                c -> List.of("ReadWriteOnce"));
        assertEquals("cannot migrate VMI: PVC dv-1 is not shared, live migration requires that all PVCs must be "
                + "shared (using ReadWriteMany access mode)", r.message());
    }

    @Test
    void hostDiskNotShared() throws Exception {
        LiveMigratability.Refusal r = check(MASQ + "volumes: [{name: hd, hostDisk: {path: /x/d.img, type: DiskOrCreate, capacity: 1Gi}}]\n");
        assertEquals("DisksNotLiveMigratable", r.reason());
        assertEquals("cannot migrate VMI with non-shared HostDisk", r.message());
    }

    @Test
    void devicesFilesystemsAndSecurity() throws Exception {
        assertEquals(new LiveMigratability.Refusal("VirtIOFSNotLiveMigratable", "VMI uses virtiofs"),
                check("domain: {devices: {filesystems: [{name: fs, virtiofs: {}}]}}"));
        assertEquals(new LiveMigratability.Refusal("HostDeviceNotLiveMigratable",
                "VMI specifies non-migratable generic PCI host device"),
                check("domain: {devices: {hostDevices: [{name: h, deviceName: x/y}]}}"));
        assertEquals("VMI specifies too many GPUs",
                check("domain: {devices: {gpus: [{name: a, deviceName: x}, {name: b, deviceName: x}]}}").message());
        assertEquals("VMI specifies non-migratable GPU device",
                check("domain: {devices: {gpus: [{name: a, deviceName: x}]}}").message());
        assertEquals("SEVNotLiveMigratable", check("domain: {devices: {}, launchSecurity: {sev: {}}}").reason());
        assertEquals("HypervPassthroughNotLiveMigratable",
                check("domain: {devices: {}, features: {hypervPassthrough: {enabled: true}}}").reason());
        assertNull(check("domain: {devices: {}, features: {hypervPassthrough: {enabled: false}}}"));
    }
}
