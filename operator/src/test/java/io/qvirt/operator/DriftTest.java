package io.qvirt.operator;

import static io.qvirt.operator.MockCluster.NS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Drift: what was deleted or edited by hand is put back, what is no longer wanted is removed, a user's is untouched. */
class DriftTest {
    @Test
    void deletedAndEditedObjectsArePutBack() throws Exception {
        try (InstalledCluster c = new InstalledCluster()) {
            var client = c.mock.client;
            client.rbac().clusterRoles().withName("qvirt-handler").delete();
            client.services().inNamespace(NS).withName("virt-api").delete();
            MockCluster.await(Duration.ofSeconds(30), "ClusterRole qvirt-handler and Service virt-api back",
                    () -> client.rbac().clusterRoles().withName("qvirt-handler").get() != null
                            && client.services().inNamespace(NS).withName("virt-api").get() != null);

            client.apps().deployments().inNamespace(NS).withName("virt-controller").edit(d -> {
                d.getSpec().getTemplate().getSpec().getContainers().get(0).setImage("evil.example/virt-controller:x");
                d.getSpec().setReplicas(7);
                return d;
            });
            MockCluster.await(Duration.ofSeconds(30), "virt-controller's image put back", () -> {
                Deployment d = client.apps().deployments().inNamespace(NS).withName("virt-controller").get();
                return d.getSpec().getTemplate().getSpec().getContainers().get(0).getImage()
                        .equals(InstallTest.REGISTRY + "/virt-controller:" + InstallTest.TAG) && d.getSpec().getReplicas() == 2;
            });
            // The repaired Deployment rolls out again; once the FAKE controller reports it, the CR is Available again.
            c.fake.deploymentReady("virt-controller");
            c.awaitDeployed(InstallTest.TAG);
        }
    }

    @Test
    void removesWhatIsNoLongerWantedAndLeavesAUsersObjectsAlone() throws Exception {
        try (InstalledCluster c = new InstalledCluster()) {
            var client = c.mock.client;
            // An object an older install strategy made (the operator's label), and a user's with no such label.
            client.configMaps().inNamespace(NS).resource(new ConfigMapBuilder().withNewMetadata().withName("kubevirt-old-config")
                    .withNamespace(NS).addToLabels(InstallStrategy.MANAGED_BY_LABEL, InstallStrategy.MANAGED_BY)
                    .addToAnnotations(InstallStrategy.VERSION_ANNOTATION, "v0.9").endMetadata().addToData("a", "b").build()).create();
            client.services().inNamespace(NS).resource(new ServiceBuilder().withNewMetadata().withName("my-service")
                    .withNamespace(NS).endMetadata().withNewSpec().addNewPort().withPort(80).endPort().endSpec().build()).create();
            client.configMaps().inNamespace(NS).resource(new ConfigMapBuilder().withNewMetadata().withName("my-config")
                    .withNamespace(NS).endMetadata().addToData("x", "y").build()).create();
            MockCluster.await(Duration.ofSeconds(30), "the stale ConfigMap removed",
                    () -> client.configMaps().inNamespace(NS).withName("kubevirt-old-config").get() == null);
            // A pass has run since (the removal is one); the user's objects are still there, as they were.
            assertNotNull(client.services().inNamespace(NS).withName("my-service").get());
            assertEquals("y", client.configMaps().inNamespace(NS).withName("my-config").get().getData().get("x"));
            assertEquals(KubeVirtStatus.DEPLOYED, InstallTest.phase(c.cr()));
        }
    }
}
