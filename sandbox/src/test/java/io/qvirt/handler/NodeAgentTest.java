package io.qvirt.handler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.jdkhttp.JdkHttpClientFactory;
import io.qvirt.testdata.OffLoopWatchCloseDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.qvirt.sandbox.FakeKubelet;
import io.qvirt.handler.deviceplugin.v1beta1.ListAndWatchResponse;
import io.qvirt.kvmprobe.KvmProbe;
import io.qvirt.kvmprobe.ProbeOptions;
import io.qvirt.kvmprobe.ProbeReport;
import io.qvirt.kvmprobe.Verdict;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The node agent with the real kvm-probe on this machine's real {@code /dev/kvm}, the Node in fabric8's
 * CRUD mock API server (not a real kube-apiserver), and the FAKE kubelet of {@link FakeKubelet} for the
 * device-plugin side (no kubelet runs here). A FULL host cannot be had here (kvm_pvm is LIMITED), so one
 * test turns the real report into the FULL one a kvm_intel host would give, named as such.
 */
class NodeAgentTest {
    private static final java.util.logging.Logger MOCK_LOG = java.util.logging.Logger.getLogger("io.fabric8.mockwebserver");

    static {
        MOCK_LOG.setLevel(java.util.logging.Level.WARNING);
    }

    @TempDir
    Path dir;
    private KubernetesMockServer api;
    private KubernetesClient client;
    private FakeKubelet kubelet;

    @BeforeEach
    void start() throws Exception {
        api = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(),
                new OffLoopWatchCloseDispatcher(), false);
        api.init();
        client = api.createClient(b -> b.withHttpClientFactory(new JdkHttpClientFactory()));
        client.nodes().resource(new NodeBuilder().withNewMetadata().withName("node1")
                .addToLabels("kubernetes.io/hostname", "node1")
                .addToLabels("cpu-feature.node.kubevirt.io/stale-feature", "true")
                .addToLabels("qvirt.io/kvm-verdict", "OLD").endMetadata().build()).create();
        kubelet = new FakeKubelet(dir);
    }

    @AfterEach
    void stop() {
        kubelet.close();
        client.close();
        api.destroy();
    }

    private NodeAgent agent(Supplier<ProbeReport> probe, boolean emulation, Duration reprobe) {
        return new NodeAgent(new NodeAgent.Settings(probe, new NodeLabeller(client, "node1"), emulation, dir,
                "/dev/kvm", 3, reprobe, Duration.ofMillis(100)));
    }

    private Map<String, String> labels() {
        return client.nodes().withName("node1").get().getMetadata().getLabels();
    }

    @Test
    void thisMachinesProbeLabelsTheNodeAndSetsTheDevicesHealth() throws Exception {
        ProbeReport expected = KvmProbe.probe();
        try (NodeAgent a = agent(KvmProbe::probe, false, Duration.ofHours(1))) {
            a.start();
            Map<String, String> l = labels();
            expected.nodeLabels(false).forEach((k, v) -> assertEquals(v, l.get(k), k + " in " + l));
            assertEquals("node1", l.get("kubernetes.io/hostname"), "labels of others are kept");
            assertFalse(l.containsKey("cpu-feature.node.kubevirt.io/stale-feature"), "a stale owned label is removed: " + l);
            assertEquals(Boolean.toString(expected.verdict() == Verdict.FULL), l.get("kubevirt.io/schedulable"));

            assertNotNull(kubelet.registrations.poll(5, TimeUnit.SECONDS), "registered");
            ListAndWatchResponse list = firstList();
            String health = expected.verdict() == Verdict.FULL ? "Healthy" : "Unhealthy";
            assertEquals(3, list.getDevicesCount());
            assertTrue(list.getDevicesList().stream().allMatch(d -> d.getHealth().equals(health)),
                    "verdict " + expected.verdict() + " -> " + health + ": " + list);
        }
    }

    @Test
    void noKvmIsUnschedulableUnlessEmulationIsAllowed() throws Exception {
        Supplier<ProbeReport> none = () -> KvmProbe.probe(ProbeOptions.defaults().withDevice(Path.of("/dev/null")));
        try (NodeAgent a = agent(none, false, Duration.ofHours(1))) {
            a.start();
            assertEquals("NONE", labels().get("qvirt.io/kvm-verdict"));
            assertEquals("false", labels().get("kubevirt.io/schedulable"));
        }
        try (NodeAgent a = agent(none, true, Duration.ofHours(1))) {
            a.start();
            assertEquals("true", labels().get("kubevirt.io/schedulable"), "with useEmulation VMs run on TCG here");
            assertFalse(a.plugin().healthy(), "no KVM device to hand out all the same");
        }
    }

    @Test
    void aReprobeThatFindsFullKvmMakesTheDevicesHealthyAndOffersCpuFeatures() throws Exception {
        ProbeReport real = KvmProbe.probe(ProbeOptions.defaults().withDevice(Path.of("/dev/null")));
        // What a kvm_intel host reports (this machine cannot): FULL, nested, two guest-visible features.
        ProbeReport full = new ProbeReport(Verdict.FULL, "smoke guests passed (as on a kvm_intel host)", "/dev/kvm",
                "ok", 12, 12288, Map.of(), "kvm_intel", "Y", true, List.of(), List.of("avx2", "vmx"), List.of(),
                false, real.timings());
        AtomicReference<ProbeReport> now = new AtomicReference<>(real);
        try (NodeAgent a = agent(now::get, false, Duration.ofMillis(100))) {
            a.start();
            assertNotNull(kubelet.registrations.poll(5, TimeUnit.SECONDS));
            FakeKubelet.Watch w = kubelet.watch("kvm.sock");
            assertEquals("Unhealthy", w.next().getDevices(0).getHealth());

            now.set(full);
            ListAndWatchResponse next = w.next();
            assertNotNull(next, "the re-probe's health reaches the kubelet");
            assertEquals("Healthy", next.getDevices(0).getHealth());
            Wait.until(Duration.ofSeconds(5), () -> "true".equals(labels().get("cpu-feature.node.kubevirt.io/avx2")));
            Map<String, String> l = labels();
            assertEquals("true", l.get("kubevirt.io/schedulable"), l.toString());
            assertEquals("FULL", l.get("qvirt.io/kvm-verdict"));
            assertEquals("kvm_intel", l.get("qvirt.io/kvm-vendor"));
            assertEquals("true", l.get("qvirt.io/kvm-nested"));
            assertEquals("true", l.get("cpu-feature.node.kubevirt.io/vmx"), l.toString());

            now.set(real); // KVM lost again: the CPU features go, the devices turn unhealthy
            assertEquals("Unhealthy", w.next().getDevices(0).getHealth());
            Wait.until(Duration.ofSeconds(5), () -> !labels().containsKey("cpu-feature.node.kubevirt.io/avx2"));
            assertFalse(labels().keySet().stream().anyMatch(k -> k.startsWith("cpu-feature.node.kubevirt.io/")), labels().toString());
            assertFalse(labels().containsKey("qvirt.io/kvm-nested"), labels().toString());
        }
    }

    @Test
    void aNodeWithoutLabelsGetsThemAndAReprobeWithNothingNewSendsNothing() {
        client.nodes().resource(new NodeBuilder().withNewMetadata().withName("bare").endMetadata().build()).create();
        NodeLabeller l = new NodeLabeller(client, "bare");
        Map<String, String> want = Map.of("kubevirt.io/schedulable", "false", "qvirt.io/kvm-verdict", "NONE");
        assertEquals(want, l.apply(want));
        assertEquals(want, client.nodes().withName("bare").get().getMetadata().getLabels());
        assertEquals(Map.of(), l.apply(want), "nothing differs, no patch");
        IllegalStateException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
                () -> new NodeLabeller(client, "no-such-node").apply(want));
        assertTrue(e.getMessage().contains("node no-such-node not found"), e.getMessage());
    }

    private ListAndWatchResponse firstList() throws InterruptedException {
        ListAndWatchResponse r = kubelet.watch("kvm.sock").next();
        assertNotNull(r, "ListAndWatch answered");
        return r;
    }
}
