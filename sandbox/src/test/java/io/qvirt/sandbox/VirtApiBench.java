package io.qvirt.sandbox;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.qvirt.api.KubevirtJson;
import io.qvirt.api.ManifestLoader;
import io.qvirt.api.VirtualMachine;
import io.qvirt.api.VirtualMachineInstance;
import io.qvirt.testdata.GuestMarkers;
import io.qvirt.testdata.TestGuest;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.URI;
import java.net.UnixDomainSocketAddress;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * {@code ./bench.sh --virt-api [N]}: virt-api on the rig (fabric8's CRUD mock API, NOT a kube-apiserver; the front
 * door plays the aggregator with FAKE authentication and SubjectAccessReviews; the real virt-api, controller,
 * handler and QEMU under TCG). Figures:
 * <ul>
 * <li>webhook admission: AdmissionReview POSTs straight to virt-api's {@code /virtualmachines-mutate} and
 *     {@code /virtualmachines-validate} (what kube-apiserver waits for on every VM write), n each, one
 *     keep-alive HTTPS connection;</li>
 * <li>subresource {@code start} -> 202 through the front door: n dry runs (checked, nothing written), and real
 *     start/stop cycles of one VM (each start makes a VMI and a launcher pod; each stop powers it off);</li>
 * <li>console: one typed byte -> its echo, over QEMU's {@code console.sock} directly, the handler's console
 *     WebSocket (mTLS), and virt-api's console subresource through the front door; and the guest printing
 *     ~1 MB on its serial port, the same three ways.</li>
 * </ul>
 * Usage: {@code VirtApiBench [N]} (default 300); prints a markdown table, writes it to {@code bench/results/}; exit
 * 1 on any failure.
 */
public final class VirtApiBench {
    private static final Duration BOOT = Duration.ofSeconds(180);
    private static final String SUB = "/apis/subresources.kubevirt.io/v1/namespaces/default/";
    private static final int CYCLES = 10;
    private static final int ECHOES = 200;
    private static final Pattern VIRT_API = Pattern.compile("virt-api: running on ([0-9.]+):(\\d+)");

    private final Path dir;
    private final KubernetesClient client;
    private final String front;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    private VirtApiBench(Path dir, KubernetesClient client) {
        this.dir = dir;
        this.client = client;
        this.front = "127.0.0.1:" + client.getConfiguration().getMasterUrl().replaceAll(".*:(\\d+).*", "$1");
    }

    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 300;
        Path dir = Path.of(System.getProperty("qvirt.bench.dir", "/tmp/qvirt-bench-virtapi"));
        System.exit(BenchStats.onFreshRig(dir, 1, (client, upMs) -> new VirtApiBench(dir, client).bench(n)));
    }

    private void bench(int n) throws Exception {
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "%n## virt-api on the rig (fabric8's CRUD mock API, FAKE aggregator/authn/SAR; real virt-api,"
                + " controller, handler, QEMU under TCG), %s%n%n| figure, ms | p50 | p99 | max |%n|---|---:|---:|---:|%n", Instant.now()));

        VirtualMachine vm = ManifestLoader.loadOne(TestGuest.testVmYaml()).vm();
        vm.getMetadata().setName("benchvm");
        vm.getMetadata().setNamespace("default");
        vm.getSpec().setRunning(null);
        vm.getSpec().setRunStrategy("Halted");

        // Webhooks, straight to virt-api as kube-apiserver calls them.
        Matcher m = BenchStats.await(Duration.ofSeconds(30), "virt-api's address in its log", () -> {
            try {
                Matcher x = VIRT_API.matcher(Files.readString(dir.resolve("logs/virt-api.log")));
                return x.find() ? x : null;
            } catch (IOException e) {
                return null;
            }
        });
        String virtApi = "https://" + m.group(1) + ":" + m.group(2);
        HttpClient hooks = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .sslContext(trusting(dir.resolve("pki/ca.crt"))).connectTimeout(Duration.ofSeconds(5)).build();
        JsonNode object = KubevirtJson.json().valueToTree(vm);
        for (String hook : new String[] {"/virtualmachines-mutate", "/virtualmachines-validate"}) {
            for (int i = 0; i < 100; i++) {
                review(hooks, virtApi + hook, object); // warm-up: JIT, TLS session, connection
            }
            List<Double> ms = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                long t0 = System.nanoTime();
                review(hooks, virtApi + hook, object);
                ms.add((System.nanoTime() - t0) / 1e6);
            }
            BenchStats.row(b, "webhook " + hook + " (n=" + n + ", one HTTPS connection)", ms, 2);
        }

        // start through the front door (FAKE aggregator, FAKE SAR) and virt-api.
        client.resources(VirtualMachine.class).resource(vm).create();
        BenchStats.await(Duration.ofSeconds(30), "the controller saw the VM", () -> vm().getStatus() != null ? true : null);
        for (int i = 0; i < 30; i++) {
            subresource("virtualmachines/benchvm/start", "{\"dryRun\":[\"All\"]}", 202);
        }
        List<Double> dry = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            dry.add(subresource("virtualmachines/benchvm/start", "{\"dryRun\":[\"All\"]}", 202));
        }
        if (!"Halted".equals(vm().getSpec().getRunStrategy())) {
            throw new IllegalStateException("a dry-run start changed the VM: runStrategy " + vm().getSpec().getRunStrategy());
        }
        BenchStats.row(b, "subresource start, dry run -> 202 (n=" + n + ")", dry, 1);
        List<Double> starts = new ArrayList<>();
        List<Double> stops = new ArrayList<>();
        for (int i = 0; i < CYCLES; i++) {
            starts.add(subresource("virtualmachines/benchvm/start", "{}", 202));
            BenchStats.await(BOOT, "VMI Running", () -> VirtApiIT.ready(vmi()) ? true : null);
            stops.add(subresource("virtualmachines/benchvm/stop", "{}", 202));
            BenchStats.await(BOOT, "VMI gone", () -> vmi() == null ? true : null);
        }
        BenchStats.row(b, "subresource start -> 202, VM Halted (n=" + CYCLES + ")", starts, 1);
        BenchStats.row(b, "subresource stop -> 202, VMI Running (n=" + CYCLES + ")", stops, 1);

        // Console: the same guest, three ways in.
        subresource("virtualmachines/benchvm/start", "{}", 202);
        VirtualMachineInstance v = BenchStats.await(BOOT, "VMI Running", () -> VirtApiIT.ready(vmi()) ? vmi() : null);
        Path vmDir = dir.resolve("nodes").resolve(v.getStatus().getNodeName()).resolve("run/default/benchvm");
        BenchStats.await(BOOT, "the guest's shell prompt", () -> {
            try {
                return Files.readString(vmDir.resolve("console.log")).contains(GuestMarkers.PROMPT) ? true : null;
            } catch (IOException e) {
                return null;
            }
        });
        String node = client.nodes().withName(v.getStatus().getNodeName()).get().getStatus().getAddresses().stream()
                .filter(a -> "InternalIP".equals(a.getType())).findFirst().orElseThrow().getAddress();
        NodeApiClient handler = new NodeApiClient(dir.resolve("pki"), node);
        List<String> names = List.of("console.sock directly", "handler console WebSocket (mTLS)", "virt-api console subresource (front door)");
        List<List<Double>> echo = List.of(new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
        double[] mbps = new double[3];
        for (int round = 0; round < 2; round++) {
            for (int path = 0; path < 3; path++) {
                try (Console c = open(path, vmDir, handler)) {
                    echo.get(path).addAll(echoes(c, ECHOES / 2));
                    if (round == 1) {
                        mbps[path] = throughput(c);
                    }
                }
            }
        }
        for (int path = 0; path < 3; path++) {
            BenchStats.row(b, "console echo (1 byte typed -> echoed), " + names.get(path) + " (n=" + ECHOES + ")", echo.get(path), 2);
        }
        b.append(String.format(Locale.ROOT, "%n| console output (guest prints ~1 MB on ttyS0) | MB/s |%n|---|---:|%n"));
        for (int path = 0; path < 3; path++) {
            b.append(String.format(Locale.ROOT, "| %s | %.2f |%n", names.get(path), mbps[path]));
        }
        subresource("virtualmachines/benchvm/stop", "{}", 202);
        BenchStats.await(BOOT, "VMI gone", () -> vmi() == null ? true : null);

        System.out.print(b);
        Path out = TestGuest.projectRoot().resolve("bench/results").resolve(
                Instant.now().toString().replaceAll("[-:]", "").replaceAll("\\.[0-9]+", "") + "-virt-api.md");
        Files.createDirectories(out.getParent());
        Files.writeString(out, b.toString());
        System.out.println("\nWritten: " + out);
    }

    private VirtualMachine vm() {
        return client.resources(VirtualMachine.class).inNamespace("default").withName("benchvm").get();
    }

    private VirtualMachineInstance vmi() {
        return client.resources(VirtualMachineInstance.class).inNamespace("default").withName("benchvm").get();
    }

    /** PUTs a subresource as the admin; the milliseconds it took. Any other status than {@code expect} aborts. */
    private double subresource(String path, String body, int expect) throws IOException, InterruptedException {
        long t0 = System.nanoTime();
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://" + front + SUB + path))
                .header("Authorization", "Bearer " + FakePolicy.ADMIN_TOKEN).header("Content-Type", "application/json")
                .timeout(Duration.ofSeconds(30)).PUT(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
        double ms = (System.nanoTime() - t0) / 1e6;
        if (r.statusCode() != expect) {
            throw new IllegalStateException(path + " answered " + r.statusCode() + ", expected " + expect + ": " + r.body());
        }
        return ms;
    }

    private static void review(HttpClient hooks, String url, JsonNode object) throws IOException, InterruptedException {
        ObjectNode r = JsonNodeFactory.instance.objectNode();
        r.put("apiVersion", "admission.k8s.io/v1");
        r.put("kind", "AdmissionReview");
        ObjectNode q = r.putObject("request");
        q.put("uid", UUID.randomUUID().toString());
        q.putObject("kind").put("group", "kubevirt.io").put("version", "v1").put("kind", "VirtualMachine");
        q.putObject("resource").put("group", "kubevirt.io").put("version", "v1").put("resource", "virtualmachines");
        q.put("name", "benchvm");
        q.put("namespace", "default");
        q.put("operation", "CREATE");
        q.putObject("userInfo").put("username", "bench").putArray("groups").add("system:authenticated");
        q.set("object", object);
        HttpResponse<byte[]> resp = hooks.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(r.toString())).build(),
                HttpResponse.BodyHandlers.ofByteArray());
        if (resp.statusCode() != 200 || !KubevirtJson.json().readTree(resp.body()).path("response").path("allowed").asBoolean()) {
            throw new IllegalStateException(url + " did not admit the VM: " + resp.statusCode() + " "
                    + new String(resp.body(), StandardCharsets.UTF_8));
        }
    }

    private static SSLContext trusting(Path ca) throws Exception {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        try (InputStream in = Files.newInputStream(ca)) {
            ks.setCertificateEntry("ca", CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ks);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, tmf.getTrustManagers(), null);
        return ctx;
    }

    // ---- console ----

    /** A serial console opened one of three ways: bytes typed go in, bytes the guest writes arrive on {@link #in}. */
    private interface Console extends AutoCloseable {
        void type(byte[] bytes) throws Exception;

        BlockingQueue<byte[]> in();

        @Override
        void close() throws Exception;
    }

    private Console open(int path, Path vmDir, NodeApiClient handler) throws Exception {
        BlockingQueue<byte[]> q = new LinkedBlockingQueue<>();
        switch (path) {
            case 0 -> {
                SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
                ch.connect(UnixDomainSocketAddress.of(vmDir.resolve("console.sock")));
                Thread reader = new Thread(() -> {
                    ByteBuffer buf = ByteBuffer.allocate(65536);
                    try {
                        while (ch.read(buf) >= 0) {
                            buf.flip();
                            byte[] x = new byte[buf.remaining()];
                            buf.get(x);
                            q.add(x);
                            buf.clear();
                        }
                    } catch (IOException e) {
                        // closed by close()
                    }
                }, "console.sock reader");
                reader.setDaemon(true);
                reader.start();
                return new Console() {
                    @Override
                    public void type(byte[] bytes) throws IOException {
                        ByteBuffer bb = ByteBuffer.wrap(bytes);
                        while (bb.hasRemaining()) {
                            ch.write(bb);
                        }
                    }

                    @Override
                    public BlockingQueue<byte[]> in() {
                        return q;
                    }

                    @Override
                    public void close() throws Exception {
                        ch.close();
                        reader.join(5000);
                    }
                };
            }
            case 1 -> {
                NodeApiClient.Console c = handler.console("default", "benchvm", new OutputStream() {
                    @Override
                    public void write(int x) {
                        q.add(new byte[] {(byte) x});
                    }

                    @Override
                    public void write(byte[] bytes, int off, int len) {
                        q.add(java.util.Arrays.copyOfRange(bytes, off, off + len));
                    }
                });
                return new Console() {
                    @Override
                    public void type(byte[] bytes) throws Exception {
                        c.ws().sendBinary(ByteBuffer.wrap(bytes), true).get(5, TimeUnit.SECONDS);
                    }

                    @Override
                    public BlockingQueue<byte[]> in() {
                        return q;
                    }

                    @Override
                    public void close() {
                        c.close();
                    }
                };
            }
            default -> {
                WebSocket ws = http.newWebSocketBuilder().header("Authorization", "Bearer " + FakePolicy.ADMIN_TOKEN)
                        .buildAsync(URI.create("ws://" + front + SUB + "virtualmachineinstances/benchvm/console"), new WebSocket.Listener() {
                            @Override
                            public CompletionStage<?> onBinary(WebSocket w, ByteBuffer data, boolean last) {
                                byte[] x = new byte[data.remaining()];
                                data.get(x);
                                q.add(x);
                                w.request(1);
                                return null;
                            }
                        }).get(30, TimeUnit.SECONDS);
                return new Console() {
                    @Override
                    public void type(byte[] bytes) throws Exception {
                        ws.sendBinary(ByteBuffer.wrap(bytes), true).get(5, TimeUnit.SECONDS);
                    }

                    @Override
                    public BlockingQueue<byte[]> in() {
                        return q;
                    }

                    @Override
                    public void close() throws Exception {
                        ws.sendClose(WebSocket.NORMAL_CLOSURE, "done").get(5, TimeUnit.SECONDS);
                        // The handler lets go of console.sock when the relay closes; the next path needs it free.
                        Thread.sleep(300);
                    }
                };
            }
        }
    }

    /** Types 'x' and times its echo, then erases it; {@code n} rounds after a few of warm-up. */
    private static List<Double> echoes(Console c, int n) throws Exception {
        List<Double> ms = new ArrayList<>();
        settle(c);
        for (int i = -10; i < n; i++) {
            c.in().clear();
            long t0 = System.nanoTime();
            c.type(new byte[] {'x'});
            until(c, "x", Duration.ofSeconds(5));
            double took = (System.nanoTime() - t0) / 1e6;
            if (i >= 0) {
                ms.add(took);
            }
            c.type(new byte[] {0x7f}); // erase it again: the line stays empty
            until(c, "\b", Duration.ofSeconds(5));
        }
        return ms;
    }

    /** The guest prints ~1 MB; MB/s from the command's Enter to the end marker, counting every byte received. */
    private static double throughput(Console c) throws Exception {
        settle(c);
        c.in().clear();
        long t0 = System.nanoTime();
        // The marker is computed by the shell, so the echoed command line never contains it.
        c.type("yes 0123456789abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQ | head -c 1000000; echo QV$((40+2))END\n"
                .getBytes(StandardCharsets.US_ASCII));
        long bytes = until(c, "QV42END", Duration.ofSeconds(300));
        return bytes / 1e6 / ((System.nanoTime() - t0) / 1e9);
    }

    /** Sends an empty line and waits for the prompt, so no earlier output is counted. */
    private static void settle(Console c) throws Exception {
        c.type("\n".getBytes(StandardCharsets.US_ASCII));
        until(c, GuestMarkers.PROMPT, Duration.ofSeconds(30));
        Thread.sleep(100);
        c.in().clear();
    }

    /** Reads until {@code marker} appears in what arrived; the bytes received. */
    private static long until(Console c, String marker, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        StringBuilder tail = new StringBuilder();
        long bytes = 0;
        while (true) {
            long left = deadline - System.nanoTime();
            byte[] x = left > 0 ? c.in().poll(left, TimeUnit.NANOSECONDS) : null;
            if (x == null) {
                throw new IllegalStateException("timed out waiting for " + marker.replace("\b", "\\b") + " on the console");
            }
            bytes += x.length;
            tail.append(new String(x, StandardCharsets.ISO_8859_1));
            if (tail.indexOf(marker) >= 0) {
                return bytes;
            }
            if (tail.length() > 4096) {
                tail.delete(0, tail.length() - 64);
            }
        }
    }
}
