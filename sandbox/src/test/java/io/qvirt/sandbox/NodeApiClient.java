package io.qvirt.sandbox;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Duration;
import java.util.Base64;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * A client of a handler's node API as virt-api will be one: the rig's client certificate ({@code pki/client},
 * CN virt-api, signed by the rig's CA) over mutual TLS, trusting only that CA. Pause/unpause/reset as PUTs; the
 * console as a WebSocket whose binary frames are the serial bytes.
 */
final class NodeApiClient {
    private final HttpClient http;
    private final String base;

    NodeApiClient(Path pki, String nodeAddress) throws IOException, GeneralSecurityException {
        this.http = HttpClient.newBuilder().sslContext(context(pki)).connectTimeout(Duration.ofSeconds(5)).build();
        this.base = "https://" + nodeAddress + ":8186/v1/namespaces/";
    }

    private static SSLContext context(Path pki) throws IOException, GeneralSecurityException {
        CertificateFactory cf = CertificateFactory.getInstance("X.509");
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        try (InputStream in = Files.newInputStream(pki.resolve("ca.crt"))) {
            trust.setCertificateEntry("ca", cf.generateCertificate(in));
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        String pem = Files.readString(pki.resolve("client.key"), StandardCharsets.US_ASCII);
        String b64 = pem.substring(pem.indexOf("-----BEGIN PRIVATE KEY-----") + 27, pem.indexOf("-----END PRIVATE KEY-----"));
        var key = KeyFactory.getInstance("RSA").generatePrivate(new PKCS8EncodedKeySpec(Base64.getMimeDecoder().decode(b64)));
        Certificate[] chain;
        try (InputStream in = Files.newInputStream(pki.resolve("client.crt"))) {
            chain = cf.generateCertificates(in).toArray(new Certificate[0]);
        }
        KeyStore keys = KeyStore.getInstance("PKCS12");
        keys.load(null, null);
        keys.setKeyEntry("client", key, "x".toCharArray(), chain);
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(keys, "x".toCharArray());
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
        return ctx;
    }

    /** PUT .../{action}; returns the status code and body. */
    HttpResponse<String> put(String ns, String name, String action) throws IOException, InterruptedException {
        HttpRequest req = HttpRequest.newBuilder(URI.create(base + ns + "/virtualmachineinstances/" + name + "/" + action))
                .PUT(HttpRequest.BodyPublishers.noBody()).timeout(Duration.ofSeconds(20)).build();
        return http.send(req, HttpResponse.BodyHandlers.ofString());
    }

    /** The VMI's serial console: bytes from the guest go to {@code sink}; {@link Console#type} sends. */
    Console console(String ns, String name, java.io.OutputStream sink) throws Exception {
        CompletableFuture<Void> closed = new CompletableFuture<>();
        WebSocket ws = http.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(10))
                .buildAsync(URI.create(base.replace("https://", "wss://") + ns + "/virtualmachineinstances/" + name + "/console"),
                        new WebSocket.Listener() {
                            @Override
                            public CompletionStage<?> onBinary(WebSocket w, ByteBuffer data, boolean last) {
                                byte[] b = new byte[data.remaining()];
                                data.get(b);
                                try {
                                    sink.write(b);
                                    sink.flush();
                                } catch (IOException e) {
                                    closed.completeExceptionally(e);
                                }
                                w.request(1);
                                return null;
                            }

                            @Override
                            public CompletionStage<?> onClose(WebSocket w, int code, String reason) {
                                closed.complete(null);
                                return null;
                            }

                            @Override
                            public void onError(WebSocket w, Throwable error) {
                                closed.completeExceptionally(error);
                            }
                        }).get(15, TimeUnit.SECONDS);
        return new Console(ws, closed);
    }

    record Console(WebSocket ws, CompletableFuture<Void> closed) implements AutoCloseable {
        void type(String text) throws Exception {
            ws.sendBinary(ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)), true).get(5, TimeUnit.SECONDS);
        }

        @Override
        public void close() {
            ws.sendClose(WebSocket.NORMAL_CLOSURE, "done");
            try {
                closed.get(5, TimeUnit.SECONDS);
            } catch (Exception e) {
                ws.abort();
            }
        }
    }
}
