package io.qvirt.handler.vmi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.jdkhttp.JdkHttpClientFactory;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.qvirt.api.KubevirtJson;
import io.qvirt.api.MigrationSettings;
import io.qvirt.api.VirtualMachineInstance;
import io.qvirt.api.model.Condition;
import io.qvirt.api.model.MigrationState;
import io.qvirt.handler.nodeapi.TlsFiles;
import io.qvirt.testdata.ConsoleWatcher;
import io.qvirt.testdata.GuestMarkers;
import io.qvirt.testdata.OffLoopWatchCloseDispatcher;
import io.qvirt.testdata.TestGuest;
import io.qvirt.testdata.TestPki;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The two migration roles of {@link VmiDriver} end to end on one machine: two drivers standing for the handlers of
 * node-a and node-b (each its own runtime root and migration proxy with mutual TLS from openssl-made certificates),
 * real QEMU (TCG) started by the real {@code bin/launcher exec} for the source pod and, with
 * {@code QVIRT_MIGRATION_TARGET}, for the target pod, and fabric8's CRUD mock API server (NOT a kube-apiserver). The
 * test plays virt-controller and the kubelet: it writes the hand-over to node-a, the VMI's migrationState and target
 * label, and the pods' status.
 */
class MigrationRolesIT {
    private static final Duration BOOT = Duration.ofSeconds(90);
    private static final Duration MIGRATE = Duration.ofSeconds(120);
    private static final java.util.logging.Logger MOCK_LOG = java.util.logging.Logger.getLogger("io.fabric8.mockwebserver");

    @TempDir
    Path tmp;
    private KubernetesMockServer server;
    private KubernetesClient client;
    private TestPki pki;
    private final List<AutoCloseable> closeLast = new ArrayList<>();
    private final List<Process> qemus = new ArrayList<>();
    private final List<ConsoleWatcher> consoles = new ArrayList<>();
    private final Map<String, List<String>> phasesSeen = new HashMap<>();
    /** The cluster's migration settings as the KubeVirt CR would give them; a test may change them. */
    private volatile MigrationSettings settings = MigrationSettings.KUBEVIRT_DEFAULTS;

    @BeforeEach
    void setUp() throws Exception {
        MOCK_LOG.setLevel(java.util.logging.Level.WARNING);
        server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(),
                new OffLoopWatchCloseDispatcher(), false);
        server.init();
        client = newClient();
        try (InputStream in = VmiDriver.class.getResourceAsStream("/META-INF/fabric8/virtualmachineinstances.kubevirt.io-v1.yml")) {
            client.apiextensions().v1().customResourceDefinitions()
                    .resource(Serialization.unmarshal(in, CustomResourceDefinition.class)).create();
        }
        client.resources(VirtualMachineInstance.class).inAnyNamespace().watch(new io.fabric8.kubernetes.client.Watcher<>() {
            @Override
            public void eventReceived(Action action, VirtualMachineInstance v) {
                if (v.getStatus() != null && v.getStatus().getPhase() != null) {
                    phasesSeen.computeIfAbsent(v.getMetadata().getName(), k -> new CopyOnWriteArrayList<>())
                            .add(v.getStatus().getPhase());
                }
            }

            @Override
            public void onClose(io.fabric8.kubernetes.client.WatcherException cause) {
            }
        });
        pki = TestPki.open(tmp.resolve("pki"), "qvirt-test-ca");
        for (String node : new String[] {"node-a", "node-b"}) {
            pki.server("handler-" + node, List.of("127.0.0.1"), List.of(node));
        }
    }

    @AfterEach
    void tearDown() throws Exception {
        for (int i = closeLast.size() - 1; i >= 0; i--) {
            closeLast.get(i).close();
        }
        for (ConsoleWatcher c : consoles) {
            c.close();
        }
        for (Process p : qemus) {
            p.destroyForcibly();
            p.waitFor();
        }
        client.close();
        try {
            server.destroy();
        } catch (IllegalStateException e) {
            System.err.println("mock API server: " + e.getMessage());
        }
    }

    private KubernetesClient newClient() {
        return server.createClient(b -> b.withHttpClientFactory(new JdkHttpClientFactory())
                .editOrNewConfig().withNamespace("default").withRequestRetryBackoffLimit(0).endConfig());
    }

    private Path root(String node) {
        return tmp.resolve(node).resolve("run");
    }

    /** A handler's VMI driver for {@code node}, with its migration proxy on 127.0.0.1 (ephemeral port). */
    private VmiDriver driver(String node) {
        KubernetesClient own = newClient();
        ProxyMigrationTransport transport = new ProxyMigrationTransport(new InetSocketAddress("127.0.0.1", 0),
                new TlsFiles(pki.cert("handler-" + node), pki.key("handler-" + node), pki.caCert()), () -> settings);
        VmiDriver d = new VmiDriver(own, new VmiDriver.Settings(node, root(node), Duration.ofSeconds(2),
                Duration.ofSeconds(3), 2), new HandlerMetrics(), Clock.systemUTC(), transport);
        closeLast.add(own);
        closeLast.add(transport);
        closeLast.add(d);
        d.start(Duration.ofSeconds(20));
        return d;
    }

    private static final String SPEC = """
            apiVersion: kubevirt.io/v1
            kind: VirtualMachineInstance
            metadata:
              name: %s
              namespace: default
              finalizers: [test.qvirt.io/keep]
            spec:
              domain:
                devices:
                  disks:
                  - name: rootdisk
                    disk: {bus: virtio}
                  interfaces:
                  - name: default
                    masquerade: {}
                    macAddress: "02:00:00:00:00:01"
                resources:
                  requests:
                    memory: 128Mi
              networks:
              - name: default
                pod: {}
              volumes:
              - name: rootdisk
                hostDisk: {path: %s, type: Disk, shared: true}
            """;

    /** The VMI handed to node-a (Scheduled) with its pod and a running source QEMU; returns it once Running. */
    private VirtualMachineInstance runOnA(String name) throws Exception {
        Path overlay = tmp.resolve(name + ".qcow2");
        run("qemu-img", "create", "-q", "-f", "qcow2", "-b", TestGuest.get().diskQcow2().toString(), "-F", "qcow2",
                overlay.toString());
        VirtualMachineInstance vmi = client.resources(VirtualMachineInstance.class)
                .resource(KubevirtJson.yaml().readValue(SPEC.formatted(name, overlay), VirtualMachineInstance.class)).create();
        vmi.getMetadata().setLabels(new HashMap<>(Map.of(VmiDriver.NODE_NAME_LABEL, "node-a")));
        vmi = client.resources(VirtualMachineInstance.class).resource(vmi).update();
        vmi.setStatus(new io.qvirt.api.model.VirtualMachineInstanceStatus());
        vmi.getStatus().setPhase("Scheduled");
        vmi.getStatus().setNodeName("node-a");
        vmi = client.resources(VirtualMachineInstance.class).resource(vmi).update();
        pod(vmi, "virt-launcher-" + name + "-aaaaa", "node-a", "127.0.0.2", null);
        launcher(vmi, "node-a", "127.0.0.2", null);
        return awaitVmi(name, BOOT, "Running on node-a", v -> "Running".equals(phase(v)));
    }

    private void pod(VirtualMachineInstance vmi, String name, String node, String ip, String migrationUid) {
        PodBuilder b = new PodBuilder();
        b.withNewMetadata().withName(name).withNamespace("default")
                .addToLabels("kubevirt.io", "virt-launcher").addToLabels("kubevirt.io/created-by", vmi.getMetadata().getUid())
                .addToAnnotations("kubevirt.io/domain", vmi.getMetadata().getName()).endMetadata();
        if (migrationUid != null) {
            b.editMetadata().addToLabels("kubevirt.io/migrationJobUID", migrationUid).endMetadata();
        }
        Pod pod = b.withNewSpec().withNodeName(node).addNewContainer().withName("compute")
                .withImage("registry.local/virt-launcher:test").endContainer().endSpec()
                .withNewStatus().withPhase("Running").withPodIP(ip).withQosClass("Burstable")
                .withContainerStatuses(new ContainerStatusBuilder().withName("compute").withNewState().withNewRunning()
                        .withStartedAt("2026-12-01T00:00:00Z").endRunning().endState().build()).endStatus().build();
        client.pods().resource(pod).create();
    }

    /** {@code launcher exec} as the pod's compute container on {@code node}; a migration target with {@code migrationUid}. */
    private void launcher(VirtualMachineInstance vmi, String node, String ip, String migrationUid) throws IOException {
        VirtualMachineInstance forLauncher = new VirtualMachineInstance();
        forLauncher.setMetadata(new io.fabric8.kubernetes.api.model.ObjectMetaBuilder().withName(vmi.getMetadata().getName())
                .withNamespace("default").withUid(vmi.getMetadata().getUid()).build());
        forLauncher.setSpec(vmi.getSpec());
        ProcessBuilder pb = new ProcessBuilder(TestGuest.projectRoot().resolve("bin/launcher").toString(), "exec",
                "--vmi-json", KubevirtJson.toJson(forLauncher), "--accel", "tcg", "--forward-address", ip)
                .redirectErrorStream(true).redirectOutput(tmp.resolve(vmi.getMetadata().getName() + "." + node + ".log").toFile());
        pb.environment().put("QVIRT_RUNTIME_ROOT", root(node).toString());
        if (migrationUid != null) {
            pb.environment().put("QVIRT_MIGRATION_TARGET", migrationUid);
        }
        qemus.add(pb.start());
    }

    /** Plays virt-controller: the target pod on node-b and its QEMU, then migrationState and the target label. */
    private String startMigration(VirtualMachineInstance vmi) throws IOException {
        String name = vmi.getMetadata().getName();
        String muid = UUID.randomUUID().toString();
        pod(vmi, "virt-launcher-" + name + "-bbbbb", "node-b", "127.0.0.3", muid);
        launcher(vmi, "node-b", "127.0.0.3", muid);
        client.resources(VirtualMachineInstance.class).inNamespace("default").withName(name).edit(v -> {
            MigrationState m = new MigrationState();
            m.setMigrationUid(muid);
            m.setSourceNode("node-a");
            m.setSourcePod("virt-launcher-" + name + "-aaaaa");
            m.setTargetNode("node-b");
            m.setTargetPod("virt-launcher-" + name + "-bbbbb");
            m.setMode("PreCopy");
            v.getStatus().setMigrationState(m);
            v.getMetadata().getLabels().put(MigrationStatuses.TARGET_NODE_LABEL, "node-b");
            return v;
        });
        return muid;
    }

    @Test
    void migratesToTheOtherNodeAndHandsOver() throws Exception {
        VmiDriver a = driver("node-a");
        VmiDriver b = driver("node-b");
        VirtualMachineInstance vmi = runOnA("mig1");
        assertEquals("True", condition(vmi, "LiveMigratable").getStatus(), "masquerade and a shared hostDisk migrate");
        ConsoleWatcher sourceConsole = console("node-a", "mig1");
        sourceConsole.await(GuestMarkers.BOOTED, BOOT);
        long sourcePid = qemuPid("node-a", "mig1");

        String muid = startMigration(vmi);
        VirtualMachineInstance ready = awaitVmi("mig1", Duration.ofSeconds(60), "the target's address written",
                v -> v.getStatus().getMigrationState().getTargetNodeAddress() != null);
        MigrationState m = ready.getStatus().getMigrationState();
        assertEquals("127.0.0.1", m.getTargetNodeAddress());
        assertEquals(1, m.getTargetDirectMigrationNodePorts().size());
        assertTrue(m.getTargetNodeDomainDetected());
        assertEquals(muid, m.getMigrationUid());
        assertEquals("node-a", ready.getStatus().getNodeName(), "the source owns it until the handover");

        VirtualMachineInstance moved = awaitVmi("mig1", MIGRATE, "handed over to node-b",
                v -> "node-b".equals(v.getStatus().getNodeName()));
        MigrationState done = moved.getStatus().getMigrationState();
        assertTrue(done.getCompleted(), "completed");
        assertFalse(done.getFailed(), "not failed: " + done.getFailureReason());
        assertNotNull(done.getStartTimestamp());
        assertNotNull(done.getEndTimestamp());
        assertNotNull(done.getTargetNodeDomainReadyTimestamp());
        assertEquals("node-b", moved.getMetadata().getLabels().get(VmiDriver.NODE_NAME_LABEL));
        assertFalse(moved.getMetadata().getLabels().containsKey(MigrationStatuses.TARGET_NODE_LABEL));
        assertEquals("127.0.0.3", moved.getStatus().getInterfaces().get(0).getIpAddress(), "the target pod's IP");

        await(Duration.ofSeconds(20), "the source QEMU gone", () -> ProcessHandle.of(sourcePid).map(p -> !p.isAlive())
                .orElse(true) ? true : null);
        // The kubelet's word: the source pod ended Succeeded. The VMI must not fail for it.
        Pod sourcePod = client.pods().inNamespace("default").withName("virt-launcher-mig1-aaaaa").get();
        sourcePod.getStatus().setPhase("Succeeded");
        sourcePod.getStatus().setContainerStatuses(List.of(new ContainerStatusBuilder().withName("compute").withNewState()
                .withNewTerminated().withExitCode(0).endTerminated().endState().build()));
        client.pods().resource(sourcePod).updateStatus();
        // The guest runs on node-b: it answers on the target's console, and node-b's handler drives it.
        ConsoleWatcher targetConsole = console("node-b", "mig1");
        type("node-b", "echo MIGRATED-$((6*7))\n");
        targetConsole.await(Pattern.compile("MIGRATED-42"), Duration.ofSeconds(30));
        b.pause("default", "mig1");
        awaitVmi("mig1", Duration.ofSeconds(10), "paused by node-b's handler", v -> condition(v, "Paused") != null);
        b.unpause("default", "mig1");
        awaitVmi("mig1", Duration.ofSeconds(10), "unpaused", v -> condition(v, "Paused") == null);
        Thread.sleep(3000); // a resync of each driver
        VirtualMachineInstance after = get("mig1");
        assertEquals("Running", phase(after));
        assertFalse(phasesSeen.getOrDefault("mig1", List.of()).contains("Failed"), "never Failed: " + phasesSeen.get("mig1"));
        assertEquals(0, a.attached(), "node-a's handler forgot it");
    }

    /**
     * KubeVirt's allowPostCopy (allowWorkloadDisruption following it): a migration at 1 MiB/s cannot send 128 MiB of
     * RAM within its 3 s completion timeout, so the source switches it to postcopy, writes mode PostCopy, and the
     * target (resumed over the proxy as soon as it has the device state) fetches the rest: handed over to node-b.
     */
    @Test
    void pastItsCompletionTimeoutAMigrationSwitchesToPostcopyWhenTheClusterAllowsIt() throws Exception {
        settings = new MigrationSettings(5, 2, 1L << 20, 3, 150, false, true, true);
        driver("node-a");
        driver("node-b");
        VirtualMachineInstance vmi = runOnA("mig4");
        console("node-a", "mig4").await(GuestMarkers.BOOTED, BOOT);
        long sourcePid = qemuPid("node-a", "mig4");
        String muid = startMigration(vmi);
        VirtualMachineInstance moved = awaitVmi("mig4", MIGRATE, "handed over to node-b",
                v -> "node-b".equals(v.getStatus().getNodeName()));
        MigrationState done = moved.getStatus().getMigrationState();
        assertEquals(muid, done.getMigrationUid());
        assertEquals("PostCopy", done.getMode(), "switched at the timeout");
        assertTrue(done.getCompleted());
        assertFalse(done.getFailed(), "not failed: " + done.getFailureReason());
        await(Duration.ofSeconds(20), "the source QEMU gone", () -> ProcessHandle.of(sourcePid).map(p -> !p.isAlive())
                .orElse(true) ? true : null);
        ConsoleWatcher targetConsole = console("node-b", "mig4");
        type("node-b", "echo POSTCOPY-$((6*7))\n");
        targetConsole.await(Pattern.compile("POSTCOPY-42"), Duration.ofSeconds(30));
    }

    @Test
    void anAbortLeavesTheVmOnTheSourceAndEndsTheTarget() throws Exception {
        settings = new MigrationSettings(5, 2, 1L << 20, 150, 150); // 1 MiB/s: 128 MiB of RAM take long enough to abort
        VmiDriver a = driver("node-a");
        driver("node-b");
        VirtualMachineInstance vmi = runOnA("mig2");
        console("node-a", "mig2").await(GuestMarkers.BOOTED, BOOT);
        String muid = startMigration(vmi);
        awaitVmi("mig2", Duration.ofSeconds(60), "started", v -> v.getStatus().getMigrationState().getStartTimestamp() != null);
        Thread.sleep(2000);
        client.resources(VirtualMachineInstance.class).inNamespace("default").withName("mig2").edit(v -> {
            v.getStatus().getMigrationState().setAbortRequested(true);
            return v;
        });
        VirtualMachineInstance ended = awaitVmi("mig2", Duration.ofSeconds(60), "the migration ended",
                v -> Boolean.TRUE.equals(v.getStatus().getMigrationState().getCompleted()));
        MigrationState m = ended.getStatus().getMigrationState();
        assertEquals(muid, m.getMigrationUid());
        assertTrue(m.getFailed());
        assertEquals("Succeeded", m.getAbortStatus());
        assertEquals(MigrationStatuses.ABORTED, m.getFailureReason());
        assertEquals("node-a", ended.getStatus().getNodeName());
        Process target = qemus.get(qemus.size() - 1);
        await(Duration.ofSeconds(30), "the target QEMU quit", () -> target.isAlive() ? null : true);
        // The VM runs on: node-a's handler still drives it.
        a.pause("default", "mig2");
        awaitVmi("mig2", Duration.ofSeconds(10), "paused by node-a's handler", v -> condition(v, "Paused") != null);
        a.unpause("default", "mig2");
        awaitVmi("mig2", Duration.ofSeconds(10), "unpaused", v -> condition(v, "Paused") == null);
        assertFalse(phasesSeen.getOrDefault("mig2", List.of()).contains("Failed"), "never Failed: " + phasesSeen.get("mig2"));
    }

    /**
     * A handler that died during a migration (its proxy session, which carried the stream, died with it): the source
     * QEMU is left migrating into a socket nobody reads. The next handler undoes that migration, the guest runs on,
     * and the migration is written failed naming the restart.
     */
    @Test
    void aHandlerRestartedMidMigrationUndoesItAndWritesItFailed() throws Exception {
        VmiDriver first = driver("node-a");
        VirtualMachineInstance vmi = runOnA("mig3");
        console("node-a", "mig3").await(GuestMarkers.BOOTED, BOOT);
        closeEarly(first);
        // What the dead handler left: the VMI's migration started, the source QEMU migrating into a stalled socket.
        String muid = UUID.randomUUID().toString();
        client.resources(VirtualMachineInstance.class).inNamespace("default").withName("mig3").edit(v -> {
            MigrationState m = new MigrationState();
            m.setMigrationUid(muid);
            m.setSourceNode("node-a");
            m.setTargetNode("node-b");
            m.setTargetNodeAddress("127.0.0.1");
            m.setTargetDirectMigrationNodePorts(Map.of("9", 0));
            m.setStartTimestamp(java.time.Instant.now().toString());
            v.getStatus().setMigrationState(m);
            return v;
        });
        Path stall = tmp.resolve("stall.sock");
        try (java.nio.channels.ServerSocketChannel nobodyReads = java.nio.channels.ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            nobodyReads.bind(UnixDomainSocketAddress.of(stall));
            try (io.qvirt.qmp.QmpClient qmp = io.qvirt.qmp.QmpClient.connect(root("node-a").resolve("default/mig3/qmp.sock"),
                    io.qvirt.qmp.QmpOptions.defaults()).get(10, java.util.concurrent.TimeUnit.SECONDS)) {
                qmp.commands().migrate("unix:" + stall).get(10, java.util.concurrent.TimeUnit.SECONDS);
                assertEquals("active", await(Duration.ofSeconds(10), "the source QEMU migrating", () -> {
                    try {
                        String st = qmp.commands().queryMigrate().get(10, java.util.concurrent.TimeUnit.SECONDS).status();
                        return st.equals("active") ? st : null;
                    } catch (Exception e) {
                        return null;
                    }
                }));
            }
            VmiDriver second = driver("node-a");
            VirtualMachineInstance ended = awaitVmi("mig3", Duration.ofSeconds(60), "the migration written ended",
                    v -> Boolean.TRUE.equals(v.getStatus().getMigrationState().getCompleted()));
            MigrationState m = ended.getStatus().getMigrationState();
            assertTrue(m.getFailed());
            assertEquals(MigrationSourceRole.HANDLER_RESTARTED, m.getFailureReason());
            assertNotNull(m.getEndTimestamp());
            assertEquals("node-a", ended.getStatus().getNodeName());
            // The guest runs on, driven by the new handler.
            type("node-a", "echo ALIVE-$((6*7))\n");
            consoles.get(consoles.size() - 1).await(Pattern.compile("ALIVE-42"), Duration.ofSeconds(30));
            second.pause("default", "mig3");
            awaitVmi("mig3", Duration.ofSeconds(10), "paused by the new handler", v -> condition(v, "Paused") != null);
            second.unpause("default", "mig3");
            awaitVmi("mig3", Duration.ofSeconds(10), "unpaused", v -> condition(v, "Paused") == null);
            assertEquals("Running", phase(get("mig3")));
        }
    }

    /** Closes a driver now (a handler gone), not again at the end. */
    private void closeEarly(VmiDriver d) throws Exception {
        int i = closeLast.indexOf(d); // after its client and its transport (see driver())
        for (int j = i; j >= i - 2; j--) {
            closeLast.remove(j).close();
        }
    }

    private final Map<String, SocketChannel> channels = new HashMap<>();

    private ConsoleWatcher console(String node, String name) throws IOException {
        Path sock = root(node).resolve("default").resolve(name).resolve("console.sock");
        await(Duration.ofSeconds(60), "console.sock of " + name + " on " + node, () -> Files.exists(sock) ? sock : null);
        SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
        ch.connect(UnixDomainSocketAddress.of(sock));
        channels.put(node, ch);
        ConsoleWatcher w = new ConsoleWatcher(Channels.newInputStream(ch), name + "@" + node);
        consoles.add(w);
        return w;
    }

    private void type(String node, String text) throws IOException {
        ByteBuffer buf = ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
        while (buf.hasRemaining()) {
            channels.get(node).write(buf);
        }
    }

    private long qemuPid(String node, String name) throws IOException {
        Path json = root(node).resolve("default").resolve(name).resolve("launcher.json");
        await(Duration.ofSeconds(60), "launcher.json of " + name, () -> Files.exists(json) ? json : null);
        return KubevirtJson.json().readTree(json.toFile()).path("qemuPid").asLong();
    }

    private static void run(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), String.join(" ", cmd) + ": " + out);
    }

    private VirtualMachineInstance get(String name) {
        return client.resources(VirtualMachineInstance.class).inNamespace("default").withName(name).get();
    }

    private static String phase(VirtualMachineInstance v) {
        return v == null || v.getStatus() == null ? null : v.getStatus().getPhase();
    }

    private static Condition condition(VirtualMachineInstance v, String type) {
        if (v == null || v.getStatus() == null || v.getStatus().getConditions() == null) {
            return null;
        }
        return v.getStatus().getConditions().stream().filter(c -> type.equals(c.getType())).findFirst().orElse(null);
    }

    private VirtualMachineInstance awaitVmi(String name, Duration timeout, String what, Predicate<VirtualMachineInstance> p) {
        return await(timeout, what + " (" + name + ")", () -> {
            VirtualMachineInstance v = get(name);
            return v != null && v.getStatus() != null && p.test(v) ? v : null;
        });
    }

    private static <T> T await(Duration timeout, String what, Supplier<T> value) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            T t;
            try {
                t = value.get();
            } catch (NullPointerException e) {
                t = null; // a field not written yet
            }
            if (t != null) {
                return t;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout + " waiting for: " + what);
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        }
    }
}
