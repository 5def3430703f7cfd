package io.qvirt.sandbox;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import io.qvirt.api.KubevirtJson;
import io.qvirt.api.ManifestLoader;
import io.qvirt.api.VirtualMachine;
import io.qvirt.api.VirtualMachineInstance;
import io.qvirt.api.model.Condition;
import io.qvirt.api.model.Port;
import io.qvirt.testdata.ConsoleWatcher;
import io.qvirt.testdata.GuestMarkers;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The cluster path end to end on the rig (fabric8's CRUD mock API, NOT a kube-apiserver; FAKE node agents): the
 * real virt-controller, the real virt-handlers, launcher pods whose compute process is the real
 * {@code launcher exec} become real QEMU (TCG). The seed-shaped {@code testdata/testvm.yaml} from the local
 * registry; the console and pause/unpause through the handlers' node API over mutual TLS.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@org.junit.jupiter.api.extension.ExtendWith(ClusterE2EIT.FailureFlag.class)
class ClusterE2EIT {
    /** Notes a failed case, so the rig's logs are kept. */
    static final class FailureFlag implements org.junit.jupiter.api.extension.TestWatcher {
        @Override
        public void testFailed(org.junit.jupiter.api.extension.ExtensionContext context, Throwable cause) {
            failed = true;
        }
    }

    // Generous: on 2 loaded cores a TCG boot plus the rig's watches have taken over 2 min (see the closing note).
    private static final Duration BOOT = Duration.ofSeconds(300);
    private static final Duration SHORT = Duration.ofSeconds(30);

    /** Not a @TempDir: when a case fails, the rig's logs stay for reading (the path is printed); removed on success. */
    static Path dir;
    static boolean failed;
    static KubernetesClient client;
    static Watch watch;
    /** Every phase each VMI (by uid) was seen in, from a watch on all VMIs. */
    static final Map<String, List<String>> phases = new ConcurrentHashMap<>();
    static final Map<String, String> nameOfUid = new ConcurrentHashMap<>();
    /** The Ready condition's message of each VMI (by uid) seen Failed: the cause the handler named. */
    static final Map<String, String> failedWhy = new ConcurrentHashMap<>();

    @BeforeAll
    static void up() throws Exception {
        SandboxIT.registry();
        dir = Files.createTempDirectory("qvirt-e2e-");
        SandboxIT.Result up = SandboxIT.run(Duration.ofSeconds(240), SandboxIT.BIN.toString(), "up", "--dir",
                dir.toString(), "--nodes", "2");
        assertEquals(0, up.code(), up.out());
        client = SandboxIT.client(dir);
        watch = client.resources(VirtualMachineInstance.class).inAnyNamespace().watch(new Watcher<>() {
            @Override
            public void eventReceived(Action action, VirtualMachineInstance v) {
                String phase = v.getStatus() == null || v.getStatus().getPhase() == null ? "" : v.getStatus().getPhase();
                nameOfUid.put(v.getMetadata().getUid(), v.getMetadata().getName());
                phases.computeIfAbsent(v.getMetadata().getUid(), k -> new CopyOnWriteArrayList<>()).add(phase);
                Condition ready = condition(v, "Ready");
                if ("Failed".equals(phase) && ready != null && ready.getMessage() != null) {
                    failedWhy.putIfAbsent(v.getMetadata().getUid(), ready.getMessage());
                }
            }

            @Override
            public void onClose(WatcherException cause) {
            }
        });
    }

    @AfterAll
    static void down() throws Exception {
        if (watch != null) {
            watch.close();
        }
        if (client != null) {
            client.close();
        }
        if (dir != null) {
            SandboxIT.Result down = SandboxIT.run(Duration.ofSeconds(120), SandboxIT.BIN.toString(), "down", "--dir", dir.toString());
            assertEquals(0, down.code(), down.out());
            assertEquals(List.of(), SandboxIT.processesMentioning(dir), "down leaves no process");
            if (failed) {
                System.err.println("ClusterE2EIT: a case failed; the rig's logs are in " + dir.resolve("logs"));
            } else {
                try (var files = Files.walk(dir)) {
                    files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
                }
            }
        }
    }

    // ---- helpers ----

    /**
     * testdata/testvm.yaml under another name with port 80 forwarded; with the given run strategy instead of its
     * {@code running: false}, or (null) as the file says.
     */
    static VirtualMachine vm(String name, String runStrategy) throws Exception {
        VirtualMachine vm = ManifestLoader.loadOne(io.qvirt.testdata.TestGuest.testVmYaml()).vm();
        vm.getMetadata().setName(name);
        vm.getMetadata().setNamespace("default");
        if (runStrategy != null) {
            vm.getSpec().setRunning(null);
            vm.getSpec().setRunStrategy(runStrategy);
        }
        Port http = new Port();
        http.setName("http");
        http.setPort(80);
        vm.getSpec().getTemplate().getSpec().getDomain().getDevices().getInterfaces().get(0).setPorts(List.of(http));
        return client.resources(VirtualMachine.class).resource(vm).create();
    }

    static VirtualMachineInstance vmi(String name) {
        return client.resources(VirtualMachineInstance.class).inNamespace("default").withName(name).get();
    }

    static String phase(VirtualMachineInstance v) {
        return v == null || v.getStatus() == null ? null : v.getStatus().getPhase();
    }

    static Condition condition(VirtualMachineInstance v, String type) {
        return v == null || v.getStatus() == null || v.getStatus().getConditions() == null ? null
                : v.getStatus().getConditions().stream().filter(c -> type.equals(c.getType())).findFirst().orElse(null);
    }

    static boolean ready(VirtualMachineInstance v) {
        Condition c = condition(v, "Ready");
        return "Running".equals(phase(v)) && c != null && "True".equals(c.getStatus());
    }

    static VirtualMachineInstance awaitVmi(String name, Duration timeout, String what,
                                           java.util.function.Predicate<VirtualMachineInstance> p) throws Exception {
        return SandboxIT.awaitValue(timeout, what + " (" + name + ")", () -> {
            VirtualMachineInstance v = vmi(name);
            return v != null && p.test(v) ? v : null;
        });
    }

    static String printable(String vm) {
        VirtualMachine v = client.resources(VirtualMachine.class).inNamespace("default").withName(vm).get();
        return v == null || v.getStatus() == null ? null : v.getStatus().getPrintableStatus();
    }

    /** The node's address (InternalIP), where its handler serves the node API. */
    static String nodeAddress(String node) {
        return client.nodes().withName(node).get().getStatus().getAddresses().stream()
                .filter(a -> "InternalIP".equals(a.getType())).findFirst().orElseThrow().getAddress();
    }

    static NodeApiClient nodeApi(VirtualMachineInstance v) throws Exception {
        return new NodeApiClient(dir.resolve("pki"), nodeAddress(v.getStatus().getNodeName()));
    }

    static Path vmDir(VirtualMachineInstance v) {
        return dir.resolve("nodes").resolve(v.getStatus().getNodeName()).resolve("run/default").resolve(v.getMetadata().getName());
    }

    static long qemuPid(VirtualMachineInstance v) throws Exception {
        return KubevirtJson.json().readTree(vmDir(v).resolve("launcher.json").toFile()).path("qemuPid").asLong();
    }

    static List<Pod> pods(String vmiUid) {
        return client.pods().inNamespace("default").withLabel("kubevirt.io/created-by", vmiUid).list().getItems();
    }

    static boolean qemuAlive(long pid) {
        return ProcessHandle.of(pid).flatMap(ph -> ph.info().command()).map(c -> c.contains("qemu-system")).orElse(false);
    }

    /** A console through the node API, read by a {@link ConsoleWatcher}. */
    record Tap(NodeApiClient.Console console, ConsoleWatcher out) implements AutoCloseable {
        static Tap open(VirtualMachineInstance v) throws Exception {
            PipedInputStream in = new PipedInputStream(1 << 20);
            PipedOutputStream sink = new PipedOutputStream(in);
            NodeApiClient.Console c = nodeApi(v).console("default", v.getMetadata().getName(), sink);
            return new Tap(c, new ConsoleWatcher(in, v.getMetadata().getName()));
        }

        @Override
        public void close() throws Exception {
            console.close();
            out.close();
        }
    }

    /** {@code kubectl patch vm NAME --type merge -p '{"spec":{"running":...}}'}. */
    static void setRunning(String vm, boolean running) {
        client.resources(VirtualMachine.class).inNamespace("default").withName(vm)
                .patch(io.fabric8.kubernetes.client.dsl.base.PatchContext.of(io.fabric8.kubernetes.client.dsl.base.PatchType.JSON_MERGE),
                        "{\"spec\":{\"running\":" + running + "}}");
    }

    static void deleteVm(String vm) throws Exception {
        client.resources(VirtualMachine.class).inNamespace("default").withName(vm).delete();
        SandboxIT.await(SHORT, "VM " + vm + " gone", () -> client.resources(VirtualMachine.class).inNamespace("default")
                .withName(vm).get() == null && vmi(vm) == null);
    }

    // ---- the cases ----

    @Test
    @Order(1)
    void theSeedVmRunsIsReachablePausesAndStops() throws Exception {
        // As a user would: the file applied as it is (running: false), then running: true patched.
        VirtualMachine created = vm("testvm", null);
        assertEquals(Boolean.FALSE, created.getSpec().getRunning(), "testvm.yaml says running: false");
        setRunning("testvm", true);
        VirtualMachineInstance v = awaitVmi("testvm", BOOT, "Running and Ready", ClusterE2EIT::ready);
        SandboxIT.await(SHORT, "VM printableStatus Running", () -> "Running".equals(printable("testvm")));
        // What `kubectl wait --for=condition=Ready vm/testvm` waits for.
        SandboxIT.await(SHORT, "VM condition Ready True", () -> {
            VirtualMachine vm = client.resources(VirtualMachine.class).inNamespace("default").withName("testvm").get();
            return vm.getStatus() != null && vm.getStatus().getConditions() != null && vm.getStatus().getConditions().stream()
                    .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
        });
        Pod pod = pods(v.getMetadata().getUid()).get(0);
        String podIp = pod.getStatus().getPodIP();
        assertEquals(podIp, v.getStatus().getInterfaces().get(0).getIpAddress(), "masquerade: the VMI shows the pod IP");
        assertEquals(v.getStatus().getNodeName(), pod.getSpec().getNodeName());
        assertEquals("tcg", v.getStatus().getQvirtAccelerator().getName());
        long pid = qemuPid(v);

        String userData = new String(Base64.getDecoder().decode(
                v.getSpec().getVolumes().stream().filter(x -> x.getCloudInitNoCloud() != null).findFirst().orElseThrow()
                        .getCloudInitNoCloud().getUserDataBase64()), java.nio.charset.StandardCharsets.UTF_8);
        String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                .digest(userData.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        // The first boot may print its markers before any console can be opened (the node API serves one only
        // once the VMI is Running): console.log has them all.
        Path log = vmDir(v).resolve("console.log");
        SandboxIT.await(BOOT, "the guest's shell prompt in console.log", () -> {
            try {
                return Files.readString(log).contains(GuestMarkers.PROMPT);
            } catch (java.io.IOException e) {
                return false;
            }
        });
        String text = Files.readString(log);
        assertTrue(GuestMarkers.BOOTED.matcher(text).find(), text);
        Matcher first = GuestMarkers.CLOUDINIT.matcher(text);
        assertTrue(first.find(), text);
        assertTrue(first.group(0).contains("userdata-sha256=" + sha), "the seed's cloud-init bytes: " + first.group(0));
        NodeApiClient api = nodeApi(v);
        try (Tap tap = Tap.open(v)) {
            // Through the handler's console WebSocket: type, and read what only the command prints.
            tap.console().type("echo qvirt-$((6*7))\n");
            tap.out().await(java.util.regex.Pattern.compile("qvirt-42\\r?\\n"), SHORT);
            // A hard reset through the node API (virtctl reset's route): the same QEMU boots the guest again, and
            // this boot's markers and the seed's cloud-init hash are read on the WebSocket itself.
            HttpResponse<String> reset = api.put("default", "testvm", "reset");
            assertEquals(200, reset.statusCode(), reset.body());
            tap.out().await(GuestMarkers.BOOTED, BOOT);
            Matcher ci = tap.out().await(GuestMarkers.CLOUDINIT, BOOT);
            assertEquals(sha, ci.group(2), "the seed's cloud-init bytes, read through the console WebSocket");
            tap.out().await(GuestMarkers.PROMPT_PATTERN, BOOT);
            assertEquals(pid, qemuPid(v), "a reset keeps the QEMU");
            assertTrue(ready(vmi("testvm")), "a reset leaves the VMI Running and Ready");

            HttpResponse<String> page = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://" + podIp + ":80/hostname")).timeout(Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, page.statusCode(), "the forwarded port 80 on the pod address answers");
            assertFalse(page.body().isBlank());

            assertEquals(200, api.put("default", "testvm", "pause").statusCode());
            awaitVmi("testvm", SHORT, "Paused condition", x -> condition(x, "Paused") != null
                    && "True".equals(condition(x, "Paused").getStatus()));
            SandboxIT.await(SHORT, "VM printableStatus Paused", () -> "Paused".equals(printable("testvm")));
            HttpResponse<String> twice = api.put("default", "testvm", "pause");
            assertEquals(409, twice.statusCode(), twice.body());
            // QEMU itself is paused, not only the condition: the guest answers nothing typed now...
            java.util.regex.Pattern answer = java.util.regex.Pattern.compile("paused-25\\r?\\n");
            tap.console().type("echo paused-$((5*5))\n");
            Thread.sleep(3000);
            assertFalse(answer.matcher(tap.out().text()).find(), "a paused guest answered: " + tap.out().text());
            assertEquals(200, api.put("default", "testvm", "unpause").statusCode());
            awaitVmi("testvm", SHORT, "unpaused", x -> condition(x, "Paused") == null && ready(x));
            // ... and answers it once running again.
            tap.out().await(answer, SHORT);

            String uid = v.getMetadata().getUid();
            setRunning("testvm", false);
            tap.out().await(GuestMarkers.POWEROFF, Duration.ofSeconds(60));
            SandboxIT.await(Duration.ofSeconds(60), "VMI and pod gone", () -> vmi("testvm") == null && pods(uid).isEmpty());
            SandboxIT.await(SHORT, "QEMU gone", () -> !qemuAlive(pid));
            SandboxIT.await(SHORT, "VM printableStatus Stopped", () -> "Stopped".equals(printable("testvm")));
            assertTrue(phases.get(uid).contains("Succeeded"), "the guest was powered off, not killed: " + phases.get(uid));
            assertFalse(phases.get(uid).contains("Failed"), phases.get(uid).toString());
            assertFalse(Files.exists(log.getParent()), "the VM's directory is gone");
        }
        deleteVm("testvm");
    }

    @Test
    @Order(2)
    void handlerKilledFiveTimesRestartsNoVmAndNeverFailsOne() throws Exception {
        List<String> names = List.of("keep-a", "keep-b", "keep-c");
        for (String n : names) {
            vm(n, "Always");
        }
        Map<String, Long> pids = new java.util.HashMap<>();
        Map<String, String> uids = new java.util.HashMap<>();
        for (String n : names) {
            VirtualMachineInstance v = awaitVmi(n, BOOT, "Running", ClusterE2EIT::ready);
            pids.put(n, qemuPid(v));
            uids.put(n, v.getMetadata().getUid());
        }
        for (int i = 0; i < 5; i++) {
            for (String node : List.of("sandbox-node-1", "sandbox-node-2")) {
                long hp = (Long) SandboxIT.component(dir, "virt-handler-" + node).get("pid");
                ProcessHandle.of(hp).ifPresent(ProcessHandle::destroyForcibly);
                SandboxIT.await(SHORT, "handler of " + node + " restarted", () -> {
                    long now = (Long) SandboxIT.component(dir, "virt-handler-" + node).get("pid");
                    return now != hp && ProcessHandle.of(now).map(ProcessHandle::isAlive).orElse(false);
                });
            }
            Thread.sleep(1500);
        }
        for (String n : names) {
            assertTrue(qemuAlive(pids.get(n)), n + ": the same QEMU still runs");
            VirtualMachineInstance v = vmi(n);
            assertEquals(uids.get(n), v.getMetadata().getUid(), n + ": the same VMI");
            assertEquals(pids.get(n), qemuPid(v));
            assertFalse(phases.get(uids.get(n)).contains("Failed"), n + " never Failed: " + phases.get(uids.get(n)));
        }
        // Status still follows QEMU: a pause after the restarts shows.
        VirtualMachineInstance b = vmi("keep-b");
        NodeApiClient api = SandboxIT.awaitValue(SHORT, "node API back", () -> {
            try {
                NodeApiClient c = nodeApi(b);
                return c.put("default", "keep-b", "pause").statusCode() == 200 ? c : null;
            } catch (Exception e) {
                return null;
            }
        });
        awaitVmi("keep-b", SHORT, "Paused after the restarts", x -> condition(x, "Paused") != null);
        assertEquals(200, api.put("default", "keep-b", "unpause").statusCode());
        for (String n : names) {
            deleteVm(n);
            SandboxIT.await(SHORT, n + "'s QEMU gone", () -> !qemuAlive(pids.get(n)));
        }
    }

    @Test
    @Order(3)
    void qemuKilledFailsTheVmiNamingTheSignalAndRerunOnFailureStartsAnother() throws Exception {
        vm("crashy", "RerunOnFailure");
        VirtualMachineInstance v = awaitVmi("crashy", BOOT, "Running", ClusterE2EIT::ready);
        String uid = v.getMetadata().getUid();
        long pid = qemuPid(v);
        ProcessHandle.of(pid).orElseThrow().destroyForcibly();
        // The pod's containerDisk container keeps the pod Running: the compute container's end is what counts.
        SandboxIT.await(SHORT, "Failed seen", () -> phases.getOrDefault(uid, List.of()).contains("Failed"));
        assertTrue(String.valueOf(failedWhy.get(uid)).contains("killed by signal 9 (SIGKILL)"), "the cause named: " + failedWhy.get(uid));
        SandboxIT.await(SHORT, "the failed VMI's pod gone or finished", () -> pods(uid).stream().allMatch(p ->
                p.getStatus() == null || !"Running".equals(p.getStatus().getPhase())));
        VirtualMachineInstance again = awaitVmi("crashy", BOOT, "a new VMI Running",
                x -> !x.getMetadata().getUid().equals(uid) && ready(x));
        assertNotEquals(pid, qemuPid(again), "a new QEMU");
        deleteVm("crashy");
    }

    @Test
    @Order(4)
    void guestPowerOffSucceedsAndAlwaysStartsItAgain() throws Exception {
        vm("selfstop", "Always");
        VirtualMachineInstance v = awaitVmi("selfstop", BOOT, "Running", ClusterE2EIT::ready);
        String uid = v.getMetadata().getUid();
        long pid = qemuPid(v);
        try (Tap tap = Tap.open(v)) {
            SandboxIT.await(BOOT, "prompt", () -> {
                try {
                    return Files.readString(vmDir(v).resolve("console.log")).contains(GuestMarkers.PROMPT);
                } catch (java.io.IOException e) {
                    return false;
                }
            });
            // The guest's init is a script: plain poweroff would signal it, -f powers the machine off.
            tap.console().type("poweroff -f\n");
            SandboxIT.await(SHORT, "Succeeded seen", () -> phases.getOrDefault(uid, List.of()).contains("Succeeded"));
        }
        assertFalse(phases.get(uid).contains("Failed"), phases.get(uid).toString());
        VirtualMachineInstance again = awaitVmi("selfstop", BOOT, "Always: a new VMI Running",
                x -> !x.getMetadata().getUid().equals(uid) && ready(x));
        assertNotEquals(pid, qemuPid(again));
        deleteVm("selfstop");
    }

    @Test
    @Order(5)
    void tenVmsAtOnceOnTwoNodes() throws Exception {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            names.add("many-" + i);
            vm("many-" + i, "Always");
        }
        java.util.Set<String> nodes = new java.util.HashSet<>();
        List<Long> qemus = new ArrayList<>();
        for (String n : names) {
            VirtualMachineInstance v = awaitVmi(n, Duration.ofSeconds(240), "Running", ClusterE2EIT::ready);
            nodes.add(v.getStatus().getNodeName());
            qemus.add(qemuPid(v));
        }
        assertEquals(2, nodes.size(), "both nodes run VMs: " + nodes);
        for (String n : names) {
            client.resources(VirtualMachine.class).inNamespace("default").withName(n).delete();
        }
        for (String n : names) {
            SandboxIT.await(Duration.ofSeconds(90), n + " gone", () -> vmi(n) == null);
        }
        for (long p : qemus) {
            SandboxIT.await(SHORT, "QEMU " + p + " gone", () -> !qemuAlive(p));
        }
    }
}
