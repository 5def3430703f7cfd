package io.qvirt.sandbox;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.InputStream;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The builders behind kubectl's view of the rig, from qvirt's real CRDs (the ones the mock is seeded with): discovery
 * (short names, categories, scope, subresources), Tables from additionalPrinterColumns (KubeVirt's VM and VMI
 * columns, kubectl's ages, JSONPath filters), strict field validation and the OpenAPI documents.
 */
class KubectlSurfaceTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    static JsonNode crdList() throws Exception {
        ArrayNode items = JSON.createArrayNode();
        for (String crd : MockApiServer.CRDS) {
            try (InputStream in = MockApiServer.class.getResourceAsStream("/META-INF/fabric8/" + crd)) {
                items.add(JSON.valueToTree(Serialization.unmarshal(in, CustomResourceDefinition.class)));
            }
        }
        items.add(JSON.valueToTree(MockApiServer.kubevirtCrd()));
        ObjectNode list = JSON.createObjectNode();
        list.set("items", items);
        return list;
    }

    @Test
    void discoveryNamesKubeVirtsKindsAsKubeApiserverDoes() throws Exception {
        List<ApiDiscovery.ApiResource> all = ApiDiscovery.all(crdList());
        JsonNode kubevirt = ApiDiscovery.resourceList(all, "kubevirt.io", "v1");
        JsonNode vms = find(kubevirt.path("resources"), "virtualmachines");
        assertEquals("VirtualMachine", vms.path("kind").asText());
        assertTrue(vms.path("namespaced").asBoolean());
        assertEquals("[\"vm\",\"vms\"]", vms.path("shortNames").toString());
        assertEquals("[\"all\"]", vms.path("categories").toString());
        assertTrue(vms.path("verbs").toString().contains("\"watch\""), vms.toString());
        assertEquals("[\"vmi\",\"vmis\"]", find(kubevirt.path("resources"), "virtualmachineinstances").path("shortNames").toString());
        assertEquals("VirtualMachine", find(kubevirt.path("resources"), "virtualmachines/status").path("kind").asText());
        assertNull(find(kubevirt.path("resources"), "virtualmachineinstances/status"), "the VMI CRD declares no status subresource");

        JsonNode core = ApiDiscovery.resourceList(all, "", "v1");
        assertEquals("v1", core.path("groupVersion").asText());
        assertEquals("[\"po\"]", find(core.path("resources"), "pods").path("shortNames").toString());
        assertTrue(!find(core.path("resources"), "nodes").path("namespaced").asBoolean());
        assertNull(ApiDiscovery.resourceList(all, "kubevirt.io", "v9"), "an unknown group version is a 404");

        JsonNode groups = ApiDiscovery.apiGroupList(all, false).path("groups");
        List<String> names = new ArrayList<>();
        groups.forEach(g -> names.add(g.path("name").asText()));
        assertTrue(names.containsAll(List.of("apps", "apiextensions.k8s.io", "kubevirt.io")), names.toString());
        assertTrue(!names.contains(ApiDiscovery.AGGREGATED_GROUP), "virt-api's group only once it is aggregated");
        assertTrue(ApiDiscovery.apiGroupList(all, true).toString().contains("\"subresources.kubevirt.io/v1\""));
        assertEquals("kubevirt.io/v1", ApiDiscovery.apiGroup(all, false, "kubevirt.io").path("preferredVersion").path("groupVersion").asText());
        assertEquals("[\"v1\"]", ApiDiscovery.apiVersions("127.0.0.1:1").path("versions").toString());
    }

    @Test
    void tablesShowKubeVirtsColumnsWithTheirValues() throws Exception {
        JsonNode crds = crdList();
        Instant now = Instant.parse("2026-01-01T12:00:00Z");
        JsonNode vm = JSON.readTree("{\"metadata\":{\"name\":\"testvm\",\"namespace\":\"default\",\"creationTimestamp\":\"2026-01-01T11:56:40Z\"},"
                + "\"status\":{\"printableStatus\":\"Running\",\"conditions\":[{\"type\":\"Paused\",\"status\":\"False\"},"
                + "{\"type\":\"Ready\",\"status\":\"True\"}]}}");
        List<PrinterTable.Column> vmColumns = PrinterTable.columns(SandboxFrontDoor.crdFor(crds, "kubevirt.io", "virtualmachines"), "v1",
                "virtualmachines");
        JsonNode t = PrinterTable.table(vmColumns, List.of(vm), "7", now);
        assertEquals("Table", t.path("kind").asText());
        assertEquals("meta.k8s.io/v1", t.path("apiVersion").asText());
        assertEquals("[\"Name\",\"Age\",\"Status\",\"Ready\"]", names(t));
        assertEquals("[\"testvm\",\"3m20s\",\"Running\",\"True\"]", t.path("rows").get(0).path("cells").toString());
        assertEquals("default", t.path("rows").get(0).path("object").path("metadata").path("namespace").asText());

        JsonNode vmi = JSON.readTree("{\"metadata\":{\"name\":\"testvm\",\"creationTimestamp\":\"2026-01-01T11:00:00Z\"},\"status\":{"
                + "\"phase\":\"Running\",\"nodeName\":\"node-1\",\"interfaces\":[{\"ipAddress\":\"127.0.1.2\"}],"
                + "\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]}}");
        JsonNode ti = PrinterTable.table(PrinterTable.columns(SandboxFrontDoor.crdFor(crds, "kubevirt.io", "virtualmachineinstances"),
                "v1", "virtualmachineinstances"), List.of(vmi), null, now);
        assertEquals("[\"Name\",\"Age\",\"Phase\",\"IP\",\"NodeName\",\"Ready\",\"Live-Migratable\",\"Paused\"]", names(ti));
        assertEquals("[\"testvm\",\"60m\",\"Running\",\"127.0.1.2\",\"node-1\",\"True\",null,null]",
                ti.path("rows").get(0).path("cells").toString());
        assertEquals(1, ti.path("columnDefinitions").get(6).path("priority").asInt(), "Live-Migratable only with -o wide");

        // A VM without status: empty cells, as kubectl shows them.
        JsonNode bare = JSON.readTree("{\"metadata\":{\"name\":\"x\",\"creationTimestamp\":\"2026-01-01T12:00:00Z\"}}");
        assertEquals("[\"x\",\"0s\",null,null]", PrinterTable.table(vmColumns, List.of(bare), null, now).path("rows").get(0).path("cells").toString());

        // Built-in kinds: NAME/AGE, and kube-apiserver's pod columns.
        assertEquals("[\"Name\",\"Age\"]", names(PrinterTable.table(PrinterTable.columns(null, "v1", "configmaps"), List.of(), null, now)));
        JsonNode pod = JSON.readTree("{\"metadata\":{\"name\":\"virt-launcher-testvm-abcde\",\"creationTimestamp\":\"2026-01-01T11:59:00Z\"},"
                + "\"spec\":{\"containers\":[{\"name\":\"compute\"}]},\"status\":{\"phase\":\"Running\",\"podIP\":\"127.0.1.2\","
                + "\"containerStatuses\":[{\"ready\":true,\"restartCount\":1,\"state\":{\"running\":{}}}]}}");
        JsonNode tp = PrinterTable.table(PrinterTable.columns(null, "v1", "pods"), List.of(pod), null, now);
        assertEquals("[\"virt-launcher-testvm-abcde\",\"1/1\",\"Running\",\"1\",\"60s\",\"127.0.1.2\",null]",
                tp.path("rows").get(0).path("cells").toString());
    }

    @Test
    void agesReadAsKubectlPrintsThem() {
        assertEquals("0s", PrinterTable.humanAge(Duration.ofMillis(-500)));
        assertEquals("<invalid>", PrinterTable.humanAge(Duration.ofSeconds(-5)));
        assertEquals("119s", PrinterTable.humanAge(Duration.ofSeconds(119)));
        assertEquals("2m", PrinterTable.humanAge(Duration.ofSeconds(120)));
        assertEquals("9m59s", PrinterTable.humanAge(Duration.ofSeconds(599)));
        assertEquals("179m", PrinterTable.humanAge(Duration.ofMinutes(179)));
        assertEquals("3h", PrinterTable.humanAge(Duration.ofHours(3)));
        assertEquals("7h59m", PrinterTable.humanAge(Duration.ofMinutes(479)));
        assertEquals("47h", PrinterTable.humanAge(Duration.ofHours(47)));
        assertEquals("2d", PrinterTable.humanAge(Duration.ofHours(48)));
        assertEquals("7d23h", PrinterTable.humanAge(Duration.ofHours(191)));
        assertEquals("400d", PrinterTable.humanAge(Duration.ofDays(400)));
        assertEquals("3y5d", PrinterTable.humanAge(Duration.ofDays(3 * 365 + 5)));
        assertEquals("9y", PrinterTable.humanAge(Duration.ofDays(9 * 365)));
    }

    @Test
    void jsonPathsOfPrinterColumns() throws Exception {
        JsonNode o = JSON.readTree("{\"a\":{\"b\":[{\"t\":\"x\",\"v\":1},{\"t\":\"y\",\"v\":2}]}}");
        assertEquals("[{\"t\":\"y\",\"v\":2}]", PrinterTable.JsonPath.find(o, ".a.b[?(@.t==\"y\")]").toString());
        assertEquals("[2]", PrinterTable.JsonPath.find(o, "{.a.b[1].v}").toString());
        assertEquals("[1, 2]", PrinterTable.JsonPath.find(o, ".a.b[*].v").toString());
        assertEquals("[{\"t\":\"x\",\"v\":1}]", PrinterTable.JsonPath.find(o, ".a.b[?(@.t!='y')]").toString());
        assertEquals("[]", PrinterTable.JsonPath.find(o, ".a.c.d").toString());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PrinterTable.JsonPath.find(o, ".a..b"));
        assertTrue(e.getMessage().contains("jsonPath .a..b") && e.getMessage().contains("allowed"), e.getMessage());
    }

    @Test
    void strictValidationFollowsTheCrdSchema() throws Exception {
        JsonNode crd = SandboxFrontDoor.crdFor(crdList(), "kubevirt.io", "virtualmachines");
        JsonNode schema = crd.path("spec").path("versions").get(0).path("schema").path("openAPIV3Schema");
        JsonNode good = JSON.readTree("{\"apiVersion\":\"kubevirt.io/v1\",\"kind\":\"VirtualMachine\",\"metadata\":{\"name\":\"a\","
                + "\"labels\":{\"x\":\"y\"}},\"spec\":{\"running\":false,\"template\":{\"spec\":{\"domain\":{\"resources\":{\"requests\":"
                + "{\"memory\":\"128Mi\"}}}}}}}");
        assertEquals(List.of(), StrictFields.unknown(good, schema));
        JsonNode bad = JSON.readTree("{\"apiVersion\":\"kubevirt.io/v1\",\"kind\":\"VirtualMachine\",\"metadata\":{\"name\":\"a\",\"colour\":1},"
                + "\"bogus\":true,\"spec\":{}}");
        List<String> unknown = StrictFields.unknown(bad, schema);
        assertEquals(List.of("metadata.colour", "bogus"), unknown);
        assertEquals("VirtualMachine in version \"v1\" cannot be handled as a VirtualMachine: strict decoding error: unknown field "
                + "\"metadata.colour\", unknown field \"bogus\"", StrictFields.message("VirtualMachine", "v1", unknown));
        // A merge patch's null removes a field; a preserve-unknown-fields level keeps unknown fields (qvirt's CRDs mark spec so).
        assertEquals(List.of(), StrictFields.unknown(JSON.readTree("{\"bogus\":null,\"spec\":{\"anything\":1}}"), schema));
        // A schema that declares its fields and preserves nothing refuses the rest, nested and in arrays.
        JsonNode closed = JSON.readTree("{\"type\":\"object\",\"properties\":{\"spec\":{\"type\":\"object\",\"properties\":{\"items\":"
                + "{\"type\":\"array\",\"items\":{\"type\":\"object\",\"properties\":{\"n\":{\"type\":\"string\"}}}},"
                + "\"m\":{\"type\":\"object\",\"additionalProperties\":{\"type\":\"string\"}}}}}}");
        assertEquals(List.of("spec.items[1].x", "spec.y"), StrictFields.unknown(JSON.readTree(
                "{\"spec\":{\"items\":[{\"n\":\"a\"},{\"x\":1}],\"m\":{\"any\":\"v\"},\"y\":2}}"), closed));
    }

    @Test
    void openApiDocumentsLetKubectlLeaveValidationToTheServer() throws Exception {
        JsonNode crds = crdList();
        JsonNode root = OpenApiDocs.v3Root(crds);
        String url = root.path("paths").path("apis/kubevirt.io/v1").path("serverRelativeURL").asText();
        assertTrue(url.startsWith("/openapi/v3/apis/kubevirt.io/v1?hash="), root.toString());
        JsonNode doc = OpenApiDocs.v3Document(crds, "apis/kubevirt.io/v1");
        JsonNode patch = doc.path("paths").path("/apis/kubevirt.io/v1/namespaces/{namespace}/virtualmachines/{name}").path("patch");
        assertEquals("VirtualMachine", patch.path("x-kubernetes-group-version-kind").path("kind").asText());
        assertTrue(patch.path("parameters").toString().contains("\"fieldValidation\""), patch.toString());
        assertTrue(patch.path("requestBody").path("content").has("application/merge-patch+json"));
        assertTrue(!patch.path("requestBody").path("content").has("application/strategic-merge-patch+json"),
                "custom resources take no strategic merge patch: kubectl apply sends a merge patch");
        assertTrue(doc.path("components").path("schemas").has("io.kubevirt.v1.VirtualMachineInstance"));
        assertNull(OpenApiDocs.v3Document(crds, "api/v1"));
        // The v2 document: swagger "2.0", an info, empty paths, nothing else (protobuf).
        byte[] v2 = OpenApiDocs.v2EmptyProtobuf();
        assertArrayEquals(new byte[] {0x0A, 3, '2', '.', '0', 0x12}, java.util.Arrays.copyOf(v2, 6));
        assertArrayEquals(new byte[] {0x42, 0}, java.util.Arrays.copyOfRange(v2, v2.length - 2, v2.length));
    }

    @Test
    void mergePatchesFollowRfc7386() throws Exception {
        JsonNode target = JSON.readTree("{\"a\":\"b\",\"c\":{\"d\":\"e\",\"f\":\"g\"},\"l\":[1,2]}");
        JsonNode patch = JSON.readTree("{\"a\":\"z\",\"c\":{\"f\":null},\"l\":[3],\"n\":{\"x\":null}}");
        assertEquals(JSON.readTree("{\"a\":\"z\",\"c\":{\"d\":\"e\"},\"l\":[3],\"n\":{}}"), SandboxFrontDoor.mergePatch(target, patch));
        assertEquals("{\"a\":\"b\",\"c\":{\"d\":\"e\",\"f\":\"g\"},\"l\":[1,2]}", target.toString(), "the target is not changed");
    }

    private static String names(JsonNode table) {
        ArrayNode a = JSON.createArrayNode();
        table.path("columnDefinitions").forEach(c -> a.add(c.path("name").asText()));
        return a.toString();
    }

    private static JsonNode find(JsonNode resources, String name) {
        for (JsonNode r : resources) {
            if (r.path("name").asText().equals(name)) {
                return r;
            }
        }
        return null;
    }
}
