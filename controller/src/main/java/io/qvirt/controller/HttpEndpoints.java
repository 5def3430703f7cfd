package io.qvirt.controller;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;
import java.util.function.BooleanSupplier;

/**
 * {@code /metrics} (Prometheus text format) and {@code /healthz} (200 while the informers are synced and
 * watching, else 503) on the JDK's HTTP server, one small thread. Plain HTTP: it serves nothing secret.
 */
public final class HttpEndpoints implements AutoCloseable {
    private final HttpServer server;

    /**
     * Binds and starts serving.
     *
     * @param port    TCP port on all addresses; 0 picks a free one ({@link #port()})
     * @param healthy what {@code /healthz} reports
     * @throws IOException if the port cannot be bound
     */
    public HttpEndpoints(int port, Metrics metrics, BooleanSupplier healthy) throws IOException {
        server = HttpServer.create(new InetSocketAddress(port), 16);
        server.createContext("/metrics", ex -> respond(ex, 200, "text/plain; version=0.0.4; charset=utf-8",
                metrics.render()));
        server.createContext("/healthz", ex -> {
            boolean ok = healthy.getAsBoolean();
            respond(ex, ok ? 200 : 503, "text/plain; charset=utf-8", ok ? "ok\n" : "informers not synced\n");
        });
        server.setExecutor(Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "qvirt-http");
            t.setDaemon(true);
            return t;
        }));
        server.start();
    }

    public int port() {
        return server.getAddress().getPort();
    }

    private static void respond(HttpExchange ex, int code, String type, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", type);
        if ("HEAD".equals(ex.getRequestMethod())) {
            ex.sendResponseHeaders(code, -1);
            ex.close();
            return;
        }
        ex.sendResponseHeaders(code, bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
