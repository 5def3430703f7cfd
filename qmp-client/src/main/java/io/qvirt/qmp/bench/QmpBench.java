package io.qvirt.qmp.bench;

import io.qvirt.qmp.QmpClient;
import io.qvirt.qmp.QmpOptions;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * {@code query-status} round trips against one running QEMU: this client versus a minimal blocking JDK
 * Unix-socket loop writing the same bytes (the floor), each with 1 and with 8 commands in flight.
 * Reports p50/p99 latency and commands per second. Not a test: it prints figures.
 *
 * <p>The QMP socket must be a server monitor ({@code -chardev socket,...,server=on}) that nobody else
 * holds: the runs connect one after another.
 */
public final class QmpBench {
    private QmpBench() {
    }

    /** One row of the table. Latency in microseconds. */
    public record Stats(String name, int inFlight, int n, double p50Micros, double p99Micros, double perSecond) {
    }

    /** All rows of one run. */
    public record Result(List<Stats> rows) {
        public String table() {
            StringBuilder sb = new StringBuilder();
            sb.append(String.format(Locale.ROOT, "%-26s %9s %8s %10s %10s %12s%n", "path", "in-flight", "n",
                    "p50 (us)", "p99 (us)", "cmds/s"));
            for (Stats s : rows) {
                sb.append(String.format(Locale.ROOT, "%-26s %9d %8d %10.1f %10.1f %12.0f%n", s.name(), s.inFlight(),
                        s.n(), s.p50Micros(), s.p99Micros(), s.perSecond()));
            }
            return sb.toString();
        }
    }

    /**
     * Runs the four measurements with {@code n} commands each (after {@code n/5} warm-up commands).
     *
     * @param qmpSocketOfRunningQemu a QMP server socket of a running QEMU, free for us to connect to
     * @param n                      commands per measurement, at least 100
     */
    public static Result run(Path qmpSocketOfRunningQemu, int n) throws Exception {
        if (n < 100) {
            throw new IllegalArgumentException("n must be >= 100");
        }
        List<Stats> rows = new ArrayList<>();
        for (int depth : new int[] {1, 8}) {
            try (RawLoop raw = RawLoop.connect(qmpSocketOfRunningQemu)) {
                raw.measure(Math.max(20, n / 5), depth);
                rows.add(raw.measure(n, depth));
            }
            QmpClient c = QmpClient.connect(qmpSocketOfRunningQemu, QmpOptions.defaults()).get(10, TimeUnit.SECONDS);
            try (c) {
                measureClient(c, Math.max(20, n / 5), depth);
                rows.add(measureClient(c, n, depth));
            }
        }
        rows.sort((a, b) -> a.inFlight() != b.inFlight() ? Integer.compare(a.inFlight(), b.inFlight())
                : a.name().compareTo(b.name()));
        return new Result(rows);
    }

    private static Stats measureClient(QmpClient c, int n, int depth) throws Exception {
        long[] lat = new long[n];
        ArrayDeque<CompletableFuture<JsonNode>> window = new ArrayDeque<>();
        ArrayDeque<Long> sentAt = new ArrayDeque<>();
        int sent = 0;
        int done = 0;
        long t0 = System.nanoTime();
        while (done < n) {
            while (sent < n && window.size() < depth) {
                sentAt.add(System.nanoTime());
                window.add(c.execute("query-status"));
                sent++;
            }
            // Replies come in order, so the oldest completes first.
            JsonNode r = window.poll().get(10, TimeUnit.SECONDS);
            lat[done++] = System.nanoTime() - sentAt.poll();
            if (!r.has("status")) {
                throw new IllegalStateException("unexpected reply " + r);
            }
        }
        return stats("qvirt qmp-client (Netty)", depth, lat, System.nanoTime() - t0);
    }

    private static Stats stats(String name, int depth, long[] lat, long elapsedNanos) {
        long[] s = lat.clone();
        Arrays.sort(s);
        double p50 = s[(int) (s.length * 0.50)] / 1000.0;
        double p99 = s[Math.min(s.length - 1, (int) (s.length * 0.99))] / 1000.0;
        return new Stats(name, depth, lat.length, p50, p99, lat.length / (elapsedNanos / 1e9));
    }

    /** The floor: blocking JDK socket, pre-encoded bytes, newline-delimited replies. */
    private static final class RawLoop implements AutoCloseable {
        private final SocketChannel ch;
        private final ByteBuffer in = ByteBuffer.allocateDirect(1 << 16);
        private long id = 1000;

        private RawLoop(SocketChannel ch) {
            this.ch = ch;
            in.flip();
        }

        static RawLoop connect(Path socket) throws IOException {
            SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
            ch.connect(UnixDomainSocketAddress.of(socket));
            RawLoop r = new RawLoop(ch);
            r.readLine();
            r.write("{\"execute\":\"qmp_capabilities\"}\n");
            r.readReply();
            return r;
        }

        private void write(String s) throws IOException {
            ByteBuffer b = ByteBuffer.wrap(s.getBytes(StandardCharsets.UTF_8));
            while (b.hasRemaining()) {
                ch.write(b);
            }
        }

        private String readLine() throws IOException {
            StringBuilder sb = new StringBuilder(128);
            while (true) {
                while (in.hasRemaining()) {
                    char c = (char) (in.get() & 0xff);
                    if (c == '\n') {
                        return sb.toString();
                    }
                    sb.append(c);
                }
                in.clear();
                int n = ch.read(in);
                in.flip();
                if (n < 0) {
                    throw new IOException("QMP peer closed");
                }
            }
        }

        private String readReply() throws IOException {
            while (true) {
                String line = readLine();
                if (line.startsWith("{\"return\"") || line.startsWith("{\"error\"")) {
                    return line;
                }
            }
        }

        Stats measure(int n, int depth) throws IOException {
            long[] lat = new long[n];
            ArrayDeque<Long> sentAt = new ArrayDeque<>();
            int sent = 0;
            int done = 0;
            long t0 = System.nanoTime();
            while (done < n) {
                while (sent < n && sentAt.size() < depth) {
                    sentAt.add(System.nanoTime());
                    write("{\"execute\":\"query-status\",\"id\":" + (id++) + "}\n");
                    sent++;
                }
                String r = readReply();
                lat[done++] = System.nanoTime() - sentAt.poll();
                if (!r.contains("\"status\"")) {
                    throw new IOException("unexpected reply " + r);
                }
            }
            return stats("raw JDK blocking socket", depth, lat, System.nanoTime() - t0);
        }

        @Override
        public void close() throws IOException {
            ch.close();
        }
    }

    /**
     * Starts {@code qemu-system-x86_64 -S -nodefaults -accel tcg} with a QMP socket in a temp dir, runs
     * the benchmark ({@code args[0]} commands per row, default 20000), prints the table, kills QEMU.
     */
    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 20_000;
        Path dir = Files.createTempDirectory("qmp-bench");
        Path sock = dir.resolve("qmp.sock");
        Process qemu = new ProcessBuilder("qemu-system-x86_64", "-S", "-nodefaults", "-no-user-config",
                "-display", "none", "-accel", "tcg", "-m", "128",
                "-chardev", "socket,id=qmp,path=" + sock + ",server=on,wait=off",
                "-mon", "chardev=qmp,mode=control")
                .redirectErrorStream(true).redirectOutput(dir.resolve("qemu.log").toFile()).start();
        try {
            long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
            while (!Files.exists(sock)) {
                if (!qemu.isAlive() || System.nanoTime() > deadline) {
                    throw new IllegalStateException("QEMU did not start: " + Files.readString(dir.resolve("qemu.log")));
                }
                Thread.sleep(10);
            }
            Result r = run(sock, n);
            System.out.println("query-status round trips, one QEMU (" + Runtime.getRuntime().availableProcessors()
                    + " CPUs), n=" + n + " per row");
            System.out.print(r.table());
        } finally {
            qemu.destroyForcibly();
            qemu.waitFor();
            Files.deleteIfExists(sock);
            Files.deleteIfExists(dir.resolve("qemu.log"));
            Files.deleteIfExists(dir);
        }
    }
}
