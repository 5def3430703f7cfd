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
import io.qvirt.testdata.OffLoopWatchCloseDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.qvirt.api.KubevirtJson;
import io.qvirt.api.VirtualMachineInstance;
import io.qvirt.api.model.Condition;
import io.qvirt.handler.nodeapi.NodeApiException;
import io.qvirt.testdata.ConsoleWatcher;
import io.qvirt.testdata.GuestMarkers;
import io.qvirt.testdata.TestGuest;
import java.io.IOException;
import java.io.InputStream;
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
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link VmiDriver} against real QEMU (TCG) started by the real {@code bin/launcher exec}, as in a launcher pod,
 * and fabric8's CRUD mock API server (not a kube-apiserver). The test plays the controller and the kubelet: it
 * writes the VMI's {@code Scheduled} hand-over and the launcher pod's status itself.
 */
class VmiDriverIT {
    private static final String NODE = "node-a";
    private static final Duration BOOT = Duration.ofSeconds(90);

    @TempDir
    Path tmp;
    private KubernetesMockServer server;
    private KubernetesClient client;
    private final List<VmiDriver> drivers = new ArrayList<>();
    /** Each driver's own metrics, as its handler's /metrics renders them. */
    private final Map<VmiDriver, HandlerMetrics> metricsOf = new HashMap<>();
    /** One client per driver, as each handler process has its own: a restart must not reuse the last one's connections. */
    private final List<KubernetesClient> driverClients = new ArrayList<>();
    private final List<Process> launchers = new ArrayList<>();
    private final List<ConsoleWatcher> consoles = new ArrayList<>();
    private final Map<String, SocketChannel> channels = new HashMap<>();
    /** Every phase any watch event showed, per VMI name: a Failed must never appear where it is not due. */
    private final Map<String, List<String>> phasesSeen = new HashMap<>();

    /** Held strongly: the mock logs every request at INFO. */
    private static final java.util.logging.Logger MOCK_LOG = java.util.logging.Logger.getLogger("io.fabric8.mockwebserver");

    @BeforeEach
    void setUp() throws IOException {
        MOCK_LOG.setLevel(java.util.logging.Level.WARNING);
        server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(),
                new OffLoopWatchCloseDispatcher(), false);
        server.init();
        client = newClient();
        for (String crd : new String[] {"virtualmachineinstances.kubevirt.io-v1.yml", "virtualmachines.kubevirt.io-v1.yml"}) {
            try (InputStream in = VmiDriver.class.getResourceAsStream("/META-INF/fabric8/" + crd)) {
                client.apiextensions().v1().customResourceDefinitions()
                        .resource(Serialization.unmarshal(in, CustomResourceDefinition.class)).create();
            }
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
    }

    @AfterEach
    void tearDown() throws IOException {
        drivers.forEach(VmiDriver::close);
        driverClients.forEach(KubernetesClient::close);
        for (ConsoleWatcher c : consoles) {
            c.close();
        }
        for (Process p : launchers) {
            p.destroyForcibly();
        }
        client.close();
        try {
            server.destroy();
        } catch (IllegalStateException e) {
            System.err.println("mock API server: " + e.getMessage());
        }
    }

    private Path runtimeRoot() {
        return tmp.resolve("run");
    }

    private KubernetesClient newClient() {
        return server.createClient(b -> b.withHttpClientFactory(new JdkHttpClientFactory())
                .editOrNewConfig().withNamespace("default").withRequestRetryBackoffLimit(0).endConfig());
    }

    private VmiDriver driver() {
        KubernetesClient own = newClient();
        driverClients.add(own);
        HandlerMetrics metrics = new HandlerMetrics();
        VmiDriver d = new VmiDriver(own, new VmiDriver.Settings(NODE, runtimeRoot(), Duration.ofSeconds(2),
                Duration.ofSeconds(3), 2), metrics, Clock.systemUTC());
        drivers.add(d);
        metricsOf.put(d, metrics);
        d.start(Duration.ofSeconds(20));
        return d;
    }

    /** Creates the VMI, hands it over as the controller does (Scheduled, nodeName, label), makes its pod, starts its launcher. */
    private VirtualMachineInstance launch(String name, String podIp) throws Exception {
        return launch(name, podIp, "");
    }

    /** As {@link #launch(String, String)}, with {@code specLine} (one line, e.g. {@code startStrategy: Paused}) in the spec. */
    private VirtualMachineInstance launch(String name, String podIp, String specLine) throws Exception {
        return launch(name, podIp, specLine, 30);
    }

    /** As {@link #launch(String, String, String)}, with {@code terminationGracePeriodSeconds: graceSeconds}. */
    private VirtualMachineInstance launch(String name, String podIp, String specLine, int graceSeconds) throws Exception {
        Path overlay = tmp.resolve(name + ".qcow2");
        run("qemu-img", "create", "-q", "-f", "qcow2", "-b", TestGuest.get().diskQcow2().toString(), "-F", "qcow2",
                overlay.toString());
        String yaml = """
                apiVersion: kubevirt.io/v1
                kind: VirtualMachineInstance
                metadata:
                  name: %s
                  namespace: default
                  finalizers: [test.qvirt.io/keep]
                spec:
                  %s
                  terminationGracePeriodSeconds: %d
                  domain:
                    devices:
                      disks:
                      - name: rootdisk
                        disk: {bus: virtio}
                      interfaces:
                      - name: default
                        masquerade: {}
                        macAddress: "02:00:00:00:00:0%d"
                    resources:
                      requests:
                        memory: 128Mi
                  networks:
                  - name: default
                    pod: {}
                  volumes:
                  - name: rootdisk
                    hostDisk: {path: %s, type: Disk}
                """.formatted(name, specLine, graceSeconds, launchers.size() + 1, overlay);
        VirtualMachineInstance vmi = client.resources(VirtualMachineInstance.class)
                .resource(KubevirtJson.yaml().readValue(yaml, VirtualMachineInstance.class)).create();
        String uid = vmi.getMetadata().getUid();
        vmi.getMetadata().setLabels(Map.of(VmiDriver.NODE_NAME_LABEL, NODE));
        vmi = client.resources(VirtualMachineInstance.class).resource(vmi).update();
        vmi.setStatus(new io.qvirt.api.model.VirtualMachineInstanceStatus());
        vmi.getStatus().setPhase("Scheduled");
        vmi.getStatus().setNodeName(NODE);
        vmi = client.resources(VirtualMachineInstance.class).resource(vmi).update();
        Pod pod = new PodBuilder().withNewMetadata().withName("virt-launcher-" + name + "-abcde").withNamespace("default")
                .addToLabels("kubevirt.io", "virt-launcher").addToLabels("kubevirt.io/created-by", uid)
                .addToAnnotations("kubevirt.io/domain", name).endMetadata()
                .withNewSpec().withNodeName(NODE).addNewContainer().withName("compute").withImage("registry.local/virt-launcher:test")
                .endContainer().endSpec()
                .withNewStatus().withPhase("Running").withPodIP(podIp).withQosClass("Burstable")
                .withContainerStatuses(new ContainerStatusBuilder().withName("compute").withNewState().withNewRunning()
                        .withStartedAt("2026-12-01T00:00:00Z").endRunning().endState().build()).endStatus().build();
        client.pods().resource(pod).create();

        VirtualMachineInstance forLauncher = new VirtualMachineInstance();
        forLauncher.setMetadata(new io.fabric8.kubernetes.api.model.ObjectMetaBuilder().withName(name)
                .withNamespace("default").withUid(uid).build());
        forLauncher.setSpec(vmi.getSpec());
        Path root = TestGuest.projectRoot();
        ProcessBuilder pb = new ProcessBuilder(root.resolve("bin/launcher").toString(), "exec", "--vmi-json",
                KubevirtJson.toJson(forLauncher), "--accel", "tcg", "--forward-address", podIp)
                .redirectErrorStream(true).redirectOutput(tmp.resolve(name + ".launcher.log").toFile());
        pb.environment().put("QVIRT_RUNTIME_ROOT", runtimeRoot().toString());
        launchers.add(pb.start());
        return vmi;
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
            return v != null && p.test(v) ? v : null;
        });
    }

    private static <T> T await(Duration timeout, String what, Supplier<T> value) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            T t = value.get();
            if (t != null) {
                return t;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout + " waiting for: " + what);
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        }
    }

    private Path vmDir(String name) {
        return runtimeRoot().resolve("default").resolve(name);
    }

    private ConsoleWatcher console(String name) throws IOException {
        Path sock = vmDir(name).resolve("console.sock");
        await(Duration.ofSeconds(60), "console.sock of " + name, () -> Files.exists(sock) ? sock : null);
        SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
        ch.connect(UnixDomainSocketAddress.of(sock));
        channels.put(name, ch);
        ConsoleWatcher w = new ConsoleWatcher(Channels.newInputStream(ch), name);
        consoles.add(w);
        return w;
    }

    /** Types on the console opened by {@link #console} (QEMU serves one console client at a time). */
    private void type(String name, String text) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
        while (b.hasRemaining()) {
            channels.get(name).write(b);
        }
    }

    private long qemuPid(String name) throws IOException {
        Path json = vmDir(name).resolve("launcher.json");
        await(Duration.ofSeconds(60), "launcher.json of " + name, () -> Files.exists(json) ? json : null);
        return KubevirtJson.json().readTree(json.toFile()).path("qemuPid").asLong();
    }

    @Test
    void startsPausesSurvivesHandlerRestartsAndPowersOffOnDelete() throws Exception {
        VmiDriver d1 = driver();
        launch("hvm1", "127.0.0.5");
        ConsoleWatcher con = console("hvm1");
        VirtualMachineInstance v = awaitVmi("hvm1", BOOT, "Running and Ready", x -> "Running".equals(phase(x))
                && condition(x, "Ready") != null && "True".equals(condition(x, "Ready").getStatus()));
        con.await(GuestMarkers.BOOTED, BOOT);
        assertEquals("127.0.0.5", v.getStatus().getInterfaces().get(0).getIpAddress(), "masquerade: the pod IP");
        assertEquals(List.of("127.0.0.5"), v.getStatus().getInterfaces().get(0).getIpAddresses());
        assertEquals("02:00:00:00:00:01", v.getStatus().getInterfaces().get(0).getMac());
        assertEquals("tcg", v.getStatus().getQvirtAccelerator().getName());
        assertNotNull(v.getStatus().getQvirtAccelerator().getReason());
        assertEquals("registry.local/virt-launcher:test", v.getStatus().getLauncherContainerImageVersion());
        assertEquals("Burstable", v.getStatus().getQosClass());
        assertEquals("False", condition(v, "LiveMigratable").getStatus());
        assertEquals("DisksNotLiveMigratable", condition(v, "LiveMigratable").getReason(), "its hostDisk is not shared");
        long pid = qemuPid("hvm1");

        d1.pause("default", "hvm1");
        awaitVmi("hvm1", Duration.ofSeconds(5), "Paused condition", x -> condition(x, "Paused") != null
                && "True".equals(condition(x, "Paused").getStatus()) && "False".equals(condition(x, "Ready").getStatus()));
        NodeApiException again = org.junit.jupiter.api.Assertions.assertThrows(NodeApiException.class,
                () -> d1.pause("default", "hvm1"));
        assertEquals(409, again.status());
        d1.unpause("default", "hvm1");
        awaitVmi("hvm1", Duration.ofSeconds(5), "Paused gone", x -> condition(x, "Paused") == null
                && "True".equals(condition(x, "Ready").getStatus()));
        NodeApiException notPaused = org.junit.jupiter.api.Assertions.assertThrows(NodeApiException.class,
                () -> d1.unpause("default", "hvm1"));
        assertEquals(409, notPaused.status());
        NodeApiException elsewhere = org.junit.jupiter.api.Assertions.assertThrows(NodeApiException.class,
                () -> d1.pause("default", "nosuchvmi"));
        assertEquals(404, elsewhere.status());
        String metrics = new HandlerMetrics().render(d1.samples());
        assertTrue(metrics.contains("kubevirt_vmi_memory_resident_bytes{namespace=\"default\",name=\"hvm1\",node=\"node-a\"}"), metrics);
        assertTrue(metrics.contains("kubevirt_vmi_storage_read_traffic_bytes_total{namespace=\"default\",name=\"hvm1\""), metrics);

        // Handler restarts: detach, attach again; nothing restarted, nothing Failed.
        VmiDriver current = d1;
        for (int i = 0; i < 3; i++) {
            current.close();
            current = driver();
            VmiDriver c = current;
            await(Duration.ofSeconds(10), "re-attached", () -> c.attached() == 1 ? true : null);
        }
        assertTrue(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "the same QEMU still runs");
        assertEquals(pid, qemuPid("hvm1"));
        current.pause("default", "hvm1");
        awaitVmi("hvm1", Duration.ofSeconds(5), "Paused after the restarts", x -> condition(x, "Paused") != null);
        current.unpause("default", "hvm1");
        awaitVmi("hvm1", Duration.ofSeconds(5), "running after the restarts", x -> condition(x, "Paused") == null);
        assertFalse(phasesSeen.getOrDefault("hvm1", List.of()).contains("Failed"), "never Failed: " + phasesSeen);

        // Deleted (the finalizer keeps it, with a deletionTimestamp): ACPI power-off, Succeeded, QEMU quits.
        client.resources(VirtualMachineInstance.class).inNamespace("default").withName("hvm1").delete();
        con.await(GuestMarkers.POWEROFF, Duration.ofSeconds(60));
        VirtualMachineInstance done = awaitVmi("hvm1", Duration.ofSeconds(30), "Succeeded", x -> "Succeeded".equals(phase(x)));
        assertEquals("GuestShutdown", done.getStatus().getReason());
        assertTrue(launchers.get(0).waitFor(30, java.util.concurrent.TimeUnit.SECONDS), "QEMU quit after the status");
        await(Duration.ofSeconds(10), "VM directory removed", () -> Files.exists(vmDir("hvm1")) ? null : true);
    }

    @Test
    void qemuKilledIsFailedOnlyOnceThePodSaysSoAndAGuestPowerOffIsSucceeded() throws Exception {
        driver();
        launch("hvm2", "127.0.0.6");
        launch("hvm3", "127.0.0.7");
        ConsoleWatcher c2 = console("hvm2");
        ConsoleWatcher c3 = console("hvm3");
        awaitVmi("hvm2", BOOT, "Running", x -> "Running".equals(phase(x)));
        awaitVmi("hvm3", BOOT, "Running", x -> "Running".equals(phase(x)));
        c2.await(GuestMarkers.PROMPT_PATTERN, BOOT);
        c3.await(GuestMarkers.PROMPT_PATTERN, BOOT);

        // hvm2: QEMU killed. Its socket is gone at once, but only the pod may say QEMU is gone.
        long pid = qemuPid("hvm2");
        run("kill", "-KILL", Long.toString(pid));
        assertTrue(launchers.get(0).waitFor(10, java.util.concurrent.TimeUnit.SECONDS));
        Thread.sleep(3000);
        assertEquals("Running", phase(get("hvm2")), "a dead socket alone never fails the VMI");
        Pod pod = client.pods().inNamespace("default").withName("virt-launcher-hvm2-abcde").get();
        pod.getStatus().setContainerStatuses(List.of(new ContainerStatusBuilder().withName("compute").withNewState()
                .withNewTerminated().withExitCode(137).withSignal(9).withReason("Error").endTerminated().endState().build()));
        client.pods().resource(pod).updateStatus();
        VirtualMachineInstance failed = awaitVmi("hvm2", Duration.ofSeconds(10), "Failed", x -> "Failed".equals(phase(x)));
        assertTrue(condition(failed, "Ready").getMessage().contains("signal 9 (SIGKILL)"), failed.getStatus().getConditions().toString());

        // hvm3: the guest powers itself off.
        type("hvm3", "poweroff -f\n"); // the guest's init is a script: plain poweroff would signal it
        VirtualMachineInstance off = awaitVmi("hvm3", Duration.ofSeconds(60), "Succeeded", x -> "Succeeded".equals(phase(x)));
        assertEquals("GuestShutdown", off.getStatus().getReason());
        assertTrue(launchers.get(1).waitFor(30, java.util.concurrent.TimeUnit.SECONDS), "QEMU quit once the status was written");
        assertFalse(phasesSeen.getOrDefault("hvm3", List.of()).contains("Failed"), phasesSeen.toString());
    }

    @Test
    void aQemuWhoseVmiIsGoneIsPoweredOff() throws Exception {
        launch("hvm4", "127.0.0.8");
        ConsoleWatcher c = console("hvm4");
        long pid = qemuPid("hvm4");
        // The VMI goes away while no handler runs; the QEMU is left in prelaunch.
        VirtualMachineInstance v = get("hvm4");
        v.getMetadata().setFinalizers(List.of());
        client.resources(VirtualMachineInstance.class).resource(v).update();
        client.resources(VirtualMachineInstance.class).inNamespace("default").withName("hvm4").delete();
        await(Duration.ofSeconds(10), "VMI gone", () -> get("hvm4") == null ? true : null);
        driver();
        assertTrue(launchers.get(0).waitFor(60, java.util.concurrent.TimeUnit.SECONDS), "the orphan QEMU is ended");
        assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false));
        await(Duration.ofSeconds(10), "its directory removed", () -> Files.exists(vmDir("hvm4")) ? null : true);
        c.close();
    }

    /**
     * hvm5: {@code startStrategy: Paused} (no {@code cont} until unpaused), the metrics of a running VMI, a hard
     * reset, then a guest panic (pvpanic) -> Failed. hvm6: the guest powers off while no handler runs (QEMU held
     * in {@code shutdown} by {@code -no-shutdown}); the next handler collects it as Succeeded and QEMU quits.
     */
    @Test
    void startPausedResetPanicAndAShutdownFoundOnAttach() throws Exception {
        VmiDriver d = driver();
        launch("hvm5", "127.0.0.9", "startStrategy: Paused");
        launch("hvm6", "127.0.0.10");
        ConsoleWatcher c5 = console("hvm5");
        ConsoleWatcher c6 = console("hvm6");

        awaitVmi("hvm5", BOOT, "Running, Paused (startStrategy: Paused)", x -> "Running".equals(phase(x))
                && condition(x, "Paused") != null && "True".equals(condition(x, "Paused").getStatus())
                && "False".equals(condition(x, "Ready").getStatus()));
        // The handler asks QEMU (query-status), so this 409 says QEMU was never started. The driver's informer may see
        // the VMI Running a moment after this client does ("is not running" until then).
        String held = await(Duration.ofSeconds(10), "the driver's answer to pause", () -> {
            try {
                d.pause("default", "hvm5");
                return "paused by this call (it must not be: QEMU never ran)";
            } catch (NodeApiException e) {
                return e.getMessage().endsWith("is not running") ? null : e.getMessage();
            }
        });
        assertEquals("VMI is already paused", held);
        assertFalse(GuestMarkers.BOOTED.matcher(c5.text()).find(), "nothing booted before unpause: " + c5.text());
        d.unpause("default", "hvm5");
        awaitVmi("hvm5", Duration.ofSeconds(10), "Ready once unpaused", x -> condition(x, "Paused") == null
                && "True".equals(condition(x, "Ready").getStatus()));
        c5.await(GuestMarkers.BOOTED, BOOT);
        c5.await(GuestMarkers.PROMPT_PATTERN, BOOT);
        awaitVmi("hvm6", BOOT, "Running", x -> "Running".equals(phase(x)));
        c6.await(GuestMarkers.PROMPT_PATTERN, BOOT);

        // What /metrics renders: the handler's own figures and hvm5's, read over QMP and /proc.
        String metrics = metricsOf.get(d).render(d.samples());
        assertTrue(metrics.contains("\nqvirt_handler_attached_vmis 2\n"), metrics);
        assertTrue(value(metrics, "qvirt_handler_syncs_total") > 0, metrics);
        assertTrue(value(metrics, "qvirt_handler_status_writes_total") >= 3, metrics);
        assertTrue(value(metrics, "qvirt_handler_event_to_status_seconds_count") >= 1, "the unpause's RESUME: " + metrics);
        String labels = "{namespace=\"default\",name=\"hvm5\",node=\"" + NODE + "\"";
        assertTrue(value(metrics, "kubevirt_vmi_vcpu_seconds_total" + labels + ",id=\"0\",state=\"running\"}") > 0,
                "a booted guest used CPU: " + metrics);
        assertTrue(value(metrics, "kubevirt_vmi_memory_resident_bytes" + labels + "}") > 16 << 20, metrics);
        assertTrue(metrics.contains("kubevirt_vmi_storage_write_traffic_bytes_total" + labels + ",drive="), metrics);

        // A hard reset: the same QEMU boots the guest again.
        long pid5 = qemuPid("hvm5");
        d.reset("default", "hvm5");
        c5.await(GuestMarkers.BOOTED, BOOT);
        c5.await(GuestMarkers.PROMPT_PATTERN, BOOT);
        assertEquals(pid5, qemuPid("hvm5"));
        assertEquals("Running", phase(get("hvm5")));

        // A guest panic: pvpanic -> GUEST_PANICKED -> Failed, then QEMU is told to quit.
        type("hvm5", "echo c > /proc/sysrq-trigger\n");
        VirtualMachineInstance panicked = awaitVmi("hvm5", Duration.ofSeconds(60), "Failed", x -> "Failed".equals(phase(x)));
        assertEquals("GuestPanicked", panicked.getStatus().getReason());
        assertTrue(launchers.get(0).waitFor(30, java.util.concurrent.TimeUnit.SECONDS), "QEMU quit once the status was written");

        // hvm6: no handler runs while its guest powers itself off.
        d.close();
        type("hvm6", "poweroff -f\n"); // the guest's init is a script: plain poweroff would signal it
        Path qmpSock = vmDir("hvm6").resolve("qmp.sock");
        try (io.qvirt.qmp.QmpClient qmp = io.qvirt.qmp.QmpClient.connect(qmpSock, io.qvirt.qmp.QmpOptions.defaults())
                .get(10, java.util.concurrent.TimeUnit.SECONDS)) {
            await(Duration.ofSeconds(60), "QEMU of hvm6 in shutdown", () -> {
                try {
                    String st = qmp.execute("query-status").get(5, java.util.concurrent.TimeUnit.SECONDS).path("status").asText();
                    return "shutdown".equals(st) ? st : null;
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            });
        }
        assertEquals("Running", phase(get("hvm6")), "nothing wrote the end while no handler ran");
        driver();
        VirtualMachineInstance off = awaitVmi("hvm6", Duration.ofSeconds(30), "Succeeded", x -> "Succeeded".equals(phase(x)));
        assertEquals("GuestShutdown", off.getStatus().getReason());
        assertTrue(launchers.get(1).waitFor(30, java.util.concurrent.TimeUnit.SECONDS), "QEMU quit once the status was written");
        await(Duration.ofSeconds(10), "VM directory removed", () -> Files.exists(vmDir("hvm6")) ? null : true);
        assertFalse(phasesSeen.getOrDefault("hvm6", List.of()).contains("Failed"), phasesSeen.toString());
    }

    /**
     * hvm7's guest ignores the ACPI power button (its acpid handler removed from the console, as LauncherIT does);
     * deleted with {@code terminationGracePeriodSeconds: 3}, the handler presses the button, and when the grace
     * runs out it writes the end (Failed, reason Destroyed: KubeVirt's phase for a guest destroyed after its grace
     * with ACPI on) and QEMU is ended.
     */
    @Test
    void aGuestIgnoringAcpiIsEndedWhenTheGracePeriodRunsOut() throws Exception {
        VmiDriver d = driver();
        launch("hvm7", "127.0.0.11", "", 3);
        ConsoleWatcher c = console("hvm7");
        awaitVmi("hvm7", BOOT, "Running", x -> "Running".equals(phase(x)));
        c.await(GuestMarkers.PROMPT_PATTERN, BOOT);
        type("hvm7", "rm /etc/acpi/PWRF/00000080; echo acpid-$((40+2))\n");
        c.await(java.util.regex.Pattern.compile("acpid-42\\r?\\n"), Duration.ofSeconds(20));
        long pid = qemuPid("hvm7");

        long t0 = System.nanoTime();
        client.resources(VirtualMachineInstance.class).inNamespace("default").withName("hvm7").delete();
        assertTrue(launchers.get(0).waitFor(3 + 10, java.util.concurrent.TimeUnit.SECONDS),
                "QEMU ended within the grace period and a few seconds");
        double took = (System.nanoTime() - t0) / 1e9;
        // The deadline is the deletionTimestamp (whole seconds) plus 3 s, so at least 2 s after the delete.
        assertTrue(took >= 2, "the guest was given its grace period, ended after " + took + " s");
        assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "QEMU is gone");
        assertFalse(GuestMarkers.POWEROFF.matcher(c.text()).find(), "the guest did not power off: " + c.text());

        VirtualMachineInstance done = awaitVmi("hvm7", Duration.ofSeconds(10), "final", x -> "Succeeded".equals(phase(x))
                || "Failed".equals(phase(x)));
        assertEquals("Failed", phase(done), "a guest destroyed after its grace period, as KubeVirt");
        assertEquals("Destroyed", done.getStatus().getReason());
        assertTrue(condition(done, "Ready").getMessage().contains("guest did not power off within"),
                done.getStatus().getConditions().toString());
        await(Duration.ofSeconds(10), "VM directory removed", () -> Files.exists(vmDir("hvm7")) ? null : true);
        await(Duration.ofSeconds(10), "detached", () -> d.attached() == 0 ? true : null);
    }

    /**
     * hvm8's launcher pod fails as the kubelet writes an eviction (phase Failed, reason Evicted) while its
     * {@code compute} container still shows running and QEMU still answers: the VMI ends Failed naming the pod
     * and the eviction, and QEMU is told to quit.
     */
    @Test
    void aLauncherPodThatFailsWhileQemuRunsFailsTheVmiAndQemuQuits() throws Exception {
        VmiDriver d = driver();
        launch("hvm8", "127.0.0.12");
        ConsoleWatcher c = console("hvm8");
        awaitVmi("hvm8", BOOT, "Running", x -> "Running".equals(phase(x)));
        c.await(GuestMarkers.BOOTED, BOOT);
        long pid = qemuPid("hvm8");

        Pod pod = client.pods().inNamespace("default").withName("virt-launcher-hvm8-abcde").get();
        pod.getStatus().setPhase("Failed");
        pod.getStatus().setReason("Evicted");
        pod.getStatus().setMessage("The node was low on resource: memory.");
        assertTrue(pod.getStatus().getContainerStatuses().get(0).getState().getRunning() != null, "compute still running");
        client.pods().resource(pod).updateStatus();

        VirtualMachineInstance failed = awaitVmi("hvm8", Duration.ofSeconds(10), "Failed", x -> "Failed".equals(phase(x)));
        assertEquals("PodTerminated", failed.getStatus().getReason());
        String msg = condition(failed, "Ready").getMessage();
        assertTrue(msg.contains("virt-launcher-hvm8-abcde") && msg.contains("Failed: Evicted: The node was low on resource: memory."),
                failed.getStatus().getConditions().toString());
        assertEquals("True", condition(failed, "Failure").getStatus());
        assertTrue(launchers.get(0).waitFor(30, java.util.concurrent.TimeUnit.SECONDS), "QEMU quit once the status was written");
        assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "QEMU is gone");
        await(Duration.ofSeconds(10), "VM directory removed", () -> Files.exists(vmDir("hvm8")) ? null : true);
        await(Duration.ofSeconds(10), "detached", () -> d.attached() == 0 ? true : null);
    }

    /** The value of the metric line that starts with {@code series} (name and labels exactly). */
    private static double value(String metrics, String series) {
        for (String line : metrics.split("\n")) {
            if (line.startsWith(series + " ")) {
                return Double.parseDouble(line.substring(series.length() + 1));
            }
        }
        throw new AssertionError("no " + series + " in:\n" + metrics);
    }
}
