package io.qvirt.handler.nodeapi;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The node API's port-forward route over real TLS (openssl-made certificates) and real TCP: the "guest port" is a
 * real {@link ServerSocket} on 127.0.0.1 that {@link RecordingVmiOperations} names as the forward's target, standing
 * in for the launcher's forward to a guest service. Bytes both ways, close on either side, backpressure, and every
 * refusal answered before the upgrade.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class PortForwardRouteTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final String VMI = "/v1/namespaces/default/virtualmachineinstances/testvm";
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static java.nio.file.Path pki;
    private static TestCerts certs;
    private static SSLContext client;

    private RecordingVmiOperations ops;
    private NodeApiServer server;
    private HttpClient http;
    private ServerSocket guest;

    @BeforeAll
    static void makeCertificates() throws Exception {
        certs = TestCerts.create(pki);
        client = certs.clientContext(certs.client);
    }

    @BeforeEach
    void start() throws IOException {
        guest = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
        guest.setSoTimeout((int) WAIT.toMillis());
        ops = new RecordingVmiOperations();
        ops.portForwardTarget = () -> new InetSocketAddress("127.0.0.1", guest.getLocalPort());
        server = new NodeApiServer(new InetSocketAddress("127.0.0.1", 0), certs.serverFiles(), ops, Duration.ofSeconds(5));
        server.start();
        http = HttpClient.newBuilder().sslContext(client).version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5)).build();
    }

    @AfterEach
    void stop() throws IOException {
        server.close();
        guest.close();
    }

    @Test
    void bytesPassBothWaysUntouchedInOrder() throws Exception {
        NodeApiServerTest.Frames frames = new NodeApiServerTest.Frames();
        WebSocket ws = open("/portforward/22", frames);
        try (Socket conn = guest.accept()) {
            conn.setSoTimeout((int) WAIT.toMillis());
            assertEquals("plain.kubevirt.io", ws.getSubprotocol());
            assertEquals(java.util.List.of("portforward 22/tcp default/testvm"), ops.calls);

            byte[] every = new byte[256];
            for (int i = 0; i < 256; i++) {
                every[i] = (byte) i;
            }
            ws.sendBinary(ByteBuffer.wrap(every), true).get(WAIT.toSeconds(), TimeUnit.SECONDS);
            assertArrayEquals(every, conn.getInputStream().readNBytes(256), "client -> guest port");

            byte[] bulk = new byte[1 << 20];
            new Random(16).nextBytes(bulk);
            OutputStream toClient = conn.getOutputStream();
            CompletableFuture<Void> sent = CompletableFuture.runAsync(() -> {
                try {
                    toClient.write(bulk);
                    toClient.flush();
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            assertArrayEquals(bulk, frames.awaitBytes(bulk.length, WAIT), "guest port -> client, 1 MiB");
            sent.get(WAIT.toSeconds(), TimeUnit.SECONDS);

            CompletableFuture<byte[]> received = CompletableFuture.supplyAsync(() -> {
                try {
                    return conn.getInputStream().readNBytes(bulk.length);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            for (int off = 0; off < bulk.length; off += 32 * 1024) {
                ws.sendBinary(ByteBuffer.wrap(bulk, off, 32 * 1024), true).get(WAIT.toSeconds(), TimeUnit.SECONDS);
            }
            assertArrayEquals(bulk, received.get(WAIT.toSeconds(), TimeUnit.SECONDS), "client -> guest port, 1 MiB");

            // The client closes: the guest's connection ends (EOF).
            ws.sendClose(WebSocket.NORMAL_CLOSURE, "").get(WAIT.toSeconds(), TimeUnit.SECONDS);
            assertEquals(-1, conn.getInputStream().read(), "the guest's connection is closed after the client's close");
        }
    }

    @Test
    void theGuestClosingSendsItsLastBytesThenANormalClose() throws Exception {
        NodeApiServerTest.Frames frames = new NodeApiServerTest.Frames();
        open("/portforward/80/tcp", frames);
        try (Socket conn = guest.accept()) {
            conn.getOutputStream().write("HTTP/1.0 200 OK\r\n\r\nqvirt-guest\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            conn.getOutputStream().flush();
        }
        assertEquals(1000, frames.closed.get(WAIT.toSeconds(), TimeUnit.SECONDS));
        assertEquals("HTTP/1.0 200 OK\r\n\r\nqvirt-guest\n", new String(frames.awaitBytes(1, Duration.ZERO),
                java.nio.charset.StandardCharsets.US_ASCII), "every byte before the close");
    }

    @Test
    void aDroppedClientClosesTheGuestConnection() throws Exception {
        WebSocket ws = open("/portforward/22", new NodeApiServerTest.Frames());
        try (Socket conn = guest.accept()) {
            conn.setSoTimeout((int) WAIT.toMillis());
            ws.abort(); // no close handshake: the TCP connection just goes
            assertEquals(-1, conn.getInputStream().read());
        }
    }

    @Test
    void aClientThatDoesNotReadStopsTheGuestSideAtABoundedBacklog() throws Exception {
        long total = 64L << 20;
        Slow frames = new Slow();
        WebSocket ws = open("/portforward/22", frames);
        AtomicLong written = new AtomicLong();
        try (Socket conn = guest.accept()) {
            OutputStream out = conn.getOutputStream();
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                byte[] chunk = new byte[64 * 1024];
                try {
                    while (written.get() < total) {
                        out.write(chunk);
                        written.addAndGet(chunk.length);
                    }
                    out.flush();
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            Thread.sleep(2000);
            long stalled = written.get();
            assertTrue(stalled < total / 2, "the guest's writes stall while the client reads nothing: "
                    + (stalled >> 20) + " MiB written of " + (total >> 20));
            Thread.sleep(500);
            assertTrue(written.get() - stalled <= 1 << 20, "and stay stalled: " + (written.get() - stalled) + " more bytes");
            frames.drain(ws);
            writer.get(60, TimeUnit.SECONDS);
            long end = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (frames.count.get() < total && System.nanoTime() < end) {
                Thread.sleep(20);
            }
            assertEquals(total, frames.count.get(), "every byte arrives once the client reads");
        }
    }

    @Test
    void refusalsAreAnsweredBeforeTheUpgrade() throws Exception {
        ops.portForwardTarget = () -> {
            throw new NodeApiException(400, "port 22/tcp of VMI default/testvm is not forwarded: listed: 80/tcp");
        };
        RawHttps.Response notForwarded = RawHttps.upgrade(client, server.port(), VMI + "/portforward/22");
        assertEquals(400, notForwarded.status());
        assertEquals("port 22/tcp of VMI default/testvm is not forwarded: listed: 80/tcp", message(notForwarded));

        ops.portForwardTarget = () -> {
            throw new NodeApiException(409, "VMI default/testvm is not running");
        };
        assertEquals(409, RawHttps.upgrade(client, server.port(), VMI + "/portforward/22").status());

        int closedPort;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort();
        }
        ops.portForwardTarget = () -> new InetSocketAddress("127.0.0.1", closedPort);
        RawHttps.Response refused = RawHttps.upgrade(client, server.port(), VMI + "/portforward/22");
        assertEquals(500, refused.status());
        assertTrue(message(refused).startsWith("dialing VM: default/testvm port 22/tcp at 127.0.0.1:" + closedPort + ": "),
                message(refused));

        ops.calls.clear();
        RawHttps.Response udp = RawHttps.upgrade(client, server.port(), VMI + "/portforward/53/udp");
        assertEquals(400, udp.status());
        assertEquals("port-forward over udp is not supported by qvirt: tcp only", message(udp));
        RawHttps.Response sctp = RawHttps.upgrade(client, server.port(), VMI + "/portforward/53/sctp");
        assertEquals(400, sctp.status());
        assertEquals("invalid protocol \"sctp\": tcp or udp", message(sctp));
        for (String bad : new String[] {"0", "65536", "http", "-1"}) {
            RawHttps.Response r = RawHttps.upgrade(client, server.port(), VMI + "/portforward/" + bad);
            assertEquals(400, r.status(), bad);
            assertEquals("invalid port \"" + bad + "\": must be a number from 1 to 65535", message(r));
        }
        RawHttps.Response plain = RawHttps.get(client, server.port(), VMI + "/portforward/22");
        assertEquals(400, plain.status());
        assertEquals("port-forward is a WebSocket: GET it with Upgrade: websocket", message(plain));
        RawHttps.Response put = RawHttps.request(client, server.port(), "PUT", VMI + "/portforward/22", java.util.Map.of(), new byte[0]);
        assertEquals(405, put.status());
        assertEquals(java.util.List.of(), ops.calls, "none of these reached the VMI operations");
    }

    @Test
    void closingTheServerEndsForwardedConnections() throws Exception {
        NodeApiServerTest.Frames frames = new NodeApiServerTest.Frames();
        open("/portforward/22", frames);
        try (Socket conn = guest.accept()) {
            conn.setSoTimeout((int) WAIT.toMillis());
            server.close();
            assertEquals(-1, conn.getInputStream().read(), "the guest's connection closed with the server");
            assertTrue(frames.ended.get(WAIT.toSeconds(), TimeUnit.SECONDS), "the client's too");
        }
    }

    private WebSocket open(String sub, WebSocket.Listener listener) throws Exception {
        return http.newWebSocketBuilder().connectTimeout(WAIT).subprotocols("plain.kubevirt.io")
                .buildAsync(URI.create("wss://127.0.0.1:" + server.port() + VMI + sub), listener)
                .get(WAIT.toSeconds(), TimeUnit.SECONDS);
    }

    private static String message(RawHttps.Response r) throws IOException {
        return JSON.readTree(r.body()).path("message").asText();
    }

    /** Takes one message, then nothing until {@link #drain}; counts bytes. */
    static final class Slow implements WebSocket.Listener {
        final AtomicLong count = new AtomicLong();

        @Override
        public void onOpen(WebSocket ws) {
            ws.request(1);
        }

        @Override
        public CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
            count.addAndGet(data.remaining());
            return null;
        }

        void drain(WebSocket ws) {
            ws.request(Long.MAX_VALUE);
        }
    }
}
