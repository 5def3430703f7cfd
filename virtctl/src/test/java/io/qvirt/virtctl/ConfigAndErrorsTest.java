package io.qvirt.virtctl;

import static io.qvirt.virtctl.MockApiServer.virtctl;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qvirt.virtctl.MockApiServer.Run;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** kubeconfig resolution and the one-line errors: no or bad kubeconfig, unreachable or silent API server, not found. */
class ConfigAndErrorsTest {
    @TempDir
    Path tmp;

    @Test
    void noConfigurationAtAll() {
        Run r = virtctl(Map.of("HOME", tmp.toString()), "start", "testvm");
        assertEquals(2, r.code());
        assertEquals("error: invalid configuration: no configuration has been provided (no --kubeconfig, no $KUBECONFIG "
                + "file, no ~/.kube/config, not in a cluster)\n", r.err());
    }

    @Test
    void badKubeconfigs() throws Exception {
        Map<String, String> env = Map.of("HOME", tmp.toString());
        Run r = virtctl(env, "--kubeconfig", tmp.resolve("missing").toString(), "start", "testvm");
        assertEquals(2, r.code());
        assertEquals("error: stat " + tmp.resolve("missing") + ": no such file (--kubeconfig)\n", r.err());

        Path garbage = Files.writeString(tmp.resolve("garbage"), "clusters: [unclosed\n  - {{{\n");
        r = virtctl(env, "--kubeconfig", garbage.toString(), "stop", "testvm");
        assertEquals(2, r.code());
        assertTrue(r.err().startsWith("error: error loading config file \"" + garbage + "\": "), r.err());
        assertEquals(1, r.err().lines().count(), r.err());

        Path good = MockApiServer.kubeconfig(tmp, "http://127.0.0.1:1");
        r = virtctl(env, "--kubeconfig", good.toString(), "--context", "nope", "start", "testvm");
        assertEquals(2, r.code());
        assertEquals("error: context \"nope\" does not exist in " + good + "\n", r.err());

        Path noCurrent = Files.writeString(tmp.resolve("nocurrent"), Files.readString(good).replace("current-context: mock\n", ""));
        r = virtctl(env, "--kubeconfig", noCurrent.toString(), "start", "testvm");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("has no current-context (use --context)"), r.err());
    }

    @Test
    void kubeconfigFromEnvironmentThenHome() throws Exception {
        try (MockApiServer api = new MockApiServer()) {
            Path cfg = api.kubeconfig(tmp);
            // $KUBECONFIG: a list, its first existing file
            Run r = virtctl(Map.of("HOME", tmp.toString(), "KUBECONFIG", tmp.resolve("absent") + ":" + cfg), "start", "vm1");
            assertEquals(0, r.code(), r.err());
            assertEquals("/apis/subresources.kubevirt.io/v1/namespaces/ns1/virtualmachines/vm1/start", api.requests().get(0).path());
            // ~/.kube/config
            Path home = Files.createDirectories(tmp.resolve("home/.kube"));
            Files.copy(cfg, home.resolve("config"));
            r = virtctl(Map.of("HOME", tmp.resolve("home").toString()), "start", "vm2");
            assertEquals(0, r.code(), r.err());
            assertEquals("/apis/subresources.kubevirt.io/v1/namespaces/ns1/virtualmachines/vm2/start", api.requests().get(0).path());
        }
    }

    @Test
    void refusedConnectionFailsAtOnce() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        Path cfg = MockApiServer.kubeconfig(tmp, "http://127.0.0.1:" + port);
        Run r = virtctl(Map.of("HOME", tmp.toString()), "--kubeconfig", cfg.toString(), "start", "testvm");
        assertEquals(1, r.code());
        assertEquals("error: The connection to the server 127.0.0.1:" + port
                + " was refused - did you specify the right host or port?\n", r.err());
        assertTrue(r.millis() < 5000, "took " + r.millis() + " ms");
    }

    @Test
    void silentServerFailsWithinTheRequestTimeout() throws Exception {
        List<Socket> held = new ArrayList<>();
        try (ServerSocket s = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Thread acceptor = new Thread(() -> {
                try {
                    while (true) {
                        held.add(s.accept()); // accepted, never answered
                    }
                } catch (java.io.IOException e) {
                    // closed
                }
            });
            acceptor.setDaemon(true);
            acceptor.start();
            Path cfg = MockApiServer.kubeconfig(tmp, "http://127.0.0.1:" + s.getLocalPort());
            Run r = virtctl(Map.of("HOME", tmp.toString()), "--kubeconfig", cfg.toString(), "--request-timeout", "1",
                    "pause", "vmi", "testvm");
            assertEquals(1, r.code());
            assertEquals("error: Unable to connect to the server 127.0.0.1:" + s.getLocalPort() + ": no answer within 1 s\n", r.err());
            assertTrue(r.millis() < 4000, "took " + r.millis() + " ms");
            // the default bound (10 s) holds too
            r = virtctl(Map.of("HOME", tmp.toString()), "--kubeconfig", cfg.toString(), "stop", "testvm");
            assertEquals(1, r.code());
            assertTrue(r.millis() < 13000, "took " + r.millis() + " ms");
        } finally {
            for (Socket h : held) {
                h.close();
            }
        }
    }

    @Test
    void objectsNotFoundSayWhichInOneLine() throws Exception {
        try (MockApiServer api = new MockApiServer()) {
            Map<String, String> env = Map.of("HOME", tmp.toString(), "KUBECONFIG", api.kubeconfig(tmp).toString());
            Run r = virtctl(env, "pause", "vm", "x");
            assertEquals(1, r.code());
            assertTrue(r.err().matches("error: Error getting VirtualMachine x: virtualmachines?\\.kubevirt\\.io \"x\" not found\n"), r.err());
            assertFalse(r.err().contains("\tat "), r.err());
            assertEquals(1, api.requests().size(), "pause vm stops at the missing VM");
            r = virtctl(env, "expose", "vmi", "x", "--name", "svc", "--port", "80");
            assertEquals(1, r.code());
            assertTrue(r.err().matches("error: error fetching VirtualMachineInstance: virtualmachineinstances?\\.kubevirt\\.io \"x\" not found\n"), r.err());
        }
    }

    @Test
    void guestOsInfoSaysWhatIsMissing() {
        Run r = virtctl(Map.of("HOME", tmp.toString()), "guestosinfo", "testvm");
        assertEquals(1, r.code());
        assertEquals("error: guestosinfo testvm: needs the QEMU guest agent, which qvirt does not talk to yet (KubeVirt "
                + "asks it through virt-handler); nothing was asked of the cluster\n", r.err());
    }
}
