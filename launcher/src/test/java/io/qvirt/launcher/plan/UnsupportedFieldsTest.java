package io.qvirt.launcher.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.qvirt.api.FieldError;
import io.qvirt.api.ManifestLoader;
import io.qvirt.api.ValidationException;
import io.qvirt.api.VirtualMachineInstance;
import io.qvirt.api.VmiDefaults;
import java.util.List;
import org.junit.jupiter.api.Test;

/** KubeVirt fields qvirt does not act on are refused by path at every level, typed or not, never dropped. */
class UnsupportedFieldsTest {
    static final String VMI = """
            apiVersion: kubevirt.io/v1
            kind: VirtualMachineInstance
            metadata: {name: x, namespace: default}
            spec:
              domain:
                cpu: {cores: 1, features: [{name: vmx}]}
                memory: {guest: 64Mi, maxGuest: 128Mi}
                firmware: {acpi: {slicNameRef: x}}
                devices:
                  disks:
                  - name: root
                    disk: {bus: virtio, pciAddress: "0000:81:01.0"}
                    io: native
                    errorPolicy: stop
                    blockSize: {matchVolume: {enabled: true}}
                  interfaces:
                  - name: default
                    masquerade: {}
                    dhcpOptions: {bootFileName: x}
                    acpiIndex: 3
              networks:
              - name: default
                pod: {}
              volumes:
              - name: root
                containerDisk: {image: a/b}
              resourceClaims: [{name: x}]
              tolerations: [{key: a, operator: Exists}]
              dnsPolicy: None
              dnsConfig: {nameservers: [10.0.0.1]}
            """;

    @Test
    void everyUnactedFieldIsRefusedByItsPath() throws Exception {
        VirtualMachineInstance vmi = VmiDefaults.apply(ManifestLoader.loadString(VMI, "t").get(0).vmi(),
                io.qvirt.api.NetworkSettings.QVIRT_DEFAULTS);
        ValidationException e = assertThrows(ValidationException.class, () -> new VmPlanner(
                java.nio.file.Path.of("/usr/bin/qemu-system-x86_64")).plan(vmi, new PlanOptions(
                io.qvirt.launcher.runtime.RuntimeDir.paths(java.nio.file.Path.of("/tmp/qvirt-unused"), "default", "x"),
                new Accelerator(Accelerator.TCG, "test"), true, true, "spec.", "127.0.0.1", p -> p,
                PlanOptions.SPAWN_FIRST_FD, ResolvedVolumes.placeholders(vmi))));
        List<String> paths = e.errors().stream().map(FieldError::path).sorted().toList();
        assertEquals(List.of(
                "spec.domain.cpu.features",
                "spec.domain.devices.disks[0].blockSize",
                "spec.domain.devices.disks[0].disk.pciAddress",
                "spec.domain.devices.disks[0].errorPolicy",
                "spec.domain.devices.disks[0].io",
                "spec.domain.devices.interfaces[0].acpiIndex",
                "spec.domain.devices.interfaces[0].dhcpOptions",
                "spec.domain.firmware.acpi",
                "spec.domain.memory.maxGuest",
                "spec.resourceClaims"), paths, "tolerations and DNS go to the pod (the controller), so they pass");
        assertEquals("not supported by qvirt (memory hotplug): leave it out", e.errors().stream()
                .filter(f -> f.path().equals("spec.domain.memory.maxGuest")).findFirst().orElseThrow().message());
    }
}
