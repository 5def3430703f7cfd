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
 * virt-api is set.
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
