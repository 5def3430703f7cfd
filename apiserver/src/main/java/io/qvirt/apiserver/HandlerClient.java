package io.qvirt.apiserver;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.logging.Logger;

/**
 * virt-api's client of the handlers' node API ({@code https://<node InternalIP>:<port>/v1/namespaces/...}) over
 * mutual TLS: virt-api's client certificate and key, trusting only the CA that signed the handlers' certificates.
 * The three files are re-read at most every 10 s and a new client is built when their bytes change (a rotated
 * Secret), so rotation needs no restart; a set that does not build keeps the previous client (logged once).
 */
public final class HandlerClient {
    private static final Logger LOG = Logger.getLogger(HandlerClient.class.getName());
    /** KubeVirt's handler client timeout. */
    static final Duration TIMEOUT = Duration.ofSeconds(10);

    private final Path cert;
    private final Path key;
    private final Path ca;
    private final int port;
    private byte[][] loaded;
    private byte[][] failed;
    private HttpClient http;
    private long checkedAt;

    public HandlerClient(Path cert, Path key, Path ca, int port) throws Exception {
        this.cert = cert;
        this.key = key;
        this.ca = ca;
        this.port = port;
        byte[][] m = read();
        http = build(m);
        loaded = m;
        checkedAt = System.nanoTime();
    }

    private byte[][] read() throws IOException {
        return new byte[][] {Files.readAllBytes(cert), Files.readAllBytes(key), Files.readAllBytes(ca)};
    }

    private static HttpClient build(byte[][] m) throws Exception {
        return HttpClient.newBuilder().sslContext(Pem.clientContext(m[0], m[1], m[2])).connectTimeout(Duration.ofSeconds(5))
                .version(HttpClient.Version.HTTP_1_1).build();
    }

    /** The client, rebuilt if the files changed (checked at most every 10 s). */
    synchronized HttpClient http() {
        if (System.nanoTime() - checkedAt > 10_000_000_000L) {
            checkedAt = System.nanoTime();
            try {
                byte[][] m = read();
                if (!Arrays.deepEquals(m, loaded) && !Arrays.deepEquals(m, failed)) {
                    try {
                        http = build(m);
                        loaded = m;
                        LOG.info("node API client certificate, key or CA changed: new requests use the new ones");
                    } catch (Exception e) {
                        failed = m;
                        LOG.warning("node API client TLS files changed but do not build, keeping the previous ones: " + e);
                    }
                }
            } catch (IOException e) {
                // mid-rotation: next time
            }
        }
        return http;
    }

    URI uri(String scheme, String nodeAddress, String ns, String vmi, String action) {
        String host = nodeAddress.contains(":") ? "[" + nodeAddress + "]" : nodeAddress;
        return URI.create(scheme + "://" + host + ":" + port + "/v1/namespaces/" + ns + "/virtualmachineinstances/" + vmi + "/" + action);
    }

    /** PUT {@code action} on the node; the handler's status code and body. */
    public HttpResponse<String> put(String nodeAddress, String ns, String vmi, String action)
            throws IOException, InterruptedException {
        HttpRequest req = HttpRequest.newBuilder(uri("https", nodeAddress, ns, vmi, action))
                .PUT(HttpRequest.BodyPublishers.noBody()).timeout(TIMEOUT).build();
        return http().send(req, HttpResponse.BodyHandlers.ofString());
    }

    /** Opens the VMI's console WebSocket on the node. */
    public CompletableFuture<WebSocket> console(String nodeAddress, String ns, String vmi, WebSocket.Listener listener) {
        return webSocket(nodeAddress, ns, vmi, "console", listener);
    }

    /**
     * Opens a WebSocket on the node: {@code action} is {@code console} or {@code portforward/PORT/PROTOCOL}. The
     * handler answers only once its end is connected, so a refusal is the failed upgrade's Status.
     */
    public CompletableFuture<WebSocket> webSocket(String nodeAddress, String ns, String vmi, String action,
                                                  WebSocket.Listener listener) {
        return http().newWebSocketBuilder().connectTimeout(TIMEOUT)
                .buildAsync(uri("wss", nodeAddress, ns, vmi, action), listener);
    }
}
