package io.qvirt.sandbox;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The OpenAPI documents kubectl reads before a write, derived from the CRDs the mock holds:
 * <ul>
 * <li>{@code /openapi/v3}: one document per CRD group version, each kind's paths with KubeVirt's verbs, the
 * {@code fieldValidation} query parameter on create/update/patch (the front door enforces {@code Strict} from the
 * CRD's schema: {@link StrictFields}), JSON and merge patches only (no strategic merge for custom resources, as
 * kube-apiserver), and the CRD's schema as the kind's component (so {@code kubectl explain vm} works). kubectl 1.27+
 * then leaves validation to the server.</li>
 * <li>{@code /openapi/v2}: a protobuf document with NO definitions. The built-in kinds have no schema here (the mock
 * stores them unchecked), and kubectl's client-side validation skips a kind it finds no schema for: older kubectl
 * (Debian's 1.20) and built-in kinds go unvalidated on the rig, as stated in the README.</li>
 * </ul>
 */
final class OpenApiDocs {
    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    private OpenApiDocs() {
    }

    /** The model name kube-apiserver gives a custom kind: the group reversed, version, kind (io.kubevirt.v1.VirtualMachine). */
    static String modelName(String group, String version, String kind) {
        String[] parts = group.split("\\.");
        StringBuilder b = new StringBuilder();
        for (int i = parts.length - 1; i >= 0; i--) {
            b.append(parts[i]).append('.');
        }
        return b.append(version).append('.').append(kind).toString();
    }

    /** {@code /openapi/v3}: each CRD group version's document path, with a hash of its content (kubectl caches by it). */
    static ObjectNode v3Root(JsonNode crdList) {
        ObjectNode root = F.objectNode();
        ObjectNode paths = root.putObject("paths");
        for (Map.Entry<String, ObjectNode> e : v3Documents(crdList).entrySet()) {
            paths.putObject(e.getKey()).put("serverRelativeURL", "/openapi/v3/" + e.getKey() + "?hash=" + hash(e.getValue()));
        }
        return root;
    }

    /** The document of {@code apis/G/V}, or null when no CRD serves that group version. */
    static ObjectNode v3Document(JsonNode crdList, String gvPath) {
        return v3Documents(crdList).get(gvPath);
    }

    private static Map<String, ObjectNode> v3Documents(JsonNode crdList) {
        Map<String, ObjectNode> docs = new LinkedHashMap<>();
        for (JsonNode crd : crdList.path("items")) {
            JsonNode spec = crd.path("spec");
            String group = spec.path("group").asText("");
            String kind = spec.path("names").path("kind").asText("");
            String plural = spec.path("names").path("plural").asText("");
            if (group.isEmpty() || kind.isEmpty() || plural.isEmpty()) {
                continue;
            }
            boolean namespaced = !"Cluster".equals(spec.path("scope").asText());
            for (JsonNode v : spec.path("versions")) {
                if (!v.path("served").asBoolean(true)) {
                    continue;
                }
                String version = v.path("name").asText();
                ObjectNode doc = docs.computeIfAbsent("apis/" + group + "/" + version, k -> {
                    ObjectNode d = F.objectNode();
                    d.put("openapi", "3.0.0");
                    d.putObject("info").put("title", "qvirt-sandbox FAKE front door: CRD schemas of " + group + "/" + version)
                            .put("version", version);
                    d.putObject("paths");
                    d.putObject("components").putObject("schemas");
                    return d;
                });
                addKind(doc, group, version, kind, plural, namespaced, v.path("schema").path("openAPIV3Schema"));
            }
        }
        return docs;
    }

    private static void addKind(ObjectNode doc, String group, String version, String kind, String plural, boolean namespaced,
            JsonNode schema) {
        String model = modelName(group, version, kind);
        ObjectNode s = schema.isObject() ? ((ObjectNode) schema).deepCopy() : F.objectNode().put("type", "object");
        ObjectNode props = s.has("properties") ? (ObjectNode) s.get("properties") : s.putObject("properties");
        props.putObject("apiVersion").put("type", "string").put("description", "APIVersion of this object.");
        props.putObject("kind").put("type", "string").put("description", "Kind of this object.");
        if (!props.has("metadata")) {
            props.putObject("metadata").put("type", "object").put("description", "Standard object's metadata (ObjectMeta).");
        }
        s.putArray("x-kubernetes-group-version-kind").add(gvk(group, version, kind));
        ((ObjectNode) doc.get("components").get("schemas")).set(model, s);
        String base = "/apis/" + group + "/" + version + (namespaced ? "/namespaces/{namespace}/" : "/") + plural;
        ObjectNode paths = (ObjectNode) doc.get("paths");
        ObjectNode collection = paths.putObject(base);
        collection.set("get", op(group, version, kind, "list", model, false));
        collection.set("post", op(group, version, kind, "post", model, true));
        ObjectNode item = paths.putObject(base + "/{name}");
        item.set("get", op(group, version, kind, "get", model, false));
        item.set("put", op(group, version, kind, "put", model, true));
        item.set("delete", op(group, version, kind, "delete", model, false));
        ObjectNode patch = op(group, version, kind, "patch", model, true);
        ObjectNode content = patch.putObject("requestBody").putObject("content");
        for (String t : new String[] {"application/json-patch+json", "application/merge-patch+json"}) {
            content.putObject(t).putObject("schema").put("type", "object");
        }
        item.set("patch", patch);
    }

    private static ObjectNode gvk(String group, String version, String kind) {
        return F.objectNode().put("group", group).put("version", version).put("kind", kind);
    }

    private static ObjectNode op(String group, String version, String kind, String action, String model, boolean write) {
        ObjectNode o = F.objectNode();
        o.put("operationId", action + kind);
        o.put("x-kubernetes-action", action);
        o.set("x-kubernetes-group-version-kind", gvk(group, version, kind));
        ArrayNode params = o.putArray("parameters");
        if (write) {
            params.addObject().put("name", "fieldValidation").put("in", "query")
                    .put("description", "Strict: unknown fields (per the CRD's schema) are refused; other values are not enforced")
                    .putObject("schema").put("type", "string");
            params.addObject().put("name", "fieldManager").put("in", "query").putObject("schema").put("type", "string");
        }
        if (write && !action.equals("patch")) {
            o.putObject("requestBody").putObject("content").putObject("application/json").putObject("schema")
                    .put("$ref", "#/components/schemas/" + model);
        }
        o.putObject("responses").putObject("200").put("description", "OK").putObject("content").putObject("application/json")
                .putObject("schema").put("$ref", "#/components/schemas/" + model);
        return o;
    }

    private static String hash(JsonNode doc) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(doc.toString().getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(d, 0, 16).toUpperCase();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * {@code /openapi/v2} in kubectl's format (gnostic's openapi_v2.Document, protobuf): swagger "2.0", an info, empty
     * paths, no definitions.
     */
    static byte[] v2EmptyProtobuf() {
        ByteArrayOutputStream info = new ByteArrayOutputStream();
        field(info, 1, "qvirt-sandbox FAKE front door: no OpenAPI v2 schemas (see /openapi/v3)".getBytes(StandardCharsets.UTF_8));
        field(info, 2, "v1".getBytes(StandardCharsets.UTF_8));
        ByteArrayOutputStream doc = new ByteArrayOutputStream();
        field(doc, 1, "2.0".getBytes(StandardCharsets.UTF_8)); // swagger
        field(doc, 2, info.toByteArray()); // info
        field(doc, 8, new byte[0]); // paths
        return doc.toByteArray();
    }

    /** A length-delimited protobuf field (wire type 2). */
    private static void field(ByteArrayOutputStream out, int number, byte[] value) {
        varint(out, (number << 3) | 2);
        varint(out, value.length);
        out.writeBytes(value);
    }

    private static void varint(ByteArrayOutputStream out, int v) {
        while ((v & ~0x7F) != 0) {
            out.write((v & 0x7F) | 0x80);
            v >>>= 7;
        }
        out.write(v);
    }
}
