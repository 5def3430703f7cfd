package io.qvirt.sandbox;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * kube-apiserver's {@code fieldValidation=Strict} for custom resources, which fabric8's mock does not do: the fields of
 * a created, updated or merge-patched object that its CRD's structural schema does not declare. A level with
 * {@code x-kubernetes-preserve-unknown-fields} keeps unknown fields (KubeVirt's CRDs mark most levels so, and so does
 * kube-apiserver then); the root and embedded resources always allow apiVersion, kind and metadata, and metadata is
 * checked against ObjectMeta's fields. In a merge patch a null removes a field and is never unknown.
 */
final class StrictFields {
    private static final Set<String> OBJECT_META = Set.of("name", "generateName", "namespace", "selfLink", "uid",
            "resourceVersion", "generation", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "labels",
            "annotations", "ownerReferences", "finalizers", "managedFields");

    private StrictFields() {
    }

    /** The paths (spec.template.foo, dotted as kube-apiserver prints them) of the unknown fields in {@code object}. */
    static List<String> unknown(JsonNode object, JsonNode schema) {
        List<String> out = new ArrayList<>();
        walkResource(object, schema, "", out);
        return out;
    }

    /**
     * kube-apiserver's message for a strict decoding failure, e.g. {@code VirtualMachine in version "v1" cannot be
     * handled as a VirtualMachine: strict decoding error: unknown field "spec.foo"}.
     */
    static String message(String kind, String version, List<String> unknown) {
        StringBuilder b = new StringBuilder(kind + " in version \"" + version + "\" cannot be handled as a " + kind
                + ": strict decoding error: ");
        for (int i = 0; i < unknown.size(); i++) {
            b.append(i == 0 ? "" : ", ").append("unknown field \"").append(unknown.get(i)).append('"');
        }
        return b.toString();
    }

    private static void walkResource(JsonNode object, JsonNode schema, String path, List<String> out) {
        if (!object.isObject()) {
            return;
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = object.fields(); it.hasNext();) {
            Map.Entry<String, JsonNode> f = it.next();
            String p = path.isEmpty() ? f.getKey() : path + "." + f.getKey();
            if (f.getValue().isNull()) {
                continue;
            }
            switch (f.getKey()) {
                case "apiVersion", "kind":
                    continue;
                case "metadata":
                    if (f.getValue().isObject()) {
                        f.getValue().fieldNames().forEachRemaining(n -> {
                            if (!OBJECT_META.contains(n)) {
                                out.add(p + "." + n);
                            }
                        });
                    }
                    continue;
                default:
                    field(f.getKey(), f.getValue(), schema, p, out);
            }
        }
    }

    private static void walk(JsonNode value, JsonNode schema, String path, List<String> out) {
        if (schema == null || schema.isMissingNode() || value.isNull()) {
            return;
        }
        if (schema.path("x-kubernetes-embedded-resource").asBoolean()) {
            walkResource(value, schema, path, out);
            return;
        }
        if (value.isArray()) {
            JsonNode items = schema.path("items");
            for (int i = 0; i < value.size(); i++) {
                walk(value.get(i), items, path + "[" + i + "]", out);
            }
            return;
        }
        if (value.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = value.fields(); it.hasNext();) {
                Map.Entry<String, JsonNode> f = it.next();
                field(f.getKey(), f.getValue(), schema, path + "." + f.getKey(), out);
            }
        }
    }

    private static void field(String name, JsonNode value, JsonNode schema, String path, List<String> out) {
        if (value.isNull()) {
            return;
        }
        JsonNode declared = schema.path("properties").path(name);
        if (!declared.isMissingNode()) {
            walk(value, declared, path, out);
            return;
        }
        JsonNode additional = schema.path("additionalProperties");
        if (additional.isObject()) {
            walk(value, additional, path, out);
            return;
        }
        if (additional.asBoolean(false) || schema.path("x-kubernetes-preserve-unknown-fields").asBoolean()) {
            return;
        }
        out.add(path);
    }
}
