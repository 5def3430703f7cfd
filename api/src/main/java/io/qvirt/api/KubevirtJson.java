package io.qvirt.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import java.io.UncheckedIOException;

/**
 * The Jackson mappers qvirt reads and writes KubeVirt objects with: absent fields stay absent
 * ({@code NON_NULL}), unknown fields are kept by the beans, nothing fails on an unknown property.
 * Thread-safe; share them.
 */
public final class KubevirtJson {
    private static final ObjectMapper JSON = configure(new ObjectMapper());
    private static final ObjectMapper YAML = configure(new ObjectMapper(YAMLFactory.builder()
            .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
            .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
            .enable(YAMLGenerator.Feature.INDENT_ARRAYS_WITH_INDICATOR)
            .build()));

    private KubevirtJson() {
    }

    private static ObjectMapper configure(ObjectMapper m) {
        m.setSerializationInclusion(JsonInclude.Include.NON_NULL);
        m.disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
        m.disable(SerializationFeature.FAIL_ON_EMPTY_BEANS);
        m.enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);
        return m;
    }

    /** The JSON mapper. */
    public static ObjectMapper json() {
        return JSON;
    }

    /** The YAML mapper (no {@code ---} marker, quotes only where needed). */
    public static ObjectMapper yaml() {
        return YAML;
    }

    /** {@code value} as compact JSON. */
    public static String toJson(Object value) {
        try {
            return JSON.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** {@code value} as YAML. */
    public static String toYaml(Object value) {
        try {
            return YAML.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** {@code value} as a JSON tree. */
    public static JsonNode toTree(Object value) {
        return JSON.valueToTree(value);
    }

    /** A deep copy through JSON, keeping unknown fields. */
    public static <T> T deepCopy(T value, Class<T> type) {
        try {
            return JSON.treeToValue(JSON.valueToTree(value), type);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }
}
