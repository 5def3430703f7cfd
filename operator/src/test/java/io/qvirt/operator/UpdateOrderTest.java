package io.qvirt.operator;

import static io.qvirt.operator.MockCluster.NS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Changing spec.imageTag rolls the components in KubeVirt's order: CRDs (and the rest), then virt-api, then
 * virt-controller, then virt-handler, each only once the one before reports ready at the new version.
 */
class UpdateOrderTest {
    private static String image(KubernetesClient client, String kind, String name) {
        var spec = "Deployment".equals(kind)
                ? client.apps().deployments().inNamespace(NS).withName(name).get().getSpec().getTemplate().getSpec()
                : client.apps().daemonSets().inNamespace(NS).withName(name).get().getSpec().getTemplate().getSpec();
        return spec.getContainers().get(0).getImage();
    }

    @Test
    void imageTagUpdateRollsCrdsThenApiThenControllerThenHandler() throws Exception {
        try (InstalledCluster c = new InstalledCluster()) {
            KubernetesClient client = c.mock.client;
            String next = "v1.3.0";
            client.resources(KubeVirt.class).inNamespace(NS).withName("kubevirt").edit(kv -> {
                kv.getSpec().setImageTag(next);
                return kv;
            });
            MockCluster.await(Duration.ofSeconds(30), "virt-api at " + next,
                    () -> image(client, "Deployment", "virt-api").endsWith(":" + next));
            // CRDs first: already carrying the new version when virt-api starts rolling.
            assertEquals(next, client.apiextensions().v1().customResourceDefinitions().withName("virtualmachines.kubevirt.io")
                    .get().getMetadata().getAnnotations().get(InstallStrategy.VERSION_ANNOTATION));
            Thread.sleep(500);
            assertTrue(image(client, "Deployment", "virt-controller").endsWith(":" + InstallTest.TAG), "controller before virt-api is ready");
            assertTrue(image(client, "DaemonSet", "virt-handler").endsWith(":" + InstallTest.TAG));
            KubeVirt kv = c.cr();
            assertEquals(KubeVirtStatus.DEPLOYING, kv.getStatus().getPhase());
            assertEquals(next, kv.getStatus().getTargetKubeVirtVersion());
            assertEquals(InstallTest.TAG, kv.getStatus().getObservedKubeVirtVersion());

            c.fake.deploymentReady("virt-api");
            MockCluster.await(Duration.ofSeconds(30), "virt-controller at " + next,
                    () -> image(client, "Deployment", "virt-controller").endsWith(":" + next));
            Thread.sleep(500);
            assertTrue(image(client, "DaemonSet", "virt-handler").endsWith(":" + InstallTest.TAG), "handler before the controller is ready");

            c.fake.deploymentReady("virt-controller");
            MockCluster.await(Duration.ofSeconds(30), "virt-handler at " + next,
                    () -> image(client, "DaemonSet", "virt-handler").endsWith(":" + next));
            Thread.sleep(300);
            assertEquals(InstallTest.TAG, c.cr().getStatus().getObservedKubeVirtVersion());
            c.fake.daemonSetReady("virt-handler");
            c.awaitDeployed(next);
        }
    }
}
