package io.qvirt.handler.migration;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.qvirt.launcher.migrate.MigrationException;
import io.qvirt.launcher.migrate.MigrationTarget;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The proxy over real TLS on loopback with certificates made here: relays to a real Unix socket, control calls,
 * the outcomes, and the refusals (no client certificate, a foreign CA's, an unknown migration). The target is a
 * FAKE {@link MigrationTarget} (no QEMU: the wire is what is tested; MigrationProxyIT migrates a real guest).
 */
class MigrationProxyTlsTest {
    @TempDir
    static Path tmp;

    static MigrationTestPki pki;
    static MigrationProxyServer server;
    static InetSocketAddress addr;
    static SslContext client;

    @BeforeAll
    static void start() throws Exception {
        pki = MigrationTestPki.create(Files.createDirectories(tmp.resolve("pki")));
        server = new MigrationProxyServer(MigrationTls.server(pki.handlerFiles()), new InetSocketAddress("127.0.0.1", 0));
        addr = server.start();
        client = MigrationTls.client(pki.handlerFiles());
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    /** FAKE: records the calls, answers status from a field, fails cont when told. */
    static final class FakeTarget implements MigrationTarget {
        final List<String> calls = new CopyOnWriteArrayList<>();
        final List<Consumer<String>> subscribers = new CopyOnWriteArrayList<>();
        volatile String status = "inmigrate";
        volatile String contFails;
        volatile long statusDelayMs;

        @Override
        public void prepare(Map<String, Boolean> capabilities, int multifdChannels, List<String> copyNodes) {
            calls.add("prepare " + capabilities + " " + multifdChannels + " " + copyNodes);
        }

        @Override
        public void stopExports() {
            calls.add("stopExports");
        }

        @Override
        public String status() {
            calls.add("status");
            if (statusDelayMs > 0) {
                try {
                    Thread.sleep(statusDelayMs);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return status;
        }

        @Override
        public void cont() {
            calls.add("cont");
            if (contFails != null) {
                throw new MigrationException(contFails);
            }
        }

        @Override
        public AutoCloseable onMigrationStatus(Consumer<String> c) {
            subscribers.add(c);
            return () -> subscribers.remove(c);
        }
    }

    /** A Unix socket that echoes every byte: the stand-in for a QEMU's stream socket. */
    static Thread echo(Path sock) throws IOException {
        ServerSocketChannel ss = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        ss.bind(UnixDomainSocketAddress.of(sock));
        Thread t = new Thread(() -> {
            try (ss; SocketChannel c = ss.accept()) {
                ByteBuffer b = ByteBuffer.allocate(8192);
                while (c.read(b) >= 0) {
                    b.flip();
                    while (b.hasRemaining()) {
                        c.write(b);
                    }
                    b.clear();
                }
            } catch (IOException e) {
                // The test ends the connection.
            }
        }, "echo");
        t.setDaemon(true);
        t.start();
        return t;
    }

    @Test
    void relaysBytesRunsControlCallsAndEndsSucceeded() throws Exception {
        String uid = "aaaa1111-0000-4000-8000-000000000001";
        Path dir = Files.createDirectories(tmp.resolve("t1"));
        Path targetStream = dir.resolve("target-stream.sock");
        Thread echo = echo(targetStream);
        FakeTarget fake = new FakeTarget();
        BlockingQueue<MigrationProxyServer.TargetOutcome> ends = new LinkedBlockingQueue<>();
        try (MigrationProxyServer.Registration reg = server.register(uid, targetStream, dir.resolve("nbd.sock"), fake,
                ends::add);
             MigrationProxyClient.Session s = MigrationProxyClient.open(client, "127.0.0.1", addr.getPort(), uid,
                     Files.createDirectories(tmp.resolve("src1")), Duration.ofSeconds(10))) {
            // The stream: 1 MiB through the source's socket, TLS, the target's socket and back.
            byte[] data = new byte[1 << 20];
            new Random(7).nextBytes(data);
            try (SocketChannel c = SocketChannel.open(UnixDomainSocketAddress.of(s.endpoints().stream()))) {
                Thread w = new Thread(() -> {
                    try {
                        c.write(ByteBuffer.wrap(data));
                    } catch (IOException e) {
                        throw new RuntimeException(e);
                    }
                });
                w.start();
                ByteBuffer got = ByteBuffer.allocate(data.length);
                while (got.hasRemaining() && c.read(got) >= 0) {
                    // reading the echo
                }
                w.join(10_000);
                assertArrayEquals(data, got.array(), "the relay carries every byte, both ways");
            }
            echo.join(10_000);
            assertTrue(s.bytesForwarded() >= 2L * data.length, "counted both ways: " + s.bytesForwarded());

            // Control: calls reach the target, events come back, a target's failure is told as remote.
            MigrationTarget t = s.target();
            BlockingQueue<String> events = new LinkedBlockingQueue<>();
            AutoCloseable sub = t.onMigrationStatus(events::add);
            t.prepare(Map.of("events", true), 2, List.of("disk0-fmt"));
            assertEquals(List.of("prepare {events=true} 2 [disk0-fmt]"), fake.calls);
            assertEquals("inmigrate", t.status());
            fake.subscribers.forEach(c -> c.accept("active"));
            assertEquals("active", events.poll(10, TimeUnit.SECONDS));
            sub.close();
            t.stopExports();
            fake.contFails = "cont on the target: QEMU refused";
            ProxyRemoteException remote = assertThrows(ProxyRemoteException.class, t::cont);
            assertEquals("cont on the target: cont on the target: QEMU refused", remote.getMessage());
            assertInstanceOf(MigrationException.class, remote, "Migration treats it as any failed step");
            assertNull(ends.poll(), "no outcome before finish");
            s.finish(true);
            MigrationProxyServer.TargetOutcome end = ends.poll(10, TimeUnit.SECONDS);
            assertEquals(MigrationProxyServer.TargetOutcome.Kind.SUCCEEDED, end.kind(), String.valueOf(end));
            assertThrows(ProxyDisconnectedException.class, t::status, "after finish the control connection is closed");
        }
        Thread.sleep(300);
        assertNull(ends.poll(), "one outcome only");
    }

    @Test
    void finishFalseIsFailedAndAClosedSessionIsLost() throws Exception {
        String uid = "aaaa1111-0000-4000-8000-000000000002";
        FakeTarget fake = new FakeTarget();
        BlockingQueue<MigrationProxyServer.TargetOutcome> ends = new LinkedBlockingQueue<>();
        Path src = Files.createDirectories(tmp.resolve("src2"));
        try (var reg = server.register(uid, tmp.resolve("none-s.sock"), tmp.resolve("none-n.sock"), fake, ends::add)) {
            try (var s = MigrationProxyClient.open(client, "127.0.0.1", addr.getPort(), uid, src, Duration.ofSeconds(10))) {
                s.finish(false);
            }
            assertEquals(MigrationProxyServer.TargetOutcome.Kind.FAILED, ends.poll(10, TimeUnit.SECONDS).kind());
            // Ended: a new connection for it is refused.
            ProxyRemoteException e = assertThrows(ProxyRemoteException.class, () -> MigrationProxyClient.open(client,
                    "127.0.0.1", addr.getPort(), uid, src, Duration.ofSeconds(10)));
            assertTrue(e.getMessage().contains("has ended"), e.getMessage());
        }
        String uid3 = "aaaa1111-0000-4000-8000-000000000003";
        try (var reg = server.register(uid3, tmp.resolve("none-s.sock"), tmp.resolve("none-n.sock"), fake, ends::add)) {
            var s = MigrationProxyClient.open(client, "127.0.0.1", addr.getPort(), uid3, src, Duration.ofSeconds(10));
            assertEquals("inmigrate", s.target().status());
            s.close();
            MigrationProxyServer.TargetOutcome lost = ends.poll(10, TimeUnit.SECONDS);
            assertEquals(MigrationProxyServer.TargetOutcome.Kind.LOST, lost.kind());
            assertTrue(lost.why().contains("closed before it finished"), lost.why());
            assertFalse(Files.exists(s.endpoints().stream()), "the session's socket files are removed");
        }
    }

    @Test
    void aStreamWhoseTargetSocketIsMissingIsClosed() throws Exception {
        String uid = "aaaa1111-0000-4000-8000-000000000004";
        try (var reg = server.register(uid, tmp.resolve("missing-s.sock"), tmp.resolve("missing-n.sock"),
                new FakeTarget(), o -> { });
             var s = MigrationProxyClient.open(client, "127.0.0.1", addr.getPort(), uid,
                     Files.createDirectories(tmp.resolve("src4")), Duration.ofSeconds(10));
             SocketChannel c = SocketChannel.open(UnixDomainSocketAddress.of(s.endpoints().stream()))) {
            c.write(ByteBuffer.wrap(new byte[] {1, 2, 3}));
            ByteBuffer b = ByteBuffer.allocate(16);
            // The source QEMU sees its connection end (the target refused it): EOF, or a reset as it had unread bytes.
            int n;
            try {
                n = c.read(b);
            } catch (IOException reset) {
                n = -1;
            }
            assertEquals(-1, n);
        }
    }

    @Test
    void refusesClientsWithoutAQvirtCertificateAndUnknownMigrations() throws Exception {
        String uid = "aaaa1111-0000-4000-8000-000000000005";
        List<MigrationProxyServer.TargetOutcome> ends = new CopyOnWriteArrayList<>();
        FakeTarget fake = new FakeTarget();
        Path src = Files.createDirectories(tmp.resolve("src5"));
        try (var reg = server.register(uid, tmp.resolve("x-s.sock"), tmp.resolve("x-n.sock"), fake, ends::add)) {
            SslContext noCert = SslContextBuilder.forClient()
                    .trustManager(pki.ca.cert().toFile())
                    .endpointIdentificationAlgorithm(null).build();
            MigrationProxyException none = assertThrows(MigrationProxyException.class, () -> MigrationProxyClient.open(
                    noCert, "127.0.0.1", addr.getPort(), uid, src, Duration.ofSeconds(10)));
            assertInstanceOf(ProxyDisconnectedException.class, none, none.toString());
            MigrationProxyException foreign = assertThrows(MigrationProxyException.class, () -> MigrationProxyClient.open(
                    MigrationTls.client(pki.foreignFiles()), "127.0.0.1", addr.getPort(), uid, src, Duration.ofSeconds(10)));
            assertInstanceOf(ProxyDisconnectedException.class, foreign, foreign.toString());
            ProxyRemoteException unknown = assertThrows(ProxyRemoteException.class, () -> MigrationProxyClient.open(
                    client, "127.0.0.1", addr.getPort(), "bbbb2222-0000-4000-8000-000000000009", src, Duration.ofSeconds(10)));
            assertTrue(unknown.getMessage().endsWith("unknown migration bbbb2222-0000-4000-8000-000000000009"),
                    unknown.getMessage());
            // A trusted client still gets in afterwards; the refused ones never reached the target.
            try (var s = MigrationProxyClient.open(client, "127.0.0.1", addr.getPort(), uid, src, Duration.ofSeconds(10))) {
                assertEquals("inmigrate", s.target().status());
                s.finish(true);
            }
            assertEquals(List.of("status"), fake.calls);
        }
    }

    @Test
    void aCallTheTargetIsSlowToAnswerTimesOutAndTheConnectionStaysUsable() throws Exception {
        String uid = "aaaa1111-0000-4000-8000-000000000006";
        FakeTarget fake = new FakeTarget();
        BlockingQueue<MigrationProxyServer.TargetOutcome> ends = new LinkedBlockingQueue<>();
        try (var reg = server.register(uid, tmp.resolve("y-s.sock"), tmp.resolve("y-n.sock"), fake, ends::add);
             var s = MigrationProxyClient.open(client, "127.0.0.1", addr.getPort(), uid,
                     Files.createDirectories(tmp.resolve("src7")), Duration.ofSeconds(10))) {
            fake.statusDelayMs = 1500;
            ClientSession cs = (ClientSession) s;
            ProxyTimeoutException t = assertThrows(ProxyTimeoutException.class,
                    () -> cs.call("status", ControlMessage.JSON.createObjectNode(), Duration.ofMillis(300)));
            assertTrue(t.getMessage().startsWith("status on the target: no answer within"), t.getMessage());
            fake.statusDelayMs = 0;
            // The late answer is dropped; the next call gets its own.
            fake.status = "paused";
            assertEquals("paused", s.target().status());
            s.finish(true);
            assertEquals(MigrationProxyServer.TargetOutcome.Kind.SUCCEEDED, ends.poll(10, TimeUnit.SECONDS).kind());
        }
    }

    @Test
    void aPeerThatNeverAnswersTimesOutAndBadArgumentsAreNamed() throws Exception {
        try (ServerSocket silent = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            Thread t = new Thread(() -> {
                try (Socket s = silent.accept()) {
                    Thread.sleep(5000);
                } catch (Exception e) {
                    // closed by the test
                }
            });
            t.setDaemon(true);
            t.start();
            // FAKE peer: accepts TCP and says nothing (a hung handler); no real one does that on purpose.
            ProxyTimeoutException e = assertThrows(ProxyTimeoutException.class, () -> MigrationProxyClient.open(client,
                    "127.0.0.1", silent.getLocalPort(), "cccc3333-0000-4000-8000-000000000001",
                    Files.createDirectories(tmp.resolve("src6")), Duration.ofMillis(700)));
            assertTrue(e.getMessage().contains("did not open within 700 ms"), e.getMessage());
        }
        IllegalArgumentException longDir = assertThrows(IllegalArgumentException.class, () -> MigrationProxyClient.open(
                client, "127.0.0.1", addr.getPort(), "cccc3333-0000-4000-8000-000000000002",
                tmp.resolve("d".repeat(110)), Duration.ofSeconds(1)));
        assertTrue(longDir.getMessage().startsWith("localDir: "), longDir.getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> server.register("../../etc", tmp, tmp,
                new FakeTarget(), o -> { })).getMessage().startsWith("migrationUid: "));
    }
}
