package io.qvirt.sandbox;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeCondition;
import io.fabric8.kubernetes.api.model.NodeSelectorRequirement;
import io.fabric8.kubernetes.api.model.NodeSelectorTerm;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.qvirt.api.client.ResourcePatcher;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The FAKE scheduler of the rig (the scheduling half of the FAKE node agents, one for all nodes so two nodes
 * never race for a pod): every 200 ms it binds each unscheduled, undeleted pod of the default scheduler to a
 * Ready node whose labels match the pod's {@code nodeSelector} and required node affinity and that has the
 * extended resources the pod asks for (e.g. {@code devices.kubevirt.io/kvm}, as the node agents copy them from the
 * device plugins),
 * choosing the node with the fewest unfinished pods. fabric8's mock does not serve {@code pods/binding}, so
 * binding is a JSON Patch setting {@code spec.nodeName}, guarded by a test of the pod's resourceVersion.
 * A pod no node fits gets {@code PodScheduled=False, reason Unschedulable} with the scheduler's message.
 * CPU and memory are not counted.
 */
public final class FakeScheduler implements AutoCloseable {
    private final KubernetesClient client;
    private final ComponentLog log;
    private final SharedIndexInformer<Pod> pods;
    private final SharedIndexInformer<Node> nodes;
    private final ScheduledExecutorService tick = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "fake-scheduler");
        t.setDaemon(true);
        return t;
    });
    private final Set<String> reportedUnschedulable = new HashSet<>();

    public FakeScheduler(KubernetesClient client, ComponentLog log) {
        this.client = client;
        this.log = log;
        this.pods = client.pods().inAnyNamespace().inform();
        this.nodes = client.nodes().inform();
        tick.scheduleWithFixedDelay(this::scheduleAll, 200, 200, TimeUnit.MILLISECONDS);
        log.info("FAKE scheduler started (binds pods by setting spec.nodeName; the mock API server has no pods/binding)");
    }

    private void scheduleAll() {
        try {
            List<Pod> pending = new ArrayList<>();
            Map<String, Integer> load = new HashMap<>();
            for (Pod p : pods.getStore().list()) {
                String node = p.getSpec().getNodeName();
                String phase = p.getStatus() == null ? null : p.getStatus().getPhase();
                boolean finished = "Succeeded".equals(phase) || "Failed".equals(phase);
                if (node != null && !node.isEmpty()) {
                    if (!finished) {
                        load.merge(node, 1, Integer::sum);
                    }
                } else if (p.getMetadata().getDeletionTimestamp() == null && !finished
                        && (p.getSpec().getSchedulerName() == null || "default-scheduler".equals(p.getSpec().getSchedulerName()))) {
                    pending.add(p);
                }
            }
            pending.sort((a, b) -> String.valueOf(a.getMetadata().getCreationTimestamp())
                    .compareTo(String.valueOf(b.getMetadata().getCreationTimestamp())));
            List<Node> all = new ArrayList<>(nodes.getStore().list());
            all.sort((a, b) -> a.getMetadata().getName().compareTo(b.getMetadata().getName()));
            for (Pod p : pending) {
                schedule(p, all, load);
            }
        } catch (RuntimeException e) {
            log.warn("scheduling pass failed", e);
        }
    }

    private void schedule(Pod pod, List<Node> all, Map<String, Integer> load) {
        Node best = null;
        int selectorMismatch = 0;
        int notReady = 0;
        Map<String, Integer> insufficient = new HashMap<>();
        for (Node n : all) {
            if (!ready(n)) {
                notReady++;
                continue;
            }
            if (!matches(pod, n)) {
                selectorMismatch++;
                continue;
            }
            String missing = missingResource(pod, n);
            if (missing != null) {
                insufficient.merge(missing, 1, Integer::sum);
                continue;
            }
            if (best == null || load.getOrDefault(n.getMetadata().getName(), 0) < load.getOrDefault(best.getMetadata().getName(), 0)) {
                best = n;
            }
        }
        String key = FakeNodeAgent.key(pod);
        if (best == null) {
            if (reportedUnschedulable.add(pod.getMetadata().getUid())) {
                List<String> why = new ArrayList<>();
                if (notReady > 0) {
                    why.add(notReady + " node(s) were not ready");
                }
                if (selectorMismatch > 0) {
                    why.add(selectorMismatch + " node(s) didn't match Pod's node affinity/selector");
                }
                insufficient.forEach((r, k) -> why.add(k + " Insufficient " + r));
                String msg = "0/" + all.size() + " nodes are available: " + String.join(", ", why) + ".";
                log.info("pod " + key + ": unschedulable: " + msg);
                String now = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
                String patch = "[{\"op\":\"add\",\"path\":\"/status\",\"value\":{\"phase\":\"Pending\",\"conditions\":[{\"type\":"
                        + "\"PodScheduled\",\"status\":\"False\",\"reason\":\"Unschedulable\",\"message\":"
                        + io.fabric8.kubernetes.client.utils.Serialization.asJson(msg) + ",\"lastTransitionTime\":\"" + now + "\"}]}}]";
                try {
                    client.pods().inNamespace(pod.getMetadata().getNamespace()).withName(pod.getMetadata().getName())
                            .subresource("status").patch(PatchContext.of(PatchType.JSON), patch);
                } catch (KubernetesClientException e) {
                    log.warn("pod " + key + ": cannot write Unschedulable: " + e.getMessage());
                }
            }
            return;
        }
        String node = best.getMetadata().getName();
        // Guarded by resourceVersion as ResourcePatcher does it (a 409 re-reads the pod from the server and
        // decides again), not by a JSON Patch "test" op: fabric8's mock answers a failed test with no response
        // at all, which held this one scheduling thread for the client's request timeout on every pass.
        try {
            Pod bound = new ResourcePatcher(client).patch(Pod.class, pod, fresh -> {
                boolean taken = fresh.getSpec().getNodeName() != null && !fresh.getSpec().getNodeName().isEmpty();
                if (taken || fresh.getMetadata().getDeletionTimestamp() != null) {
                    return null;
                }
                com.fasterxml.jackson.databind.node.ObjectNode p =
                        com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode();
                p.putObject("spec").put("nodeName", node);
                return p;
            }, false);
            if (bound == null || !node.equals(bound.getSpec().getNodeName())) {
                log.info("pod " + key + ": not bound (gone, deleted or bound meanwhile)");
                return;
            }
            load.merge(node, 1, Integer::sum);
            reportedUnschedulable.remove(pod.getMetadata().getUid());
            log.info("pod " + key + ": bound to " + node + " (spec.nodeName)");
        } catch (KubernetesClientException | io.qvirt.api.client.PatchConflictException e) {
            log.info("pod " + key + ": binding to " + node + " not applied (" + e.getMessage() + "), retrying next pass");
        }
    }

    static boolean ready(Node n) {
        if (n.getStatus() == null || n.getStatus().getConditions() == null) {
            return false;
        }
        for (NodeCondition c : n.getStatus().getConditions()) {
            if ("Ready".equals(c.getType())) {
                return "True".equals(c.getStatus());
            }
        }
        return false;
    }

    /**
     * The pod's {@code nodeSelector} and its required node affinity
     * ({@code affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution}: the node matches one of the terms,
     * a term when all its expressions and fields match) hold for the node. The migration controller keeps a target pod
     * off its source node this way ({@code kubernetes.io/hostname NotIn [source]}).
     */
    static boolean matches(Pod pod, Node n) {
        Map<String, String> labels = n.getMetadata().getLabels() == null ? Map.of() : n.getMetadata().getLabels();
        Map<String, String> sel = pod.getSpec().getNodeSelector();
        if (sel != null) {
            for (Map.Entry<String, String> e : sel.entrySet()) {
                if (!e.getValue().equals(labels.get(e.getKey()))) {
                    return false;
                }
            }
        }
        var affinity = pod.getSpec().getAffinity();
        var required = affinity == null || affinity.getNodeAffinity() == null ? null
                : affinity.getNodeAffinity().getRequiredDuringSchedulingIgnoredDuringExecution();
        if (required == null || required.getNodeSelectorTerms() == null || required.getNodeSelectorTerms().isEmpty()) {
            return true;
        }
        Map<String, String> fields = Map.of("metadata.name", n.getMetadata().getName());
        for (NodeSelectorTerm t : required.getNodeSelectorTerms()) {
            boolean all = (t.getMatchExpressions() != null && !t.getMatchExpressions().isEmpty())
                    || (t.getMatchFields() != null && !t.getMatchFields().isEmpty()); // an empty term matches nothing
            if (t.getMatchExpressions() != null) {
                for (NodeSelectorRequirement r : t.getMatchExpressions()) {
                    all &= holds(r, labels);
                }
            }
            if (t.getMatchFields() != null) {
                for (NodeSelectorRequirement r : t.getMatchFields()) {
                    all &= holds(r, fields);
                }
            }
            if (all) {
                return true;
            }
        }
        return false;
    }

    /** One node selector requirement (In, NotIn, Exists, DoesNotExist, Gt, Lt) against the node's labels or fields. */
    static boolean holds(NodeSelectorRequirement r, Map<String, String> values) {
        String v = values.get(r.getKey());
        List<String> want = r.getValues() == null ? List.of() : r.getValues();
        switch (String.valueOf(r.getOperator())) {
            case "In":
                return v != null && want.contains(v);
            case "NotIn":
                return v == null || !want.contains(v);
            case "Exists":
                return v != null;
            case "DoesNotExist":
                return v == null;
            case "Gt":
            case "Lt":
                try {
                    long have = Long.parseLong(v);
                    long bound = Long.parseLong(want.get(0));
                    return "Gt".equals(r.getOperator()) ? have > bound : have < bound;
                } catch (RuntimeException e) {
                    return false;
                }
            default:
                return false; // kube-apiserver refuses other operators; never schedule on a misread rule
        }
    }

    /** The first extended resource (a name with a '/') the pod requests more of than the node has allocatable. */
    static String missingResource(Pod pod, Node n) {
        Map<String, Quantity> alloc = n.getStatus() == null || n.getStatus().getAllocatable() == null ? Map.of()
                : n.getStatus().getAllocatable();
        for (Container c : pod.getSpec().getContainers()) {
            if (c.getResources() == null) {
                continue;
            }
            Map<String, Quantity> req = new HashMap<>();
            if (c.getResources().getLimits() != null) {
                req.putAll(c.getResources().getLimits());
            }
            if (c.getResources().getRequests() != null) {
                req.putAll(c.getResources().getRequests());
            }
            for (Map.Entry<String, Quantity> e : req.entrySet()) {
                if (!e.getKey().contains("/")) {
                    continue;
                }
                Quantity have = alloc.get(e.getKey());
                if (have == null || have.getNumericalAmount().compareTo(e.getValue().getNumericalAmount()) < 0) {
                    return e.getKey();
                }
            }
        }
        return null;
    }

    @Override
    public void close() {
        tick.shutdownNow();
        try {
            tick.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        pods.close();
        nodes.close();
        log.info("FAKE scheduler stopped");
    }
}
