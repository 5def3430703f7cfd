package io.qvirt.operator;

import static io.qvirt.operator.MockCluster.NS;

import io.fabric8.kubernetes.api.model.NodeBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * A mock cluster where the release files were applied and the operator (in-process) has installed everything, with
 * the FAKE apiextensions controller establishing each CRD as it is created and the FAKE workload controllers having
 * reported the components ready: the CR is Deployed and Available.
 */
final class InstalledCluster implements AutoCloseable {
    final MockCluster mock;
    final Operator operator;
    final FakeWorkloadControllers fake;
    final FakeCrdEstablisher crds;
    private final Path dir;

    InstalledCluster() throws Exception {
        dir = Files.createTempDirectory("qvirt-operator-test");
        if (MockCluster.render(dir, InstallTest.REGISTRY, InstallTest.TAG) != 0) {
            throw new AssertionError("render.sh failed");
        }
        mock = new MockCluster();
        mock.client.nodes().resource(new NodeBuilder().withNewMetadata().withName("node01").endMetadata()
                .withNewStatus().addNewAddress().withType("InternalIP").withAddress("10.0.0.7").endAddress().endStatus()
                .build()).create();
        mock.applyRelease(dir);
        crds = new FakeCrdEstablisher(mock.client).start();
        operator = new Operator(mock.newClient("operator"), InstallTest.options());
        operator.start();
        fake = new FakeWorkloadControllers(mock.client, NS, 1);
        MockCluster.await(Duration.ofSeconds(30), "virt-handler DaemonSet",
                () -> mock.client.apps().daemonSets().inNamespace(NS).withName("virt-handler").get() != null);
        fake.allReady();
        awaitDeployed(InstallTest.TAG);
    }

    KubeVirt cr() {
        return InstallTest.cr(mock);
    }

    /** Waits until the CR is Deployed and Available at {@code tag}. */
    void awaitDeployed(String tag) {
        MockCluster.await(Duration.ofSeconds(30), "Deployed and Available at " + tag, () -> {
            KubeVirt kv = cr();
            return KubeVirtStatus.DEPLOYED.equals(InstallTest.phase(kv)) && InstallTest.is(kv, "Available", "True")
                    && tag.equals(kv.getStatus().getObservedKubeVirtVersion());
        });
    }

    @Override
    public void close() throws Exception {
        operator.close();
        crds.close();
        mock.close();
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
