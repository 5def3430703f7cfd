package io.qvirt.operator;

import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.apps.DaemonSetStatusBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentStatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;

/**
 * FAKE: plays Kubernetes' Deployment and DaemonSet controllers (which fabric8's mock does not run) by writing the
 * status they would write once every pod of the current spec is up: of the current generation, all replicas updated,
 * ready and available. Only when the test says so, so a test sees the operator wait.
 */
final class FakeWorkloadControllers {
    private final KubernetesClient client;
    private final String namespace;
    private final int nodes;

    /** @param nodes how many nodes the DaemonSet controller schedules virt-handler on */
    FakeWorkloadControllers(KubernetesClient client, String namespace, int nodes) {
        this.client = client;
        this.namespace = namespace;
        this.nodes = nodes;
    }

    /** Reports the Deployment {@code name} rolled out and ready, for its current generation. */
    void deploymentReady(String name) {
        Deployment d = client.apps().deployments().inNamespace(namespace).withName(name).get();
        int replicas = d.getSpec().getReplicas() == null ? 1 : d.getSpec().getReplicas();
        d.setStatus(new DeploymentStatusBuilder().withObservedGeneration(d.getMetadata().getGeneration())
                .withReplicas(replicas).withUpdatedReplicas(replicas).withReadyReplicas(replicas)
                .withAvailableReplicas(replicas).build());
        client.apps().deployments().inNamespace(namespace).resource(d).updateStatus();
    }

    /** Reports the DaemonSet {@code name} rolled out and ready on every node, for its current generation. */
    void daemonSetReady(String name) {
        DaemonSet d = client.apps().daemonSets().inNamespace(namespace).withName(name).get();
        d.setStatus(new DaemonSetStatusBuilder().withObservedGeneration(d.getMetadata().getGeneration())
                .withDesiredNumberScheduled(nodes).withCurrentNumberScheduled(nodes).withUpdatedNumberScheduled(nodes)
                .withNumberReady(nodes).withNumberAvailable(nodes).build());
        client.apps().daemonSets().inNamespace(namespace).resource(d).updateStatus();
    }

    /** virt-api, virt-controller and virt-handler all ready. */
    void allReady() {
        deploymentReady("virt-api");
        deploymentReady("virt-controller");
        daemonSetReady("virt-handler");
    }
}
