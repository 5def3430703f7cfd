package io.qvirt.apiserver;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.NullNode;
import java.nio.charset.StandardCharsets;

/**
 * The subresources' request bodies ({@code StartOptions}, {@code StopOptions}, {@code RestartOptions},
 * {@code MigrateOptions}, {@code PauseOptions}): JSON, optional (an empty body is all defaults), unknown fields
 * ignored as Go's decoder does, a wrong type refused with KubeVirt's
 * {@code Can not unmarshal Request body to struct, error: ...} as a 400.
 */
record Options(boolean paused, Long gracePeriod, boolean dryRun) {
    /** Bounded JSON: small documents only (these bodies are a few fields). */
    static final ObjectMapper JSON = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .disable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
            .build();

    static {
        JSON.getFactory().setStreamReadConstraints(StreamReadConstraints.builder()
                .maxNestingDepth(64).maxStringLength(1 << 20).maxNumberLength(100).build());
    }

    static final Options NONE = new Options(false, null, false);

    /**
     * Parses {@code body} for a subresource; {@code graceField} is {@code gracePeriod} (stop) or
     * {@code gracePeriodSeconds} (restart), null where there is none.
     */
    static Options parse(byte[] body, String graceField) {
        String text = new String(body, StandardCharsets.UTF_8).strip();
        if (text.isEmpty()) {
            return NONE;
        }
        JsonNode n;
        try {
            n = JSON.readTree(text);
        } catch (JsonProcessingException e) {
            throw bad(e.getOriginalMessage());
        }
        if (n == null || n instanceof NullNode) {
            return NONE;
        }
        if (!n.isObject()) {
            throw bad("json: cannot unmarshal " + jsonType(n) + " into Go value of type options");
        }
        JsonNode p = n.get("paused");
        if (p != null && !p.isNull() && !p.isBoolean()) {
            throw bad("json: cannot unmarshal " + jsonType(p) + " into Go struct field .paused of type bool");
        }
        Long grace = null;
        if (graceField != null) {
            JsonNode g = n.get(graceField);
            if (g != null && !g.isNull()) {
                if (!g.isIntegralNumber() || !g.canConvertToLong()) {
                    throw bad("json: cannot unmarshal " + jsonType(g) + " into Go struct field ." + graceField + " of type int64");
                }
                grace = g.longValue();
            }
        }
        boolean dry = false;
        JsonNode d = n.get("dryRun");
        if (d != null && !d.isNull()) {
            if (!d.isArray()) {
                throw bad("json: cannot unmarshal " + jsonType(d) + " into Go struct field .dryRun of type []string");
            }
            for (JsonNode x : d) {
                if (!x.isTextual()) {
                    throw bad("json: cannot unmarshal " + jsonType(x) + " into Go struct field .dryRun of type string");
                }
            }
            // metav1.DryRunAll; the API server refuses any other value, so does qvirt.
            if (d.size() > 0) {
                if (d.size() != 1 || !"All".equals(d.get(0).asText())) {
                    throw ApiError.badRequest("dryRun: Unsupported value: " + d + ": supported values: \"All\"");
                }
                dry = true;
            }
        }
        return new Options(p != null && p.asBoolean(), grace, dry);
    }

    private static ApiError bad(String why) {
        return ApiError.badRequest("Can not unmarshal Request body to struct, error: " + why);
    }

    private static String jsonType(JsonNode n) {
        if (n.isTextual()) {
            return "string";
        }
        if (n.isNumber()) {
            return "number";
        }
        if (n.isBoolean()) {
            return "bool";
        }
        if (n.isArray()) {
            return "array";
        }
        return "object";
    }
}
