package io.qvirt.apiserver;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.jdkhttp.JdkHttpClientFactory;
import io.qvirt.testdata.OffLoopWatchCloseDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.qvirt.api.FeatureGates;
import io.qvirt.testdata.TestPki;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import javax.net.ssl.SSLContext;

/**
 * virt-api in-process for tests, for real over HTTPS: fabric8's CRUD mock API server (NOT a kube-apiserver) with
 * qvirt's CRDs, one Node {@code node-1} whose InternalIP is 127.0.0.1, a {@link FakeHandler} on that address, a test
 * PKI (virt-api's serving certificate, a front-proxy CA with client {@code front-proxy-client}, another CA with a
 * client certificate of the same name, the node API's CA with the handler's and virt-api's certificates), and a
 * SubjectAccessReview answered by {@link #deny} rules (allowed otherwise).
 */
final class Rig implements AutoCloseable {
    /** Held strongly: the mock logs every request at INFO. */
    private static final java.util.logging.Logger MOCK_LOG = java.util.logging.Logger.getLogger("io.fabric8.mockwebserver");

    static {
        MOCK_LOG.setLevel(java.util.logging.Level.WARNING);
    }

    final KubernetesMockServer mock;
    final KubernetesClient client;
    final TestPki serving;
    final TestPki frontProxy;
    final TestPki other;
    final TestPki nodes;
    final FakeHandler handler;
    final ApiServer server;
    final VmSubresources vms;
    /** user -> "resource/sub" refused (SAR). */
    final Map<String, String> deny = new ConcurrentHashMap<>();
    final List<AccessReviewer.Request> reviews = new java.util.concurrent.CopyOnWriteArrayList<>();
    volatile FeatureGates gates = FeatureGates.kubevirtDefaults();

    Rig(Path dir) throws Exception {
        mock = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(), new OffLoopWatchCloseDispatcher(), false);
        mock.init();
        client = mock.createClient(b -> b.withHttpClientFactory(new JdkHttpClientFactory())
                .editOrNewConfig().withNamespace("default").withRequestRetryBackoffLimit(0).endConfig());
        List<String> crds = new java.util.ArrayList<>(List.of("virtualmachines.kubevirt.io-v1.yml",
                "virtualmachineinstances.kubevirt.io-v1.yml"));
        for (io.qvirt.api.instancetype.InstancetypeResource r : io.qvirt.api.instancetype.InstancetypeResource.values()) {
            crds.add(r.crdFile());
        }
        for (String crd : crds) {
            try (InputStream in = Rig.class.getResourceAsStream("/META-INF/fabric8/" + crd)) {
                client.apiextensions().v1().customResourceDefinitions()
                        .resource(Serialization.unmarshal(in, CustomResourceDefinition.class)).create();
            }
        }
        client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName("default").endMetadata().build()).create();
        client.nodes().resource(new NodeBuilder().withNewMetadata().withName("node-1").endMetadata()
                .withNewStatus().addNewAddress().withType("InternalIP").withAddress("127.0.0.1").endAddress().endStatus().build()).create();
        var n = client.nodes().withName("node-1").get();
        if (n.getStatus() == null || n.getStatus().getAddresses() == null || n.getStatus().getAddresses().isEmpty()) {
            n.setStatus(new io.fabric8.kubernetes.api.model.NodeStatusBuilder().addNewAddress().withType("InternalIP")
                    .withAddress("127.0.0.1").endAddress().build());
            client.nodes().resource(n).updateStatus();
        }
        serving = TestPki.open(dir.resolve("serving"), "virt-api-ca");
        serving.server("virt-api", List.of("127.0.0.1"), List.of("virt-api.kubevirt.svc"));
        frontProxy = TestPki.open(dir.resolve("front-proxy"), "front-proxy-ca");
        frontProxy.client("front-proxy-client", "front-proxy-client");
        frontProxy.client("intruder", "not-the-aggregator");
        other = TestPki.open(dir.resolve("other"), "another-ca");
        other.client("front-proxy-client", "front-proxy-client");
        nodes = TestPki.open(dir.resolve("nodes"), "node-api-ca");
        nodes.server("handler", List.of("127.0.0.1"), List.of("node-1"));
        nodes.client("virt-api", "virt-api");
        handler = new FakeHandler(nodes.cert("handler"), nodes.key("handler"), nodes.caCert());
        AccessReviewer reviewer = r -> {
            reviews.add(r);
            String rule = deny.get(r.user());
            String what = r.resource() + (r.subresource() == null ? "" : "/" + r.subresource());
            if (rule != null && (rule.equals("*") || rule.equals(what))) {
                return new AccessReviewer.Decision(false, "denied by the test's rule");
            }
            return new AccessReviewer.Decision(true, "");
        };
        vms = new VmSubresources(client);
        server = new ApiServer(new ApiServer.Config(new InetSocketAddress("127.0.0.1", 0),
                new ApiServerTls(serving.cert("virt-api"), serving.key("virt-api")),
                new FrontProxyAuth(FrontProxyAuth.fromFile(frontProxy.caCert(), List.of("front-proxy-client")), 1000),
                reviewer, vms,
                new VmiSubresources(client, new HandlerClient(nodes.cert("virt-api"), nodes.key("virt-api"), nodes.caCert(), handler.port())),
                new Admission(() -> gates, () -> io.qvirt.api.NetworkSettings.QVIRT_DEFAULTS, new io.qvirt.api.client.ApiServerInstancetypes(client),
                        new ApiServerMigrations(client)),
                1 << 20, () -> true));
    }

    String base() {
        return "https://127.0.0.1:" + server.address().getPort();
    }

    /** An HTTPS client trusting virt-api's CA, presenting {@code pki}'s {@code name} certificate (null: none). */
    HttpClient http(TestPki pki, String name) throws Exception {
        SSLContext ctx;
        if (pki == null) {
            ctx = SSLContext.getInstance("TLS");
            var tmf = javax.net.ssl.TrustManagerFactory.getInstance(javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
            var ks = java.security.KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            ks.setCertificateEntry("ca", Pem.certificates(Files.readAllBytes(serving.caCert())).get(0));
            tmf.init(ks);
            ctx.init(null, tmf.getTrustManagers(), null);
        } else {
            ctx = Pem.clientContext(Files.readAllBytes(pki.cert(name)), Files.readAllBytes(pki.key(name)),
                    Files.readAllBytes(serving.caCert()));
        }
        return HttpClient.newBuilder().sslContext(ctx).version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
    }

    private HttpClient aggregator;

    /** The aggregator's client. */
    synchronized HttpClient aggregator() throws Exception {
        if (aggregator == null) {
            aggregator = http(frontProxy, "front-proxy-client");
        }
        return aggregator;
    }

    /** A request as the aggregator sends it for {@code user} (groups system:authenticated). */
    HttpResponse<String> send(HttpClient http, String method, String path, String body, String user) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base() + path)).timeout(Duration.ofSeconds(20))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (user != null) {
            b.header("X-Remote-User", user).header("X-Remote-Group", "system:authenticated");
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> put(String path, String body) throws Exception {
        return send(aggregator(), "PUT", path, body, "alice");
    }

    @Override
    public void close() {
        server.close();
        handler.close();
        client.close();
        mock.destroy();
    }
}
