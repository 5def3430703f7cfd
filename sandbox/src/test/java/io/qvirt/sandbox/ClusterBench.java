package io.qvirt.sandbox;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import io.qvirt.api.ManifestLoader;
import io.qvirt.api.VirtualMachine;
import io.qvirt.api.VirtualMachineInstance;
import io.qvirt.testdata.GuestMarkers;
import io.qvirt.testdata.TestGuest;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * {@code ./bench.sh --cluster}: the cluster path on the rig (fabric8's CRUD mock API, NOT a kube-apiserver; FAKE
 * node agents; the real controller, handlers and QEMU under TCG). Figures:
 * <ul>
 * <li>{@code running: true} patched on a VM applied as testdata/testvm.yaml is (stopped) -> VMI Running in the API
 *     (seen by a watch), and -> the guest's boot marker on its console, one VM at a time, n times;</li>
 * <li>QMP event -> VMI status written: the handler's own measure (its /metrics summary), over n pauses and n
 *     unpauses; and pause request -> Paused condition seen by a watch, from outside;</li>
 * <li>10 VMs at once ({@code running: true} patched on 10 stopped VMs): all Running, all booted;</li>
 * <li>the handlers' RSS and CPU with 0 and with 10 attached VMs.</li>
 * </ul>
 * Usage: {@code ClusterBench [N]}; prints a markdown table; exit 1 on any failure.
 */
public final class ClusterBench {
    private static final Duration BOOT = Duration.ofSeconds(180);
    private final Path dir;
    private final KubernetesClient client;
    private final Map<String, Long> runningAt = new ConcurrentHashMap<>();
    private final Map<String, Long> pausedAt = new ConcurrentHashMap<>();

    private ClusterBench(Path dir, KubernetesClient client) {
        this.dir = dir;
        this.client = client;
    }

    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 10;
        Path dir = Path.of(System.getProperty("qvirt.bench.dir", "/tmp/qvirt-bench-cluster"));
        System.exit(BenchStats.onFreshRig(dir, 2, (client, upMs) -> new ClusterBench(dir, client).bench(n, upMs)));
    }

    private void bench(int n, long upMs) throws Exception {
        Watch w = client.resources(VirtualMachineInstance.class).inAnyNamespace().watch(new Watcher<>() {
            @Override
            public void eventReceived(Action action, VirtualMachineInstance v) {
                long now = System.nanoTime();
                String name = v.getMetadata().getName();
                if (v.getStatus() != null && "Running".equals(v.getStatus().getPhase())) {
                    runningAt.putIfAbsent(v.getMetadata().getUid(), now);
                }
                boolean paused = v.getStatus() != null && v.getStatus().getConditions() != null
                        && v.getStatus().getConditions().stream().anyMatch(c -> "Paused".equals(c.getType()));
                if (paused) {
                    pausedAt.putIfAbsent(name, now);
                } else {
                    pausedAt.remove(name);
                }
            }

            @Override
            public void onClose(WatcherException cause) {
            }
        });
        try {
            List<Double> toRunning = new ArrayList<>();
            List<Double> toBooted = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                String name = "bench-" + i;
                create(name);
                long t0 = System.nanoTime();
                start(name);
                VirtualMachineInstance v = await(BOOT, name + " Running", () -> {
                    VirtualMachineInstance x = vmi(name);
                    return x != null && runningAt.containsKey(x.getMetadata().getUid()) ? x : null;
                });
                toRunning.add((runningAt.get(v.getMetadata().getUid()) - t0) / 1e6);
                Path log = vmDir(v).resolve("console.log");
                await(BOOT, name + " booted", () -> contains(log, "QVIRT-GUEST-BOOTED") ? true : null);
                toBooted.add((System.nanoTime() - t0) / 1e6);
                if (i < n - 1) {
                    delete(name);
                }
            }
            // Events -> status on the last VM: pauses and unpauses through the node API.
            String name = "bench-" + (n - 1);
            VirtualMachineInstance v = vmi(name);
            await(BOOT, "prompt", () -> contains(vmDir(v).resolve("console.log"), GuestMarkers.PROMPT) ? true : null);
            NodeApiClient api = new NodeApiClient(dir.resolve("pki"), nodeAddress(v.getStatus().getNodeName()));
            List<Double> pauseSeen = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                long t0 = System.nanoTime();
                check(api.put("default", name, "pause"));
                await(Duration.ofSeconds(10), "Paused seen", () -> pausedAt.get(name));
                pauseSeen.add((pausedAt.get(name) - t0) / 1e6);
                check(api.put("default", name, "unpause"));
                await(Duration.ofSeconds(10), "unpaused seen", () -> pausedAt.containsKey(name) ? null : true);
            }
            String metrics = metrics(nodeAddress(v.getStatus().getNodeName()));
            double ev50 = quantile(metrics, "0.5") * 1000;
            double ev99 = quantile(metrics, "0.99") * 1000;
            long events = eventCount(metrics);
            delete(name);

            // Handler footprint with nothing attached.
            Thread.sleep(3000);
            long[] rss0 = handlerRss();
            double cpu0 = handlerCpuOver(Duration.ofSeconds(20));

            // 10 VMs at once.
            int many = 10;
            for (int i = 0; i < many; i++) {
                create("dense-" + i);
            }
            long t0 = System.nanoTime();
            for (int i = 0; i < many; i++) {
                start("dense-" + i);
            }
            long allRunning = 0;
            for (int i = 0; i < many; i++) {
                String nm = "dense-" + i;
                VirtualMachineInstance x = await(Duration.ofSeconds(300), nm + " Running", () -> {
                    VirtualMachineInstance y = vmi(nm);
                    return y != null && runningAt.containsKey(y.getMetadata().getUid()) ? y : null;
                });
                allRunning = Math.max(allRunning, runningAt.get(x.getMetadata().getUid()) - t0);
            }
            for (int i = 0; i < many; i++) {
                VirtualMachineInstance x = vmi("dense-" + i);
                Path log = vmDir(x).resolve("console.log");
                await(Duration.ofSeconds(300), x.getMetadata().getName() + " booted", () -> contains(log, "QVIRT-GUEST-BOOTED") ? true : null);
            }
            long allBooted = System.nanoTime() - t0;
            Thread.sleep(3000);
            long[] rss10 = handlerRss();
            double cpu10 = handlerCpuOver(Duration.ofSeconds(20));
            for (int i = 0; i < many; i++) {
                delete("dense-" + i);
            }

            StringBuilder b = new StringBuilder();
            b.append("## qvirt cluster path on the rig (").append(Instant.now()).append(")\n\n")
                    .append("fabric8's CRUD mock API server (not a kube-apiserver), FAKE node agents, the real controller,\n")
                    .append("2 real handlers, real QEMU under TCG; 2 cores. n = ").append(n).append(".\n\n")
                    .append("| figure | p50 | p99 | max |\n|---|---:|---:|---:|\n");
            row(b, "running: true patched -> VMI Running in the API, ms", toRunning);
            row(b, "running: true patched -> guest boot marker on the console, ms", toBooted);
            row(b, "pause request -> Paused condition seen by a watch, ms", pauseSeen);
            // The handler's summary covers every status event of that node's handler so far: the n pauses and n
            // unpauses, and the cont (RESUME) of each VM it started.
            b.append(String.format(Locale.ROOT, "| QMP event -> VMI status written (the handler's own summary: %d events, %d of them"
                    + " pause/unpause), ms | %.1f | %.1f | |%n", events, 2 * n, ev50, ev99));
            b.append(String.format(Locale.ROOT, "%n| 10 VMs at once | value |%n|---|---:|%n| all Running, s | %.1f |%n| all booted, s | %.1f |%n",
                    allRunning / 1e9, allBooted / 1e9));
            b.append(String.format(Locale.ROOT, "| handler RSS, 0 VMs attached (per handler), MiB | %s |%n", mib(rss0)));
            b.append(String.format(Locale.ROOT, "| handler RSS, 10 VMs attached on 2 handlers, MiB | %s |%n", mib(rss10)));
            b.append(String.format(Locale.ROOT, "| handler RSS per attached VM, MiB | %.2f |%n",
                    (sum(rss10) - sum(rss0)) / 1048576.0 / many));
            b.append(String.format(Locale.ROOT, "| handlers' CPU, idle, 0 VMs, %% of a core | %.2f |%n", cpu0 * 100));
            b.append(String.format(Locale.ROOT, "| handlers' CPU, idle, 10 VMs (resync every 30 s), %% of a core | %.2f |%n", cpu10 * 100));
            b.append(String.format(Locale.ROOT, "| bin/qvirt-sandbox up, s | %.1f |%n", upMs / 1000.0));
            System.out.print(b);
            Path out = TestGuest.projectRoot().resolve("bench/results").resolve(
                    Instant.now().toString().replaceAll("[-:]", "").replaceAll("\\.[0-9]+", "") + "-cluster.md");
            Files.createDirectories(out.getParent());
            Files.writeString(out, b.toString());
            System.out.println("\nWritten: " + out);
        } finally {
            w.close();
        }
    }

    /** testdata/testvm.yaml under another name, as the file says: {@code running: false}. */
    private void create(String name) throws Exception {
        VirtualMachine vm = ManifestLoader.loadOne(TestGuest.testVmYaml()).vm();
        vm.getMetadata().setName(name);
        vm.getMetadata().setNamespace("default");
        if (!Boolean.FALSE.equals(vm.getSpec().getRunning())) {
            throw new IllegalStateException("testdata/testvm.yaml no longer says running: false");
        }
        client.resources(VirtualMachine.class).resource(vm).create();
    }

    /** {@code kubectl patch vm NAME --type merge -p '{"spec":{"running":true}}'}. */
    private void start(String name) {
        client.resources(VirtualMachine.class).inNamespace("default").withName(name)
                .patch(io.fabric8.kubernetes.client.dsl.base.PatchContext.of(io.fabric8.kubernetes.client.dsl.base.PatchType.JSON_MERGE),
                        "{\"spec\":{\"running\":true}}");
    }

    private void delete(String name) throws Exception {
        client.resources(VirtualMachine.class).inNamespace("default").withName(name).delete();
        await(Duration.ofSeconds(90), name + " gone", () -> vmi(name) == null
                && client.resources(VirtualMachine.class).inNamespace("default").withName(name).get() == null ? true : null);
    }

    private VirtualMachineInstance vmi(String name) {
        return client.resources(VirtualMachineInstance.class).inNamespace("default").withName(name).get();
    }

    private Path vmDir(VirtualMachineInstance v) {
        return dir.resolve("nodes").resolve(v.getStatus().getNodeName()).resolve("run/default").resolve(v.getMetadata().getName());
    }

    private String nodeAddress(String node) {
        return client.nodes().withName(node).get().getStatus().getAddresses().stream()
                .filter(a -> "InternalIP".equals(a.getType())).findFirst().orElseThrow().getAddress();
    }

    private static boolean contains(Path f, String s) {
        try {
            return Files.exists(f) && Files.readString(f).contains(s);
        } catch (IOException e) {
            return false;
        }
    }

    private static void check(HttpResponse<String> r) {
        if (r.statusCode() != 200) {
            throw new IllegalStateException("node API answered " + r.statusCode() + ": " + r.body());
        }
    }

    private static String metrics(String address) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://" + address + ":8443/metrics"))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString()).body();
    }

    private static double quantile(String metrics, String q) {
        for (String line : metrics.split("\n")) {
            if (line.startsWith("qvirt_handler_event_to_status_seconds{quantile=\"" + q + "\"}")) {
                return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        throw new IllegalStateException("no event-to-status quantile " + q + " in the handler's metrics");
    }

    private static long eventCount(String metrics) {
        for (String line : metrics.split("\n")) {
            if (line.startsWith("qvirt_handler_event_to_status_seconds_count ")) {
                return Long.parseLong(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        throw new IllegalStateException("no event-to-status count in the handler's metrics");
    }

    private long[] handlerRss() throws IOException {
        long[] out = new long[2];
        for (int i = 1; i <= 2; i++) {
            long pid = (Long) SandboxIT.component(dir, "virt-handler-sandbox-node-" + i).get("pid");
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                if (line.startsWith("VmRSS:")) {
                    out[i - 1] = Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        }
        return out;
    }

    /** Both handlers' CPU seconds over {@code window}, as a fraction of one core. */
    private double handlerCpuOver(Duration window) throws Exception {
        double before = handlerCpuSeconds();
        Thread.sleep(window.toMillis());
        return (handlerCpuSeconds() - before) / (window.toMillis() / 1000.0);
    }

    private double handlerCpuSeconds() throws IOException {
        double s = 0;
        for (int i = 1; i <= 2; i++) {
            long pid = (Long) SandboxIT.component(dir, "virt-handler-sandbox-node-" + i).get("pid");
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            s += (Long.parseLong(f[11]) + Long.parseLong(f[12])) / 100.0;
        }
        return s;
    }

    private static long sum(long[] a) {
        long s = 0;
        for (long x : a) {
            s += x;
        }
        return s;
    }

    private static String mib(long[] a) {
        return String.format(Locale.ROOT, "%.1f + %.1f", a[0] / 1048576.0, a[1] / 1048576.0);
    }

    private static void row(StringBuilder b, String what, List<Double> xs) {
        BenchStats.row(b, what, xs, 0);
    }

    private static <T> T await(Duration timeout, String what, Supplier<T> value) throws InterruptedException {
        return BenchStats.await(timeout, what, value);
    }
}
