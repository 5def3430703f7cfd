package io.qvirt.controller;

import io.qvirt.api.client.PatchConflictException;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.Pod;
import io.qvirt.api.LoadedManifest;
import io.qvirt.api.VirtualMachine;
import io.qvirt.api.VirtualMachineInstance;
import io.qvirt.api.VmiDefaults;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Parts with no API server at all: the work queue, the pod's sizing, the CLI's exit codes. */
class UnitTest {
    private static final long MI = 1024 * 1024;

    @Test
    void queueDeduplicatesAndNeverHandsAKeyToTwoWorkers() throws Exception {
        try (WorkQueue q = new WorkQueue("t", Duration.ofMillis(10), Duration.ofMillis(80))) {
            q.add("a");
            q.add("a");
            q.add("b");
            assertEquals(2, q.depth());
            String k = q.take(Duration.ofSeconds(1));
            assertEquals("a", k);
            q.add("a"); // added while processing: waits for done()
            assertEquals("b", q.take(Duration.ofSeconds(1)));
            assertNull(q.take(Duration.ofMillis(50)), "a must not be handed out while a worker holds it");
            q.done("a");
            assertEquals("a", q.take(Duration.ofSeconds(1)));
        }
    }

    /**
     * KubeVirt's crash-loop back-off with its numbers (10 s, cap 300 s): the n-th failure waits 10 s x n^2 plus a
     * jitter of up to half of that, never more than 300 s; the jitter's bounds are reached by a random source
     * that returns its extremes.
     */
    @org.junit.jupiter.params.ParameterizedTest(name = "failure {0}: {1}..{2} s")
    @org.junit.jupiter.params.provider.CsvSource({
        "1,  10,  15",
        "2,  40,  60",
        "3,  90,  135",
        "4,  160, 240",
        "5,  250, 300",
        "6,  300, 300",
        "40, 300, 300",
    })
    void crashLoopBackOffIsKubeVirts(int n, long least, long most) {
        Duration base = Duration.ofSeconds(10);
        Duration max = Duration.ofSeconds(300);
        java.util.random.RandomGenerator low = new java.util.random.RandomGenerator() {
            @Override
            public long nextLong() {
                return 0;
            }

            @Override
            public long nextLong(long bound) {
                return 0;
            }
        };
        java.util.random.RandomGenerator high = new java.util.random.RandomGenerator() {
            @Override
            public long nextLong() {
                return Long.MAX_VALUE;
            }

            @Override
            public long nextLong(long bound) {
                return bound - 1;
            }
        };
        assertEquals(Duration.ofSeconds(least), VmReconciler.crashLoopDelay(n, base, max, low));
        assertEquals(Duration.ofSeconds(most), VmReconciler.crashLoopDelay(n, base, max, high));
        java.util.SplittableRandom r = new java.util.SplittableRandom(n);
        for (int i = 0; i < 200; i++) {
            long ms = VmReconciler.crashLoopDelay(n, base, max, r).toMillis();
            assertTrue(ms >= least * 1000 && ms <= most * 1000, ms + " ms for failure " + n);
        }
    }

    @Test
    void queueRateLimitsFailuresExponentiallyAndForgets() throws Exception {
        try (WorkQueue q = new WorkQueue("t", Duration.ofMillis(10), Duration.ofMillis(80))) {
            assertEquals(Duration.ofMillis(10), q.backoff(1));
            assertEquals(Duration.ofMillis(20), q.backoff(2));
            assertEquals(Duration.ofMillis(80), q.backoff(4));
            assertEquals(Duration.ofMillis(80), q.backoff(40), "capped");
            long t0 = System.nanoTime();
            q.addRateLimited("x");
            assertEquals("x", q.take(Duration.ofSeconds(1)));
            q.done("x");
            q.addRateLimited("x");
            assertEquals("x", q.take(Duration.ofSeconds(1)));
            assertTrue(System.nanoTime() - t0 >= TimeUnit.MILLISECONDS.toNanos(30), "10 ms + 20 ms of back-off");
            assertEquals(2, q.failures("x"));
            q.done("x");
            q.forget("x");
            assertEquals(0, q.failures("x"), "forget clears the count");
            q.addRateLimited("x");
            // counted, not timed (a loaded machine delays a take): one failure is the base delay
            assertEquals(1, q.failures("x"), "forget resets to the base delay");
            assertEquals("x", q.take(Duration.ofSeconds(1)));
        }
    }

    @Test
    void queueUnderConcurrentWorkersProcessesEveryKeyExclusively() throws Exception {
        try (WorkQueue q = new WorkQueue("t", Duration.ofMillis(1), Duration.ofMillis(5))) {
            ConcurrentHashMap<String, Boolean> inFlight = new ConcurrentHashMap<>();
            AtomicInteger overlaps = new AtomicInteger();
            AtomicInteger processed = new AtomicInteger();
            CountDownLatch stop = new CountDownLatch(1);
            ExecutorService pool = Executors.newFixedThreadPool(4);
            for (int w = 0; w < 4; w++) {
                pool.submit(() -> {
                    while (stop.getCount() > 0) {
                        String k = q.take(Duration.ofMillis(50));
                        if (k == null) {
                            continue;
                        }
                        if (inFlight.putIfAbsent(k, true) != null) {
                            overlaps.incrementAndGet();
                        }
                        Thread.sleep(1);
                        inFlight.remove(k);
                        processed.incrementAndGet();
                        q.done(k);
                    }
                    return null;
                });
            }
            for (int i = 0; i < 2000; i++) {
                q.add("k" + (i % 20));
            }
            MockApi.await(Duration.ofSeconds(10), "queue drained", () -> q.depth() == 0 && inFlight.isEmpty());
            stop.countDown();
            pool.shutdown();
            assertTrue(pool.awaitTermination(5, TimeUnit.SECONDS));
            assertEquals(0, overlaps.get(), "a key was processed by two workers at once");
            assertTrue(processed.get() >= 20 && processed.get() < 2000, "deduplicated: " + processed.get());
        }
    }

    /**
     * Whatever a reconcile throws, the key comes back with back-off and the worker carries on. (A worker
     * used to catch only RuntimeException: an Error or a smuggled checked exception ended the worker's loop,
     * silently since nobody reads its future, and dropped the key until some event brought it back.)
     */
    @Test
    void aKeyWhoseReconcileThrowsAnythingIsRetriedNotDropped() throws Exception {
        try (WorkQueue q = new WorkQueue("t", Duration.ofMillis(10), Duration.ofMillis(80))) {
            Metrics m = new Metrics();
            AtomicInteger calls = new AtomicInteger();
            List<Throwable> failures = List.of(new StackOverflowError("deep"), new AssertionError("assert"),
                    new java.io.IOException("smuggled checked exception"), new IllegalStateException("transient"),
                    new PatchConflictException("409 five times"));
            Reconciler r = key -> {
                int n = calls.incrementAndGet();
                if (n <= failures.size()) {
                    UnitTest.<RuntimeException>sneakyThrow(failures.get(n - 1));
                }
                return null;
            };
            q.add("ns/vm");
            for (int i = 0; i <= failures.size(); i++) {
                String k = q.take(Duration.ofSeconds(2));
                assertEquals("ns/vm", k, "attempt " + (i + 1) + " after " + (i == 0 ? "add" : failures.get(i - 1)));
                Controller.process(q, "vm", r, k, m);
            }
            assertEquals(failures.size() + 1, calls.get());
            assertEquals(failures.size() - 1, m.count("vm", "error"));
            assertEquals(1, m.count("vm", "conflict"));
            assertEquals(1, m.count("vm", "success"));
            assertNull(q.take(Duration.ofMillis(300)), "reconciled: not queued again");
        }
    }

    @SuppressWarnings("unchecked")
    private static <E extends Throwable> void sneakyThrow(Throwable t) throws E {
        throw (E) t;
    }

    @Test
    void overheadFormulaMatchesTheMeasurement() {
        // Measured: QEMU 7.2 under TCG, 128 MiB guest, RSS 216-221 MB -> ~90 MiB beside the guest.
        assertEquals(89 * MI, LauncherPods.overheadBytes(128 * MI, 1));
        assertEquals(80 * MI + 4 * 8 * MI + 8 * MI, LauncherPods.overheadBytes(4096 * MI, 4));
        assertTrue(LauncherPods.overheadBytes(128 * MI, 1) < 220 * MI, "below KubeVirt's fixed ~220 MiB");
    }

    @Test
    void podSizingFollowsGuestMemoryAndCpus() {
        VirtualMachine vm = MockApi.seedVm();
        vm.getMetadata().setUid("u-1");
        vm.getSpec().getTemplate().getSpec().getDomain().getResources().getRequests()
                .put("memory", new io.fabric8.kubernetes.api.model.Quantity("1Gi"));
        vm.getSpec().getTemplate().getSpec().getDomain().getResources()
                .setLimits(new java.util.LinkedHashMap<>(java.util.Map.of("cpu", new io.fabric8.kubernetes.api.model.Quantity("2"))));
        VirtualMachineInstance vmi = VmiDefaults.apply(LoadedManifest.fromVm(vm));
        vmi.getMetadata().setUid("vmi-uid");
        Pod pod = LauncherPods.build(vmi, ClusterConfig.defaults());
        Container c = pod.getSpec().getContainers().get(0);
        // 1 GiB + 80 + 2 x 8 + 2 MiB (1 GiB / 512) = 1024 + 98 MiB
        assertEquals("1122Mi", c.getResources().getRequests().get("memory").toString());
        assertEquals("2", c.getResources().getRequests().get("cpu").toString(), "cpu request from the limit");
        assertEquals("2", c.getResources().getLimits().get("cpu").toString());
        assertEquals("quay.io/qvirt/virt-launcher:v0.1.0", c.getImage());
        assertEquals(Boolean.TRUE, pod.getSpec().getShareProcessNamespace(), "containerDisk needs the shared pid ns");
        assertEquals(List.of("container-disk-binary"), pod.getSpec().getInitContainers().stream().map(Container::getName).toList());
        assertEquals(Boolean.TRUE, c.getSecurityContext().getReadOnlyRootFilesystem());
        assertFalse(c.getSecurityContext().getAllowPrivilegeEscalation());
        assertEquals("net.ipv4.ip_unprivileged_port_start=0", pod.getSpec().getSecurityContext().getSysctls().stream()
                .map(x -> x.getName() + "=" + x.getValue()).reduce((a, b) -> a + "," + b).orElse(""),
                "uid 107 may bind the forwarded ports below 1024");
    }

    @Test
    void cliExitCodes() {
        PrintStream err = System.err;
        PrintStream out = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(buf, true, StandardCharsets.UTF_8));
            assertEquals(0, ControllerMain.run("--help"));
            assertTrue(buf.toString(StandardCharsets.UTF_8).contains("--leader-elect"));
            assertEquals(2, ControllerMain.run("--no-such-flag"));
            assertEquals(2, ControllerMain.run("--workers", "0"));
            assertEquals(2, ControllerMain.run("--kubeconfig", "/nonexistent/kubeconfig"));
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
    }
}
