package io.qvirt.operator;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Whether a Deployment or DaemonSet reports ready, as its controller writes it: the status is of the current
 * generation, and every wanted pod is updated, ready and available.
 */
final class Readiness {
    private Readiness() {
    }

    static boolean ready(JsonNode o) {
        JsonNode st = o.path("status");
        long generation = o.path("metadata").path("generation").asLong(0);
        if (generation > 0 && st.path("observedGeneration").asLong(-1) < generation) {
            return false;
        }
        return switch (o.path("kind").asText()) {
            case "Deployment" -> {
                long want = o.path("spec").path("replicas").asLong(1);
                yield st.path("updatedReplicas").asLong(0) >= want && st.path("readyReplicas").asLong(0) >= want
                        && st.path("availableReplicas").asLong(0) >= want;
            }
            case "DaemonSet" -> {
                if (!st.has("desiredNumberScheduled")) {
                    yield false;
                }
                long want = st.path("desiredNumberScheduled").asLong();
                yield st.path("updatedNumberScheduled").asLong(0) >= want && st.path("numberReady").asLong(0) >= want
                        && st.path("numberAvailable").asLong(0) >= want;
            }
            default -> true;
        };
    }
}
