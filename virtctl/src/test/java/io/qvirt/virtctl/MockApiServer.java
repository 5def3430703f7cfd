package io.qvirt.virtctl;

import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.jdkhttp.JdkHttpClientFactory;
import io.qvirt.testdata.OffLoopWatchCloseDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.http.Dispatcher;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.qvirt.api.ManifestLoader;
import io.qvirt.api.VirtualMachine;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * fabric8's mock API server in CRUD mode (an in-memory store, NOT a kube-apiserver) with qvirt's CRDs created first,
 * standing in for the API server virtctl talks to. It knows nothing of virt-api: requests under
 * {@code /apis/subresources.kubevirt.io/} are answered by {@link #virtApi} (a scripted stand-in, 200 by default),
 * and every request lands on the mock's request log ({@link #requests()}).
 */
final class MockApiServer implements AutoCloseable {
    static final String[] CRDS = {"virtualmachines.kubevirt.io-v1.yml", "virtualmachineinstances.kubevirt.io-v1.yml",
        "virtualmachineinstancemigrations.kubevirt.io-v1.yml"};
    private static final java.util.logging.Logger MOCK_LOG = java.util.logging.Logger.getLogger("io.fabric8.mockwebserver");

    static {
        MOCK_LOG.setLevel(java.util.logging.Level.WARNING);
    }

    /** One request as the mock logged it. */
    record Request(String method, String path, String body) {
    }

    final KubernetesMockServer server;
    final KubernetesClient client;
    /** The virt-api stand-in: a request under subresources.kubevirt.io -> the mock's answer. */
    volatile Function<RecordedRequest, MockResponse> virtApi = r -> new MockResponse().setResponseCode(200);

    MockApiServer() {
        Dispatcher crud = new OffLoopWatchCloseDispatcher();
        Dispatcher dispatcher = new Dispatcher() {
            @Override
            public MockResponse dispatch(RecordedRequest request) {
                if (request.getPath().startsWith("/apis/subresources.kubevirt.io/")) {
                    return virtApi.apply(request);
                }
                return crud.dispatch(request);
            }
        };
        server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(), dispatcher, false);
        server.init();
        client = server.createClient(b -> b.withHttpClientFactory(new JdkHttpClientFactory())
                .editOrNewConfig().withNamespace("default").withRequestRetryBackoffLimit(0).endConfig());
        for (String crd : CRDS) {
            try (InputStream in = MockApiServer.class.getResourceAsStream("/META-INF/fabric8/" + crd)) {
                if (in == null) {
                    throw new IllegalStateException(crd + " is not on the classpath (qvirt-api jar)");
                }
                client.apiextensions().v1().customResourceDefinitions()
                        .resource(Serialization.unmarshal(in, CustomResourceDefinition.class)).create();
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }
        requests(); // the set-up's own requests are not the test's
    }

    String url() {
        return "http://127.0.0.1:" + server.getPort();
    }

    /** A JSON Status answer, as the API server and virt-api write refusals. */
    static MockResponse status(int code, String reason, String message) {
        return new MockResponse().setResponseCode(code).addHeader("Content-Type", "application/json")
                .setBody("{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\",\"message\":"
                        + Cluster.JSON.valueToTree(message) + ",\"reason\":\"" + reason + "\",\"code\":" + code + "}");
    }

    /** Drains the mock's request log: every request since the last call, in order. */
    List<Request> requests() {
        List<Request> out = new ArrayList<>();
        try {
            RecordedRequest r;
            while ((r = server.takeRequest(50, TimeUnit.MILLISECONDS)) != null) {
                out.add(new Request(r.getMethod(), r.getPath(), r.getBody() == null ? "" : r.getUtf8Body()));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return out;
    }

    /** The seed VM ({@code testdata/vm.yaml}, running: false) created in {@code namespace}. */
    VirtualMachine createSeedVm(String namespace) {
        Path file = Path.of(System.getProperty("qvirt.root", ".."), "testdata", "vm.yaml");
        try {
            VirtualMachine vm = ManifestLoader.loadOne(file).vm();
            vm.getMetadata().setNamespace(namespace);
            VirtualMachine created = client.resource(vm).inNamespace(namespace).create();
            requests();
            return created;
        } catch (io.qvirt.api.ManifestException e) {
            throw new IllegalStateException(file + ": " + e.getMessage(), e);
        }
    }

    /** A kubeconfig with contexts {@code mock} (namespace ns1, current) and {@code plain} (no namespace). */
    Path kubeconfig(Path dir) throws IOException {
        return kubeconfig(dir, url());
    }

    static Path kubeconfig(Path dir, String server) throws IOException {
        Path f = dir.resolve("kubeconfig-" + Math.abs(server.hashCode()));
        Files.writeString(f, """
                apiVersion: v1
                kind: Config
                clusters:
                - name: mock
                  cluster:
                    server: %s
                users:
                - name: tester
                  user:
                    token: mock-token
                contexts:
                - name: mock
                  context:
                    cluster: mock
                    user: tester
                    namespace: ns1
                - name: plain
                  context:
                    cluster: mock
                    user: tester
                current-context: mock
                """.formatted(server));
        return f;
    }

    /** The result of one virtctl run. */
    record Run(int code, String out, String err, long millis) {
    }

    /** Runs virtctl through its factory with {@code env}, capturing stdout and stderr. */
    static Run virtctl(Map<String, String> env, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        long t0 = System.nanoTime();
        int code = VirtctlCommand.create(new PrintWriter(out, true), new PrintWriter(err, true), env).execute(args);
        return new Run(code, out.toString(), err.toString(), (System.nanoTime() - t0) / 1_000_000);
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
