package io.qvirt.sandbox;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.qvirt.handler.Wait;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The FAKE node agent against fabric8's CRUD mock API server, in-process, with real local processes: pod
 * address, env and path mapping seen by the process itself, container states and pod phase as a kubelet
 * reports them, SIGTERM then SIGKILL after the grace period on delete; and the FAKE scheduler's binding.
 */
class FakeNodeAgentTest {
    @TempDir
    Path dir;
    private MockApiServer mock;
    private KubernetesClient client;
    private FakeNodeAgent agent;

    @BeforeEach
    void setUp() throws Exception {
        mock = new MockApiServer(null);
        mock.seedCluster(true);
        mock.createNode("sandbox-node-7", "127.0.7.1", 2, 1L << 30, 110);
        client = mock.client("test");
        Map<String, String> env = new HashMap<>();
        env.put("PATH", "/usr/local/bin:/usr/bin:/bin");
        agent = new FakeNodeAgent(new FakeNodeAgent.Options("sandbox-node-7", 7, dir.resolve("node"),
                PodCommandsTest.BIN, Duration.ofSeconds(5)), mock.client("agent"), () -> {
                    throw new IllegalStateException("no images in this test");
                }, env, ComponentLog.stderr("FAKE node agent (test)"));
        agent.start();
    }

    @AfterEach
    void tearDown() {
        agent.close();
        client.close();
        mock.close();
    }

    private Pod pod(String name, long grace, String... scripts) {
        PodBuilder b = new PodBuilder().withNewMetadata().withName(name).withNamespace("default").endMetadata()
                .withNewSpec().withNodeName("sandbox-node-7").withRestartPolicy("Never").withTerminationGracePeriodSeconds(grace)
                .addNewVolume().withName("runtime").withNewHostPath().withPath("/run/qvirt").endHostPath().endVolume()
                .addNewInitContainer().withName("init").withImage("x").withCommand("/bin/false").endInitContainer()
                .endSpec();
        for (int i = 0; i < scripts.length; i++) {
            b.editSpec().addNewContainer().withName("c" + i).withImage("local").withCommand("/bin/sh", "-c").withArgs(scripts[i])
                    .addNewEnv().withName("POD_IP").withNewValueFrom().withNewFieldRef().withFieldPath("status.podIP").endFieldRef().endValueFrom().endEnv()
                    .addNewEnv().withName("POD_NAME").withNewValueFrom().withNewFieldRef().withFieldPath("metadata.name").endFieldRef().endValueFrom().endEnv()
                    .addNewEnv().withName("OUT").withValue("/run/qvirt/$(POD_NAME)-" + i + ".txt").endEnv()
                    .addNewVolumeMount().withName("runtime").withMountPath("/run/qvirt").endVolumeMount()
                    .endContainer().endSpec();
        }
        return client.pods().inNamespace("default").resource(b.build()).create();
    }

    private Pod get(String name) {
        return client.pods().inNamespace("default").withName(name).get();
    }

    private static ContainerStatus container(Pod p, String name) {
        if (p == null || p.getStatus() == null || p.getStatus().getContainerStatuses() == null) {
            return null;
        }
        return p.getStatus().getContainerStatuses().stream().filter(c -> c.getName().equals(name)).findFirst().orElse(null);
    }

    private static String condition(Pod p, String type) {
        return p.getStatus().getConditions().stream().filter(c -> c.getType().equals(type)).map(PodCondition::getStatus)
                .findFirst().orElse(null);
    }

    private Pod await(String name, String what, Predicate<Pod> cond) throws InterruptedException {
        Pod[] box = new Pod[1];
        await(Duration.ofSeconds(20), what, () -> {
            box[0] = get(name);
            return box[0] != null && cond.test(box[0]);
        });
        return box[0];
    }

    /** {@link Wait#until}, failing the test naming {@code what}. */
    static void await(Duration timeout, String what, BooleanSupplier cond) throws InterruptedException {
        if (!Wait.until(timeout, cond)) {
            throw new AssertionError("timed out after " + timeout + " waiting for: " + what);
        }
    }

    @Test
    void runsContainersAsProcessesAndReportsAsTheKubelet() throws Exception {
        pod("p1", 30, "echo \"$POD_IP $(POD_NAME) $QVIRT_RUNTIME_ROOT\" > $OUT; exec sleep 60", "exit 3");
        Pod p = await("p1", "c0 running, c1 terminated", x -> {
            ContainerStatus c0 = container(x, "c0");
            ContainerStatus c1 = container(x, "c1");
            return c0 != null && c0.getState().getRunning() != null && c1 != null && c1.getState().getTerminated() != null;
        });
        assertEquals("127.0.7.2", p.getStatus().getPodIP(), "the node's first pod address");
        assertEquals("127.0.7.1", p.getStatus().getHostIP());
        assertEquals("Running", p.getStatus().getPhase(), "one container runs, the other ended");
        assertEquals("False", condition(p, "Ready"));
        assertEquals("True", condition(p, "PodScheduled"));
        assertEquals(3, container(p, "c1").getState().getTerminated().getExitCode());
        assertEquals("Error", container(p, "c1").getState().getTerminated().getReason());
        assertNotNull(container(p, "c1").getState().getTerminated().getFinishedAt());
        assertEquals(0, p.getStatus().getInitContainerStatuses().get(0).getState().getTerminated().getExitCode(),
                "init containers are reported done, not run (/bin/false would fail)");
        Path out = dir.resolve("node/run/p1-0.txt");
        await(Duration.ofSeconds(5), "the process wrote " + out, () -> Files.exists(out));
        assertEquals("127.0.7.2 p1 " + dir.resolve("node/run"), Files.readString(out).trim(),
                "fieldRefs, $(VAR) in args and the hostPath mapped for the process");
        long pid = agent.pods().get(0).pids().get("c0");
        assertTrue(ProcessHandle.of(pid).isPresent());

        client.pods().inNamespace("default").withName("p1").delete();
        await(Duration.ofSeconds(10), "c0's process gone after the delete", () -> ProcessHandle.of(pid).isEmpty()
                && agent.pods().isEmpty());
        assertFalse(Files.exists(dir.resolve("node/pods")) && Files.list(dir.resolve("node/pods")).findAny().isPresent(),
                "the pod's directory is removed");
    }

    @Test
    void podPhaseFollowsItsContainersAndSignalsGiveExitCodes() throws Exception {
        pod("ok", 30, "exit 0", "true");
        Pod p = await("ok", "Succeeded", x -> x.getStatus() != null && "Succeeded".equals(x.getStatus().getPhase()));
        assertEquals("Completed", container(p, "c0").getState().getTerminated().getReason());
        assertEquals("False", condition(p, "Ready"));
        pod("killed", 30, "kill -KILL $$$$"); // $$ is the kubelet's escape of $
        p = await("killed", "Failed", x -> x.getStatus() != null && "Failed".equals(x.getStatus().getPhase()));
        assertEquals(137, container(p, "c0").getState().getTerminated().getExitCode(), "128 + SIGKILL");
        assertEquals(9, container(p, "c0").getState().getTerminated().getSignal());
        // Two pods at once have two addresses.
        assertTrue(p.getStatus().getPodIP().startsWith("127.0.7."));
    }

    @Test
    void deleteSendsSigtermThenSigkillAfterTheGracePeriod() throws Exception {
        pod("stubborn", 1, "trap '' TERM; while true; do sleep 0.1; done", "exec sleep 60");
        await("stubborn", "Running and Ready", x -> x.getStatus() != null && "Running".equals(x.getStatus().getPhase())
                && "True".equals(condition(x, "Ready")));
        Map<String, Long> pids = agent.pods().get(0).pids();
        long t0 = System.nanoTime();
        client.pods().inNamespace("default").withName("stubborn").delete();
        await(Duration.ofSeconds(10), "both processes gone", () -> pids.values().stream().allMatch(pid -> ProcessHandle.of(pid).isEmpty()));
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(ms >= 900, "the TERM-ignoring container got its 1 s grace period, gone after " + ms + " ms");
        assertTrue(ms < 6000, "then SIGKILL: " + ms + " ms");
        await(Duration.ofSeconds(5), "the agent forgot the pod", () -> agent.pods().isEmpty());
        assertNull(get("stubborn"));
    }

    @Test
    void fakeSchedulerBindsBySelectorAndSpreads() throws Exception {
        mock.createNode("sandbox-node-8", "127.0.8.1", 2, 1L << 30, 110);
        client.nodes().withName("sandbox-node-8").edit(n -> {
            n.getMetadata().getLabels().put("kubevirt.io/schedulable", "true");
            return n;
        });
        try (FakeScheduler s = new FakeScheduler(mock.client("scheduler"), ComponentLog.stderr("FAKE scheduler (test)"))) {
            Pod p = client.pods().inNamespace("default").resource(new PodBuilder().withNewMetadata().withName("sel")
                    .endMetadata().withNewSpec().addToNodeSelector("kubevirt.io/schedulable", "true")
                    .addNewContainer().withName("c").withImage("x").withCommand("sleep", "1").endContainer()
                    .endSpec().build()).create();
            assertNotNull(p);
            Pod bound = await("sel", "bound", x -> x.getSpec().getNodeName() != null);
            assertEquals("sandbox-node-8", bound.getSpec().getNodeName(), "the only node with the label");
            Pod none = client.pods().inNamespace("default").resource(new PodBuilder().withNewMetadata().withName("none")
                    .endMetadata().withNewSpec().addToNodeSelector("no-such", "label")
                    .addNewContainer().withName("c").withImage("x").withCommand("sleep", "1").endContainer()
                    .endSpec().build()).create();
            Pod un = await("none", "Unschedulable", x -> x.getStatus() != null && x.getStatus().getConditions() != null
                    && x.getStatus().getConditions().stream().anyMatch(c -> "Unschedulable".equals(c.getReason())));
            assertNull(un.getSpec().getNodeName());
            assertTrue(un.getStatus().getConditions().get(0).getMessage().startsWith("0/2 nodes are available: 2 node(s) didn't match"),
                    un.getStatus().getConditions().get(0).getMessage());
            assertNotNull(none);
            // Without a selector: the node with fewer unfinished pods (node-7 has none, node-8 has "sel").
            client.pods().inNamespace("default").resource(new PodBuilder().withNewMetadata().withName("any")
                    .endMetadata().withNewSpec().addNewContainer().withName("c").withImage("x").withCommand("sleep", "1")
                    .endContainer().endSpec().build()).create();
            assertEquals("sandbox-node-7", await("any", "bound", x -> x.getSpec().getNodeName() != null).getSpec().getNodeName());
        }
    }
}
