package io.qvirt.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** kube-apiserver's strict field validation against KubeVirt's schema, at every level of VM and VMI. */
class StrictFieldsTest {
    static final String VMI = """
            apiVersion: kubevirt.io/v1
            kind: VirtualMachineInstance
            metadata: {name: x}
            spec:
              bogus: 1
              domain:
                cpu: {cores: 1, coress: 2}
                memory: {guest: 64Mi}
                devices:
                  disks:
                  - name: root
                    disk: {bus: virtio, buss: 1}
                  interfaces:
                  - name: default
                    masquerade: {x: 1}
              networks:
              - name: default
                pod: {y: 2}
              volumes:
              - name: root
                containerDisk: {image: a/b, imagee: c}
              livenessProbe: {tcpSocket: {port: 22}, foo: 1}
              affinity: {nodeAffinity: {bar: 1}}
              nodeSelector: {"any-key": "any value"}
            """;

    @Test
    void everyFieldInNoSchemaIsNamedAsKubeApiserverNamesIt() throws Exception {
        VirtualMachineInstance vmi = ManifestLoader.loadString(VMI, "t").get(0).vmi();
        java.util.Set<String> paths = new java.util.TreeSet<>(StrictFields.unknown(vmi).stream().map(FieldError::toString).toList());
        java.util.Set<String> want = new java.util.TreeSet<>();
        for (String p : List.of("spec.bogus", "spec.domain.cpu.coress", "spec.domain.devices.disks[0].disk.buss",
                "spec.domain.devices.interfaces[0].masquerade.x", "spec.networks[0].pod.y",
                "spec.volumes[0].containerDisk.imagee", "spec.livenessProbe.foo", "spec.affinity.nodeAffinity.bar")) {
            want.add(p + ": unknown field \"" + p + "\"");
        }
        assertEquals(want, paths, "nodeSelector's keys are a map's, and kept");
        // The same through the VMI's admission rules, and a VM's template.
        assertTrue(VmiValidator.validate(vmi).stream().anyMatch(e -> e.path().equals("spec.domain.cpu.coress")));
        String vm = "apiVersion: kubevirt.io/v1\nkind: VirtualMachine\nmetadata: {name: v}\nspec:\n  runStrategy: Halted\n"
                + "  template:\n    metadata: {labels: {a: b}, anything: kept}\n    spec:\n      domain: {devices: {}, "
                + "memory: {guest: 64Mi}, firmware: {bootloader: {efi: {secureBot: true}}}}\n";
        List<FieldError> errors = VmValidator.validate(ManifestLoader.loadString(vm, "t").get(0).vm());
        assertTrue(errors.stream().anyMatch(e -> e.toString().equals("spec.template.spec.domain.firmware.bootloader.efi"
                + ".secureBot: unknown field \"spec.template.spec.domain.firmware.bootloader.efi.secureBot\"")),
                errors.toString());
        assertTrue(errors.stream().noneMatch(e -> e.path().contains("metadata")), "metadata is the API server's: " + errors);
    }

    @Test
    void aHostileDocumentGetsABoundedAnswerWithoutControlCharacters() throws Exception {
        StringBuilder sb = new StringBuilder("apiVersion: kubevirt.io/v1\nkind: VirtualMachineInstance\nmetadata: {name: x}\n"
                + "spec:\n  domain: {devices: {}, memory: {guest: 64Mi}}\n");
        for (int i = 0; i < 500; i++) {
            sb.append("  \"f").append(i).append("\\u0007").append("x".repeat(200)).append("\": 1\n");
        }
        List<FieldError> errors = StrictFields.unknown(ManifestLoader.loadString(sb.toString(), "t").get(0).vmi());
        assertEquals(StrictFields.MAX_ERRORS, errors.size());
        assertTrue(errors.stream().allMatch(e -> !e.toString().contains("\u0007") && e.path().length() < 120), errors.toString());
    }

    @Test
    void everyFixtureAndTheSeedHaveOnlyKubevirtsFields() throws Exception {
        Path root = TestFiles.root().resolve("testdata");
        List<Path> files;
        try (Stream<Path> s = Files.list(root.resolve("fixtures"))) {
            files = new java.util.ArrayList<>(s.filter(p -> p.getFileName().toString().matches("vmi?-.*\\.yaml") && !p.getFileName().toString().contains("unknown-fields")).toList());
        }
        files.add(root.resolve("vm.yaml"));
        int checked = 0;
        for (Path f : files) {
            for (LoadedManifest d : ManifestLoader.load(f)) {
                List<FieldError> e = d.vm() != null ? StrictFields.unknown(d.vm())
                        : d.vmi() != null && d.instancetypeResource().isEmpty() ? StrictFields.unknown(d.vmi()) : List.of();
                assertEquals(List.of(), e, f.toString());
                checked++;
            }
        }
        assertTrue(checked > 10, "documents checked: " + checked);
    }
}
