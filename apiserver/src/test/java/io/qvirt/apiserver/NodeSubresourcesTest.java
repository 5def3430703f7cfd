package io.qvirt.apiserver;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qvirt.api.VirtualMachineInstance;
import io.qvirt.api.model.Condition;
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
 * pause/unpause/reset checked by virt-api then sent to the handler on the VMI's node over mutual TLS (a FAKE
 * handler that records the PUTs), and the console relayed byte for byte between the client's WebSocket and the
 * handler's.
 */
class NodeSubresourcesTest {
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

    static void vmi(String name, String phase, Condition... conds) {
        VirtualMachineInstance v = SubresourcesTest.vmiStandalone(rig, name, phase, conds);
        assertEquals(phase, v.getStatus().getPhase());
    }

    static String path(String name, String sub) {
        return "/apis/subresources.kubevirt.io/v1/namespaces/default/virtualmachineinstances/" + name + "/" + sub;
    }

    static String conflict(String name, String why) {
        return "Operation cannot be fulfilled on virtualmachineinstance.kubevirt.io \"" + name + "\": " + why;
    }

    @Test
    void pauseUnpauseAndResetAreCheckedThenSentToTheNode() throws Exception {
        vmi("run", "Running");
        assertEquals(200, rig.put(path("run", "pause"), null).statusCode());
        assertEquals(200, rig.put(path("run", "reset"), null).statusCode());
        SubresourcesTest.assertRefused(rig.put(path("run", "unpause"), null), 409, conflict("run", "VMI is not paused"));
        vmi("paused", "Running", SubresourcesTest.cond("Paused", "True"));
        SubresourcesTest.assertRefused(rig.put(path("paused", "pause"), null), 409, conflict("paused", "VMI is already paused"));
        assertEquals(200, rig.put(path("paused", "unpause"), "{}").statusCode());
        vmi("sched", "Scheduled");
        SubresourcesTest.assertRefused(rig.put(path("sched", "pause"), null), 409, conflict("sched", "VM is not running"));
        SubresourcesTest.assertRefused(rig.put(path("sched", "reset"), null), 409, conflict("sched", "VMI is not running"));
        SubresourcesTest.assertRefused(rig.put(path("gone", "pause"), null), 404, "virtualmachineinstance.kubevirt.io \"gone\" not found");
        assertEquals(200, rig.put(path("run", "pause"), "{\"dryRun\":[\"All\"]}").statusCode());
        assertEquals(List.of("PUT /v1/namespaces/default/virtualmachineinstances/run/pause",
                "PUT /v1/namespaces/default/virtualmachineinstances/run/reset",
                "PUT /v1/namespaces/default/virtualmachineinstances/paused/unpause"), rig.handler.puts,
                "only the allowed, non-dry-run requests reached the node");
        // The handler's own refusal is passed on with its message.
        vmi("refused", "Running");
        HttpResponse<String> r = rig.put(path("refused", "pause"), null);
        assertEquals(409, r.statusCode(), r.body());
        assertTrue(r.body().contains("VMI is paused already (QEMU says paused)"), r.body());
    }

    @Test
    void theConsoleIsRelayedByteForByte() throws Exception {
        vmi("con", "Running");
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        CompletableFuture<Integer> closed = new CompletableFuture<>();
        WebSocket ws = rig.aggregator().newWebSocketBuilder().header("X-Remote-User", "alice").header("X-Remote-Group", "system:authenticated")
                .buildAsync(URI.create(rig.base().replace("https", "wss") + path("con", "console")), new WebSocket.Listener() {
                    @Override
                    public CompletionStage<?> onBinary(WebSocket w, ByteBuffer data, boolean last) {
                        synchronized (got) {
                            while (data.hasRemaining()) {
                                got.write(data.get());
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
                }).get(10, TimeUnit.SECONDS);
        byte[] all = new byte[256 * 64];
        for (int i = 0; i < all.length; i++) {
            all[i] = (byte) i;
        }
        for (int off = 0; off < all.length; off += 1000) {
            ws.sendBinary(ByteBuffer.wrap(all, off, Math.min(1000, all.length - off)), true).get(5, TimeUnit.SECONDS);
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (System.nanoTime() < deadline) {
            synchronized (got) {
                if (got.size() >= all.length) {
                    break;
                }
            }
            Thread.sleep(20);
        }
        synchronized (got) {
            assertArrayEquals(all, got.toByteArray(), "every byte, in order, through virt-api and the handler and back");
        }
        assertEquals(1, rig.handler.consoles.stream().filter(u -> u.contains("/con/")).count());
        // The handler closes: the client's side closes too.
        rig.handler.lastConsole.writeAndFlush(new io.netty.handler.codec.http.websocketx.CloseWebSocketFrame(1000, "bye"));
        assertEquals(1000, closed.get(10, TimeUnit.SECONDS));
    }

    @Test
    void consoleRefusals() throws Exception {
        vmi("pending", "Pending");
        ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class, () -> open("pending"));
        WebSocketHandshakeException h = (WebSocketHandshakeException) e.getCause();
        assertEquals(400, h.getResponse().statusCode());
        assertTrue(String.valueOf(h.getResponse().body()).contains(
                "Unable to connect to VirtualMachineInstance because phase is Pending instead of Running"), String.valueOf(h.getResponse().body()));
        vmi("held", "Running");
        e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class, () -> open("held"));
        h = (WebSocketHandshakeException) e.getCause();
        assertEquals(409, h.getResponse().statusCode());
        assertTrue(String.valueOf(h.getResponse().body()).contains("in use by launcher console"), String.valueOf(h.getResponse().body()));
        HttpResponse<String> plain = rig.send(rig.aggregator(), "GET", path("held", "console"), null, "alice");
        assertEquals(400, plain.statusCode(), plain.body());
    }

    private static WebSocket open(String name) throws Exception {
        return rig.aggregator().newWebSocketBuilder().header("X-Remote-User", "alice").header("X-Remote-Group", "g")
                .buildAsync(URI.create(rig.base().replace("https", "wss") + path(name, "console")), new WebSocket.Listener() {
                }).get(10, TimeUnit.SECONDS);
    }
}
