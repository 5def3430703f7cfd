package io.qvirt.api.crd;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.qvirt.api.KubevirtJson;
import io.qvirt.api.VirtualMachine;
import io.qvirt.api.VirtualMachineInstance;
import io.qvirt.api.instancetype.InstancetypeResource;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * The build step after fabric8's crd-generator (api/pom.xml runs it in {@code process-classes}): it makes
 * the generated CRDs what KubeVirt's are where the generator has no switch.
 * <ul>
 * <li>Printer columns in KubeVirt's order (the declaration order of the {@code @AdditionalPrinterColumn}
 *     annotations); the generator sorts them by JSON path, and kubectl shows them in CRD order.</li>
 * <li>No {@code status} subresource on the VMI CRD, as KubeVirt's (the generator adds one whenever there is
 *     a status property). VMI status is written with a plain update, as KubeVirt's virt-handler does.</li>
 * <li>KubeVirt's {@code kubevirt.io: ""} label on every CRD (the VM, the VMI, and the four
 *     {@code instancetype.kubevirt.io} kinds, which need nothing else).</li>
 * <li>The VM's {@code dataVolumeTemplates[].spec} an object that keeps every field (the generator makes it a map
 *     of field-less objects, which an API server would prune).</li>
 * </ul>
 * Idempotent. Usage: {@code CrdFixups DIR} (the generator's output directory).
 */
public final class CrdFixups {
    private CrdFixups() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 1) {
            throw new IllegalArgumentException("usage: CrdFixups DIR");
        }
        List<Path> files;
        try (Stream<Path> s = Files.list(Path.of(args[0]))) {
            files = s.filter(f -> f.toString().endsWith(".yml")).sorted().toList();
        }
        for (Path f : files) {
            String fixed = fix(Files.readString(f, StandardCharsets.UTF_8));
            Files.writeString(f, fixed, StandardCharsets.UTF_8);
        }
    }

    /** The fixed CRD text. */
    public static String fix(String crdYaml) throws IOException {
        ObjectNode crd = (ObjectNode) KubevirtJson.yaml().readTree(crdYaml);
        String kind = crd.path("spec").path("names").path("kind").asText();
        Class<?> type = VirtualMachine.KIND.equals(kind) ? VirtualMachine.class
                : VirtualMachineInstance.KIND.equals(kind) ? VirtualMachineInstance.class
                : io.qvirt.api.VirtualMachineInstanceMigration.KIND.equals(kind) ? io.qvirt.api.VirtualMachineInstanceMigration.class
                : io.qvirt.api.migrations.MigrationPolicy.KIND.equals(kind) ? io.qvirt.api.migrations.MigrationPolicy.class
                : InstancetypeResource.forKind(kind).<Class<?>>map(InstancetypeResource::type).orElse(null);
        if (type == null) {
            return crdYaml;
        }
        ObjectNode meta = (ObjectNode) crd.get("metadata");
        meta.withObject("labels").put("kubevirt.io", "");
        List<String> order = new ArrayList<>();
        for (AdditionalPrinterColumn c : type.getAnnotationsByType(AdditionalPrinterColumn.class)) {
            order.add(c.name());
        }
        for (JsonNode version : crd.path("spec").path("versions")) {
            ObjectNode v = (ObjectNode) version;
            if (v.get("additionalPrinterColumns") instanceof ArrayNode cols) {
                List<JsonNode> list = new ArrayList<>();
                cols.forEach(list::add);
                list.sort(Comparator.comparingInt(c -> {
                    int i = order.indexOf(c.path("name").asText());
                    return i < 0 ? Integer.MAX_VALUE : i;
                }));
                cols.removeAll();
                list.forEach(cols::add);
            }
            // The generator types Map<String, Object> as "every value an object with no fields", which an API server
            // would prune to {}: a CDI DataVolumeSpec is kept whole instead, as KubeVirt's schema keeps it.
            if (type == VirtualMachine.class && v.at("/schema/openAPIV3Schema/properties/spec/properties/"
                    + "dataVolumeTemplates/items/properties/spec") instanceof ObjectNode dvSpec) {
                dvSpec.remove("additionalProperties");
                dvSpec.put("type", "object");
                dvSpec.put("x-kubernetes-preserve-unknown-fields", true);
            }
            if (type == VirtualMachineInstance.class && v.get("subresources") instanceof ObjectNode sub) {
                sub.remove("status");
                if (sub.isEmpty()) {
                    v.remove("subresources");
                }
            }
        }
        return "# Generated by fabric8's crd-generator-maven-plugin from " + type.getName()
                + ", then io.qvirt.api.crd.CrdFixups.\n# Do not edit: `mvn -pl api verify` regenerates it.\n"
                + KubevirtJson.yaml().writeValueAsString(crd);
    }
}
