package io.qvirt.launcher.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qvirt.launcher.plan.PlumbedPodNetwork;
import io.qvirt.launcher.plan.RuntimePaths;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The launcher's wait for the node agent's network-ready.json: the answer, its errors, no answer. */
class NetworkHandshakeTest {
    private static final NetworkHandshake.Request REQ = new NetworkHandshake.Request(1234, "pid:[4026531836]", "/run/qvirt/default/vm", "uid-1",
            List.of(new NetworkHandshake.RequestedInterface("default", "eth0", null)));

    @Test
    void noAnswerEndsWithAnErrorNamingTheFilesAndTheHandlerAndLeavesNothing(@TempDir Path dir) {
        RuntimePaths p = new RuntimePaths(dir);
        LauncherException e = assertThrows(LauncherException.class,
                () -> NetworkHandshake.await(p, REQ, Duration.ofMillis(300), Duration.ofMillis(20)));
        assertTrue(e.getMessage().startsWith("no answer from the node agent within 300 ms: virt-handler on this node "
                + "plumbs the pod network for a bridge interface (default) when it finds " + dir.resolve("network-request.json")
                + " and answers in " + dir.resolve("network-ready.json")), e.getMessage());
        assertTrue(e.getMessage().contains("--network-wait"), e.getMessage());
        assertFalse(Files.exists(dir.resolve("network-request.json")), "the request is removed again");
    }

    @Test
    void theAnswerBecomesTheTapsAndTheRequestStays(@TempDir Path dir) throws Exception {
        RuntimePaths p = new RuntimePaths(dir);
        CompletableFuture<Void> handler = CompletableFuture.runAsync(() -> {
            Path req = NetworkHandshake.requestFile(p);
            while (!Files.exists(req)) {
                Thread.onSpinWait();
            }
            NetworkHandshake.Request got = NetworkHandshake.read(req, NetworkHandshake.Request.class);
            assertEquals(REQ, got);
            NetworkHandshake.write(NetworkHandshake.readyFile(p), new NetworkHandshake.Ready(List.of(
                    new NetworkHandshake.ReadyInterface("default", "tap0", "0a:58:0a:f4:00:07", 1450)), null));
        });
        PlumbedPodNetwork n = NetworkHandshake.await(p, REQ, Duration.ofSeconds(10), Duration.ofMillis(10));
        handler.get(10, TimeUnit.SECONDS);
        assertFalse(n.pending());
        assertEquals(new PlumbedPodNetwork.Tap("tap0", "0a:58:0a:f4:00:07", 1450), n.taps().get("default"));
        assertTrue(Files.exists(NetworkHandshake.requestFile(p)), "kept for a restarted handler");
    }

    @Test
    void theNodeAgentsErrorIsTheLaunchersAndNothingIsLeft(@TempDir Path dir) {
        RuntimePaths p = new RuntimePaths(dir);
        NetworkHandshake.write(NetworkHandshake.readyFile(p), new NetworkHandshake.Ready(null, "the pod shares the node's network namespace"));
        LauncherException e = assertThrows(LauncherException.class,
                () -> NetworkHandshake.await(p, REQ, Duration.ofSeconds(5), Duration.ofMillis(10)));
        assertEquals("the node agent could not plumb the pod network for default: the pod shares the node's network namespace",
                e.getMessage());
        assertFalse(Files.exists(NetworkHandshake.requestFile(p)));
        assertFalse(Files.exists(NetworkHandshake.readyFile(p)));
    }

    @Test
    void aMalformedAnswerIsRefusedByField() {
        Path f = Path.of("/r/network-ready.json");
        LauncherException e = assertThrows(LauncherException.class, () -> NetworkHandshake.check(REQ,
                new NetworkHandshake.Ready(List.of(new NetworkHandshake.ReadyInterface("default", "tap0", "zz", 1500)), null), f));
        assertEquals("/r/network-ready.json: interfaces[0].mac: 'zz' is not a MAC address (xx:xx:xx:xx:xx:xx)", e.getMessage());
        e = assertThrows(LauncherException.class, () -> NetworkHandshake.check(REQ,
                new NetworkHandshake.Ready(List.of(new NetworkHandshake.ReadyInterface("default", "tap0", "0a:58:0a:f4:00:07", 20)), null), f));
        assertEquals("/r/network-ready.json: interfaces[0].mtu: 20 is not an MTU (68-65535)", e.getMessage());
        e = assertThrows(LauncherException.class, () -> NetworkHandshake.check(REQ, new NetworkHandshake.Ready(List.of(), null), f));
        assertEquals("/r/network-ready.json: no tap for interface 'default'", e.getMessage());
    }
}
