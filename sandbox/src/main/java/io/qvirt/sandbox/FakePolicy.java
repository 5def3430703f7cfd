package io.qvirt.sandbox;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * FAKE authorization for the rig: fabric8's mock API server has no authorizer, so the front door answers
 * SubjectAccessReviews with this, NOT with Kubernetes RBAC. Its users are the kubeconfig's ({@link #USERS}):
 * {@code sandbox-admin} (groups system:masters) may do anything; {@code sandbox-user} stands for a namespace user
 * bound to {@code kubevirt.io:edit} in {@code default} only, so anything it asks elsewhere is denied. Tests add
 * refusals in the policy file ({@code DIR/fake-policy}, re-read at each review), one per line:
 * {@code deny USER RESOURCE[/SUBRESOURCE] [NAMESPACE]} ({@code *} matches anything). Everything else is allowed.
 */
final class FakePolicy {
    static final String ADMIN_TOKEN = "qvirt-sandbox-admin";
    static final String USER_TOKEN = "qvirt-sandbox-user";
    static final Map<String, SandboxFrontDoor.Identity> USERS = Map.of(
            ADMIN_TOKEN, new SandboxFrontDoor.Identity("sandbox-admin", List.of("system:masters", "system:authenticated")),
            USER_TOKEN, new SandboxFrontDoor.Identity("sandbox-user", List.of("system:authenticated")));
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path file;

    FakePolicy(Path file) {
        this.file = file;
    }

    /** Answers a SubjectAccessReview body (the review with its status). */
    byte[] review(byte[] body, ComponentLog log) {
        try {
            ObjectNode sar = (ObjectNode) JSON.readTree(body);
            JsonNode spec = sar.path("spec");
            String user = spec.path("user").asText("");
            JsonNode ra = spec.path("resourceAttributes");
            String ns = ra.path("namespace").asText("");
            String what = ra.path("resource").asText("") + (ra.path("subresource").asText("").isEmpty() ? ""
                    : "/" + ra.path("subresource").asText());
            String why = denial(user, ns, what);
            ObjectNode st = sar.putObject("status");
            st.put("allowed", why == null);
            if (why != null) {
                st.put("reason", why);
            }
            log.info("FAKE SubjectAccessReview: " + user + " " + ra.path("verb").asText() + " " + what + " in " + ns + ": "
                    + (why == null ? "allowed" : "denied (" + why + ")"));
            return JSON.writeValueAsBytes(sar);
        } catch (IOException | ClassCastException e) {
            return SandboxFrontDoor.status(400, "BadRequest", "not a SubjectAccessReview: " + e.getMessage());
        }
    }

    /** Why {@code user} may not, or null. */
    String denial(String user, String ns, String what) {
        if (user.equals("sandbox-user") && !ns.equals("default")) {
            return "FAKE policy: sandbox-user is bound to kubevirt.io:edit in namespace default only";
        }
        for (String[] rule : rules()) {
            if (matches(rule[1], user) && matches(rule[2], what) && (rule.length < 4 || matches(rule[3], ns))) {
                return "FAKE policy: " + String.join(" ", rule);
            }
        }
        return null;
    }

    private static boolean matches(String pattern, String value) {
        return pattern.equals("*") || pattern.equals(value);
    }

    private List<String[]> rules() {
        List<String[]> out = new ArrayList<>();
        if (file == null || !Files.isRegularFile(file)) {
            return out;
        }
        try {
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                String[] p = line.trim().split("\\s+");
                if (p.length >= 3 && p[0].equals("deny")) {
                    out.add(p);
                }
            }
        } catch (IOException e) {
            // unreadable: no extra rules
        }
        return out;
    }
}
