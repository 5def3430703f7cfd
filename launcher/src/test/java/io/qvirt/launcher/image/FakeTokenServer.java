package io.qvirt.launcher.image;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.qvirt.testdata.TestPki;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A FAKE token server (Debian ships no token service for docker-registry): it answers a REAL registry's Bearer
 * realm with JWTs the registry verifies itself (RS256, signed by a key whose certificate the registry trusts,
 * issuer {@code qvirt-token-issuer}, audience the registry's service, the access asked for). It grants whatever
 * scope is asked, to anyone it lets in, and records every Authorization header it receives: the point of a
 * test is who sends it what.
 */
final class FakeTokenServer implements AutoCloseable {
    static final String ISSUER = "qvirt-token-issuer";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final HttpServer server;
    private final PrivateKey key;
    private final String keyId;
    private final Path certs;
    /** Every request's Authorization header, "null" when it had none. */
    final List<String> authorizations = new CopyOnWriteArrayList<>();
    /** Basic credentials it accepts ("user:password"); others get 401. */
    final Map<String, Boolean> users = new ConcurrentHashMap<>();
    /** When set, a request without credentials gets 401 (a token service that serves no anonymous pulls). */
    volatile boolean refuseAnonymous;

    /**
     * Listens on {@code address}:a free port; its signing key and certificate are made in {@code pkiDir} with openssl.
     */
    FakeTokenServer(InetAddress address, Path pkiDir) throws IOException, InterruptedException {
        TestPki pki = TestPki.open(pkiDir, ISSUER);
        this.certs = pki.caCert();
        try {
            String pem = Files.readString(pki.caKey()).replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
            this.key = KeyFactory.getInstance("RSA").generatePrivate(new PKCS8EncodedKeySpec(Base64.getDecoder().decode(pem)));
            PublicKey pub;
            try (var in = Files.newInputStream(certs)) {
                pub = CertificateFactory.getInstance("X.509").generateCertificate(in).getPublicKey();
            }
            this.keyId = libtrustKeyId(pub);
        } catch (java.security.GeneralSecurityException e) {
            throw new IOException("the token signing key in " + pkiDir + ": " + e, e);
        }
        server = HttpServer.create(new InetSocketAddress(address, 0), 0);
        server.createContext("/token", this::handle);
        server.setExecutor(java.util.concurrent.Executors.newCachedThreadPool());
        server.start();
    }

    /** The realm URL to configure the registry with. */
    String realm() {
        return "http://" + hostPort() + "/token";
    }

    String hostPort() {
        return server.getAddress().getAddress().getHostAddress() + ":" + server.getAddress().getPort();
    }

    /** The PEM certificate the registry must trust ({@code --token-certs}). */
    Path certs() {
        return certs;
    }

    private void handle(HttpExchange ex) throws IOException {
        String authz = ex.getRequestHeaders().getFirst("Authorization");
        authorizations.add(String.valueOf(authz));
        String user = "";
        if (authz != null) {
            String pair = authz.startsWith("Basic ")
                    ? new String(Base64.getDecoder().decode(authz.substring(6).strip()), StandardCharsets.UTF_8) : "";
            if (!users.containsKey(pair)) {
                reply(ex, 401, "{\"details\":\"unknown credentials\"}");
                return;
            }
            user = pair.substring(0, pair.indexOf(':'));
        } else if (refuseAnonymous) {
            ex.getResponseHeaders().add("WWW-Authenticate", "Basic realm=\"fake-token-server\"");
            reply(ex, 401, "{\"details\":\"anonymous access refused\"}");
            return;
        }
        String service = "";
        List<String> scopes = new ArrayList<>();
        String q = ex.getRequestURI().getRawQuery();
        for (String kv : q == null ? new String[0] : q.split("&")) {
            int eq = kv.indexOf('=');
            String k = eq < 0 ? kv : kv.substring(0, eq);
            String v = eq < 0 ? "" : URLDecoder.decode(kv.substring(eq + 1), StandardCharsets.UTF_8);
            if (k.equals("service")) {
                service = v;
            } else if (k.equals("scope")) {
                scopes.add(v);
            }
        }
        try {
            String token = token(user, service, scopes);
            reply(ex, 200, JSON.writeValueAsString(JSON.createObjectNode().put("token", token).put("access_token", token)
                    .put("expires_in", 300)));
        } catch (java.security.GeneralSecurityException e) {
            reply(ex, 500, "{\"details\":\"" + e + "\"}");
        }
    }

    /** A JWT as distribution's token auth verifies it: the key named by its libtrust key id ("kid"). */
    private String token(String user, String service, List<String> scopes) throws java.security.GeneralSecurityException,
            IOException {
        long now = System.currentTimeMillis() / 1000;
        ObjectNode claims = JSON.createObjectNode().put("iss", ISSUER).put("sub", user).put("aud", service)
                .put("exp", now + 300).put("nbf", now - 10).put("iat", now).put("jti", UUID.randomUUID().toString());
        ArrayNode access = claims.putArray("access");
        for (String s : scopes) {
            // repository:NAME:ACTION[,ACTION]; NAME may hold no colon in these tests
            String[] p = s.split(":");
            if (p.length == 3) {
                ArrayNode actions = access.addObject().put("type", p[0]).put("name", p[1]).putArray("actions");
                for (String a : p[2].split(",")) {
                    actions.add(a);
                }
            }
        }
        ObjectNode header = JSON.createObjectNode().put("typ", "JWT").put("alg", "RS256").put("kid", keyId);
        Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
        String signed = b64.encodeToString(JSON.writeValueAsBytes(header)) + "." + b64.encodeToString(JSON.writeValueAsBytes(claims));
        Signature sig = Signature.getInstance("SHA256withRSA");
        sig.initSign(key);
        sig.update(signed.getBytes(StandardCharsets.US_ASCII));
        return signed + "." + b64.encodeToString(sig.sign());
    }

    /**
     * libtrust's key id, by which distribution finds a token's signing key among the certificates it trusts:
     * SHA-256 of the DER public key, first 240 bits, base32, in twelve groups of four joined by ':'.
     */
    static String libtrustKeyId(PublicKey pub) throws java.security.GeneralSecurityException {
        byte[] h = MessageDigest.getInstance("SHA-256").digest(pub.getEncoded());
        String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        StringBuilder b32 = new StringBuilder();
        int buffer = 0;
        int bits = 0;
        for (int i = 0; i < 30; i++) {
            buffer = (buffer << 8) | (h[i] & 0xff);
            bits += 8;
            while (bits >= 5) {
                b32.append(alphabet.charAt((buffer >> (bits - 5)) & 31));
                bits -= 5;
            }
        }
        StringBuilder id = new StringBuilder();
        for (int i = 0; i < b32.length(); i += 4) {
            id.append(i == 0 ? "" : ":").append(b32, i, i + 4);
        }
        return id.toString();
    }

    private static void reply(HttpExchange ex, int status, String body) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().add("Content-Type", "application/json");
        ex.sendResponseHeaders(status, b.length);
        try (OutputStream o = ex.getResponseBody()) {
            o.write(b);
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
