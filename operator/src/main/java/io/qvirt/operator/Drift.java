package io.qvirt.operator;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Map;

/**
 * Whether an installed object still says what the operator wants: every field the operator sets must be there with
 * its value, while what the API server adds (defaults, status, clusterIP, ...) is left alone. Lists must have the
 * same length, element by element.
 */
final class Drift {
    private Drift() {
    }

    /** True if {@code actual} differs from {@code desired} in a field the operator sets (metadata: labels, annotations). */
    static boolean drifted(JsonNode desired, JsonNode actual) {
        for (Map.Entry<String, JsonNode> f : desired.properties()) {
            switch (f.getKey()) {
                case "apiVersion", "kind", "status" -> { }
                case "metadata" -> {
                    for (String m : new String[] {"labels", "annotations"}) {
                        if (f.getValue().has(m) && !contains(actual.path("metadata").path(m), f.getValue().get(m))) {
                            return true;
                        }
                    }
                }
                default -> {
                    if (!contains(actual.path(f.getKey()), f.getValue())) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    /** Whether {@code actual} holds everything of {@code desired}. */
    static boolean contains(JsonNode actual, JsonNode desired) {
        if (desired.isObject()) {
            if (!actual.isObject()) {
                return false;
            }
            for (Map.Entry<String, JsonNode> f : desired.properties()) {
                if (f.getValue().isNull()) {
                    continue;
                }
                if (!contains(actual.path(f.getKey()), f.getValue())) {
                    return false;
                }
            }
            return true;
        }
        if (desired.isArray()) {
            if (!actual.isArray() || actual.size() != desired.size()) {
                return false;
            }
            for (int i = 0; i < desired.size(); i++) {
                if (!contains(actual.get(i), desired.get(i))) {
                    return false;
                }
            }
            return true;
        }
        if (desired.isNumber()) {
            return actual.isNumber() && actual.decimalValue().compareTo(desired.decimalValue()) == 0;
        }
        return actual.isValueNode() && actual.getNodeType() == desired.getNodeType() && actual.asText().equals(desired.asText());
    }
}
