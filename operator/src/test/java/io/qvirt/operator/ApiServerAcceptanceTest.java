package io.qvirt.operator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.qvirt.api.KubevirtJson;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every object qvirt ships or installs, checked offline as a v1.28 API server would take it (no API server runs
 * here): the release files and everything the operator installs against Kubernetes' published OpenAPI document,
 * unknown fields refused; the CRDs against the structural-schema rules; the KubeVirt CR against its CRD.
 */
class ApiServerAcceptanceTest {
    /** Kubernetes' v1.28 OpenAPI document, gzip'd in the test resources (from ../shared/k8s-openapi/: see SOURCE.txt). */
    private static final Path OPENAPI = Path.of("src/test/resources/k8s-openapi/openapi-1.28.0.json.gz");

    private static List<JsonNode> docs(Path file) throws Exception {
        List<JsonNode> out = new ArrayList<>();
        for (JsonNode d : KubevirtJson.yaml().readerFor(JsonNode.class).<JsonNode>readValues(Files.readString(file)).readAll()) {
            if (d != null && d.has("kind")) {
                out.add(d);
            }
        }
        return out;
    }

    @Test
    void everyObjectIsAcceptedByTheKubernetesSchemasWithUnknownFieldsRefused(@TempDir Path dir) throws Exception {
        assertTrue(Files.isRegularFile(OPENAPI), OPENAPI + " missing (run from the operator module)");
        OpenApiValidation openapi = new OpenApiValidation(OPENAPI);
        assertEquals(0, MockCluster.render(dir, "registry.internal:5000/virt", "v1.2.3", "--use-emulation"));
        List<JsonNode> objects = new ArrayList<>(docs(dir.resolve("kubevirt-operator.yaml")));
        KubeVirtSpec spec = KubevirtJson.yaml().readValue("""
                imagePullPolicy: Always
                imagePullSecrets: [{name: regcred}]
                infra: {replicas: 3, nodePlacement: {nodeSelector: {infra: "true"},
                        tolerations: [{key: dedicated, operator: Exists, effect: NoSchedule}],
                        affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms:
                          [{matchExpressions: [{key: infra, operator: In, values: ["true"]}]}]}}}}}
                workloads: {nodePlacement: {nodeSelector: {kvm: "true"}}}
                """, KubeVirtSpec.class);
        String ca = Pki.newCa("test", Instant.now(), Duration.ofDays(1)).cert();
        List<ObjectNode> installed = InstallStrategy.desired(Templates.fromClassPath(),
                InstallStrategy.Target.of(spec, "registry.internal:5000/virt", "v1.2.3"), ca);
        objects.addAll(installed);
        List<String> errors = new ArrayList<>();
        int common = 0;
        for (JsonNode o : objects) {
            if (o.path("apiVersion").asText().startsWith("instancetype.kubevirt.io/")) {
                // The common instancetypes and preferences: kinds of qvirt's own CRDs, checked against their schemas.
                JsonNode crd = installed.stream().filter(c -> "CustomResourceDefinition".equals(c.path("kind").asText())
                        && o.path("kind").asText().equals(c.at("/spec/names/kind").asText())).findFirst().orElseThrow();
                JsonNode version = null;
                for (JsonNode v : crd.at("/spec/versions")) {
                    if (o.path("apiVersion").asText().endsWith("/" + v.path("name").asText())) {
                        version = v;
                    }
                }
                assertTrue(version != null && version.path("served").asBoolean(), o.path("apiVersion") + " not served");
                // apiVersion, kind and metadata are the API server's own (its CRD schema need not list them).
                ObjectNode body = ((ObjectNode) o).deepCopy();
                body.remove(List.of("apiVersion", "kind", "metadata"));
                errors.addAll(OpenApiValidation.validateAgainstCrd(body, version.at("/schema/openAPIV3Schema")));
                common++;
                continue;
            }
            errors.addAll(openapi.validate(o));
        }
        assertEquals(List.of(), errors);
        assertTrue(common > 80, "common instancetypes and preferences installed: " + common);
        assertTrue(objects.size() > 35, "objects: " + objects.size());

        // The check does refuse: an unknown field, a wrong type, a bad enum value.
        ObjectNode bad = installed.stream().filter(o -> "DaemonSet".equals(o.path("kind").asText())).findFirst().orElseThrow().deepCopy();
        ((ObjectNode) bad.at("/spec/template/spec/containers/0")).put("imagePullPolice", "Always");
        ((ObjectNode) bad.at("/spec/template/spec")).put("hostPID", "yes");
        ((ObjectNode) bad.path("spec")).putObject("updateStrategy").put("type", "Sometimes");
        List<String> refused = openapi.validate(bad);
        assertEquals(3, refused.size(), refused.toString());
    }

    @Test
    void crdsAreStructuralAndTheCrFitsItsCrd(@TempDir Path dir) throws Exception {
        assertEquals(0, MockCluster.render(dir, "registry.internal:5000/virt", "v1.2.3"));
        List<JsonNode> crds = new ArrayList<>();
        docs(dir.resolve("kubevirt-operator.yaml")).stream().filter(o -> "CustomResourceDefinition".equals(o.path("kind").asText()))
                .forEach(crds::add);
        InstallStrategy.desired(Templates.fromClassPath(), InstallStrategy.Target.of(null, "r", "t"), "CA").stream()
                .filter(o -> "CustomResourceDefinition".equals(o.path("kind").asText())).forEach(crds::add);
        assertEquals(9, crds.size(), "KubeVirt, VM, VMI, migration, MigrationPolicy and the four instancetype.kubevirt.io CRDs");
        List<String> errors = new ArrayList<>();
        for (JsonNode crd : crds) {
            errors.addAll(OpenApiValidation.structuralErrors(crd));
        }
        assertEquals(List.of(), errors);

        JsonNode kubevirtCrd = crds.stream().filter(c -> "kubevirts.kubevirt.io".equals(c.at("/metadata/name").asText()))
                .findFirst().orElseThrow();
        JsonNode schema = kubevirtCrd.at("/spec/versions/1/schema/openAPIV3Schema");
        JsonNode cr = docs(dir.resolve("kubevirt-cr.yaml")).get(0);
        assertEquals(List.of(), OpenApiValidation.validateAgainstCrd(cr, schema));
        ObjectNode bad = cr.deepCopy();
        ((ObjectNode) bad.path("spec")).put("imagePullPolicy", "Sometimes").put("uninstallStrategy", "Whenever");
        ((ObjectNode) bad.path("spec")).putObject("infra").put("replicas", "two");
        assertEquals(3, OpenApiValidation.validateAgainstCrd(bad, schema).size(), OpenApiValidation.validateAgainstCrd(bad, schema).toString());
        // And the structural check refuses a schema without a type.
        ObjectNode broken = kubevirtCrd.deepCopy();
        ((ObjectNode) broken.at("/spec/versions/1/schema/openAPIV3Schema/properties/spec/properties/imageTag")).remove("type");
        assertFalse(OpenApiValidation.structuralErrors(broken).isEmpty());
    }
}
