package io.qvirt.testdata;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The smallest blocking QMP peer: a JDK Unix socket, one line out, lines in until the reply. QEMU
 * writes one JSON object per line, which this relies on (qvirt's real client does not). Used by tests
 * that must not depend on qmp-client, and by the benchmark as the floor to compare the client with.
 */
public final class RawQmp implements AutoCloseable {
    private final SocketChannel ch;
    private final ByteBuffer in = ByteBuffer.allocate(1 << 20);
    private final List<String> events = new ArrayList<>();
    private final String greeting;

    private RawQmp(SocketChannel ch) throws IOException {
        this.ch = ch;
        in.flip();
        this.greeting = readLine();
    }

    /** Connects to a QMP server socket, retrying until {@code timeout} while it does not exist yet. */
    public static RawQmp connect(Path socket, Duration timeout) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
            try {
                ch.connect(UnixDomainSocketAddress.of(socket));
                return new RawQmp(ch);
            } catch (IOException e) {
                ch.close();
                if (System.nanoTime() > deadline) {
                    throw new IOException("cannot connect to QMP at " + socket + ": " + e.getMessage(), e);
                }
                Thread.sleep(10);
            }
        }
    }

    /** Wraps a connected channel (for example one end of a socket pair whose other end QEMU holds). */
    public static RawQmp over(SocketChannel connected) throws IOException {
        return new RawQmp(connected);
    }

    public String greeting() {
        return greeting;
    }

    /** Sends {@code qmp_capabilities} and returns its reply line. */
    public String negotiate() throws IOException {
        return execute("{\"execute\":\"qmp_capabilities\"}");
    }

    /**
     * Writes {@code json} and reads lines until one holds "return" or "error"; event lines in between
     * are kept for {@link #events()}.
     */
    public String execute(String json) throws IOException {
        ByteBuffer out = ByteBuffer.wrap((json + "\n").getBytes(StandardCharsets.UTF_8));
        while (out.hasRemaining()) {
            ch.write(out);
        }
        while (true) {
            String line = readLine();
            if (line.startsWith("{\"return\"") || line.startsWith("{\"error\"")) {
                return line;
            }
            events.add(line);
        }
    }

    /** Reads lines until an event named {@code name} arrives (or was already read), and returns it. */
    public String awaitEvent(String name) throws IOException {
        String needle = "\"event\": \"" + name + "\"";
        for (int i = 0; i < events.size(); i++) {
            if (events.get(i).contains(needle)) {
                return events.remove(i);
            }
        }
        while (true) {
            String line = readLine();
            if (line.contains(needle)) {
                return line;
            }
            events.add(line);
        }
    }

    public List<String> events() {
        return events;
    }

    private String readLine() throws IOException {
        StringBuilder sb = new StringBuilder();
        while (true) {
            while (in.hasRemaining()) {
                char c = (char) (in.get() & 0xff);
                if (c == '\n') {
                    return sb.toString().strip();
                }
                sb.append(c);
            }
            in.clear();
            int n = ch.read(in);
            in.flip();
            if (n < 0) {
                throw new IOException("QMP peer closed the connection");
            }
        }
    }

    @Override
    public void close() throws IOException {
        ch.close();
    }
}
