package io.qvirt.handler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.jdkhttp.JdkHttpClientFactory;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.qvirt.kvmprobe.KvmProbe;
import io.qvirt.kvmprobe.ProbeOptions;
import io.qvirt.kvmprobe.ProbeReport;
import io.qvirt.testdata.OffLoopWatchCloseDispatcher;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The KubeVirt CR's {@code developerConfiguration.useEmulation} reaching a running node agent's
 * {@code kubevirt.io/schedulable} label through {@link KubeVirtConfig}, with no restart: the real kvm-probe on
 * {@code /dev/null} (verdict NONE, as on a node without KVM), the CR and the Node in fabric8's CRUD mock API server
 * (not a kube-apiserver). The re-probe period is an hour, so only the CR's watch events can change the label.
 */
class KubeVirtConfigTest {
    private static final java.util.logging.Logger MOCK_LOG = java.util.logging.Logger.getLogger("io.fabric8.mockwebserver");

    static {
        MOCK_LOG.setLevel(java.util.logging.Level.WARNING);
    }

    private KubernetesMockServer api;
    private KubernetesClient client;

    @BeforeEach
    void start() {
        api = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(),
                new OffLoopWatchCloseDispatcher(), false);
        api.init();
        client = api.createClient(b -> b.withHttpClientFactory(new JdkHttpClientFactory())
                .editOrNewConfig().withRequestRetryBackoffLimit(0).endConfig());
        client.nodes().resource(new NodeBuilder().withNewMetadata().withName("node1")
                .addToLabels("kubernetes.io/hostname", "node1").endMetadata().build()).create();
    }

    @AfterEach
    void stop() {
        client.close();
        api.destroy();
    }

    private String schedulable() {
        return client.nodes().withName("node1").get().getMetadata().getLabels().get("kubevirt.io/schedulable");
    }

    /** Polls the Node's label until it is {@code want} (a watch event's way to the handler takes its time). */
    private void awaitSchedulable(String want, String why) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (!want.equals(schedulable()) && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertEquals(want, schedulable(), why);
    }

    private static GenericKubernetesResource kubeVirt(Map<String, Object> spec) {
        GenericKubernetesResource cr = new GenericKubernetesResource();
        cr.setApiVersion("kubevirt.io/v1");
        cr.setKind("KubeVirt");
        cr.setMetadata(new ObjectMetaBuilder().withName("kubevirt").withNamespace("kubevirt").build());
        cr.setAdditionalProperties(Map.of("spec", spec));
        return cr;
    }

    @Test
    void theCrsUseEmulationRelabelsTheNodeLiveAndTheFlagIsTheDefault() throws Exception {
        Supplier<ProbeReport> none = () -> KvmProbe.probe(ProbeOptions.defaults().withDevice(Path.of("/dev/null")));
        assertEquals("NONE", none.get().verdict().name(), "the probe this test relies on: no KVM");
        client.genericKubernetesResources(KubeVirtConfig.KUBEVIRT).inNamespace("kubevirt").resource(kubeVirt(Map.of(
                "configuration", Map.of("developerConfiguration", Map.of("useEmulation", false))))).create();

        // --use-emulation=true: the CR's false wins while it says.
        try (KubeVirtConfig config = new KubeVirtConfig(client, true);
             NodeAgent agent = new NodeAgent(new NodeAgent.Settings(none, new NodeLabeller(client, "node1"), config,
                     null, "/dev/kvm", 1, Duration.ofHours(1), Duration.ofSeconds(1)))) {
            config.start(agent::relabel);
            agent.start();
            assertEquals("false", schedulable(), "the CR says useEmulation: false, the flag true");

            client.genericKubernetesResources(KubeVirtConfig.KUBEVIRT).inNamespace("kubevirt").withName("kubevirt")
                    .patch(PatchContext.of(PatchType.JSON_MERGE),
                            "{\"spec\":{\"configuration\":{\"developerConfiguration\":{\"useEmulation\":true}}}}");
            awaitSchedulable("true", "the CR patched to useEmulation: true reaches the same agent");

            client.genericKubernetesResources(KubeVirtConfig.KUBEVIRT).inNamespace("kubevirt").resource(kubeVirt(Map.of(
                    "configuration", Map.of("developerConfiguration", Map.of("useEmulation", false))))).update();
            awaitSchedulable("false", "and back to false");

            client.genericKubernetesResources(KubeVirtConfig.KUBEVIRT).inNamespace("kubevirt").withName("kubevirt")
                    .delete();
            awaitSchedulable("true", "no CR: the --use-emulation flag's value");
        }
    }

    @Test
    void aCrThatDoesNotSayLeavesTheFlag() throws Exception {
        client.genericKubernetesResources(KubeVirtConfig.KUBEVIRT).inNamespace("kubevirt")
                .resource(kubeVirt(Map.of("configuration", Map.of()))).create();
        try (KubeVirtConfig yes = new KubeVirtConfig(client, true); KubeVirtConfig no = new KubeVirtConfig(client, false)) {
            yes.start(() -> { });
            no.start(() -> { });
            assertEquals(true, yes.useEmulation());
            assertEquals(false, no.useEmulation());
        }
        assertNull(KubeVirtConfig.useEmulation(null));
        assertNull(KubeVirtConfig.useEmulation(Map.of("configuration", Map.of("developerConfiguration",
                Map.of("useEmulation", "true")))), "a string is not KubeVirt's boolean");
        assertEquals(Boolean.FALSE, KubeVirtConfig.useEmulation(Map.of("configuration", Map.of("developerConfiguration",
                Map.of("useEmulation", false)))));
    }
}
