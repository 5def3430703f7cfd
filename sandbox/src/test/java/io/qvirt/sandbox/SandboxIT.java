package io.qvirt.sandbox;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.jdkhttp.JdkHttpClientFactory;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.qvirt.api.ManifestLoader;
import io.qvirt.api.VirtualMachine;
import io.qvirt.testdata.TestGuest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bin/qvirt-sandbox} end to end, with real processes: the real virt-controller and virt-handlers, the
 * FAKE node agents, the seed-shaped {@code testdata/testvm.yaml} from the local registry until its launcher
 * pod's compute process has become QEMU (under TCG), then {@code down} leaving nothing. Whether the VMI
 * reaches Running is the handler's business and not asserted here.
 */
class SandboxIT {
    static final Path ROOT = TestGuest.projectRoot();
    static final Path BIN = ROOT.resolve("bin/qvirt-sandbox");

    @TempDir
    Path tmp;
    private final List<Path> started = new ArrayList<>();

    record Result(int code, String out) {
    }

    static Result run(Duration timeout, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(args));
        Path out = Files.createTempFile("qvirt-sandbox-it", ".out");
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile()).start();
            p.getOutputStream().close();
            if (!p.waitFor(timeout.toSeconds(), TimeUnit.SECONDS)) {
                p.destroyForcibly();
                p.waitFor(10, TimeUnit.SECONDS);
                throw new AssertionError(cmd + " did not finish within " + timeout + ": " + Files.readString(out));
            }
            return new Result(p.exitValue(), Files.readString(out));
        } finally {
            Files.deleteIfExists(out);
        }
    }

    @BeforeAll
    static void registry() throws Exception {
        TestGuest.get(); // fails naming testdata/build-guest.sh if the guest is not built
        Result start = run(Duration.ofSeconds(60), ROOT.resolve("testdata/registry.sh").toString(), "start");
        assertEquals(0, start.code(), start.out());
        Result push = run(Duration.ofSeconds(180), ROOT.resolve("testdata/registry.sh").toString(), "push");
        assertEquals(0, push.code(), push.out());
    }

    private Result up(Path dir, int nodes) throws Exception {
        started.add(dir);
        return run(Duration.ofSeconds(240), BIN.toString(), "up", "--dir", dir.toString(), "--nodes", Integer.toString(nodes));
    }

    @AfterEach
    void downEverything() throws Exception {
        for (Path d : started) {
            run(Duration.ofSeconds(120), BIN.toString(), "down", "--dir", d.toString());
        }
    }

    static KubernetesClient client(Path dir) throws IOException {
        Config c = Config.fromKubeconfig(Files.readString(dir.resolve("kubeconfig")));
        c.setRequestRetryBackoffLimit(0);
        return new KubernetesClientBuilder().withConfig(c).withHttpClientFactory(new JdkHttpClientFactory()).build();
    }

    /** Until {@code cond} holds (an exception counts as not yet), or fails the test naming {@code what}. */
    static void await(Duration timeout, String what, BooleanSupplier cond) throws InterruptedException {
        FakeNodeAgentTest.await(timeout, what, () -> {
            try {
                return cond.getAsBoolean();
            } catch (RuntimeException e) {
                return false;
            }
        });
    }

    static <T> T awaitValue(Duration timeout, String what, Supplier<T> value) throws InterruptedException {
        Object[] box = new Object[1];
        await(timeout, what, () -> (box[0] = value.get()) != null);
        @SuppressWarnings("unchecked")
        T t = (T) box[0];
        return t;
    }

    /** Processes whose command line mentions {@code dir} ("pid cmdline"). */
    static List<String> processesMentioning(Path dir) {
        return SandboxMain.mentioning(dir).entrySet().stream().map(e -> e.getKey() + " " + e.getValue()).toList();
    }

    /** A component's entry in DIR/status.json (pid as a Long). */
    static Map<String, Object> component(Path dir, String name) {
        try {
            @SuppressWarnings("unchecked")
            Map<String, Object> st = Serialization.unmarshal(Files.readString(dir.resolve("status.json")), Map.class);
            @SuppressWarnings("unchecked")
            List<Map<String, Object>> comps = (List<Map<String, Object>>) st.get("components");
            Map<String, Object> c = new java.util.HashMap<>(comps.stream().filter(x -> name.equals(x.get("name")))
                    .findFirst().orElseThrow());
            c.put("pid", ((Number) c.get("pid")).longValue());
            return c;
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    static long containerPid(ContainerStatus c) {
        String id = c.getContainerID();
        return Long.parseLong(id.substring(id.lastIndexOf('/') + 1));
    }

    @Test
    void upRunsTheSeedVmsLauncherPodAsQemuAndDownLeavesNothing() throws Exception {
        Path dir = tmp.resolve("sb");
        long qemuPid;
        long t0 = System.nanoTime();
        Result up = up(dir, 2);
        assertEquals(0, up.code(), up.out());
        System.err.println("up took " + (System.nanoTime() - t0) / 1_000_000 + " ms");
        assertTrue(up.out().contains("export KUBECONFIG=" + dir.resolve("kubeconfig")), up.out());
        assertTrue(up.out().contains("NOT a kube-apiserver"), up.out());

        Result again = up(dir, 2);
        assertEquals(1, again.code(), again.out());
        assertTrue(again.out().contains("already running in " + dir), again.out());

        for (String log : List.of("sandbox", "mock-api-server", "front-door", "fake-scheduler", "virt-controller", "virt-api",
                "virt-handler-sandbox-node-1", "virt-handler-sandbox-node-2", "fake-node-agent-sandbox-node-1",
                "fake-node-agent-sandbox-node-2")) {
            assertTrue(Files.isRegularFile(dir.resolve("logs/" + log + ".log")), "log of " + log);
        }
        assertTrue(Files.readString(dir.resolve("logs/fake-node-agent-sandbox-node-1.log")).contains("FAKE"));
        for (String f : List.of("ca.crt", "ca.key", "client.crt", "client.key", "handler-sandbox-node-1.crt",
                "handler-sandbox-node-2.key")) {
            assertTrue(Files.isRegularFile(dir.resolve("pki/" + f)), f);
        }

        Result status = run(Duration.ofSeconds(60), BIN.toString(), "status", "--dir", dir.toString());
        assertEquals(0, status.code(), status.out());
        for (String c : List.of("virt-controller", "virt-api", "virt-handler-sandbox-node-1", "virt-handler-sandbox-node-2",
                "mock-api-server", "front-door", "fake-node-agent-sandbox-node-2")) {
            assertTrue(status.out().lines().anyMatch(l -> l.startsWith(c + " ") && l.contains(" yes ")),
                    c + " alive in: " + status.out());
        }

        try (KubernetesClient client = client(dir)) {
            assertTrue(client.getMasterUrl().toString().contains("127.0.0.1"), "kubeconfig points at the front door");
            List<Node> nodes = client.nodes().list().getItems();
            assertEquals(List.of("sandbox-node-1", "sandbox-node-2"), nodes.stream().map(n -> n.getMetadata().getName()).sorted().toList());
            Node n2 = client.nodes().withName("sandbox-node-2").get();
            assertEquals("127.0.2.1", n2.getStatus().getAddresses().get(0).getAddress());
            assertEquals("true", n2.getMetadata().getLabels().get("kubevirt.io/schedulable"), "the real handler labelled it");
            assertNotNull(client.genericKubernetesResources("kubevirt.io/v1", "KubeVirt").inNamespace("kubevirt")
                    .withName("kubevirt").get());

            VirtualMachine vm = ManifestLoader.loadOne(TestGuest.testVmYaml()).vm();
            vm.getMetadata().setNamespace("default");
            vm.getSpec().setRunning(true);
            long t1 = System.nanoTime();
            client.resources(VirtualMachine.class).inNamespace("default").resource(vm).create();

            Pod pod = awaitValue(Duration.ofSeconds(90), "the launcher pod Running with its compute container running", () -> {
                for (Pod p : client.pods().inNamespace("default").withLabel("kubevirt.io", "virt-launcher").list().getItems()) {
                    if (p.getStatus() != null && "Running".equals(p.getStatus().getPhase())
                            && p.getStatus().getContainerStatuses().stream().anyMatch(c -> c.getName().equals("compute")
                            && c.getState().getRunning() != null)) {
                        return p;
                    }
                }
                return null;
            });
            String node = pod.getSpec().getNodeName();
            assertTrue(node.equals("sandbox-node-1") || node.equals("sandbox-node-2"), node);
            int i = node.endsWith("1") ? 1 : 2;
            assertTrue(pod.getStatus().getPodIP().matches("127\\.0\\." + i + "\\.([2-9]|[1-9][0-9]+)"), pod.getStatus().getPodIP());
            assertEquals("True", pod.getStatus().getConditions().stream().filter(c -> c.getType().equals("PodScheduled"))
                    .findFirst().orElseThrow().getStatus());
            ContainerStatus compute = pod.getStatus().getContainerStatuses().stream()
                    .filter(c -> c.getName().equals("compute")).findFirst().orElseThrow();
            long pid = containerPid(compute);
            Path runDir = dir.resolve("nodes/" + node + "/run/default/testvm");
            await(Duration.ofSeconds(60), "the compute process became QEMU and made " + runDir.resolve("qmp.sock"),
                    () -> SandboxMain.isQemu(pid) && Files.exists(runDir.resolve("qmp.sock")));
            System.err.println("VM created -> QEMU with qmp.sock: " + (System.nanoTime() - t1) / 1_000_000 + " ms");
            assertEquals("qemu-system-x86_64", Files.readSymbolicLink(Path.of("/proc/" + pid + "/exe")).getFileName().toString());
            ContainerStatus disk = pod.getStatus().getContainerStatuses().stream()
                    .filter(c -> !c.getName().equals("compute")).findFirst().orElseThrow();
            await(Duration.ofSeconds(30), "the containerDisk container shows Running", () -> {
                Pod p = client.pods().inNamespace("default").withName(pod.getMetadata().getName()).get();
                return p.getStatus().getContainerStatuses().stream().anyMatch(c -> c.getName().equals(disk.getName())
                        && c.getState().getRunning() != null && c.getImageID().startsWith("127.0.0.1:5000/qvirt/guest@sha256:"));
            });

            Result st2 = run(Duration.ofSeconds(60), BIN.toString(), "status", "--dir", dir.toString());
            assertTrue(st2.out().lines().anyMatch(l -> l.startsWith("default/" + pod.getMetadata().getName())
                    && l.contains(node) && l.contains(pod.getStatus().getPodIP()) && l.trim().endsWith(" " + pid)),
                    "the pod with its node, IP and QEMU pid in: " + st2.out());
            assertFalse(processesMentioning(dir).isEmpty());
            qemuPid = pid;

            // A handler killed by SIGKILL comes back, as its DaemonSet pod would; QEMU is not touched.
            long h1 = (Long) component(dir, "virt-handler-sandbox-node-1").get("pid");
            ProcessHandle.of(h1).orElseThrow().destroyForcibly();
            await(Duration.ofSeconds(30), "virt-handler-sandbox-node-1 restarted", () -> {
                Map<String, Object> c = component(dir, "virt-handler-sandbox-node-1");
                long now = (Long) c.get("pid");
                return now > 0 && now != h1 && ((Number) c.get("restarts")).intValue() == 1
                        && ProcessHandle.of(now).isPresent();
            });
            assertTrue(SandboxMain.isQemu(pid), "QEMU survives the handler's restart");
        }

        long t2 = System.nanoTime();
        Result down = run(Duration.ofSeconds(120), BIN.toString(), "down", "--dir", dir.toString());
        System.err.println("down took " + (System.nanoTime() - t2) / 1_000_000 + " ms");
        assertEquals(0, down.code(), down.out());
        assertFalse(down.out().contains("killed leftover"), "down stopped everything itself: " + down.out());
        assertEquals(List.of(), processesMentioning(dir), "no process of the sandbox left");
        assertTrue(ProcessHandle.of(qemuPid).isEmpty(), "QEMU (pid " + qemuPid + ") is gone");
        assertFalse(Files.exists(dir.resolve("sandbox.pid")));
        Result status2 = run(Duration.ofSeconds(60), BIN.toString(), "status", "--dir", dir.toString());
        assertEquals(1, status2.code(), status2.out());
    }

    @Test
    void whenTheDaemonIsKilledItsChildrenDieToo() throws Exception {
        Path dir = tmp.resolve("kill");
        Result up = up(dir, 1);
        assertEquals(0, up.code(), up.out());
        long daemon;
        List<Long> pids = new ArrayList<>();
        try (KubernetesClient client = client(dir)) {
            client.pods().inNamespace("default").resource(new PodBuilder().withNewMetadata().withName("sleeper").endMetadata()
                    .withNewSpec().withRestartPolicy("Never").addNewContainer().withName("c").withImage("local")
                    .withCommand("sleep", "600").endContainer().endSpec().build()).create();
            Pod p = awaitValue(Duration.ofSeconds(30), "the sleeper pod Running", () -> {
                Pod x = client.pods().inNamespace("default").withName("sleeper").get();
                return x != null && x.getStatus() != null && "Running".equals(x.getStatus().getPhase()) ? x : null;
            });
            pids.add(containerPid(p.getStatus().getContainerStatuses().get(0)));
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> st = Serialization.unmarshal(Files.readString(dir.resolve("status.json")), Map.class);
        daemon = ((Number) st.get("pid")).longValue();
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> comps = (List<Map<String, Object>>) st.get("components");
        for (Map<String, Object> c : comps) {
            long pid = ((Number) c.get("pid")).longValue();
            if (pid != daemon && pid > 0) {
                pids.add(pid);
            }
        }
        assertEquals(4, pids.size(), "the pod's process, the controller, virt-api and one handler: " + comps);
        for (long pid : pids) {
            assertTrue(ProcessHandle.of(pid).isPresent(), "pid " + pid + " alive before the kill");
        }
        ProcessHandle.of(daemon).orElseThrow().destroyForcibly(); // SIGKILL: no shutdown hook runs
        await(Duration.ofSeconds(15), "every child of the SIGKILLed daemon gone (pdeathsig)",
                () -> pids.stream().allMatch(pid -> ProcessHandle.of(pid).isEmpty()));
        await(Duration.ofSeconds(10), "no process mentions " + dir, () -> processesMentioning(dir).isEmpty());
        Result down = run(Duration.ofSeconds(60), BIN.toString(), "down", "--dir", dir.toString());
        assertEquals(0, down.code(), down.out());
        assertTrue(down.out().contains("no sandbox running"), down.out());
    }

    /** A caller naming DIR on its own command line (a script, a benchmark's -D option) is not a leftover of the rig. */
    @Test
    void downNeverKillsItsCaller() throws Exception {
        Path dir = tmp.resolve("caller");
        Files.createDirectories(dir);
        Result r = run(Duration.ofSeconds(60), "bash", "-c", BIN + " down --dir " + dir + " && echo caller-survived");
        assertEquals(0, r.code(), r.out());
        assertTrue(r.out().contains("no sandbox running"), r.out());
        assertTrue(r.out().contains("caller-survived"), "down killed the shell that ran it: " + r.out());
        assertFalse(r.out().contains("killed leftover"), r.out());
    }
}
