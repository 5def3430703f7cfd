package io.qvirt.virtctl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.Response;
import io.fabric8.mockwebserver.http.WebSocket;
import io.fabric8.mockwebserver.http.WebSocketListener;
import java.io.ByteArrayOutputStream;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code console} against a stand-in for virt-api's console WebSocket on the mock API server: an echoing serial line.
 * stdin is streamed (no terminal), {@code Ctrl-]} leaves, refusals are retried until {@code --timeout}.
 */
class ConsoleTest {
    static final String PATH = "/apis/subresources.kubevirt.io/v1/namespaces/ns1/virtualmachineinstances/testvm/console";

    @TempDir
    Path tmp;
    MockApiServer api;
    Map<String, String> env;
    final List<String> received = new CopyOnWriteArrayList<>();
    final List<String> subprotocols = new CopyOnWriteArrayList<>();

    @BeforeEach
    void up() throws Exception {
        api = new MockApiServer();
        env = Map.of("HOME", tmp.toString(), "KUBECONFIG", api.kubeconfig(tmp).toString());
    }

    @AfterEach
    void down() {
        api.close();
    }

    /** A serial line that greets, then echoes every message as {@code echo:<bytes>}. */
    MockResponse echoConsole() {
        return new MockResponse().withWebSocketUpgrade(new WebSocketListener() {
            @Override
            public void onOpen(WebSocket ws, Response response) {
                subprotocols.add(String.valueOf(ws.request().getHeader("Sec-WebSocket-Protocol")));
                ws.send("QVIRT-GUEST-BOOTED\r\n".getBytes(StandardCharsets.UTF_8));
            }

            @Override
            public void onMessage(WebSocket ws, byte[] bytes) {
                String s = new String(bytes, StandardCharsets.UTF_8);
                received.add(s);
                ws.send(("echo:" + s).getBytes(StandardCharsets.UTF_8));
            }

            @Override
            public void onMessage(WebSocket ws, String text) {
                onMessage(ws, text.getBytes(StandardCharsets.UTF_8));
            }
        });
    }

    record Session(CompletableFuture<Integer> code, ByteArrayOutputStream out, StringWriter err, PipedOutputStream stdin) {
        String outText() {
            synchronized (out) {
                return out.toString(StandardCharsets.UTF_8);
            }
        }
    }

    Session console(String... args) throws Exception {
        PipedOutputStream stdin = new PipedOutputStream();
        PipedInputStream in = new PipedInputStream(stdin);
        ByteArrayOutputStream raw = new ByteArrayOutputStream();
        StringWriter err = new StringWriter();
        PrintWriter errWriter = new PrintWriter(err, true);
        Io io = new Io(in, raw, new PrintWriter(new WriterSink(new PrintWriter(new StringWriter())), true), errWriter, env, false);
        CompletableFuture<Integer> code = CompletableFuture.supplyAsync(() -> VirtctlCommand.create(io).execute(args));
        return new Session(code, raw, err, stdin);
    }

    static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(20);
        }
    }

    @Test
    void waitsForTheVmiThenStreamsUntilCtrlBracket() throws Exception {
        AtomicInteger attempts = new AtomicInteger();
        // virt-api checks the VMI before upgrading: the first two upgrades are refused with a Status
        api.virtApi = r -> attempts.incrementAndGet() > 2 ? echoConsole()
                : MockApiServer.status(404, "NotFound", "virtualmachineinstance.kubevirt.io \"testvm\" not found");
        Session s = console("console", "testvm");
        await("the guest's greeting", () -> s.outText().contains("QVIRT-GUEST-BOOTED\r\n"));
        s.stdin().write("uname\n".getBytes(StandardCharsets.UTF_8));
        s.stdin().flush();
        await("the echo", () -> s.outText().contains("echo:uname\n"));
        s.stdin().write(("date\n" + (char) 29 + "after\n").getBytes(StandardCharsets.UTF_8));
        s.stdin().flush();
        assertEquals(0, s.code().get(15, TimeUnit.SECONDS), s.err().toString());
        // The CLI may exit before the echo server has taken in its last frame: wait for "date", then give
        // anything sent after Ctrl-] the same time to arrive (it must not).
        await("date reached the console", () -> received.size() >= 2);
        Thread.sleep(300);
        assertEquals(List.of("uname\n", "date\n"), List.copyOf(received), "nothing after Ctrl-] is sent");
        assertEquals(List.of("plain.kubevirt.io"), subprotocols);
        assertTrue(s.err().toString().contains("Waiting for VMI testvm (virtualmachineinstance.kubevirt.io \"testvm\" not found)\n"), s.err().toString());
        assertTrue(s.err().toString().contains("Successfully connected to testvm console. Press Ctrl+] or Ctrl+5 to exit console.\n"));
        List<MockApiServer.Request> requests = api.requests();
        assertEquals(3, requests.size(), requests::toString);
        for (MockApiServer.Request r : requests) {
            assertEquals("GET", r.method());
            assertEquals(PATH, r.path());
        }
    }

    @Test
    void stdinEndLeaves() throws Exception {
        api.virtApi = r -> echoConsole();
        Session s = console("console", "testvm");
        await("the guest's greeting", () -> s.outText().contains("QVIRT-GUEST-BOOTED"));
        s.stdin().close();
        assertEquals(0, s.code().get(15, TimeUnit.SECONDS), s.err().toString());
    }

    @Test
    void givesUpAfterTheTimeout() throws Exception {
        api.virtApi = r -> MockApiServer.status(409, "Conflict", "VMI testvm is not running");
        Session s = console("console", "testvm", "--timeout", "0");
        assertEquals(1, s.code().get(15, TimeUnit.SECONDS));
        assertEquals("error: Can't connect to websocket (409): VMI testvm is not running\n", s.err().toString());

        api.virtApi = r -> MockApiServer.status(403, "Forbidden", "virtualmachineinstances/console is forbidden");
        s = console("console", "testvm");
        assertEquals(1, s.code().get(15, TimeUnit.SECONDS), "forbidden is not retried");
        assertEquals("error: Can't connect to websocket (403): virtualmachineinstances/console is forbidden\n", s.err().toString());
    }

    @Test
    void serverSideCloseIsReported() throws Exception {
        api.virtApi = r -> new MockResponse().withWebSocketUpgrade(new WebSocketListener() {
            @Override
            public void onOpen(WebSocket ws, Response response) {
                ws.send("bye\r\n".getBytes(StandardCharsets.UTF_8));
                ws.close(1011, "QEMU is gone");
            }
        });
        Session s = console("console", "testvm");
        assertEquals(1, s.code().get(15, TimeUnit.SECONDS));
        assertTrue(s.err().toString().contains("error: You were disconnected from the console (code 1011: QEMU is gone)"), s.err().toString());
        assertFalse(s.err().toString().contains("\tat "));
    }
}
