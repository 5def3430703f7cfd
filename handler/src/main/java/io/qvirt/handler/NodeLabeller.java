package io.qvirt.handler;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.qvirt.kvmprobe.ProbeReport;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Puts kvm-probe's labels on this handler's Node, as KubeVirt's node labeller does: sets every label of
 * {@link ProbeReport#nodeLabels(boolean)} and removes the labels it owns ({@code qvirt.io/kvm-*},
 * {@code cpu-feature.node.kubevirt.io/*}) that the report no longer gives, so a node that lost KVM stops
 * advertising its CPU features. Labels of anyone else are left alone. Written as a patch of
 * {@code metadata.labels} only: no update of the whole Node, so no resourceVersion conflict with the
 * kubelet's own frequent Node writes.
 */
public final class NodeLabeller {
    static final List<String> OWNED_PREFIXES = List.of(ProbeReport.LABEL_CPU_FEATURE_PREFIX, "qvirt.io/kvm-");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final KubernetesClient client;
    private final String nodeName;

    public NodeLabeller(KubernetesClient client, String nodeName) {
        this.client = client;
        this.nodeName = nodeName;
    }

    /**
     * Brings the Node's labels in line with {@code labels}.
     *
     * @return the changes sent (label -> value, or null for a removal); empty if the Node already had them
     * @throws IllegalStateException if the Node does not exist
     */
    public Map<String, String> apply(Map<String, String> labels) {
        Node node = client.nodes().withName(nodeName).get();
        if (node == null) {
            throw new IllegalStateException("node " + nodeName + " not found (is --node-name / $NODE_NAME this node's name?)");
        }
        Map<String, String> current = node.getMetadata().getLabels() == null ? Map.of() : node.getMetadata().getLabels();
        Map<String, String> changes = new LinkedHashMap<>();
        labels.forEach((k, v) -> {
            if (!v.equals(current.get(k))) {
                changes.put(k, v);
            }
        });
        for (String k : current.keySet()) {
            if (!labels.containsKey(k) && OWNED_PREFIXES.stream().anyMatch(k::startsWith)) {
                changes.put(k, null);
            }
        }
        if (changes.isEmpty()) {
            return changes;
        }
        // JSON Patch (RFC 6902), not merge patch: fabric8's mock API server keeps a merge patch's nulls as
        // values where the real API server removes the keys. A removal of a label that someone else removed
        // meanwhile fails the patch (422); the next re-probe recomputes and sends it again.
        ArrayNode patch = JSON.createArrayNode();
        if (current.isEmpty()) {
            // No labels seen: the labels object may be absent, and "add" to it would replace any that appeared
            // since the read; the resourceVersion it was read at makes that a conflict (409), retried at the next
            // probe. (A "test" op would mean the same on a real API server, but fabric8's mock never answers a
            // failed test.)
            patch.addObject().put("op", "replace").put("path", "/metadata/resourceVersion")
                    .put("value", node.getMetadata().getResourceVersion());
            patch.addObject().put("op", "add").put("path", "/metadata/labels").putObject("value");
        }
        changes.forEach((k, v) -> {
            String path = "/metadata/labels/" + k.replace("~", "~0").replace("/", "~1");
            if (v == null) {
                patch.addObject().put("op", "remove").put("path", path);
            } else {
                patch.addObject().put("op", "add").put("path", path).put("value", v);
            }
        });
        client.nodes().withName(nodeName).patch(PatchContext.of(PatchType.JSON), patch.toString());
        return changes;
    }
}
