package io.qvirt.qmp;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A fake QMP server for what real QEMU cannot be made to do (hang after the greeting, send garbage,
 * close mid-message, reply with a wrong id). One connection; the script runs on its own thread.
 */
final class FakeQmpServer implements AutoCloseable {
    static final String GREETING_OOB = "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, \"major\": 7},"
            + " \"package\": \"fake\"}, \"capabilities\": [\"oob\"]}}";
    private static final ObjectMapper MAPPER = new ObjectMapper();

    interface Script {
        void run(Peer peer) throws Exception;
    }

    /** The server's side of the connection. */
    static final class Peer {
        private final SocketChannel ch;
        private final ByteBuffer in = ByteBuffer.allocate(1 << 16);

        Peer(SocketChannel ch) {
            this.ch = ch;
            in.flip();
        }

        void send(String json) throws IOException {
            sendRaw((json + "\r\n").getBytes(StandardCharsets.UTF_8));
        }

        void sendRaw(byte[] b) throws IOException {
            ByteBuffer out = ByteBuffer.wrap(b);
            while (out.hasRemaining()) {
                ch.write(out);
            }
        }

        /** Reads one newline-terminated command (the client ends each with '\n'). */
        JsonNode read() throws IOException {
            ByteArrayOutputStream line = new ByteArrayOutputStream();
            while (true) {
                while (in.hasRemaining()) {
                    byte b = in.get();
                    if (b == '\n') {
                        return MAPPER.readTree(line.toByteArray());
                    }
                    line.write(b);
                }
                in.clear();
                int n = ch.read(in);
                in.flip();
                if (n < 0) {
                    throw new IOException("client closed");
                }
            }
        }

        /** Whether another byte arrives within {@code wait} (without consuming it beyond the buffer). */
        boolean moreWithin(Duration wait) throws IOException {
            if (in.hasRemaining()) {
                return true;
            }
            ch.configureBlocking(false);
            boolean ready;
            try (Selector sel = Selector.open()) {
                ch.register(sel, SelectionKey.OP_READ);
                ready = sel.select(wait.toMillis()) > 0;
            }
            // Closing the selector deregistered the channel, so it may block again.
            ch.configureBlocking(true);
            return ready;
        }

        /** Greets, answers qmp_capabilities, returns the capabilities command for inspection. */
        JsonNode handshake(String greeting) throws IOException {
            send(greeting);
            JsonNode caps = read();
            reply(caps, "{}");
            return caps;
        }

        void reply(JsonNode cmd, String value) throws IOException {
            send("{\"return\": " + value + ", \"id\": " + cmd.get("id") + "}");
        }

        void close() throws IOException {
            ch.close();
        }
    }

    private final Path dir;
    private final Path socket;
    private final ServerSocketChannel server;
    private final Thread thread;
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private volatile SocketChannel conn;

    FakeQmpServer(Script script) throws IOException {
        dir = Files.createTempDirectory("fake-qmp");
        socket = dir.resolve("qmp.sock");
        server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(socket));
        thread = new Thread(() -> {
            try {
                conn = server.accept();
                script.run(new Peer(conn));
            } catch (Throwable t) {
                failure.set(t);
            }
        }, "fake-qmp-server");
        thread.setDaemon(true);
        thread.start();
    }

    Path socket() {
        return socket;
    }

    /** The script's own failure, if any (an assertion inside it, an unexpected close). */
    Throwable failure() {
        return failure.get();
    }

    @Override
    public void close() throws Exception {
        server.close();
        SocketChannel c = conn;
        if (c != null) {
            c.close();
        }
        thread.interrupt();
        thread.join(5000);
        Files.deleteIfExists(socket);
        Files.deleteIfExists(dir);
    }
}
