package io.qvirt.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.qvirt.api.crd.CrdFixups;
import io.qvirt.api.instancetype.InstancetypeResource;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/**
 * The CRDs generated at build time (crd-generator-maven-plugin, then {@link CrdFixups}), field by field
 * against KubeVirt's ({@code pkg/virt-operator/resource/generate/components/crds.go}), and the committed
 * copies in manifests/crds/ equal to them. After a model change: {@code mvn -pl api verify
 * -Dqvirt.updateCrds=true} rewrites the committed copies.
 */
class CrdTest {
    static final String VM_CRD = "virtualmachines.kubevirt.io-v1.yml";
    static final String VMI_CRD = "virtualmachineinstances.kubevirt.io-v1.yml";
    static final String MIGRATION_POLICY_CRD = "migrationpolicies.migrations.kubevirt.io-v1.yml";

    static String generated(String file) throws Exception {
        try (InputStream in = CrdTest.class.getClassLoader().getResourceAsStream("META-INF/fabric8/" + file)) {
            assertNotNull(in, "generated CRD missing: META-INF/fabric8/" + file);
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    static JsonNode crd(String file) throws Exception {
        return KubevirtJson.yaml().readTree(generated(file));
    }

    static List<String> columns(JsonNode crd) {
        List<String> out = new ArrayList<>();
        for (JsonNode c : crd.at("/spec/versions/0/additionalPrinterColumns")) {
            out.add(c.path("name").asText() + "|" + c.path("type").asText() + "|" + c.path("jsonPath").asText() + "|"
                    + c.path("priority").asInt() + (c.has("description") ? "|" + c.path("description").asText() : ""));
        }
        return out;
    }

    static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    @Test
    void virtualMachineCrd() throws Exception {
        JsonNode crd = crd(VM_CRD);
        assertEquals("apiextensions.k8s.io/v1", crd.path("apiVersion").asText());
        assertEquals("CustomResourceDefinition", crd.path("kind").asText());
        assertEquals("virtualmachines.kubevirt.io", crd.at("/metadata/name").asText());
        assertEquals("", crd.at("/metadata/labels/kubevirt.io").asText());
        assertEquals("kubevirt.io", crd.at("/spec/group").asText());
        assertEquals("Namespaced", crd.at("/spec/scope").asText());
        assertEquals("VirtualMachine", crd.at("/spec/names/kind").asText());
        assertEquals("virtualmachines", crd.at("/spec/names/plural").asText());
        assertEquals("virtualmachine", crd.at("/spec/names/singular").asText());
        assertEquals(List.of("vm", "vms"), strings(crd.at("/spec/names/shortNames")));
        assertEquals(List.of("all"), strings(crd.at("/spec/names/categories")));
        assertEquals(1, crd.at("/spec/versions").size());
        assertEquals("v1", crd.at("/spec/versions/0/name").asText());
        assertTrue(crd.at("/spec/versions/0/served").asBoolean());
        assertTrue(crd.at("/spec/versions/0/storage").asBoolean());
        assertEquals(List.of(
                "Age|date|.metadata.creationTimestamp|0",
                "Status|string|.status.printableStatus|0|Human Readable Status",
                "Ready|string|.status.conditions[?(@.type=='Ready')].status|0"), columns(crd));
        assertTrue(crd.at("/spec/versions/0/subresources/status").isObject(), "status subresource");
        assertTrue(crd.at("/spec/versions/0/subresources/status").isEmpty());
        assertFalse(crd.at("/spec/versions/0/subresources").has("scale"));
    }

    @Test
    void virtualMachineInstanceCrd() throws Exception {
        JsonNode crd = crd(VMI_CRD);
        assertEquals("virtualmachineinstances.kubevirt.io", crd.at("/metadata/name").asText());
        assertEquals("", crd.at("/metadata/labels/kubevirt.io").asText());
        assertEquals("kubevirt.io", crd.at("/spec/group").asText());
        assertEquals("Namespaced", crd.at("/spec/scope").asText());
        assertEquals("VirtualMachineInstance", crd.at("/spec/names/kind").asText());
        assertEquals("virtualmachineinstances", crd.at("/spec/names/plural").asText());
        assertEquals("virtualmachineinstance", crd.at("/spec/names/singular").asText());
        assertEquals(List.of("vmi", "vmis"), strings(crd.at("/spec/names/shortNames")));
        assertEquals(List.of("all"), strings(crd.at("/spec/names/categories")));
        assertEquals("v1", crd.at("/spec/versions/0/name").asText());
        assertEquals(List.of(
                "Age|date|.metadata.creationTimestamp|0",
                "Phase|string|.status.phase|0",
                "IP|string|.status.interfaces[0].ipAddress|0",
                "NodeName|string|.status.nodeName|0",
                "Ready|string|.status.conditions[?(@.type=='Ready')].status|0",
                "Live-Migratable|string|.status.conditions[?(@.type=='LiveMigratable')].status|1",
                "Paused|string|.status.conditions[?(@.type=='Paused')].status|1"), columns(crd));
        assertTrue(crd.at("/spec/versions/0/subresources").isMissingNode(), "KubeVirt's VMI CRD has no subresources");
    }

    @Test
    void virtualMachineInstanceMigrationCrd() throws Exception {
        JsonNode crd = crd("virtualmachineinstancemigrations.kubevirt.io-v1.yml");
        assertEquals("virtualmachineinstancemigrations.kubevirt.io", crd.at("/metadata/name").asText());
        assertEquals("", crd.at("/metadata/labels/kubevirt.io").asText());
        assertEquals("Namespaced", crd.at("/spec/scope").asText());
        assertEquals("VirtualMachineInstanceMigration", crd.at("/spec/names/kind").asText());
        assertEquals(List.of("vmim", "vmims"), strings(crd.at("/spec/names/shortNames")));
        assertEquals(List.of("all"), strings(crd.at("/spec/names/categories")));
        assertEquals(List.of("Phase|string|.status.phase|0", "VMI|string|.spec.vmiName|0"), columns(crd));
        assertTrue(crd.at("/spec/versions/0/subresources/status").isObject(), "KubeVirt's VMIM CRD has a status subresource");
        JsonNode schema = crd.at("/spec/versions/0/schema/openAPIV3Schema/properties");
        assertEquals("string", schema.at("/spec/properties/vmiName/type").asText());
        assertEquals("string", schema.at("/status/properties/phase/type").asText());
        assertEquals("string", schema.at("/status/properties/migrationState/properties/targetNode/type").asText());
        // The VMI carries the same migrationState.
        assertEquals("boolean", crd(VMI_CRD).at("/spec/versions/0/schema/openAPIV3Schema/properties/status/properties/"
                + "migrationState/properties/completed/type").asText());
    }

    @Test
    void migrationPolicyCrd() throws Exception {
        JsonNode crd = crd(MIGRATION_POLICY_CRD);
        assertEquals("migrationpolicies.migrations.kubevirt.io", crd.at("/metadata/name").asText());
        assertEquals("", crd.at("/metadata/labels/kubevirt.io").asText());
        assertEquals("migrations.kubevirt.io", crd.at("/spec/group").asText());
        assertEquals("Cluster", crd.at("/spec/scope").asText(), "KubeVirt's MigrationPolicy is cluster-scoped");
        assertEquals("MigrationPolicy", crd.at("/spec/names/kind").asText());
        assertEquals("migrationpolicy", crd.at("/spec/names/singular").asText());
        assertEquals("v1alpha1", crd.at("/spec/versions/0/name").asText());
        assertTrue(crd.at("/spec/versions/0/subresources/status").isObject(), "KubeVirt's has a status subresource");
        JsonNode spec = crd.at("/spec/versions/0/schema/openAPIV3Schema/properties/spec");
        assertEquals(List.of("selectors"), strings(spec.path("required")));
        assertEquals("string", spec.at("/properties/selectors/properties/namespaceSelector/additionalProperties/type").asText());
        assertTrue(spec.at("/properties/bandwidthPerMigration/x-kubernetes-int-or-string").asBoolean());
        assertEquals("boolean", spec.at("/properties/allowPostCopy/type").asText());
        // The VMI's migrationState says which policy and what settings its migration runs with.
        JsonNode ms = crd(VMI_CRD).at("/spec/versions/0/schema/openAPIV3Schema/properties/status/properties/"
                + "migrationState/properties");
        assertEquals("string", ms.at("/migrationPolicyName/type").asText());
        assertEquals("integer", ms.at("/migrationConfiguration/properties/completionTimeoutPerGiB/type").asText());
    }

    @Test
    void schemaKeepsUnknownFieldsWhereKubevirtDoes() throws Exception {
        JsonNode vm = crd(VM_CRD).at("/spec/versions/0/schema/openAPIV3Schema/properties");
        // KubeVirt's schema preserves unknown fields at these three places; qvirt's does too ...
        assertPreserves(vm.at("/spec/properties/template/properties/metadata"));
        assertPreserves(vm.at("/spec/properties/dataVolumeTemplates/items/properties/metadata"));
        assertPreserves(vm.at("/spec/properties/template/properties/spec/properties/domain")); // for domain.clock
        JsonNode vmi = crd(VMI_CRD).at("/spec/versions/0/schema/openAPIV3Schema/properties");
        assertPreserves(vmi.at("/spec/properties/domain"));
        // ... and, as it models a subset, on every object it models (see the api README)
        assertPreserves(vmi.at("/spec"));
        assertPreserves(vmi.at("/status"));
        assertPreserves(vmi.at("/spec/properties/domain/properties/devices/properties/disks/items"));
        assertPreserves(vmi.at("/spec/properties/volumes/items"));
        assertPreserves(vm.at("/spec/properties/dataVolumeTemplates/items/properties/spec"));
        // a CDI DataVolumeSpec is kept whole: no schema for its values (which would prune their fields)
        assertTrue(vm.at("/spec/properties/dataVolumeTemplates/items/properties/spec/additionalProperties").isMissingNode(),
                vm.at("/spec/properties/dataVolumeTemplates/items/properties/spec").toString());
    }

    static void assertPreserves(JsonNode schema) {
        assertFalse(schema.isMissingNode(), "schema node missing");
        assertEquals("object", schema.path("type").asText(), schema.toString());
        assertTrue(schema.path("x-kubernetes-preserve-unknown-fields").asBoolean(), schema.toString());
    }

    @Test
    void schemaFieldsMatchKubevirtsJsonNames() throws Exception {
        JsonNode vmi = crd(VMI_CRD).at("/spec/versions/0/schema/openAPIV3Schema/properties");
        JsonNode domain = vmi.at("/spec/properties/domain/properties");
        assertEquals("string", domain.at("/machine/properties/type/type").asText());
        assertEquals("integer", domain.at("/cpu/properties/cores/type").asText());
        assertTrue(domain.at("/memory/properties/guest/x-kubernetes-int-or-string").asBoolean(), "Quantity");
        assertTrue(domain.at("/resources/properties/requests/additionalProperties/x-kubernetes-int-or-string")
                .asBoolean(), "requests are quantities");
        JsonNode devices = domain.at("/devices/properties");
        for (String f : List.of("disks", "interfaces", "rng", "autoattachPodInterface", "autoattachSerialConsole",
                "autoattachGraphicsDevice")) {
            assertFalse(devices.path(f).isMissingNode(), f);
        }
        JsonNode volume = vmi.at("/spec/properties/volumes/items/properties");
        for (String f : List.of("containerDisk", "cloudInitNoCloud", "cloudInitConfigDrive", "emptyDisk", "hostDisk",
                "persistentVolumeClaim", "dataVolume", "ephemeral", "configMap", "secret", "serviceAccount",
                "downwardAPI")) {
            assertFalse(volume.path(f).isMissingNode(), f);
        }
        assertFalse(volume.at("/cloudInitNoCloud/properties/secretRef").isMissingNode(), "userDataSecretRef is secretRef");
        assertFalse(vmi.at("/spec/properties/networks/items/properties/multus/properties/default").isMissingNode());
        JsonNode status = vmi.at("/status/properties");
        for (String f : List.of("phase", "conditions", "nodeName", "interfaces", "reason", "guestOSInfo",
                "launcherContainerImageVersion", "qvirtAccelerator")) {
            assertFalse(status.path(f).isMissingNode(), f);
        }
        JsonNode vmStatus = crd(VM_CRD).at("/spec/versions/0/schema/openAPIV3Schema/properties/status/properties");
        for (String f : List.of("printableStatus", "ready", "created", "conditions", "stateChangeRequests",
                "volumeSnapshotStatuses")) {
            assertFalse(vmStatus.path(f).isMissingNode(), f);
        }
    }

    /** KubeVirt's {@code NewVirtualMachine[Cluster]{Instancetype,Preference}Crd}: names, scope, the one version. */
    @ParameterizedTest
    @EnumSource(InstancetypeResource.class)
    void instancetypeCrds(InstancetypeResource r) throws Exception {
        JsonNode crd = crd(r.crdFile());
        assertEquals(r.plural() + ".instancetype.kubevirt.io", crd.at("/metadata/name").asText());
        assertEquals("", crd.at("/metadata/labels/kubevirt.io").asText());
        assertEquals("instancetype.kubevirt.io", crd.at("/spec/group").asText());
        assertEquals(r.namespaced() ? "Namespaced" : "Cluster", crd.at("/spec/scope").asText());
        assertEquals(r.kind(), crd.at("/spec/names/kind").asText());
        assertEquals(r.plural(), crd.at("/spec/names/plural").asText());
        assertEquals(r.singular(), crd.at("/spec/names/singular").asText());
        List<String> shortNames = switch (r) {
            case INSTANCETYPE -> List.of("vminstancetype", "vminstancetypes", "vmf", "vmfs");
            case CLUSTER_INSTANCETYPE -> List.of("vmclusterinstancetype", "vmclusterinstancetypes", "vmcf", "vmcfs");
            case PREFERENCE -> List.of("vmpref", "vmprefs", "vmp", "vmps");
            case CLUSTER_PREFERENCE -> List.of("vmcp", "vmcps");
        };
        assertEquals(shortNames, strings(crd.at("/spec/names/shortNames")));
        assertEquals(r.namespaced() ? List.of("all") : List.of(), strings(crd.at("/spec/names/categories")));
        assertEquals(1, crd.at("/spec/versions").size());
        assertEquals("v1beta1", crd.at("/spec/versions/0/name").asText());
        assertTrue(crd.at("/spec/versions/0/storage").asBoolean());
        assertTrue(crd.at("/spec/versions/0/subresources").isMissingNode(), "no status subresource");
        JsonNode spec = crd.at("/spec/versions/0/schema/openAPIV3Schema/properties/spec");
        assertTrue(spec.path("x-kubernetes-preserve-unknown-fields").asBoolean(), "unknown spec fields kept");
        if (!r.isPreference()) {
            assertEquals("integer", spec.at("/properties/cpu/properties/guest/type").asText());
            assertTrue(spec.at("/properties/memory/properties/guest/x-kubernetes-int-or-string").asBoolean());
        } else {
            assertEquals("string", spec.at("/properties/devices/properties/preferredDiskBus/type").asText());
            assertEquals("string", spec.at("/properties/cpu/properties/preferredCPUTopology/type").asText());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {VM_CRD, VMI_CRD, "virtualmachineinstancemigrations.kubevirt.io-v1.yml", MIGRATION_POLICY_CRD,
            "virtualmachineinstancetypes.instancetype.kubevirt.io-v1.yml",
            "virtualmachineclusterinstancetypes.instancetype.kubevirt.io-v1.yml",
            "virtualmachinepreferences.instancetype.kubevirt.io-v1.yml",
            "virtualmachineclusterpreferences.instancetype.kubevirt.io-v1.yml"})
    void committedCopyEqualsGenerated(String file) throws Exception {
        Path committed = TestFiles.root().resolve("manifests/crds").resolve(file);
        String generated = generated(file);
        if (Boolean.getBoolean("qvirt.updateCrds")) {
            Files.createDirectories(committed.getParent());
            Files.writeString(committed, generated, StandardCharsets.UTF_8);
        }
        assertTrue(Files.exists(committed), committed + " missing: run mvn -pl api verify -Dqvirt.updateCrds=true");
        assertEquals(generated, Files.readString(committed, StandardCharsets.UTF_8),
                committed + " differs from the generated CRD: run mvn -pl api verify -Dqvirt.updateCrds=true");
    }

    @Test
    void fixupsAreIdempotent() throws Exception {
        String once = generated(VMI_CRD);
        assertEquals(once, CrdFixups.fix(once));
    }
}
