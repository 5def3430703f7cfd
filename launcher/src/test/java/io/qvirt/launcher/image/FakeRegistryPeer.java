package io.qvirt.launcher.image;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.zip.GZIPOutputStream;

/**
 * A FAKE registry peer, for what a real registry cannot be made to do: serve bytes that do not match their
 * digest, garbage, stall mid-blob, serve a manifest over 4 MiB, or run a Bearer token service (Debian's
 * docker-registry needs a separate token server for that, which is not installed; {@code HostileRegistryIT}
 * puts a {@link FakeTokenServer} beside the real registry). Everything else is tested against the real
 * registry in {@code ContainerDiskIT} and {@code HostileRegistryIT}.
 */
final class FakeRegistryPeer implements AutoCloseable {
    /** What to answer for a path: status, headers, body; or null to hang without answering the body. */
    record Reply(int status, Map<String, String> headers, byte[] body) {
    }

    private final HttpServer server;
    final Map<String, Reply> routes = new ConcurrentHashMap<>();
    final List<String> requests = new CopyOnWriteArrayList<>();
    final List<String> authorizations = new CopyOnWriteArrayList<>();
    /** When set, every request without exactly this Authorization is answered 401 with {@link #challenge}. */
    volatile String requireAuthorization;
    volatile String challenge = "Basic realm=\"fake\"";

    FakeRegistryPeer() throws IOException {
        this(null);
    }

    /** Over HTTPS with {@code tls}'s certificate when given, else plain HTTP. */
    FakeRegistryPeer(javax.net.ssl.SSLContext tls) throws IOException {
        if (tls != null) {
            com.sun.net.httpserver.HttpsServer https = com.sun.net.httpserver.HttpsServer.create(
                    new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
            https.setHttpsConfigurator(new com.sun.net.httpserver.HttpsConfigurator(tls));
            server = https;
        } else {
            server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        }
        server.createContext("/", this::handle);
        server.setExecutor(java.util.concurrent.Executors.newCachedThreadPool());
        server.start();
    }

    String hostPort() {
        return "127.0.0.1:" + server.getAddress().getPort();
    }

    private void handle(HttpExchange ex) throws IOException {
        String key = ex.getRequestURI().getPath();
        requests.add(ex.getRequestURI().toString());
        authorizations.add(String.valueOf(ex.getRequestHeaders().getFirst("Authorization")));
        Reply r = routes.get(key);
        if (requireAuthorization != null && !requireAuthorization.equals(ex.getRequestHeaders().getFirst("Authorization"))) {
            ex.getResponseHeaders().add("WWW-Authenticate", challenge);
            ex.sendResponseHeaders(401, -1);
            ex.close();
            return;
        }
        if (r == null) {
            byte[] b = "{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\",\"message\":\"manifest unknown\"}]}".getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(404, b.length);
            ex.getResponseBody().write(b);
            ex.close();
            return;
        }
        r.headers().forEach((k, v) -> ex.getResponseHeaders().add(k, v));
        if (r.body() == null) {
            // Headers, then silence: a stalled download.
            ex.sendResponseHeaders(r.status(), 1 << 20);
            ex.getResponseBody().flush();
            try {
                Thread.sleep(60_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            ex.close();
            return;
        }
        ex.sendResponseHeaders(r.status(), r.body().length == 0 ? -1 : r.body().length);
        try (OutputStream o = ex.getResponseBody()) {
            o.write(r.body());
        }
    }

    /** Serves a manifest (by tag and by its digest) over the given layers; returns the manifest's digest. */
    String image(String repo, String tag, byte[]... layers) {
        StringBuilder ls = new StringBuilder();
        for (byte[] l : layers) {
            String d = digest(l);
            blob(repo, d, l);
            ls.append(ls.length() == 0 ? "" : ",").append("{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\","
                    + "\"digest\":\"").append(d).append("\",\"size\":").append(l.length).append('}');
        }
        byte[] config = "{}".getBytes(StandardCharsets.UTF_8);
        blob(repo, digest(config), config);
        byte[] m = ("{\"schemaVersion\":2,\"mediaType\":\"" + Manifest.OCI_MANIFEST + "\",\"config\":{\"mediaType\":"
                + "\"application/vnd.oci.image.config.v1+json\",\"digest\":\"" + digest(config) + "\",\"size\":2},"
                + "\"layers\":[" + ls + "]}").getBytes(StandardCharsets.UTF_8);
        Reply r = new Reply(200, Map.of("Content-Type", Manifest.OCI_MANIFEST), m);
        routes.put("/v2/" + repo + "/manifests/" + tag, r);
        routes.put("/v2/" + repo + "/manifests/" + digest(m), r);
        return digest(m);
    }

    void blob(String repo, String digest, byte[] content) {
        routes.put("/v2/" + repo + "/blobs/" + digest, new Reply(200, Map.of(), content));
    }

    static String digest(byte[] b) {
        try {
            return "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** A gzip'd ustar layer of regular files (name -> content); a null content writes an empty whiteout-style file. */
    static byte[] layer(Map<String, byte[]> files) {
        try {
            ByteArrayOutputStream bo = new ByteArrayOutputStream();
            try (GZIPOutputStream gz = new GZIPOutputStream(bo)) {
                for (Map.Entry<String, byte[]> f : files.entrySet()) {
                    byte[] c = f.getValue() == null ? new byte[0] : f.getValue();
                    gz.write(header(f.getKey(), c.length));
                    gz.write(c);
                    gz.write(new byte[(512 - c.length % 512) % 512]);
                }
                gz.write(new byte[1024]);
            }
            return bo.toByteArray();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** One tar entry of any type: '0' file, '1' hard link, '2' symbolic link, '5' directory. */
    record TarEntry(String name, char type, String link, byte[] content) {
        static TarEntry file(String name, byte[] content) {
            return new TarEntry(name, '0', "", content);
        }

        static TarEntry symlink(String name, String target) {
            return new TarEntry(name, '2', target, new byte[0]);
        }

        static TarEntry hardlink(String name, String target) {
            return new TarEntry(name, '1', target, new byte[0]);
        }
    }

    /** A gzip'd tar layer of the given entries, in order. */
    static byte[] layerOf(List<TarEntry> entries) {
        try {
            ByteArrayOutputStream bo = new ByteArrayOutputStream();
            try (GZIPOutputStream gz = new GZIPOutputStream(bo)) {
                for (TarEntry e : entries) {
                    gz.write(header(e.name(), e.content().length, e.type(), e.link()));
                    gz.write(e.content());
                    gz.write(new byte[(512 - e.content().length % 512) % 512]);
                }
                gz.write(new byte[1024]);
            }
            return bo.toByteArray();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A gzip'd layer holding one file of {@code size} zero bytes, written without holding it in memory. */
    static byte[] zeroLayer(String name, long size) {
        try {
            ByteArrayOutputStream bo = new ByteArrayOutputStream();
            try (GZIPOutputStream gz = new GZIPOutputStream(bo, 1 << 16)) {
                gz.write(header(name, size, '0', ""));
                byte[] zeros = new byte[1 << 20];
                for (long left = size; left > 0; left -= zeros.length) {
                    gz.write(zeros, 0, (int) Math.min(zeros.length, left));
                }
                gz.write(new byte[(int) ((512 - size % 512) % 512)]);
                gz.write(new byte[1024]);
            }
            return bo.toByteArray();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] header(String name, long size) {
        return header(name, size, '0', "");
    }

    private static byte[] header(String name, long size, char type, String link) {
        byte[] h = new byte[512];
        put(h, 0, name);
        put(h, 157, link);
        put(h, 100, "0000644");
        put(h, 108, "0000153");
        put(h, 116, "0000153");
        put(h, 124, String.format("%011o", size));
        put(h, 136, "00000000000");
        h[156] = (byte) type;
        put(h, 257, "ustar");
        h[263] = '0';
        h[264] = '0';
        for (int i = 148; i < 156; i++) {
            h[i] = ' ';
        }
        long sum = 0;
        for (byte b : h) {
            sum += b & 0xff;
        }
        put(h, 148, String.format("%06o", sum));
        h[154] = 0;
        return h;
    }

    private static void put(byte[] h, int off, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        System.arraycopy(b, 0, h, off, b.length);
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
