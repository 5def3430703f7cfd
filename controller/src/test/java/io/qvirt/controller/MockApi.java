package io.qvirt.controller;

import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinitionBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.jdkhttp.JdkHttpClientFactory;
import io.qvirt.testdata.OffLoopWatchCloseDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.ServerRequest;
import io.fabric8.mockwebserver.ServerResponse;
import io.fabric8.mockwebserver.http.Dispatcher;
import io.qvirt.api.ManifestLoader;
import io.qvirt.api.VirtualMachine;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;

/**
 * fabric8's mock API server in CRUD mode (an in-memory store with watches, not a real kube-apiserver),
 * with qvirt's CRDs created first: the mock honours the status subresource only for CRDs it has seen.
 * Clients use fabric8's JDK HTTP client.
 */
public final class MockApi implements AutoCloseable {
    static final String[] CRDS = {"virtualmachines.kubevirt.io-v1.yml", "virtualmachineinstances.kubevirt.io-v1.yml",
        "virtualmachineinstancemigrations.kubevirt.io-v1.yml"};

    /** Held strongly: the mock logs every request at INFO, which would drown the tests' output. */
    private static final java.util.logging.Logger MOCK_LOG = java.util.logging.Logger.getLogger("io.fabric8.mockwebserver");

    static {
        MOCK_LOG.setLevel(java.util.logging.Level.WARNING);
    }

    public final KubernetesMockServer server;
    public final KubernetesClient client;
    final Map<ServerRequest, Queue<ServerResponse>> expectations = new HashMap<>();

    /** A CRUD server. */
    public MockApi() {
        this(d -> d);
    }

    /** A CRUD server whose dispatcher is wrapped by {@code wrap} (to interfere with some requests). */
    public MockApi(UnaryOperator<Dispatcher> wrap) {
        Dispatcher dispatcher = wrap.apply(new OffLoopWatchCloseDispatcher());
        server = new KubernetesMockServer(new Context(), new MockWebServer(), expectations, dispatcher, false);
        server.init();
        client = newClient("test");
        for (String crd : CRDS) {
            try (InputStream in = MockApi.class.getResourceAsStream("/META-INF/fabric8/" + crd)) {
                if (in == null) {
                    throw new IllegalStateException(crd + " is not on the classpath (qvirt-api jar)");
                }
                client.apiextensions().v1().customResourceDefinitions()
                        .resource(Serialization.unmarshal(in, CustomResourceDefinition.class)).create();
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }
        client.apiextensions().v1().customResourceDefinitions().resource(new CustomResourceDefinitionBuilder()
                .withNewMetadata().withName("kubevirts.kubevirt.io").endMetadata()
                .withNewSpec().withGroup("kubevirt.io").withScope("Namespaced")
                .withNewNames().withKind("KubeVirt").withPlural("kubevirts").withSingular("kubevirt").endNames()
                .addNewVersion().withName("v1").withServed(true).withStorage(true)
                .withNewSchema().withNewOpenAPIV3Schema().withType("object")
                .withXKubernetesPreserveUnknownFields(true).endOpenAPIV3Schema().endSchema()
                .withNewSubresources().withNewStatus().endStatus().endSubresources()
                .endVersion().endSpec().build()).create();
    }

    /** A client whose requests carry {@code User-Agent: qvirt-<agent>}, to tell writers apart in the log. */
    public KubernetesClient newClient(String agent) {
        return server.createClient(b -> b.withHttpClientFactory(new JdkHttpClientFactory())
                .editOrNewConfig().withUserAgent("qvirt-" + agent).withNamespace("default")
                .withRequestRetryBackoffLimit(0).endConfig());
    }

    /**
     * As {@link #newClient(String)}, with the HTTP client's and the informers' work on {@code executor} (whose
     * threads a benchmark can then tell apart).
     */
    public KubernetesClient newClient(String agent, java.util.concurrent.Executor executor) {
        return server.createClient(b -> b.withHttpClientFactory(new JdkHttpClientFactory() {
                    @Override
                    protected void additionalConfig(java.net.http.HttpClient.Builder builder) {
                        builder.executor(executor);
                    }
                }).withTaskExecutor(executor)
                .editOrNewConfig().withUserAgent("qvirt-" + agent).withNamespace("default")
                .withRequestRetryBackoffLimit(0).endConfig());
    }

    /** The seed VM, {@code testdata/vm.yaml} ({@code running: false}), in namespace {@code default}. */
    public static VirtualMachine seedVm() {
        Path file = Path.of(System.getProperty("qvirt.root", ".."), "testdata", "vm.yaml");
        try {
            VirtualMachine vm = ManifestLoader.loadOne(file).vm();
            vm.getMetadata().setNamespace("default");
            return vm;
        } catch (io.qvirt.api.ManifestException e) {
            throw new IllegalStateException(file + ": " + e.getMessage(), e);
        }
    }

    /** Polls {@code condition} every 20 ms until true; fails the test with {@code what} after {@code timeout}. */
    static void await(Duration timeout, String what, BooleanSupplier condition) {
        long start = System.nanoTime();
        try {
            awaitInner(timeout, what, condition);
        } finally {
            long ms = (System.nanoTime() - start) / 1_000_000;
            if (ms > 2000) {
                System.err.println("slow wait: " + ms + " ms for " + what);
            }
        }
    }

    private static void awaitInner(Duration timeout, String what, BooleanSupplier condition) {
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

    /** As {@link #await}, and returns the first non-null value of {@code value}. */
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
            // The mock waits 10 s for its connections to end; on Java 17 the JDK HTTP client cannot be closed
            // (HttpClient.close() is Java 21), so a connection of an abandoned request may outlive the test.
            // The system under test is stopped by then: report, do not fail the test for the mock's teardown.
            System.err.println("mock API server: " + e.getMessage());
        }
    }
}
