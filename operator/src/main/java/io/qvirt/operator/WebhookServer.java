package io.qvirt.operator;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.qvirt.api.KubevirtJson;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;

/**
 * HTTPS for the operator's admission webhooks ({@link KubeVirtAdmitter}) and {@code /healthz}, on every replica
 * (leader or not). Its certificate is the Secret {@value Certificates#OPERATOR_SECRET}, which the leader makes from
 * the install's CA; it is read again every {@code reload} so a renewal applies without a restart. Until that Secret
 * exists a throwaway self-signed certificate serves (only {@code /healthz} is asked then: no webhook points here yet).
 */
public final class WebhookServer implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(WebhookServer.class.getName());
    private static final int MAX_BODY = 3 * 1024 * 1024;

    private final HttpsServer server;
    private final SwappableKeyManager keys = new SwappableKeyManager();
    private final ScheduledExecutorService reloader;
    private final KubernetesClient client;
    private final String namespace;
    private final KubeVirtAdmitter admitter;
    private volatile String loadedCert;

    /**
     * Listens on {@code port} (0: any free one).
     *
     * @throws IOException if the port cannot be bound
     */
    public WebhookServer(KubernetesClient client, String namespace, int port, Duration reload)
            throws IOException, GeneralSecurityException {
        this.client = client;
        this.namespace = namespace;
        this.admitter = new KubeVirtAdmitter(client);
        Pki.Pem ca = Pki.newCa("virt-operator-bootstrap", Instant.now(), Duration.ofDays(1));
        Pki.Pem self = Pki.issue(ca, new Pki.LeafSpec("kubevirt-operator-webhook", List.of("kubevirt-operator-webhook"),
                List.of(), true, false), Instant.now(), Duration.ofDays(1));
        keys.set(self.certificate(), self.privateKey());
        SSLContext tls = SSLContext.getInstance("TLS");
        tls.init(new KeyManager[] {keys}, null, null);
        server = HttpsServer.create(new InetSocketAddress(port), 64);
        server.setHttpsConfigurator(new HttpsConfigurator(tls));
        server.createContext("/healthz", ex -> reply(ex, 200, "text/plain", "ok"));
        server.createContext(KubeVirtAdmitter.CREATE_PATH, this::admit);
        server.createContext(KubeVirtAdmitter.DELETE_PATH, this::admit);
        server.setExecutor(Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "virt-operator-webhook");
            t.setDaemon(true);
            return t;
        }));
        reloader = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "virt-operator-webhook-certs");
            t.setDaemon(true);
            return t;
        });
        server.start();
        reloader.scheduleWithFixedDelay(this::reload, 0, reload.toMillis(), TimeUnit.MILLISECONDS);
    }

    public int port() {
        return server.getAddress().getPort();
    }

    /** The certificate now served. */
    X509Certificate certificate() {
        return keys.certificate;
    }

    /** Reads the Secret; swaps in its certificate if it changed. Failures keep the current one. */
    void reload() {
        try {
            Secret s = client.secrets().inNamespace(namespace).withName(Certificates.OPERATOR_SECRET).get();
            String cert = Certificates.decode(s, "tls.crt");
            String key = Certificates.decode(s, "tls.key");
            if (cert == null || key == null || cert.equals(loadedCert)) {
                return;
            }
            Pki.Pem pem = new Pki.Pem(cert, key);
            keys.set(pem.certificate(), pem.privateKey());
            loadedCert = cert;
            LOG.info("webhook: serving the certificate of " + namespace + "/" + Certificates.OPERATOR_SECRET);
        } catch (KubernetesClientException | GeneralSecurityException | IllegalArgumentException e) {
            LOG.warning("webhook: cannot load " + namespace + "/" + Certificates.OPERATOR_SECRET + ": " + e.getMessage());
        }
    }

    private void admit(HttpExchange ex) throws IOException {
        if (!"POST".equals(ex.getRequestMethod())) {
            reply(ex, 405, "text/plain", "POST an AdmissionReview");
            return;
        }
        byte[] body;
        try (InputStream in = ex.getRequestBody()) {
            body = in.readNBytes(MAX_BODY + 1);
        }
        if (body.length > MAX_BODY) {
            reply(ex, 413, "text/plain", "AdmissionReview larger than " + MAX_BODY + " bytes");
            return;
        }
        try {
            JsonNode review = KubevirtJson.json().readTree(body);
            reply(ex, 200, "application/json", KubevirtJson.toJson(admitter.admit(ex.getRequestURI().getPath(), review)));
        } catch (IOException | IllegalArgumentException e) {
            reply(ex, 400, "text/plain", "bad AdmissionReview: " + e.getMessage());
        } catch (KubernetesClientException e) {
            reply(ex, 500, "text/plain", "cannot read the cluster: " + e.getMessage());
        }
    }

    private static void reply(HttpExchange ex, int code, String type, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", type);
        ex.sendResponseHeaders(code, bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }

    @Override
    public void close() {
        reloader.shutdownNow();
        server.stop(0);
    }

    /** One certificate and key, replaceable while the server runs (new handshakes get the new one). */
    private static final class SwappableKeyManager extends X509ExtendedKeyManager {
        private static final String ALIAS = "serving";
        private volatile X509Certificate certificate;
        private volatile PrivateKey key;

        synchronized void set(X509Certificate certificate, PrivateKey key) {
            this.key = key;
            this.certificate = certificate;
        }

        @Override
        public String[] getClientAliases(String keyType, Principal[] issuers) {
            return null;
        }

        @Override
        public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
            return null;
        }

        @Override
        public String[] getServerAliases(String keyType, Principal[] issuers) {
            return matches(keyType) ? new String[] {ALIAS} : null;
        }

        @Override
        public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
            return matches(keyType) ? ALIAS : null;
        }

        @Override
        public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
            return matches(keyType) ? ALIAS : null;
        }

        /** JSSE asks per key type (EC, RSA, ...); only ours fits. */
        private boolean matches(String keyType) {
            PrivateKey k = key;
            return k != null && keyType != null && keyType.startsWith(k.getAlgorithm());
        }

        @Override
        public X509Certificate[] getCertificateChain(String alias) {
            return new X509Certificate[] {certificate};
        }

        @Override
        public PrivateKey getPrivateKey(String alias) {
            return key;
        }
    }
}
