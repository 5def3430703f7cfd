package io.qvirt.launcher.image;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A FAKE content host standing in for the CDN or object store a registry redirects blob downloads to
 * (distribution's redirect middleware sends clients to another host; Debian has no such store): it serves
 * the files of a REAL registry's storage directory by path, read only, and records every request and its
 * Authorization header.
 */
final class FakeBlobCdn implements AutoCloseable {
    private final HttpServer server;
    private final Path root;
    final List<String> requests = new CopyOnWriteArrayList<>();
    /** Every request's Authorization header, "null" when it had none. */
    final List<String> authorizations = new CopyOnWriteArrayList<>();

    FakeBlobCdn(InetAddress address, Path root) throws IOException {
        this.root = root.toAbsolutePath().normalize();
        server = HttpServer.create(new InetSocketAddress(address, 0), 0);
        server.createContext("/", this::handle);
        server.setExecutor(java.util.concurrent.Executors.newCachedThreadPool());
        server.start();
    }

    /** {@code http://ADDRESS:PORT}, the base URL to redirect to. */
    String baseUrl() {
        return "http://" + server.getAddress().getAddress().getHostAddress() + ":" + server.getAddress().getPort();
    }

    private void handle(HttpExchange ex) throws IOException {
        requests.add(ex.getRequestMethod() + " " + ex.getRequestURI().getPath());
        authorizations.add(String.valueOf(ex.getRequestHeaders().getFirst("Authorization")));
        Path f = root.resolve(ex.getRequestURI().getPath().replaceFirst("^/+", "")).normalize();
        if (!f.startsWith(root) || !Files.isRegularFile(f)) {
            ex.sendResponseHeaders(404, -1);
            ex.close();
            return;
        }
        long size = Files.size(f);
        if (ex.getRequestMethod().equals("HEAD")) {
            ex.getResponseHeaders().add("Content-Length", Long.toString(size));
            ex.sendResponseHeaders(200, -1);
            ex.close();
            return;
        }
        ex.sendResponseHeaders(200, size);
        try (OutputStream o = ex.getResponseBody()) {
            Files.copy(f, o);
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
