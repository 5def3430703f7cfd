package io.qvirt.operator;

import com.fasterxml.jackson.databind.JsonNode;
import io.qvirt.api.KubevirtJson;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Offline checks of manifests against what an API server accepts (no API server runs here): objects against
 * Kubernetes' published OpenAPI (v2) document, unknown fields refused; custom resources against their CRD's schema;
 * CRD schemas against the API server's structural-schema rules.
 */
final class OpenApiValidation {
    private final JsonNode definitions;
    private final Map<String, String> byGvk = new HashMap<>();

    /** @param document the Kubernetes OpenAPI v2 document (e.g. {@code ../shared/k8s-openapi/openapi-1.28.0.json}) */
    OpenApiValidation(Path document) throws IOException {
        try (java.io.InputStream in = document.toString().endsWith(".gz")
                ? new java.util.zip.GZIPInputStream(java.nio.file.Files.newInputStream(document))
                : java.nio.file.Files.newInputStream(document)) {
            definitions = KubevirtJson.json().readTree(in).path("definitions");
        }
        definitions.properties().forEach(e -> e.getValue().path("x-kubernetes-group-version-kind").forEach(g ->
                byGvk.put(g.path("group").asText() + "/" + g.path("version").asText() + "/" + g.path("kind").asText(), e.getKey())));
    }

    /** Every error of {@code object} (a built-in kind) against the document; empty if it is accepted. */
    List<String> validate(JsonNode object) {
        String apiVersion = object.path("apiVersion").asText();
        String group = apiVersion.contains("/") ? apiVersion.substring(0, apiVersion.indexOf('/')) : "";
        String version = apiVersion.substring(apiVersion.indexOf('/') + 1);
        String def = byGvk.get(group + "/" + version + "/" + object.path("kind").asText());
        List<String> errors = new ArrayList<>();
        String where = object.path("kind").asText() + " " + object.path("metadata").path("name").asText();
        if (def == null) {
            errors.add(where + ": kind " + apiVersion + " " + object.path("kind").asText() + " unknown to the API server");
            return errors;
        }
        check(object, definitions.path(def), where, errors, false);
        return errors;
    }

    /**
     * Every error of {@code object} against an OpenAPI v3 schema of a CRD (unknown fields refused unless
     * x-kubernetes-preserve-unknown-fields).
     */
    static List<String> validateAgainstCrd(JsonNode object, JsonNode openApiV3Schema) {
        List<String> errors = new ArrayList<>();
        new OpenApiValidation().check(object, openApiV3Schema, object.path("kind").asText(), errors, true);
        return errors;
    }

    private OpenApiValidation() {
        definitions = KubevirtJson.json().createObjectNode();
    }

    private void check(JsonNode node, JsonNode schema, String path, List<String> errors, boolean v3) {
        if (schema.has("$ref")) {
            String ref = schema.path("$ref").asText().replace("#/definitions/", "");
            if (ref.equals("io.k8s.apimachinery.pkg.api.resource.Quantity")) {
                if (!node.isTextual() && !node.isNumber()) {
                    errors.add(path + ": a quantity must be a string or a number, not " + node.getNodeType());
                }
                return;
            }
            check(node, definitions.path(ref), path, errors, v3);
            return;
        }
        if (node.isNull() && schema.path("nullable").asBoolean(false)) {
            return;
        }
        if ("int-or-string".equals(schema.path("format").asText()) || schema.path("x-kubernetes-int-or-string").asBoolean()) {
            if (!node.isTextual() && !node.isIntegralNumber()) {
                errors.add(path + ": must be an integer or a string");
            }
            return;
        }
        String type = schema.path("type").asText("");
        switch (type) {
            case "object" -> {
                if (!node.isObject()) {
                    errors.add(path + ": must be an object, not " + node.getNodeType());
                    return;
                }
                JsonNode props = schema.path("properties");
                boolean preserve = schema.path("x-kubernetes-preserve-unknown-fields").asBoolean(false);
                for (Map.Entry<String, JsonNode> f : node.properties()) {
                    String p = path + "." + f.getKey();
                    if (props.has(f.getKey())) {
                        check(f.getValue(), props.get(f.getKey()), p, errors, v3);
                    } else if (schema.has("additionalProperties") && schema.path("additionalProperties").isObject()) {
                        check(f.getValue(), schema.path("additionalProperties"), p, errors, v3);
                    } else if (!preserve && (props.size() > 0 || v3) && !(v3 && path.endsWith(".metadata"))) {
                        errors.add(p + ": unknown field");
                    }
                }
                for (JsonNode r : schema.path("required")) {
                    if (!node.has(r.asText())) {
                        errors.add(path + ": required field " + r.asText() + " missing");
                    }
                }
            }
            case "array" -> {
                if (!node.isArray()) {
                    errors.add(path + ": must be an array, not " + node.getNodeType());
                    return;
                }
                for (int i = 0; i < node.size(); i++) {
                    check(node.get(i), schema.path("items"), path + "[" + i + "]", errors, v3);
                }
            }
            case "string" -> {
                if (!node.isTextual()) {
                    errors.add(path + ": must be a string, not " + node.getNodeType() + " (" + node + ")");
                } else if ("byte".equals(schema.path("format").asText())) {
                    try {
                        Base64.getDecoder().decode(node.asText());
                    } catch (IllegalArgumentException e) {
                        errors.add(path + ": not base64");
                    }
                }
            }
            case "integer" -> {
                if (!node.isIntegralNumber()) {
                    errors.add(path + ": must be an integer, not " + node.getNodeType());
                }
            }
            case "number" -> {
                if (!node.isNumber()) {
                    errors.add(path + ": must be a number");
                }
            }
            case "boolean" -> {
                if (!node.isBoolean()) {
                    errors.add(path + ": must be a boolean, not " + node.getNodeType() + " (" + node + ")");
                }
            }
            default -> { } // no type: any JSON (JSONSchemaProps, RawExtension, ...)
        }
        if (schema.has("enum") && node.isValueNode()) {
            boolean found = false;
            for (JsonNode e : schema.path("enum")) {
                found |= e.asText().equals(node.asText());
            }
            if (!found) {
                errors.add(path + ": " + node.asText() + " is not one of " + schema.path("enum"));
            }
        }
    }

    /** The API server's structural-schema rules (apiextensions v1) for every version of {@code crd}; empty if met. */
    static List<String> structuralErrors(JsonNode crd) {
        List<String> errors = new ArrayList<>();
        String name = crd.path("metadata").path("name").asText();
        int storage = 0;
        for (JsonNode v : crd.path("spec").path("versions")) {
            storage += v.path("storage").asBoolean() ? 1 : 0;
            JsonNode root = v.path("schema").path("openAPIV3Schema");
            String where = name + " " + v.path("name").asText();
            if (root.isMissingNode()) {
                errors.add(where + ": no openAPIV3Schema");
                continue;
            }
            if (!"object".equals(root.path("type").asText())) {
                errors.add(where + ": the root must be of type object");
            }
            JsonNode meta = root.path("properties").path("metadata");
            if (!meta.isMissingNode()) {
                Set<String> allowed = Set.of("type", "properties", "description");
                meta.fieldNames().forEachRemaining(f -> {
                    if (!allowed.contains(f)) {
                        errors.add(where + ": metadata may only restrict name and generateName, not " + f);
                    }
                });
                meta.path("properties").fieldNames().forEachRemaining(f -> {
                    if (!Set.of("name", "generateName").contains(f)) {
                        errors.add(where + ": metadata." + f + " may not be specified");
                    }
                });
            }
            structural(root, where, errors, true);
        }
        if (storage != 1) {
            errors.add(name + ": " + storage + " storage versions (exactly one allowed)");
        }
        return errors;
    }

    private static void structural(JsonNode s, String path, List<String> errors, boolean typeRequired) {
        boolean intOrString = s.path("x-kubernetes-int-or-string").asBoolean(false);
        boolean preserve = s.path("x-kubernetes-preserve-unknown-fields").asBoolean(false);
        String type = s.path("type").asText("");
        if (typeRequired && type.isEmpty() && !intOrString && !preserve) {
            errors.add(path + ": no type");
        }
        if (!type.isEmpty() && !Set.of("object", "array", "string", "integer", "number", "boolean").contains(type)) {
            errors.add(path + ": type " + type + " is not allowed");
        }
        if (s.has("$ref")) {
            errors.add(path + ": $ref is not allowed");
        }
        if (s.has("properties") && s.has("additionalProperties")) {
            errors.add(path + ": properties and additionalProperties are mutually exclusive");
        }
        if (preserve && !type.isEmpty() && !"object".equals(type)) {
            errors.add(path + ": x-kubernetes-preserve-unknown-fields on a non-object");
        }
        if (s.has("x-kubernetes-list-type") && !"array".equals(type)) {
            errors.add(path + ": x-kubernetes-list-type on a non-array");
        }
        if (s.has("x-kubernetes-map-type") && !"object".equals(type)) {
            errors.add(path + ": x-kubernetes-map-type on a non-object");
        }
        if (intOrString && !type.isEmpty()) {
            errors.add(path + ": x-kubernetes-int-or-string with a type");
        }
        for (String junctor : List.of("allOf", "anyOf", "oneOf", "not")) {
            JsonNode j = s.path(junctor);
            List<JsonNode> branches = new ArrayList<>();
            if (j.isArray()) {
                j.forEach(branches::add);
            } else if (j.isObject()) {
                branches.add(j);
            }
            for (JsonNode b : branches) {
                // Only value validations inside a junctor; int-or-string's anyOf of the two types is the exception.
                boolean intOrStringBranch = intOrString && b.size() == 1 && Set.of("integer", "string").contains(b.path("type").asText());
                for (String banned : List.of("type", "description", "default", "additionalProperties", "nullable")) {
                    if (b.has(banned) && !intOrStringBranch) {
                        errors.add(path + "." + junctor + ": " + banned + " is not allowed inside " + junctor);
                    }
                }
            }
        }
        s.path("properties").properties().forEach(e -> structural(e.getValue(), path + "." + e.getKey(), errors, true));
        if (s.path("additionalProperties").isObject()) {
            structural(s.path("additionalProperties"), path + ".*", errors, true);
        }
        if (s.has("items")) {
            if (!s.path("items").isObject()) {
                errors.add(path + ": items must be one schema");
            } else {
                structural(s.path("items"), path + "[]", errors, true);
            }
        } else if ("array".equals(type)) {
            errors.add(path + ": an array without items");
        }
    }
}
