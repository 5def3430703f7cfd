package io.qvirt.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Fields directly under a VM's {@code spec} that qvirt does not act on are refused by path, never dropped. */
class VmSpecFieldsTest {
    private static List<FieldError> validate(String extraSpec) throws Exception {
        return ManifestLoader.loadString("apiVersion: kubevirt.io/v1\nkind: VirtualMachine\nmetadata: {name: t}\n"
                + "spec:\n  runStrategy: Always\n" + extraSpec.indent(2) + "  template:\n    spec:\n"
                + "      domain: {devices: {}, memory: {guest: 64Mi}}\n", "test").get(0).validate();
    }

    @Test
    void anInstancetypeOrPreferenceIsCheckedAsKubevirtChecksItWithoutTheObjects() throws Exception {
        // No lookup: nothing exists, and KubeVirt's admission admits a VM naming what does not exist (yet)
        assertEquals(List.of(), validate("instancetype: {kind: VirtualMachineClusterInstancetype, name: u1.medium}"));
        assertEquals(List.of(), validate("preference: {name: fedora}"));
        assertEquals(List.of(new FieldError("spec.instancetype", "Either Name or InferFromVolume should be provided "
                + "within the InstancetypeMatcher")), validate("instancetype: {kind: VirtualMachineInstancetype}"));
        assertEquals(List.of(new FieldError("spec.preference.kind", "got unexpected kind in PreferenceMatcher: Fedora; "
                + "allowed: VirtualMachinePreference, VirtualMachineClusterPreference (any case, or the plural; omitted "
                + "means VirtualMachineClusterPreference)")), validate("preference: {name: fedora, kind: Fedora}"));
    }

    @Test
    void aFieldInNoSchemaIsRefusedAsStrictFieldValidationWordsIt() throws Exception {
        assertEquals(List.of(new FieldError("spec.domain", "unknown field \"spec.domain\"")), validate("domain: {}"));
        assertEquals(List.of(new FieldError("spec.a?b", "unknown field \"spec.a?b\"")), validate("\"a\\u0007b\": 1"));
    }

    @Test
    void theFieldsQvirtActsOnPass() throws Exception {
        assertEquals(List.of(), validate("dataVolumeTemplates: []"));
        assertEquals(List.of(), validate(""));
    }

    @Test
    void hookSidecarsAreRefusedAsKubevirtDoesWithoutTheirGateAndByQvirtWithIt() throws Exception {
        String vmi = "apiVersion: kubevirt.io/v1\nkind: VirtualMachineInstance\nmetadata:\n  name: t\n  annotations:\n"
                + "    hooks.kubevirt.io/hookSidecars: '[{\"image\": \"example-hook-sidecar\"}]'\n"
                + "spec: {domain: {devices: {}, memory: {guest: 64Mi}}}\n";
        LoadedManifest doc = ManifestLoader.loadString(vmi, "test").get(0);
        assertEquals(List.of(new FieldError("metadata.annotations", "sidecar feature gate is not enabled in "
                + "kubevirt-config, invalid entry metadata.annotations.hooks.kubevirt.io/hookSidecars")), doc.validate());
        assertEquals(List.of(new FieldError("metadata.annotations", "hook sidecars (metadata.annotations."
                + "hooks.kubevirt.io/hookSidecars) are not supported by qvirt: they edit libvirt's domain XML, and "
                + "qvirt runs QEMU without libvirt")), doc.validate(FeatureGates.kubevirtDefaults().with(FeatureGates.SIDECAR)));
        List<FieldError> vm = ManifestLoader.loadString("apiVersion: kubevirt.io/v1\n"
                + "kind: VirtualMachine\nmetadata: {name: t}\nspec:\n  runStrategy: Always\n  template:\n"
                + "    metadata:\n      annotations: {hooks.kubevirt.io/hookSidecars: '[]'}\n    spec:\n"
                + "      domain: {devices: {}, memory: {guest: 64Mi}}\n", "test").get(0).validate();
        assertEquals(1, vm.size(), vm.toString());
        assertEquals("spec.template.metadata.annotations", vm.get(0).path());
    }

    @Test
    void annotationsKubevirtGivesMeaningToAndQvirtCannotHonourAreRefusedByName() throws Exception {
        String vmi = "apiVersion: kubevirt.io/v1\nkind: VirtualMachineInstance\nmetadata:\n  name: t\n  annotations:\n"
                + "    kubevirt.io/ignitiondata: '{\"ignition\": {}}'\n    kubevirt.io/libvirt-log-filters: '3:remote'\n"
                + "    kubevirt.io/allow-pod-bridge-network-live-migration: 'true'\n"
                + "spec: {domain: {devices: {}, memory: {guest: 64Mi}}}\n";
        List<FieldError> errors = ManifestLoader.loadString(vmi, "test").get(0).validate();
        assertEquals(List.of("metadata.annotations.kubevirt.io/ignitiondata", "metadata.annotations.kubevirt.io/libvirt-log-filters"),
                errors.stream().map(FieldError::path).sorted().toList(), errors.toString());
        assertTrue(errors.stream().anyMatch(e -> e.message().contains("pass the configuration with cloudInitNoCloud")));
        String vm = "apiVersion: kubevirt.io/v1\nkind: VirtualMachine\nmetadata: {name: t}\nspec:\n  runStrategy: Always\n"
                + "  template:\n    metadata:\n      annotations: {kubevirt.io/keep-launcher-alive-after-failure: 'true'}\n"
                + "    spec:\n      domain: {devices: {}, memory: {guest: 64Mi}}\n";
        List<FieldError> vmErrors = ManifestLoader.loadString(vm, "test").get(0).validate();
        assertEquals(List.of("spec.template.metadata.annotations.kubevirt.io/keep-launcher-alive-after-failure"),
                vmErrors.stream().map(FieldError::path).toList());
    }

    @Test
    void everyDataVolumeTemplateIsNamedAndReferencedAsKubevirtRequires() throws Exception {
        String vm = "apiVersion: kubevirt.io/v1\nkind: VirtualMachine\nmetadata: {name: t}\nspec:\n  runStrategy: Always\n"
                + "  dataVolumeTemplates:\n  - metadata: {name: used}\n    spec: {pvc: {}}\n"
                + "  - metadata: {name: claimed}\n    spec: {pvc: {}}\n"
                + "  - metadata: {name: unused}\n    spec: {pvc: {}}\n  - spec: {pvc: {}}\n"
                + "  template:\n    spec:\n      domain: {devices: {}, memory: {guest: 64Mi}}\n      volumes:\n"
                + "      - {name: a, dataVolume: {name: used}}\n      - {name: b, persistentVolumeClaim: {claimName: claimed}}\n";
        List<FieldError> errors = ManifestLoader.loadString(vm, "test").get(0).validate();
        assertEquals(List.of(new FieldError("spec.dataVolumeTemplate[2]", "DataVolumeTemplate entry "
                        + "spec.dataVolumeTemplate[2] must be referenced in the VMI template's 'volumes' list"),
                new FieldError("spec.dataVolumeTemplate[3].name", "'name' field must not be empty for DataVolumeTemplate "
                        + "entry spec.dataVolumeTemplate[3].name.")), errors);
    }
}
