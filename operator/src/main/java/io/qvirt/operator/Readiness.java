package io.qvirt.operator;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Whether a Deployment or DaemonSet reports ready, as its controller writes it: the status is of the current
 * generation, and every wanted pod is updated, ready and available. A CustomResourceDefinition is ready once
 * Established (its kind served). Any other kind is ready as soon as it exists.
 */
final class Readiness {
    private Readiness() {
    }

    static boolean ready(JsonNode o) {
        JsonNode st = o.path("status");
        long generation = o.path("metadata").path("generation").asLong(0);
        boolean workload = "Deployment".equals(o.path("kind").asText()) || "DaemonSet".equals(o.path("kind").asText());
        if (workload && generation > 0 && st.path("observedGeneration").asLong(-1) < generation) {
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
            // The API server serves a CRD's kind once its apiextensions controller has set Established.
            case "CustomResourceDefinition" -> {
                for (JsonNode c : st.path("conditions")) {
                    if ("Established".equals(c.path("type").asText()) && "True".equals(c.path("status").asText())) {
                        yield true;
                    }
                }
                yield false;
            }
            default -> true;
        };
    }
}
