package io.qvirt.sandbox;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.NodeSelectorRequirement;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The FAKE scheduler's node affinity (what keeps a migration's target pod off its source node) and the FAKE node
 * agent's environment for a container (the migration target's {@code QVIRT_MIGRATION_TARGET} reaches the launcher).
 */
class FakeSchedulerAffinityTest {
    private static Node node(String name) {
        return new NodeBuilder().withNewMetadata().withName(name)
                .withLabels(Map.of("kubernetes.io/hostname", name, "kubevirt.io/schedulable", "true")).endMetadata().build();
    }

    /** A migration target pod as the controller makes it: nodeSelector plus hostname NotIn [source]. */
    private static Pod target(String source) {
        return new PodBuilder().withNewMetadata().withName("virt-launcher-vm-x").withNamespace("ns")
                .withLabels(Map.of("kubevirt.io/migrationJobUID", "uid-1")).endMetadata()
                .withNewSpec().withNodeSelector(Map.of("kubevirt.io/schedulable", "true"))
                .withNewAffinity().withNewNodeAffinity().withNewRequiredDuringSchedulingIgnoredDuringExecution()
                .addNewNodeSelectorTerm().addNewMatchExpression().withKey("kubernetes.io/hostname").withOperator("NotIn")
                .withValues(source).endMatchExpression().endNodeSelectorTerm()
                .endRequiredDuringSchedulingIgnoredDuringExecution().endNodeAffinity().endAffinity()
                .withContainers(new ContainerBuilder().withName("compute").withCommand("launcher")
                        .addNewEnv().withName("QVIRT_MIGRATION_TARGET").withValue("uid-1").endEnv().build())
                .endSpec().build();
    }

    @Test
    void aTargetPodNeverLandsOnItsSourceNode() {
        Pod pod = target("sandbox-node-1");
        assertFalse(FakeScheduler.matches(pod, node("sandbox-node-1")));
        assertTrue(FakeScheduler.matches(pod, node("sandbox-node-2")));
    }

    @Test
    void termsAreOredAndExpressionsAnded() {
        Pod pod = target("a");
        var terms = pod.getSpec().getAffinity().getNodeAffinity().getRequiredDuringSchedulingIgnoredDuringExecution()
                .getNodeSelectorTerms();
        terms.get(0).getMatchExpressions().add(new NodeSelectorRequirement("zone", "In", List.of("z1")));
        Node b = node("b");
        assertFalse(FakeScheduler.matches(pod, b), "second expression of the term fails");
        b.getMetadata().setLabels(Map.of("kubernetes.io/hostname", "b", "kubevirt.io/schedulable", "true", "zone", "z1"));
        assertTrue(FakeScheduler.matches(pod, b));
        terms.add(new io.fabric8.kubernetes.api.model.NodeSelectorTermBuilder().addNewMatchField().withKey("metadata.name")
                .withOperator("In").withValues("a").endMatchField().build());
        assertTrue(FakeScheduler.matches(pod, node("a")), "the second term (matchFields) lets it onto a");
        assertFalse(FakeScheduler.holds(new NodeSelectorRequirement("k", "Bogus", List.of()), Map.of("k", "v")));
        assertTrue(FakeScheduler.holds(new NodeSelectorRequirement("n", "Gt", List.of("3")), Map.of("n", "4")));
        assertTrue(FakeScheduler.holds(new NodeSelectorRequirement("k", "DoesNotExist", List.of()), Map.of()));
    }

    @Test
    void theTargetEnvReachesTheContainersProcess() throws Exception {
        Pod pod = target("a");
        Path n = Path.of("/sb/nodes/sandbox-node-2");
        PodCommands.Placement at = new PodCommands.Placement("sandbox-node-2", "127.0.2.1", "127.0.2.7", n.resolve("run"),
                n.resolve("host"), n.resolve("pods/p1"), Path.of("/sb/bin"));
        Container c = pod.getSpec().getContainers().get(0);
        Map<String, String> env = PodCommands.env(c, pod, at, Map.of());
        assertEquals("uid-1", env.get("QVIRT_MIGRATION_TARGET"));
    }
}
