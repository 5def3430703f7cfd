package io.qvirt.apiserver;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.qvirt.api.KubevirtJson;
import io.qvirt.api.ManifestLoader;
import io.qvirt.api.VirtualMachine;
import io.qvirt.api.VirtualMachineInstance;
import io.qvirt.api.model.VirtualMachineStatus;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code portforward/{port}[/{protocol}]} of VMIs and VMs: KubeVirt's checks and messages, the SubjectAccessReview on
 * {@code .../portforward}, discovery, and the WebSocket relayed byte for byte to the handler's port-forward route over
 * mutual TLS (a FAKE handler that echoes, and refuses ports 22 and 81 as the real one refuses a port that is not
 * forwarded and one whose dial fails). fabric8's CRUD mock API server holds the VMs and VMIs.
 */
class PortForwardTest {
    @TempDir
    static Path dir;
    static Rig rig;

    @BeforeAll
    static void up() throws Exception {
        rig = new Rig(dir);
    }

    @AfterAll
    static void down() {
        if (rig != null) {
            rig.close();
        }
    }

    static String vmiPath(String name, String tail) {
        return "/apis/subresources.kubevirt.io/v1/namespaces/default/virtualmachineinstances/" + name + "/portforward/" + tail;
    }

    static String vmPath(String version, String name, String tail) {
        return "/apis/subresources.kubevirt.io/" + version + "/namespaces/default/virtualmachines/" + name + "/portforward/" + tail;
    }

    /** A VM whose status says {@code created} (or not), and its Running VMI owned by it. */
    static void vmWithVmi(String name, boolean created) throws Exception {
        VirtualMachine vm = ManifestLoader.loadOne(Path.of(System.getProperty("qvirt.root", ".."), "testdata", "vm.yaml")).vm();
        vm.getMetadata().setName(name);
        vm.getMetadata().setNamespace("default");
        vm = rig.client.resources(VirtualMachine.class).resource(vm).create();
        VirtualMachineStatus st = new VirtualMachineStatus();
        st.setCreated(created);
        vm.setStatus(st);
        vm = rig.client.resources(VirtualMachine.class).resource(vm).updateStatus();
        VirtualMachineInstance v = SubresourcesTest.vmiStandalone(rig, name, "Running");
        v.getMetadata().setOwnerReferences(List.of(new OwnerReferenceBuilder().withApiVersion("kubevirt.io/v1")
                .withKind("VirtualMachine").withName(name).withUid(vm.getMetadata().getUid()).withController(true).build()));
        rig.client.resources(VirtualMachineInstance.class).resource(v).update();
    }

    /** Keeps every binary byte received and the close code. */
    static final class Received implements WebSocket.Listener {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        final CompletableFuture<Integer> closed = new CompletableFuture<>();

        @Override
        public CompletionStage<?> onBinary(WebSocket w, ByteBuffer data, boolean last) {
            synchronized (bytes) {
                while (data.hasRemaining()) {
                    bytes.write(data.get());
                }
            }
            w.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket w, int code, String reason) {
            closed.complete(code);
            return null;
        }

        byte[] await(int n) throws InterruptedException {
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (System.nanoTime() < deadline) {
                synchronized (bytes) {
                    if (bytes.size() >= n) {
                        break;
                    }
                }
                Thread.sleep(20);
            }
            synchronized (bytes) {
                return bytes.toByteArray();
            }
        }
    }

    static WebSocket open(String path, String user, WebSocket.Listener listener) throws Exception {
        return rig.aggregator().newWebSocketBuilder().header("X-Remote-User", user).header("X-Remote-Group", "system:authenticated")
                .buildAsync(URI.create(rig.base().replace("https", "wss") + path), listener).get(10, TimeUnit.SECONDS);
    }

    /** The refused upgrade's status and Status message. */
    static void assertUpgradeRefused(String path, String user, int code, String message) throws Exception {
        ExecutionException e = assertThrows(ExecutionException.class, () -> open(path, user, new WebSocket.Listener() {
        }));
        WebSocketHandshakeException h = (WebSocketHandshakeException) e.getCause();
        String body = String.valueOf(h.getResponse().body());
        assertEquals(code, h.getResponse().statusCode(), body);
        JsonNode s = KubevirtJson.json().readTree(body);
        assertEquals("Status", s.path("kind").asText(), body);
        assertEquals(message, s.path("message").asText(), body);
    }

    @Test
    void aVmiPortIsRelayedByteForByteThroughTheHandler() throws Exception {
        SubresourcesTest.vmiStandalone(rig, "pf", "Running");
        Received got = new Received();
        WebSocket ws = open(vmiPath("pf", "8080"), "alice", got);
        byte[] all = new byte[256 * 64];
        for (int i = 0; i < all.length; i++) {
            all[i] = (byte) i;
        }
        for (int off = 0; off < all.length; off += 1000) {
            ws.sendBinary(ByteBuffer.wrap(all, off, Math.min(1000, all.length - off)), true).get(5, TimeUnit.SECONDS);
        }
        assertArrayEquals(all, got.await(all.length), "every byte, in order, through virt-api and the handler and back");
        assertTrue(rig.handler.portForwards.contains("/v1/namespaces/default/virtualmachineinstances/pf/portforward/8080/tcp"),
                rig.handler.portForwards.toString());
        // The handler's end closes (the guest hung up): the client's closes too.
        rig.handler.lastPortForward.writeAndFlush(new io.netty.handler.codec.http.websocketx.CloseWebSocketFrame(1000, "bye"));
        assertEquals(1000, got.closed.get(10, TimeUnit.SECONDS));

        AccessReviewer.Request q = rig.reviews.stream().filter(r -> "pf".equals(r.name())).findFirst().orElseThrow();
        assertEquals(List.of("get", "virtualmachineinstances", "portforward", "subresources.kubevirt.io", "v1", "default"),
                List.of(q.verb(), q.resource(), q.subresource(), q.group(), q.version(), q.namespace()));
    }

    @Test
    void aVmsPortGoesToItsVmiAndTheProtocolIsNormalized() throws Exception {
        vmWithVmi("pfvm", true);
        Received got = new Received();
        WebSocket ws = open(vmPath("v1alpha3", "pfvm", "80/TCP"), "alice", got);
        ws.sendBinary(ByteBuffer.wrap("GET /hostname".getBytes(java.nio.charset.StandardCharsets.US_ASCII)), true)
                .get(5, TimeUnit.SECONDS);
        assertEquals("GET /hostname", new String(got.await(13), java.nio.charset.StandardCharsets.US_ASCII));
        ws.sendClose(WebSocket.NORMAL_CLOSURE, "").get(5, TimeUnit.SECONDS);
        assertTrue(rig.handler.portForwards.contains("/v1/namespaces/default/virtualmachineinstances/pfvm/portforward/80/tcp"),
                rig.handler.portForwards.toString());
        AccessReviewer.Request q = rig.reviews.stream().filter(r -> "pfvm".equals(r.name())).findFirst().orElseThrow();
        assertEquals(List.of("get", "virtualmachines", "portforward", "v1alpha3"),
                List.of(q.verb(), q.resource(), q.subresource(), q.version()));
    }

    @Test
    void kubeVirtsRefusalsAndTheHandlersArePassedOnBeforeAnyUpgrade() throws Exception {
        vmWithVmi("notstarted", false);
        assertUpgradeRefused(vmPath("v1", "notstarted", "80"), "alice", 409,
                "Operation cannot be fulfilled on virtualmachine.kubevirt.io \"notstarted\": VMI is not started");
        assertUpgradeRefused(vmPath("v1", "novm", "80"), "alice", 404, "virtualmachine.kubevirt.io \"novm\" not found");
        assertUpgradeRefused(vmiPath("novmi", "80"), "alice", 404, "virtualmachineinstance.kubevirt.io \"novmi\" not found");
        SubresourcesTest.vmiStandalone(rig, "paused", "Running", SubresourcesTest.cond("Paused", "True"));
        assertUpgradeRefused(vmiPath("paused", "80"), "alice", 409,
                "Operation cannot be fulfilled on virtualmachineinstance.kubevirt.io \"paused\": VMI is paused");
        SubresourcesTest.vmiStandalone(rig, "sched", "Scheduled");
        assertUpgradeRefused(vmiPath("sched", "80"), "alice", 400,
                "Unable to connect to VirtualMachineInstance because phase is Scheduled instead of Running");
        SubresourcesTest.vmiStandalone(rig, "pfr", "Running");
        assertUpgradeRefused(vmiPath("pfr", "53/udp"), "alice", 400, "port-forward over udp is not supported by qvirt: tcp only");
        assertUpgradeRefused(vmiPath("pfr", "53/sctp"), "alice", 400, "invalid protocol \"sctp\": tcp or udp");
        assertUpgradeRefused(vmiPath("pfr", "0"), "alice", 400, "invalid port \"0\": must be a number from 1 to 65535");
        assertUpgradeRefused(vmiPath("pfr", "ssh"), "alice", 400, "invalid port \"ssh\": must be a number from 1 to 65535");
        assertEquals(List.of(), rig.handler.portForwards.stream().filter(u -> !u.contains("/pf/") && !u.contains("/pfvm/")).toList(),
                "nothing refused here reached the node");
        // The handler's refusals: a port the VM does not forward, and a dial that failed.
        assertUpgradeRefused(vmiPath("pfr", "22"), "alice", 400, "port 22/tcp of VMI default/pf is not forwarded");
        assertUpgradeRefused(vmiPath("pfr", "81"), "alice", 500,
                "Internal error occurred: dialing VM: default/pf port 81/tcp at 127.0.0.1:81: Connection refused");
        // Not a WebSocket, or not a GET.
        HttpResponse<String> plain = rig.send(rig.aggregator(), "GET", vmiPath("pfr", "80"), null, "alice");
        SubresourcesTest.assertRefused(plain, 400, "port-forward is a WebSocket: send Upgrade: websocket");
        HttpResponse<String> put = rig.send(rig.aggregator(), "PUT", vmiPath("pfr", "80"), null, "alice");
        assertEquals(405, put.statusCode(), put.body());
    }

    @Test
    void aDeniedReviewIs403AndNothingReachesTheNode() throws Exception {
        SubresourcesTest.vmiStandalone(rig, "secret", "Running");
        rig.deny.put("mallory", "virtualmachineinstances/portforward");
        assertUpgradeRefused(vmiPath("secret", "22"), "mallory", 403, "virtualmachineinstances.subresources.kubevirt.io \"secret\" is "
                + "forbidden: User \"mallory\" cannot get resource \"virtualmachineinstances/portforward\" in API group "
                + "\"subresources.kubevirt.io\" in the namespace \"default\": denied by the test's rule");
        assertTrue(rig.handler.portForwards.stream().noneMatch(u -> u.contains("/secret/")), rig.handler.portForwards.toString());
    }

    @Test
    void discoveryListsBothPortForwardSubresources() throws Exception {
        for (String v : List.of("v1", "v1alpha3")) {
            HttpResponse<String> r = rig.send(rig.http(null, null), "GET", "/apis/subresources.kubevirt.io/" + v, null, null);
            JsonNode list = KubevirtJson.json().readTree(r.body());
            List<String> pf = new java.util.ArrayList<>();
            list.path("resources").forEach(x -> {
                if (x.path("name").asText().endsWith("/portforward")) {
                    pf.add(x.path("name").asText() + " " + x.path("verbs").get(0).asText());
                }
            });
            assertEquals(List.of("virtualmachineinstances/portforward get", "virtualmachines/portforward get"), pf, r.body());
        }
    }
}
