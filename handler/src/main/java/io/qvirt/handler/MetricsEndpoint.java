package io.qvirt.handler;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;
import java.util.concurrent.ExecutorService;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * {@code GET /metrics} (Prometheus text) and {@code GET /healthz} over plain HTTP, on the JDK's HTTP server:
 * two read-only pages do not need Netty's pipeline. One thread: a scrape reads QMP with short timeouts.
 */
final class MetricsEndpoint implements AutoCloseable {
    private final HttpServer server;
    private final ExecutorService executor = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "qvirt-metrics");
        t.setDaemon(true);
        return t;
    });

    MetricsEndpoint(InetSocketAddress address, Supplier<String> metrics, BooleanSupplier healthy) throws IOException {
        server = HttpServer.create(address, 16);
        server.setExecutor(executor);
        server.createContext("/metrics", ex -> answer(ex, 200, "text/plain; version=0.0.4", metrics.get()));
        server.createContext("/healthz", ex -> {
            boolean ok = healthy.getAsBoolean();
            answer(ex, ok ? 200 : 503, "text/plain", ok ? "ok\n" : "informers not synced\n");
        });
    }

    private static void answer(HttpExchange ex, int code, String type, String body) throws IOException {
        try (ex) {
            if (!"GET".equals(ex.getRequestMethod())) {
                ex.sendResponseHeaders(405, -1);
                return;
            }
            byte[] b = body.getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().set("Content-Type", type);
            ex.sendResponseHeaders(code, b.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(b);
            }
        }
    }

    void start() {
        server.start();
    }

    /** The bound port (useful with port 0). */
    int port() {
        return server.getAddress().getPort();
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
