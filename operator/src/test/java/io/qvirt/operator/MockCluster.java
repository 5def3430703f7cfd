package io.qvirt.operator;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.jdkhttp.JdkHttpClientFactory;
import io.qvirt.testdata.OffLoopWatchCloseDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * fabric8's mock API server in CRUD mode (an in-memory store with watches, not a real kube-apiserver) with the
 * kubevirt.io CRDs created first (the mock honours a status subresource only for CRDs it has seen), and the release
 * files of {@code manifests/render.sh}.
 */
final class MockCluster implements AutoCloseable {
    static final Path ROOT = Path.of(System.getProperty("qvirt.root", ".."));
    static final String NS = "kubevirt";
    private static final java.util.logging.Logger MOCK_LOG = java.util.logging.Logger.getLogger("io.fabric8.mockwebserver");

    static {
        MOCK_LOG.setLevel(java.util.logging.Level.WARNING);
    }

    final KubernetesMockServer server;
    final KubernetesClient client;

    MockCluster() {
        server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(),
                new OffLoopWatchCloseDispatcher(), false);
        server.init();
        client = newClient("test");
    }

    /** A client whose requests carry {@code User-Agent: qvirt-<agent>}. */
    KubernetesClient newClient(String agent) {
        return server.createClient(b -> b.withHttpClientFactory(new JdkHttpClientFactory())
                .editOrNewConfig().withUserAgent("qvirt-" + agent).withNamespace("default")
                .withRequestRetryBackoffLimit(0).endConfig());
    }

    /** {@code manifests/render.sh REGISTRY TAG [args]} into {@code dir}; its exit code. */
    static int render(Path dir, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("bash", ROOT.resolve("manifests/render.sh").toString()));
        cmd.addAll(List.of(args));
        if (dir != null) {
            cmd.add(dir.toString());
        }
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("render.sh hung");
        }
        return p.exitValue();
    }

    /** The objects of a rendered file, as fabric8 loads them. */
    List<HasMetadata> load(Path file) throws IOException {
        try (InputStream in = new ByteArrayInputStream(Files.readAllBytes(file))) {
            return client.load(in).items();
        }
    }

    /**
     * What {@code kubectl apply -f kubevirt-operator.yaml} then {@code -f kubevirt-cr.yaml} does on a fresh cluster
     * (the KubeVirt CRD is created before the CR, so the mock serves the CR's status subresource).
     */
    void applyRelease(Path dir) throws IOException {
        for (HasMetadata o : load(dir.resolve("kubevirt-operator.yaml"))) {
            client.resource(o).create();
        }
        for (HasMetadata o : load(dir.resolve("kubevirt-cr.yaml"))) {
            client.resource(o).create();
        }
    }

    /** Polls {@code condition} every 20 ms until true; fails with {@code what} after {@code timeout}. */
    static void await(Duration timeout, String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout + " waiting for: " + what);
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted waiting for: " + what);
            }
        }
    }

    /** As {@link #await}, returning the first non-null value. */
    static <T> T awaitValue(Duration timeout, String what, Supplier<T> value) {
        Object[] box = new Object[1];
        await(timeout, what, () -> (box[0] = value.get()) != null);
        @SuppressWarnings("unchecked")
        T t = (T) box[0];
        return t;
    }

    @Override
    public void close() {
        client.close();
        try {
            server.destroy();
        } catch (IllegalStateException e) {
            System.err.println("mock API server: " + e.getMessage());
        }
    }
}
