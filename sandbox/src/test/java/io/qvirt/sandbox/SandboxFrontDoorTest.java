package io.qvirt.sandbox;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import io.fabric8.kubernetes.client.jdkhttp.JdkHttpClientFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The front door in-process before virt-api is known: everything reaches the mock through it (CRUD, watches that
 * stream events, a client that offers HTTP/2 cleartext), SubjectAccessReviews are answered by the FAKE policy
 * (the namespace user only in {@code default}, the policy file's refusals), and subresources are 503 until
 * virt-api is set; kubectl's documents (discovery, version, OpenAPI), Tables and strict field validation are answered
 * by the door, and a chunked watch is bridged to the mock's WebSocket watch.
 */
class SandboxFrontDoorTest {
    @TempDir
    Path dir;
    MockApiServer mock;
    SandboxFrontDoor door;
    KubernetesClient client;

    @BeforeEach
    void up() throws Exception {
        mock = new MockApiServer(null);
        mock.seedCluster(true);
        door = new SandboxFrontDoor(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                new InetSocketAddress(InetAddress.getLoopbackAddress(), mock.port()), new ComponentLog(dir.resolve("fd.log"), "front-door"));
        Config c = Config.fromKubeconfig(Sandbox.kubeconfig(door.address().getPort()));
        client = new KubernetesClientBuilder().withConfig(c).withHttpClientFactory(new JdkHttpClientFactory()).build();
    }

    @AfterEach
    void down() {
        client.close();
        door.close();
        mock.close();
    }

    @Test
    void crudAndWatchesGoThroughToTheMock() throws Exception {
        List<String> seen = new CopyOnWriteArrayList<>();
        try (Watch w = client.configMaps().inNamespace("default").watch(new Watcher<>() {
            @Override
            public void eventReceived(Action action, ConfigMap cm) {
                seen.add(action + " " + cm.getMetadata().getName());
            }

            @Override
            public void onClose(WatcherException cause) {
            }
        })) {
            for (int i = 0; i < 20; i++) {
                client.configMaps().resource(new ConfigMapBuilder().withNewMetadata().withName("cm-" + i).withNamespace("default")
                        .endMetadata().addToData("k", "v" + i).build()).create();
            }
            assertEquals("v7", client.configMaps().inNamespace("default").withName("cm-7").get().getData().get("k"));
            client.configMaps().inNamespace("default").withName("cm-3").delete();
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (seen.size() < 21 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
        }
        assertEquals(21, seen.size(), seen.toString());
        assertTrue(seen.contains("ADDED cm-19") && seen.contains("DELETED cm-3"), seen.toString());
        // A client that offers HTTP/2 cleartext (the JDK's default) is answered in HTTP/1.1.
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                + door.address().getPort() + "/api/v1/namespaces/default/configmaps/cm-1")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        assertEquals(HttpClient.Version.HTTP_1_1, r.version());
        assertTrue(r.body().contains("\"v1\""), r.body());
    }

    @Test
    void subjectAccessReviewsAreAnsweredByTheFakePolicy() throws Exception {
        door.aggregate(new InetSocketAddress("127.0.0.1", 1), pki("front-proxy-client.crt"), pki("front-proxy-client.key"),
                pki("ca.crt"), dir.resolve("fake-policy"));
        assertEquals(Boolean.TRUE, sar("sandbox-user", "default", "start"));
        assertEquals(Boolean.FALSE, sar("sandbox-user", "kubevirt", "start"));
        assertEquals(Boolean.TRUE, sar("alice", "kubevirt", "start"));
        java.nio.file.Files.writeString(dir.resolve("fake-policy"), "deny alice virtualmachines/start\n");
        assertEquals(Boolean.FALSE, sar("alice", "kubevirt", "start"));
        assertEquals(Boolean.TRUE, sar("alice", "kubevirt", "stop"));
        // virt-api unreachable (port 1): the aggregated group answers 503 as kube-apiserver does.
        HttpResponse<String> r = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build().send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + door.address().getPort()
                        + "/apis/subresources.kubevirt.io/v1/namespaces/default/virtualmachines/x/start"))
                        .PUT(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(503, r.statusCode(), r.body());
    }

    @Test
    void subresourcesAre503UntilVirtApiIsKnown() throws Exception {
        HttpResponse<String> r = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build().send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + door.address().getPort()
                        + "/apis/subresources.kubevirt.io/v1/namespaces/default/virtualmachines/x/start"))
                        .PUT(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(503, r.statusCode(), r.body());
        assertTrue(r.body().contains("virt-api is not started yet"), r.body());
    }

    @Test
    void kubectlsDocumentsTablesAndStrictWritesAreAnsweredByTheDoor() throws Exception {
        // The mock answers /apis with a list of everything; the door answers discovery from the CRDs it holds.
        HttpResponse<String> apis = get("/apis", null);
        assertEquals(200, apis.statusCode(), apis.body());
        assertTrue(apis.body().contains("\"APIGroupList\"") && apis.body().contains("\"kubevirt.io/v1\""), apis.body());
        HttpResponse<String> kv = get("/apis/kubevirt.io/v1", null);
        assertTrue(kv.body().contains("\"shortNames\":[\"vm\",\"vms\"]"), kv.body());
        assertEquals(404, get("/apis/kubevirt.io/v9", null).statusCode());
        assertTrue(get("/version", null).body().contains(ApiDiscovery.GIT_VERSION));
        assertTrue(get("/openapi/v3", null).body().contains("apis/kubevirt.io/v1"));
        assertEquals("application/octet-stream",
                get("/openapi/v2", null).headers().firstValue("content-type").orElse(""));

        String vm = "{\"apiVersion\":\"kubevirt.io/v1\",\"kind\":\"VirtualMachine\",\"metadata\":{\"name\":\"t1\"},"
                + "\"spec\":{\"running\":false}}";
        HttpResponse<String> refused = send("POST", "/apis/kubevirt.io/v1/namespaces/default/virtualmachines?fieldValidation=Strict",
                vm.replace("\"spec\"", "\"bogus\":1,\"spec\""), "application/json");
        assertEquals(400, refused.statusCode(), refused.body());
        assertTrue(refused.body().contains("strict decoding error: unknown field \\\"bogus\\\""), refused.body());
        assertEquals(201, send("POST", "/apis/kubevirt.io/v1/namespaces/default/virtualmachines?fieldValidation=Strict", vm,
                "application/json").statusCode());
        HttpResponse<String> patch = send("PATCH", "/apis/kubevirt.io/v1/namespaces/default/virtualmachines/t1?fieldValidation=Strict",
                "{\"metadata\":{\"colour\":\"red\"}}", "application/merge-patch+json");
        assertEquals(400, patch.statusCode(), patch.body());
        assertTrue(patch.body().contains("unknown field \\\"metadata.colour\\\""), patch.body());

        HttpResponse<String> table = get("/apis/kubevirt.io/v1/namespaces/default/virtualmachines",
                "application/json;as=Table;v=v1;g=meta.k8s.io,application/json");
        assertEquals(200, table.statusCode(), table.body());
        assertTrue(table.body().contains("\"kind\":\"Table\"") && table.body().contains("\"name\":\"Ready\"")
                && table.body().contains("\"cells\":[\"t1\","), table.body());
        // The mock's bodiless 404 of a named object becomes kube-apiserver's Status (kubectl prints its message).
        HttpResponse<String> missing = get("/apis/kubevirt.io/v1/namespaces/default/virtualmachines/nope", "application/json");
        assertEquals(404, missing.statusCode());
        assertTrue(missing.body().contains("\"message\":\"virtualmachines.kubevirt.io \\\"nope\\\" not found\"")
                && missing.body().contains("\"reason\":\"NotFound\""), missing.body());
        assertEquals(404, send("DELETE", "/api/v1/namespaces/default/configmaps/nope", "", "application/json").statusCode());
        // kubectl apply's strategic merge patch of a built-in kind: without lists it is a merge patch; with one, refused.
        client.configMaps().resource(new ConfigMapBuilder().withNewMetadata().withName("smp").withNamespace("default").endMetadata()
                .addToData("a", "1").addToData("b", "1").build()).create();
        HttpResponse<String> smp = send("PATCH", "/api/v1/namespaces/default/configmaps/smp?fieldValidation=Strict",
                "{\"data\":{\"a\":\"2\"}}", SandboxFrontDoor.STRATEGIC_MERGE_PATCH);
        assertTrue(smp.statusCode() / 100 == 2, smp.statusCode() + " " + smp.body());
        assertEquals(java.util.Map.of("a", "2", "b", "1"), client.configMaps().inNamespace("default").withName("smp").get().getData());
        // A null removes the field (RFC 7386; the mock would store the null): applied by the door.
        HttpResponse<String> removal = send("PATCH", "/api/v1/namespaces/default/configmaps/smp",
                "{\"data\":{\"b\":null}}", SandboxFrontDoor.STRATEGIC_MERGE_PATCH);
        assertEquals(200, removal.statusCode(), removal.body());
        assertEquals(java.util.Map.of("a", "2"), client.configMaps().inNamespace("default").withName("smp").get().getData());
        HttpResponse<String> vmNull = send("PATCH", "/apis/kubevirt.io/v1/namespaces/default/virtualmachines/t1?fieldValidation=Strict",
                "{\"spec\":{\"running\":null,\"runStrategy\":\"Halted\"}}", "application/merge-patch+json");
        assertEquals(200, vmNull.statusCode(), vmNull.body());
        String stored = get("/apis/kubevirt.io/v1/namespaces/default/virtualmachines/t1", "application/json").body();
        assertTrue(!stored.contains("\"running\"") && stored.contains("\"runStrategy\":\"Halted\""), stored);
        assertEquals(404, send("PATCH", "/apis/kubevirt.io/v1/namespaces/default/virtualmachines/nope", "{\"spec\":{\"running\":null}}",
                "application/merge-patch+json").statusCode());
        HttpResponse<String> list = send("PATCH", "/api/v1/namespaces/default/configmaps/smp",
                "{\"metadata\":{\"finalizers\":[\"x\"]}}", SandboxFrontDoor.STRATEGIC_MERGE_PATCH);
        assertEquals(415, list.statusCode(), list.body());
        assertTrue(list.body().contains("changes the list metadata.finalizers"), list.body());
        // Without as=Table the mock's own answer passes through.
        assertTrue(get("/apis/kubevirt.io/v1/namespaces/default/virtualmachines/t1", "application/json").body().contains("\"runStrategy\":\"Halted\""));
    }

    @Test
    void aChunkedWatchIsBridgedToTheMocksWebSocketWatch() throws Exception {
        client.configMaps().resource(new ConfigMapBuilder().withNewMetadata().withName("gone-before-watch").withNamespace("default")
                .endMetadata().build()).create();
        String rv = client.configMaps().inNamespace("default").withName("gone-before-watch").get().getMetadata().getResourceVersion();
        client.configMaps().inNamespace("default").withName("gone-before-watch").delete();
        // A watch from before the delete: the mock cannot replay, so the door catches the single object up.
        try (WatchLines gone = new WatchLines("/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=" + rv
                + "&fieldSelector=metadata.name%3Dgone-before-watch")) {
            String line = gone.next(Duration.ofSeconds(10));
            assertTrue(line.contains("\"type\":\"DELETED\"") && line.contains("\"gone-before-watch\""), line);
        }
        try (WatchLines w = new WatchLines("/api/v1/namespaces/default/configmaps?watch=true&fieldSelector=metadata.name%3Dwanted")) {
            Thread.sleep(300); // the bridge's WebSocket to the mock is open once the 200 is in; events after it count
            for (String n : List.of("other", "wanted")) {
                client.configMaps().resource(new ConfigMapBuilder().withNewMetadata().withName(n).withNamespace("default").endMetadata()
                        .build()).create();
            }
            String line = w.next(Duration.ofSeconds(10));
            assertTrue(line.contains("\"type\":\"ADDED\"") && line.contains("\"name\":\"wanted\""), line);
            client.configMaps().inNamespace("default").withName("other").delete();
            client.configMaps().inNamespace("default").withName("wanted").delete();
            String next = w.next(Duration.ofSeconds(10));
            assertTrue(next.contains("\"type\":\"DELETED\"") && next.contains("\"name\":\"wanted\""), "other's events are filtered: " + next);
        }
    }

    /** A chunked watch read line by line on its own thread. */
    private final class WatchLines implements AutoCloseable {
        private final java.util.concurrent.BlockingQueue<String> lines = new java.util.concurrent.LinkedBlockingQueue<>();
        private final java.io.InputStream body;

        WatchLines(String uri) throws Exception {
            HttpResponse<java.io.InputStream> r = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build().send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + door.address().getPort() + uri)).build(),
                    HttpResponse.BodyHandlers.ofInputStream());
            assertEquals(200, r.statusCode());
            body = r.body();
            Thread t = new Thread(() -> {
                try (var in = new java.io.BufferedReader(new java.io.InputStreamReader(body, java.nio.charset.StandardCharsets.UTF_8))) {
                    for (String l; (l = in.readLine()) != null;) {
                        lines.add(l);
                    }
                } catch (java.io.IOException e) {
                    // closed by the test
                }
            }, "watch-lines");
            t.setDaemon(true);
            t.start();
        }

        String next(Duration timeout) throws InterruptedException {
            String l = lines.poll(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
            if (l == null) {
                throw new AssertionError("no watch event within " + timeout);
            }
            return l;
        }

        @Override
        public void close() throws java.io.IOException {
            body.close();
        }
    }

    private HttpResponse<String> get(String uri, String accept) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + door.address().getPort() + uri));
        if (accept != null) {
            b.header("Accept", accept);
        }
        return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build().send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> send(String method, String uri, String body, String type) throws Exception {
        return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build().send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + door.address().getPort() + uri)).header("Content-Type", type)
                        .method(method, HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private Path pki(String file) throws Exception {
        io.qvirt.testdata.TestPki p = io.qvirt.testdata.TestPki.open(dir.resolve("pki"), "test-ca");
        if (!java.nio.file.Files.exists(p.cert("front-proxy-client"))) {
            p.client("front-proxy-client", "front-proxy-client");
        }
        return dir.resolve("pki").resolve(file);
    }

    private Boolean sar(String user, String ns, String sub) {
        var review = new io.fabric8.kubernetes.api.model.authorization.v1.SubjectAccessReviewBuilder().withNewSpec().withUser(user)
                .withNewResourceAttributes().withNamespace(ns).withVerb("update").withGroup("subresources.kubevirt.io")
                .withResource("virtualmachines").withSubresource(sub).withName("vm").endResourceAttributes().endSpec().build();
        return client.authorization().v1().subjectAccessReview().create(review).getStatus().getAllowed();
    }
}
