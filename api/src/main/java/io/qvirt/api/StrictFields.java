package io.qvirt.api;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * kube-apiserver's strict field validation of a VM's or VMI's {@code spec} against KubeVirt's own schema: a field
 * that is in no schema is refused by its path, worded as kube-apiserver words it ({@code unknown field
 * "spec.template.spec.domain.cpuu"}), at every level. qvirt's beans keep unknown fields (so a read-modify-write
 * never drops what another tool wrote), which is why this is checked against KubeVirt's schema, not qvirt's model.
 *
 * <p>The schema ({@code kubevirt-schema-fields.json}) is the field names of KubeVirt's generated CRD validation
 * ({@code pkg/virt-operator/resource/generate/components/validations_generated.go}, kubevirt/kubevirt at
 * d923fdb, 2026-08-22), reduced to a tree: {@code p} the properties of an object, {@code i} an array's items,
 * {@code a} a map's values, {@code x} an object the schema leaves open. {@code status} is not checked (the
 * handler writes it), nor {@code metadata} here (see {@link SpecValidator#validateMetadata}).
 */
public final class StrictFields {
    /** At most this many unknown fields are named: a hostile document gets a bounded answer. */
    static final int MAX_ERRORS = 20;
    private static final JsonNode SCHEMA = load();

    private StrictFields() {
    }

    private static JsonNode load() {
        try (InputStream in = StrictFields.class.getResourceAsStream("kubevirt-schema-fields.json")) {
            if (in == null) {
                throw new IllegalStateException("kubevirt-schema-fields.json is not on the classpath (qvirt-api jar)");
            }
            return KubevirtJson.json().readTree(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Every field of {@code vm.spec} that KubeVirt's schema does not have, by path. */
    public static List<FieldError> unknown(VirtualMachine vm) {
        return unknown(KubevirtJson.toTree(vm).path("spec"), SCHEMA.at("/VirtualMachine/p/spec"));
    }

    /** Every field of {@code vmi.spec} that KubeVirt's schema does not have, by path. */
    public static List<FieldError> unknown(VirtualMachineInstance vmi) {
        return unknown(KubevirtJson.toTree(vmi).path("spec"), SCHEMA.at("/VirtualMachineInstance/p/spec"));
    }

    private static List<FieldError> unknown(JsonNode spec, JsonNode schema) {
        List<FieldError> out = new ArrayList<>();
        if (!spec.isMissingNode() && !spec.isNull()) {
            walk(spec, schema, "spec", out);
        }
        return out;
    }

    private static void walk(JsonNode node, JsonNode schema, String path, List<FieldError> out) {
        if (out.size() >= MAX_ERRORS || schema.has("x")) {
            return;
        }
        if (node.isArray() && schema.has("i")) {
            for (int i = 0; i < node.size(); i++) {
                walk(node.get(i), schema.get("i"), path + "[" + i + "]", out);
            }
            return;
        }
        if (!node.isObject()) {
            return; // a wrong type is the validators' to name
        }
        JsonNode props = schema.get("p");
        JsonNode values = schema.get("a");
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext() && out.size() < MAX_ERRORS; ) {
            Map.Entry<String, JsonNode> e = it.next();
            String at = path + "." + shown(e.getKey());
            if (props != null && props.has(e.getKey())) {
                walk(e.getValue(), props.get(e.getKey()), at, out);
            } else if (values != null) {
                walk(e.getValue(), values, at, out);
            } else if (props != null) {
                out.add(new FieldError(at, "unknown field \"" + at + "\""));
            }
        }
    }

    /** A key is the user's text: shown without control characters, at most 100 of them. */
    private static String shown(String key) {
        String s = key.replaceAll("\\p{Cntrl}", "?");
        return s.length() > 100 ? s.substring(0, 100) + "..." : s;
    }
}
