package io.qvirt.apiserver;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Optional;
import java.util.logging.Logger;

/**
 * KubeVirt's pod eviction admitter ({@code virt-launcher-eviction-interceptor.kubevirt.io} on {@code pods/eviction}):
 * a node drain that evicts a running launcher pod whose VMI should live-migrate is refused with 429 (the drain retries)
 * and the VMI is marked with {@code status.evacuationNodeName}, from which the controller's evacuation creates the
 * migration. Every other eviction passes. Strategies, the VMI's {@code spec.evictionStrategy} else the KubeVirt CR's
 * {@code configuration.evictionStrategy}: {@code LiveMigrate} (refused with a reason if the VMI is not migratable),
 * {@code LiveMigrateIfPossible} (evicted if it is not), {@code External} (marked only), {@code None} or unset (evicted).
 */
final class PodEvictionAdmitter {
    private static final Logger LOG = Logger.getLogger(PodEvictionAdmitter.class.getName());
    static final String PATH = "/pod-eviction-validate";
    /** KubeVirt's {@code DomainAnnotation} on the launcher pod: the VMI it runs. */
    static final String DOMAIN_ANNOTATION = "kubevirt.io/domain";
    private static final String EVICTION_FMT = "Eviction triggered evacuation of VMI \"%s/%s\"";

    private final MigrationLookup lookup;

    PodEvictionAdmitter(MigrationLookup lookup) {
        this.lookup = lookup;
    }

    ObjectNode admit(Admission.Review r) {
        Optional<JsonNode> found;
        try {
            found = lookup.pod(r.namespace(), r.name());
        } catch (MigrationLookup.MigrationLookupException e) {
            return Admission.allowed(); // KubeVirt: a pod it cannot read is not its to hold back
        }
        if (found.isEmpty()) {
            return Admission.allowed();
        }
        JsonNode pod = found.get();
        boolean launcher = "virt-launcher".equals(pod.path("metadata").path("labels").path("kubevirt.io").asText());
        String podPhase = pod.path("status").path("phase").asText("");
        if (!launcher || podPhase.equals("Succeeded") || podPhase.equals("Failed")) {
            return Admission.allowed();
        }
        String vmiName = pod.path("metadata").path("annotations").path(DOMAIN_ANNOTATION).asText("");
        if (vmiName.isEmpty()) {
            return Admission.allowed();
        }
        JsonNode vmi;
        try {
            Optional<JsonNode> v = lookup.vmi(r.namespace(), vmiName);
            if (v.isEmpty()) {
                return denied("kubevirt failed getting the vmi: virtualmachineinstances.kubevirt.io \"" + vmiName + "\" not found");
            }
            vmi = v.get();
        } catch (MigrationLookup.MigrationLookupException e) {
            return denied("kubevirt failed getting the vmi: " + e.getMessage());
        }
        String strategy = vmi.path("spec").path("evictionStrategy").asText("");
        if (strategy.isEmpty()) {
            strategy = lookup.clusterEvictionStrategy() == null ? "" : lookup.clusterEvictionStrategy();
        }
        boolean migratable = false;
        for (JsonNode c : vmi.path("status").path("conditions")) {
            if (c.path("type").asText().equals("LiveMigratable")) {
                migratable = c.path("status").asText().equals("True");
            }
        }
        if (strategy.equals("LiveMigrate") && !migratable) {
            return denied("VMI " + vmiName + " is configured with an eviction strategy but is not live-migratable");
        }
        boolean mark = switch (strategy) {
            case "LiveMigrate", "External" -> true;
            case "LiveMigrateIfPossible" -> migratable;
            default -> false;
        };
        if (!mark) {
            return Admission.allowed();
        }
        String ns = vmi.path("metadata").path("namespace").asText(r.namespace());
        String node = pod.path("spec").path("nodeName").asText("");
        if (!vmi.path("status").path("evacuationNodeName").asText("").isEmpty()) {
            return denied("Evacuation in progress: " + String.format(EVICTION_FMT, ns, vmiName));
        }
        if (!node.equals(vmi.path("status").path("nodeName").asText(""))) {
            return denied("Eviction request for target Pod");
        }
        boolean dryRun = r.dryRun() || (r.object() != null
                && "All".equals(r.object().path("deleteOptions").path("dryRun").path(0).asText("")));
        try {
            lookup.markForEvacuation(ns, vmiName, node, dryRun);
        } catch (MigrationLookup.MigrationLookupException e) {
            return denied("kubevirt failed marking the vmi for eviction: " + e.getMessage());
        }
        LOG.info("eviction of launcher pod " + ns + "/" + r.name() + " refused: VMI " + vmiName + " marked to leave " + node
                + (dryRun ? " (dry run: not written)" : ""));
        return denied(String.format(EVICTION_FMT, ns, vmiName));
    }

    /** KubeVirt's {@code denied}: code 429 (TooManyRequests), so a drain waits and tries again. */
    private static ObjectNode denied(String message) {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("allowed", false);
        ObjectNode s = o.putObject("status");
        s.put("message", message);
        s.put("code", 429);
        return o;
    }
}
