package io.qvirt.handler.nodeapi;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

/**
 * One HTTP/1.1 exchange over a fresh TLS connection, written and parsed by hand, for what the JDK's
 * HttpClient will not send (Upgrade and Connection headers) or hides (a refused upgrade's body, the
 * server's certificate). Every socket operation is bounded by a 5 s timeout.
 */
final class RawHttps {
    static final int TIMEOUT_MS = 5_000;

    record Response(int status, Map<String, String> headers, String body, X509Certificate serverCert) {
    }

    private RawHttps() {
    }

    /** Connects to 127.0.0.1:{@code port} and completes the client's side of the handshake. */
    static SSLSocket connect(SSLContext ctx, int port) throws IOException {
        SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket();
        s.connect(new InetSocketAddress("127.0.0.1", port), TIMEOUT_MS);
        s.setSoTimeout(TIMEOUT_MS);
        s.startHandshake();
        return s;
    }

    static Response request(SSLContext ctx, int port, String method, String path, Map<String, String> headers, byte[] body)
            throws IOException {
        try (SSLSocket s = connect(ctx, port)) {
            StringBuilder req = new StringBuilder(method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\n");
            headers.forEach((k, v) -> req.append(k).append(": ").append(v).append("\r\n"));
            if (body != null) {
                req.append("Content-Length: ").append(body.length).append("\r\n");
            }
            req.append("\r\n");
            OutputStream out = s.getOutputStream();
            out.write(req.toString().getBytes(StandardCharsets.US_ASCII));
            if (body != null) {
                out.write(body);
            }
            out.flush();
            Response r = read(s.getInputStream());
            return new Response(r.status(), r.headers(), r.body(), (X509Certificate) s.getSession().getPeerCertificates()[0]);
        }
    }

    static Response get(SSLContext ctx, int port, String path) throws IOException {
        return request(ctx, port, "GET", path, Map.of(), null);
    }

    /** A WebSocket upgrade request as a browser or virt-api would send it. */
    static Response upgrade(SSLContext ctx, int port, String path) throws IOException {
        return request(ctx, port, "GET", path, Map.of("Upgrade", "websocket", "Connection", "Upgrade",
                "Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version", "13",
                "Sec-WebSocket-Protocol", "plain.kubevirt.io"), null);
    }

    /** Status line, headers (names lower-cased), and a Content-Length body; does not wait for the connection to end. */
    static Response read(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int state = 0;
        while (state < 4) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("connection closed in the response head: " + head.toString(StandardCharsets.US_ASCII));
            }
            head.write(b);
            state = (b == '\r' && (state == 0 || state == 2)) || (b == '\n' && (state == 1 || state == 3)) ? state + 1 : (b == '\r' ? 1 : 0);
        }
        String[] lines = head.toString(StandardCharsets.US_ASCII).split("\r\n");
        int status = Integer.parseInt(lines[0].split(" ")[1]);
        Map<String, String> headers = new LinkedHashMap<>();
        for (int i = 1; i < lines.length; i++) {
            int c = lines[i].indexOf(':');
            if (c > 0) {
                headers.put(lines[i].substring(0, c).trim().toLowerCase(Locale.ROOT), lines[i].substring(c + 1).trim());
            }
        }
        int length = Integer.parseInt(headers.getOrDefault("content-length", "0"));
        byte[] body = in.readNBytes(length);
        if (body.length != length) {
            throw new IOException("body cut short: " + body.length + " of " + length + " bytes");
        }
        return new Response(status, headers, new String(body, StandardCharsets.UTF_8), null);
    }
}
