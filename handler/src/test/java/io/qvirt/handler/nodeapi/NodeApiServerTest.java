package io.qvirt.handler.nodeapi;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.qvirt.launcher.plan.RuntimePaths;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The node API over real TCP and real TLS (certificates made by openssl), with a FAKE
 * {@link VmiOperations} ({@link RecordingVmiOperations}) and, for the console, a FAKE QEMU console
 * socket ({@link FakeConsolePeer}) in a temporary VM directory. Clients: the JDK's HttpClient and
 * WebSocket, and hand-written HTTP where those cannot say what is tested.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class NodeApiServerTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final String VMI = "/v1/namespaces/default/virtualmachineinstances/testvm";
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path pki;
    private static TestCerts certs;
    private static SSLContext client;

    @TempDir
    Path tmp;
    private RecordingVmiOperations ops;
    private NodeApiServer server;
    private HttpClient http;

    @BeforeAll
    static void makeCertificates() throws Exception {
        certs = TestCerts.create(pki);
        client = certs.clientContext(certs.client);
    }

    @BeforeEach
    void startServer() throws IOException {
        ops = new RecordingVmiOperations();
        server = new NodeApiServer(new InetSocketAddress("127.0.0.1", 0), certs.serverFiles(), ops, Duration.ofMillis(100));
        server.start();
        http = HttpClient.newBuilder().sslContext(client).version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5)).build();
    }

    @AfterEach
    void stopServer() {
        server.close();
    }

    // ---- lifecycle calls -------------------------------------------------------------------------------

    @Test
    void pauseUnpauseResetReachTheOperationsAndAnswer200() throws Exception {
        for (String op : List.of("pause", "unpause", "reset")) {
            HttpResponse<String> r = put(VMI + "/" + op);
            assertEquals(200, r.statusCode(), op + ": " + r.body());
            assertEquals("", r.body(), op);
        }
        assertEquals(List.of("pause default/testvm", "unpause default/testvm", "reset default/testvm"), ops.calls);
    }

    @Test
    void aRefusalComesBackWithItsStatusAsAKubernetesStatus() throws Exception {
        ops.failure = new NodeApiException(409, "VMI is already paused");
        HttpResponse<String> r = put(VMI + "/pause");
        assertEquals(409, r.statusCode());
        assertEquals("application/json", r.headers().firstValue("content-type").orElse(""));
        JsonNode s = JSON.readTree(r.body());
        assertEquals("Status", s.path("kind").asText());
        assertEquals("v1", s.path("apiVersion").asText());
        assertEquals("Failure", s.path("status").asText());
        assertEquals("VMI is already paused", s.path("message").asText());
        assertEquals(409, s.path("code").asInt());
        assertEquals("Conflict", s.path("reason").asText());
        assertEquals(List.of("pause default/testvm"), ops.calls);
    }

    @Test
    void anUnexpectedFailureIs500WithOneLineAndNoStackTrace() throws Exception {
        ops.failure = new IllegalStateException("QMP socket closed\nsecond line");
        HttpResponse<String> r = put(VMI + "/reset");
        assertEquals(500, r.statusCode());
        JsonNode s = JSON.readTree(r.body());
        assertEquals("IllegalStateException: QMP socket closed", s.path("message").asText());
        assertEquals(500, s.path("code").asInt());
        assertFalse(r.body().contains("\tat ") || r.body().contains("at io.qvirt"), r.body());
    }

    @Test
    void healthzAnswersOk() throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri("/healthz")).timeout(WAIT).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode());
        assertEquals("ok", r.body());
    }

    @Test
    void unknownPathsAre404() throws Exception {
        for (String path : List.of("/", "/v1", VMI + "/vnc", VMI + "/pause/extra", VMI + "/", "/healthz/x",
                "/v1/namespaces/default/pods/testvm/pause")) {
            RawHttps.Response r = RawHttps.request(client, server.port(), "PUT", path, Map.of(), new byte[0]);
            assertEquals(404, r.status(), path);
            assertEquals("NotFound", JSON.readTree(r.body()).path("reason").asText(), path);
        }
        assertEquals(List.of(), ops.calls);
    }

    @Test
    void aKnownPathWithAnotherMethodIs405NamingTheAllowedOne() throws Exception {
        RawHttps.Response get = RawHttps.get(client, server.port(), VMI + "/pause");
        assertEquals(405, get.status());
        assertEquals("PUT", get.headers().get("allow"));
        RawHttps.Response put = RawHttps.request(client, server.port(), "PUT", VMI + "/console", Map.of(), new byte[0]);
        assertEquals(405, put.status());
        assertEquals("GET", put.headers().get("allow"));
        assertEquals(405, RawHttps.request(client, server.port(), "POST", "/healthz", Map.of(), new byte[0]).status());
        assertEquals(List.of(), ops.calls);
    }

    @Test
    void namesThatCannotBeKubernetesNamesAre400AndReachNothing() throws Exception {
        for (String path : List.of("/v1/namespaces/Default/virtualmachineinstances/testvm/pause",
                "/v1/namespaces/default/virtualmachineinstances/..%2F..%2Fetc/pause",
                "/v1/namespaces/default/virtualmachineinstances/a..b/pause")) {
            RawHttps.Response r = RawHttps.request(client, server.port(), "PUT", path, Map.of(), new byte[0]);
            assertEquals(400, r.status(), path);
        }
        assertEquals(List.of(), ops.calls);
    }

    @Test
    void aBodyOverTheCapIsRefusedWith413() throws Exception {
        RawHttps.Response r = RawHttps.request(client, server.port(), "PUT", VMI + "/pause", Map.of(),
                new byte[NodeApiServer.MAX_BODY + 1]);
        assertEquals(413, r.status());
        assertEquals(List.of(), ops.calls);
        // A small JSON options body, as virt-api forwards, is fine.
        byte[] options = "{\"dryRun\":[]}".getBytes(StandardCharsets.UTF_8);
        assertEquals(200, RawHttps.request(client, server.port(), "PUT", VMI + "/pause",
                Map.of("Content-Type", "application/json"), options).status());
    }

    @Test
    void pipelinedRequestsAreAnsweredInOrderEvenWhenTheFirstIsSlow() throws Exception {
        ops.delayMillis = 300;
        try (SSLSocket s = RawHttps.connect(client, server.port())) {
            String host = "Host: 127.0.0.1\r\n";
            s.getOutputStream().write(("PUT " + VMI + "/pause HTTP/1.1\r\n" + host + "Content-Length: 0\r\n\r\n"
                    + "GET /healthz HTTP/1.1\r\n" + host + "\r\n"
                    + "PUT " + VMI + "/nope HTTP/1.1\r\n" + host + "Content-Length: 0\r\n\r\n"
                    + "PUT " + VMI + "/unpause HTTP/1.1\r\n" + host + "Content-Length: 0\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            s.getOutputStream().flush();
            RawHttps.Response pause = RawHttps.read(s.getInputStream());
            RawHttps.Response health = RawHttps.read(s.getInputStream());
            RawHttps.Response nope = RawHttps.read(s.getInputStream());
            RawHttps.Response unpause = RawHttps.read(s.getInputStream());
            assertEquals(List.of(200, 200, 404, 200), List.of(pause.status(), health.status(), nope.status(), unpause.status()));
            assertEquals(List.of("", "ok"), List.of(pause.body(), health.body()));
        }
        assertEquals(List.of("pause default/testvm", "unpause default/testvm"), ops.calls);
    }

    @Test
    void aPortInUseFailsStartAndLeavesNothingRunning() throws Exception {
        NodeApiServer second = new NodeApiServer(new InetSocketAddress("127.0.0.1", server.port()), certs.serverFiles(), ops);
        IOException e = assertThrows(IOException.class, second::start);
        assertTrue(e.getMessage().contains("cannot listen on"), e.getMessage());
        second.close();
        // The first server still answers; only its threads remain.
        assertEquals(200, RawHttps.get(client, server.port(), "/healthz").status());
    }

    // ---- mutual TLS ------------------------------------------------------------------------------------

    @Test
    void aClientWithoutACertificateIsRefusedInTheHandshake() throws Exception {
        assertRefused(certs.clientContext(null));
        assertEquals(List.of(), ops.calls);
    }

    @Test
    void aClientCertificateFromAnotherCaIsRefused() throws Exception {
        assertRefused(certs.clientContext(certs.foreignClient));
        assertEquals(List.of(), ops.calls);
    }

    @Test
    void onlyTls12And13AreSpoken() throws Exception {
        // A TLS 1.1 client cannot be made here (the JDK and openssl refuse it on their own side), so ask
        // the server's own engine what it would accept, and see 1.2 work end to end.
        String[] enabled = new ReloadingSslContext(certs.serverFiles()).current()
                .newEngine(io.netty.buffer.ByteBufAllocator.DEFAULT).getEnabledProtocols();
        assertEquals(List.of("TLSv1.2", "TLSv1.3"), java.util.Arrays.stream(enabled).sorted().toList());
        try (SSLSocket s = (SSLSocket) client.getSocketFactory().createSocket()) {
            s.connect(new InetSocketAddress("127.0.0.1", server.port()), RawHttps.TIMEOUT_MS);
            s.setSoTimeout(RawHttps.TIMEOUT_MS);
            s.setEnabledProtocols(new String[] {"TLSv1.2"});
            s.startHandshake();
            assertEquals("TLSv1.2", s.getSession().getProtocol());
        }
    }

    /**
     * The TLS handshake fails: a TLS 1.2 client learns it in the handshake, a TLS 1.3 client (whose side
     * of the handshake ends before the server has checked its certificate) from the alert at its first read.
     */
    private void assertRefused(SSLContext ctx) throws IOException {
        try (SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket()) {
            s.connect(new InetSocketAddress("127.0.0.1", server.port()), RawHttps.TIMEOUT_MS);
            s.setSoTimeout(RawHttps.TIMEOUT_MS);
            IOException e = assertThrows(IOException.class, () -> {
                s.startHandshake();
                // Read without writing: a write could race the server's alert and fail as a broken pipe,
                // which would not tell a TLS refusal from a server merely hanging up.
                int b = s.getInputStream().read();
                fail("the server answered a client it should not trust (first byte " + b + ")");
            });
            assertTrue(e instanceof SSLException, "a TLS failure, not " + e);
        }
    }

    @Test
    void newConnectionsGetTheCertificateTheFilesHoldNow() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("tls"));
        Path cert = dir.resolve("tls.crt");
        Path key = dir.resolve("tls.key");
        Files.copy(certs.server.cert(), cert);
        Files.copy(certs.server.key(), key);
        try (NodeApiServer rotating = new NodeApiServer(new InetSocketAddress("127.0.0.1", 0),
                new TlsFiles(cert, key, certs.ca.cert()), ops, Duration.ofMillis(100))) {
            rotating.start();
            assertEquals("CN=node-api", RawHttps.get(client, rotating.port(), "/healthz").serverCert().getSubjectX500Principal().getName());

            TestCerts.Pair rotated = certs.issueServer("node-api-rotated", "rotated");
            // As a Secret update does: each file replaced whole (here one after the other, so for a moment
            // the key does not match the certificate: that moment must not break anything).
            Files.copy(rotated.key(), dir.resolve("key.new"));
            Files.copy(rotated.cert(), dir.resolve("crt.new"));
            Files.move(dir.resolve("key.new"), key, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            Files.move(dir.resolve("crt.new"), cert, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);

            assertTrue(until(() -> {
                try {
                    RawHttps.Response r = RawHttps.get(client, rotating.port(), "/healthz");
                    return r.status() == 200 && r.serverCert().getSubjectX500Principal().getName().equals("CN=node-api-rotated");
                } catch (IOException e) {
                    return false;
                }
            }), "a new connection gets the new certificate");
        }
    }

    @Test
    void aRotationCaughtHalfwayKeepsThePreviousContextUntilThePairMatches() throws Exception {
        Path cert = Files.copy(certs.server.cert(), tmp.resolve("tls.crt"));
        Path key = Files.copy(certs.server.key(), tmp.resolve("tls.key"));
        ReloadingSslContext tls = new ReloadingSslContext(new TlsFiles(cert, key, certs.ca.cert()));
        io.netty.handler.ssl.SslContext before = tls.current();
        assertFalse(tls.refresh(), "unchanged files: no rebuild");

        TestCerts.Pair rotated = certs.issueServer("node-api-halfway", "halfway");
        Files.copy(rotated.key(), key, StandardCopyOption.REPLACE_EXISTING);
        assertFalse(tls.refresh(), "the new key with the old certificate is refused");
        assertSame(before, tls.current());

        Files.copy(rotated.cert(), cert, StandardCopyOption.REPLACE_EXISTING);
        assertTrue(tls.refresh(), "the matching pair is taken");
        assertNotSame(before, tls.current());
    }

    @Test
    void keysAsKubeVirtAndCertManagerWriteThemWork() throws Exception {
        TestCerts.Pair sec1 = certs.sec1(certs.server, "server");
        assertTrue(Files.readString(sec1.key()).contains("BEGIN EC PRIVATE KEY"), "openssl wrote SEC 1");
        TestCerts.Pair rsa = certs.issueRsaServerPkcs1("node-api-rsa", "rsa-server");
        assertTrue(Files.readString(rsa.key()).contains("BEGIN RSA PRIVATE KEY"), "openssl wrote PKCS#1");
        for (TestCerts.Pair pair : List.of(sec1, rsa)) {
            try (NodeApiServer s = new NodeApiServer(new InetSocketAddress("127.0.0.1", 0),
                    new TlsFiles(pair.cert(), pair.key(), certs.ca.cert()), ops)) {
                s.start();
                RawHttps.Response r = RawHttps.get(client, s.port(), "/healthz");
                assertEquals(200, r.status(), pair.key().toString());
                assertEquals(TestCerts.certificates(pair.cert()).get(0), r.serverCert());
            }
        }
    }

    @Test
    void unusableTlsFilesFailTheConstructor() throws Exception {
        Path missing = tmp.resolve("missing.crt");
        assertThrows(IllegalArgumentException.class, () -> new NodeApiServer(new InetSocketAddress("127.0.0.1", 0),
                new TlsFiles(missing, certs.server.key(), certs.ca.cert()), ops));
        // A key that is not the certificate's.
        assertThrows(IllegalArgumentException.class, () -> new NodeApiServer(new InetSocketAddress("127.0.0.1", 0),
                new TlsFiles(certs.server.cert(), certs.client.key(), certs.ca.cert()), ops));
    }

    // ---- console ----------------------------------------------------------------------------------------

    @Test
    void consoleBytesPassBothWaysUntouched() throws Exception {
        RuntimePaths vm = vmDir("testvm");
        try (FakeConsolePeer qemu = new FakeConsolePeer(vm.consoleSocket())) {
            ops.consolePaths = () -> vm;
            Frames frames = new Frames();
            WebSocket ws = openConsole(frames);
            FakeConsolePeer.Connection conn = qemu.awaitConnection(WAIT);
            assertNotNull(conn, "the node API connected to console.sock");
            assertEquals("plain.kubevirt.io", ws.getSubprotocol());

            byte[] every = new byte[256];
            for (int i = 0; i < 256; i++) {
                every[i] = (byte) i; // 0x00 .. 0xff, NUL and 0xff included
            }
            ws.sendBinary(ByteBuffer.wrap(every), true).get(WAIT.toSeconds(), TimeUnit.SECONDS);
            assertArrayEquals(every, conn.awaitBytes(256, WAIT), "client -> console");

            byte[] guest = new byte[] {(byte) 0xff, 0x00, 'l', 'o', 'g', 'i', 'n', ':', ' ', (byte) 0xfe, 0x1b, 0x00};
            conn.send(guest);
            assertArrayEquals(guest, frames.awaitBytes(guest.length, WAIT), "console -> client");

            // A lot more than one frame or buffer each way, in order.
            byte[] bulk = new byte[512 * 1024];
            new Random(7).nextBytes(bulk);
            conn.send(bulk);
            byte[] got = frames.awaitBytes(guest.length + bulk.length, WAIT);
            assertArrayEquals(bulk, java.util.Arrays.copyOfRange(got, guest.length, got.length), "bulk console -> client");
            for (int off = 0; off < bulk.length; off += 32 * 1024) {
                ws.sendBinary(ByteBuffer.wrap(bulk, off, 32 * 1024), true).get(WAIT.toSeconds(), TimeUnit.SECONDS);
            }
            byte[] in = conn.awaitBytes(256 + bulk.length, WAIT);
            assertArrayEquals(bulk, java.util.Arrays.copyOfRange(in, 256, in.length), "bulk client -> console");
            assertFalse(frames.text, "no text frames");
            ws.sendClose(WebSocket.NORMAL_CLOSURE, "").get(WAIT.toSeconds(), TimeUnit.SECONDS);
        }
    }

    @Test
    void oneConsoleClientAtATimeTheSecondIsToldWhoHoldsIt() throws Exception {
        RuntimePaths vm = vmDir("testvm");
        try (FakeConsolePeer qemu = new FakeConsolePeer(vm.consoleSocket())) {
            ops.consolePaths = () -> vm;
            Frames first = new Frames();
            WebSocket ws = openConsole(first);
            FakeConsolePeer.Connection conn = qemu.awaitConnection(WAIT);
            assertNotNull(conn);

            RawHttps.Response second = RawHttps.upgrade(client, server.port(), VMI + "/console");
            assertEquals(409, second.status(), second.body());
            String message = JSON.readTree(second.body()).path("message").asText();
            String holder = Files.readString(vm.consoleLock()).strip();
            assertTrue(holder.startsWith("virt-handler node API for CN=virt-api from 127.0.0.1:"), holder);
            assertTrue(message.contains("in use by " + holder), message);
            assertNull(qemu.awaitConnection(Duration.ofMillis(300)), "the second client never reached console.sock");

            // Closing the WebSocket closes the socket connection and frees the console for the next client.
            ws.sendClose(WebSocket.NORMAL_CLOSURE, "bye").get(WAIT.toSeconds(), TimeUnit.SECONDS);
            assertTrue(conn.awaitHangUp(WAIT), "console.sock connection closed after the WebSocket");
            assertTrue(until(() -> server.consolesAttached() == 0), "lock released");

            Frames next = new Frames();
            WebSocket ws2 = openConsole(next);
            FakeConsolePeer.Connection conn2 = qemu.awaitConnection(WAIT);
            assertNotNull(conn2, "a new client attaches once the first has gone");
            conn2.send("hello".getBytes(StandardCharsets.US_ASCII));
            assertArrayEquals("hello".getBytes(StandardCharsets.US_ASCII), next.awaitBytes(5, WAIT));
            ws2.sendClose(WebSocket.NORMAL_CLOSURE, "").get(WAIT.toSeconds(), TimeUnit.SECONDS);
        }
    }

    @Test
    void theConsoleClosingClosesTheWebSocket() throws Exception {
        RuntimePaths vm = vmDir("testvm");
        try (FakeConsolePeer qemu = new FakeConsolePeer(vm.consoleSocket())) {
            ops.consolePaths = () -> vm;
            Frames frames = new Frames();
            openConsole(frames);
            FakeConsolePeer.Connection conn = qemu.awaitConnection(WAIT);
            assertNotNull(conn);
            conn.close(); // QEMU went away
            assertEquals(1001, frames.closed.get(WAIT.toSeconds(), TimeUnit.SECONDS));
            assertTrue(until(() -> server.consolesAttached() == 0), "lock released");
        }
    }

    @Test
    void aDroppedClientConnectionClosesTheConsoleAndFreesIt() throws Exception {
        RuntimePaths vm = vmDir("testvm");
        try (FakeConsolePeer qemu = new FakeConsolePeer(vm.consoleSocket())) {
            ops.consolePaths = () -> vm;
            WebSocket ws = openConsole(new Frames());
            FakeConsolePeer.Connection conn = qemu.awaitConnection(WAIT);
            assertNotNull(conn);
            ws.abort(); // no close handshake: the TCP connection just goes
            assertTrue(conn.awaitHangUp(WAIT), "console.sock connection closed");
            assertTrue(until(() -> server.consolesAttached() == 0), "lock released");
        }
    }

    @Test
    void anOversizedFrameEndsTheSessionAndNothingOfItReachesTheConsole() throws Exception {
        RuntimePaths vm = vmDir("testvm");
        try (FakeConsolePeer qemu = new FakeConsolePeer(vm.consoleSocket())) {
            ops.consolePaths = () -> vm;
            Frames frames = new Frames();
            WebSocket ws = openConsole(frames);
            FakeConsolePeer.Connection conn = qemu.awaitConnection(WAIT);
            assertNotNull(conn);
            ws.sendBinary(ByteBuffer.allocate(ConsoleBridge.MAX_FRAME + 1), true);
            assertTrue(conn.awaitHangUp(WAIT), "session ended");
            assertEquals(0, conn.awaitBytes(1, Duration.ofMillis(100)).length, "none of the frame was relayed");
            assertTrue(frames.ended.get(WAIT.toSeconds(), TimeUnit.SECONDS), "the client saw the session end");
        }
    }

    @Test
    void aConsoleIsRefusedPlainlyWhenTheVmiHasNoneOrTheOperationsSayNo() throws Exception {
        RuntimePaths vm = vmDir("testvm"); // no console.sock in it
        ops.consolePaths = () -> vm;
        RawHttps.Response none = RawHttps.upgrade(client, server.port(), VMI + "/console");
        assertEquals(404, none.status());
        assertTrue(JSON.readTree(none.body()).path("message").asText().contains("has no serial console"), none.body());

        ops.consolePaths = () -> {
            throw new NodeApiException(404, "VMI default/testvm is not on this node");
        };
        RawHttps.Response elsewhere = RawHttps.upgrade(client, server.port(), VMI + "/console");
        assertEquals(404, elsewhere.status());
        assertEquals("VMI default/testvm is not on this node", JSON.readTree(elsewhere.body()).path("message").asText());

        RawHttps.Response notUpgrade = RawHttps.get(client, server.port(), VMI + "/console");
        assertEquals(400, notUpgrade.status(), "a plain GET is not a console");
        assertEquals(0, server.consolesAttached());
    }

    @Test
    void theLaunchersConsoleClientAndTheNodeApiExcludeEachOther() throws Exception {
        RuntimePaths vm = vmDir("testvm");
        try (FakeConsolePeer qemu = new FakeConsolePeer(vm.consoleSocket())) {
            ops.consolePaths = () -> vm;
            // `launcher console` (its ConsoleClient, in another process) holds the console first.
            Process holder = holder(vm, "launcher console test-holder");
            try {
                assertEquals("ATTACHED", firstLine(holder));
                RawHttps.Response refused = RawHttps.upgrade(client, server.port(), VMI + "/console");
                assertEquals(409, refused.status(), refused.body());
                String message = JSON.readTree(refused.body()).path("message").asText();
                assertTrue(message.contains("in use by launcher console test-holder (pid " + holder.pid() + ")"), message);
            } finally {
                holder.getOutputStream().close();
                assertTrue(holder.waitFor(WAIT.toSeconds(), TimeUnit.SECONDS));
            }
            // Gone: the node API gets it, and now the launcher's client is the one refused, told who has it.
            WebSocket ws = openConsole(new Frames());
            Process late = holder(vm, "late launcher console");
            try {
                String line = firstLine(late);
                assertTrue(line.startsWith("REFUSED the console is in use by virt-handler node API for CN=virt-api"), line);
            } finally {
                late.getOutputStream().close();
                assertTrue(late.waitFor(WAIT.toSeconds(), TimeUnit.SECONDS));
            }
            ws.sendClose(WebSocket.NORMAL_CLOSURE, "").get(WAIT.toSeconds(), TimeUnit.SECONDS);
            assertTrue(until(() -> server.consolesAttached() == 0), "lock released");
            assertTrue(qemu.connections() >= 2);
        }
    }

    // ---- shutdown ---------------------------------------------------------------------------------------

    @Test
    void closeEndsSessionsReleasesLocksAndLeavesNoThread() throws Exception {
        RuntimePaths vm = vmDir("testvm");
        try (FakeConsolePeer qemu = new FakeConsolePeer(vm.consoleSocket())) {
            ops.consolePaths = () -> vm;
            assertEquals(200, put(VMI + "/pause").statusCode());
            Frames frames = new Frames();
            openConsole(frames);
            FakeConsolePeer.Connection conn = qemu.awaitConnection(WAIT);
            assertNotNull(conn);
            assertTrue(liveThreads() > 0, "the server's threads run while it serves");

            server.close();

            assertTrue(conn.awaitHangUp(WAIT), "console session ended");
            assertTrue(frames.ended.get(WAIT.toSeconds(), TimeUnit.SECONDS), "client disconnected");
            assertEquals(0, server.consolesAttached());
            assertTrue(until(() -> liveThreads() == 0), "no qvirt-node-api thread left");
            // And the lock is really free: the launcher's client can take it.
            Process p = holder(vm, "after close");
            try {
                assertEquals("ATTACHED", firstLine(p));
            } finally {
                p.getOutputStream().close();
                assertTrue(p.waitFor(WAIT.toSeconds(), TimeUnit.SECONDS));
            }
        }
    }

    // ---- helpers ----------------------------------------------------------------------------------------

    private HttpResponse<String> put(String path) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(uri(path)).timeout(WAIT).PUT(HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private URI uri(String path) {
        return URI.create("https://127.0.0.1:" + server.port() + path);
    }

    private WebSocket openConsole(Frames frames) throws InterruptedException, ExecutionException, java.util.concurrent.TimeoutException {
        return http.newWebSocketBuilder().connectTimeout(WAIT).subprotocols("plain.kubevirt.io")
                .buildAsync(URI.create("wss://127.0.0.1:" + server.port() + VMI + "/console"), frames)
                .get(WAIT.toSeconds(), TimeUnit.SECONDS);
    }

    private RuntimePaths vmDir(String name) throws IOException {
        return new RuntimePaths(Files.createDirectories(tmp.resolve("run/default/" + name)));
    }

    private static boolean until(BooleanSupplier condition) throws InterruptedException {
        long end = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > end) {
                return false;
            }
            Thread.sleep(20);
        }
        return true;
    }

    private static long liveThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.isAlive() && t.getName().startsWith("qvirt-node-api")).count();
    }

    /** A child JVM holding (or failing to take) the console with the launcher's own ConsoleClient. */
    private static Process holder(RuntimePaths vm, String who) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        return new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), ConsoleHolderMain.class.getName(),
                vm.dir().toString(), who).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    }

    private static String firstLine(Process p) throws Exception {
        CompletableFuture<String> line = CompletableFuture.supplyAsync(() -> {
            try {
                return new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8)).readLine();
            } catch (IOException e) {
                return "ERROR " + e;
            }
        });
        try {
            return line.get(30, TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            p.destroyForcibly();
            throw e;
        }
    }

    /** A WebSocket listener that keeps every binary byte received, and how the session ended. */
    static final class Frames implements WebSocket.Listener {
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        final CompletableFuture<Integer> closed = new CompletableFuture<>();
        /** Completes true when the session ends by close or error. */
        final CompletableFuture<Boolean> ended = new CompletableFuture<>();
        volatile boolean text;

        @Override
        public void onOpen(WebSocket ws) {
            ws.request(Long.MAX_VALUE);
        }

        @Override
        public CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
            synchronized (bytes) {
                while (data.hasRemaining()) {
                    bytes.write(data.get());
                }
                bytes.notifyAll();
            }
            return null;
        }

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            text = true;
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket ws, int statusCode, String reason) {
            closed.complete(statusCode);
            ended.complete(true);
            return null;
        }

        @Override
        public void onError(WebSocket ws, Throwable error) {
            ended.complete(true);
        }

        byte[] awaitBytes(int n, Duration timeout) throws InterruptedException {
            long end = System.nanoTime() + timeout.toNanos();
            synchronized (bytes) {
                while (bytes.size() < n) {
                    long left = TimeUnit.NANOSECONDS.toMillis(end - System.nanoTime());
                    if (left <= 0) {
                        break;
                    }
                    bytes.wait(left);
                }
                return bytes.toByteArray();
            }
        }
    }

}
