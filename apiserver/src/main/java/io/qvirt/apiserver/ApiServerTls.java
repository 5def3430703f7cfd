package io.qvirt.apiserver;

import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.io.IOException;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.List;
import java.util.logging.Logger;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * virt-api's serving {@link SslContext} from a certificate and key file (a mounted Secret), rebuilt when their bytes
 * change ({@link #refresh()}, every few seconds from the server's reload thread); a pair that does not build or whose
 * key is not the certificate's keeps the previous context. TLS 1.2 and 1.3 only.
 *
 * <p>Client certificates are asked for ({@link ClientAuth#OPTIONAL}) and any chain is accepted at the handshake:
 * webhooks are called by kube-apiserver without one, and the aggregator's certificate is verified per request
 * by {@link FrontProxyAuth} (CA, validity, allowed names), which answers a bad one with a 401 instead of a TLS
 * alert. Nothing is trusted because the handshake succeeded.
 */
final class ApiServerTls {
    private static final Logger LOG = Logger.getLogger(ApiServerTls.class.getName());
    static final String[] PROTOCOLS = {"TLSv1.3", "TLSv1.2"};

    private final Path cert;
    private final Path key;
    private volatile SslContext current;
    private byte[][] loaded;
    private byte[][] failed;

    ApiServerTls(Path cert, Path key) {
        this.cert = cert;
        this.key = key;
        try {
            byte[][] m = read();
            current = build(m);
            loaded = m;
        } catch (Exception e) {
            throw new IllegalArgumentException("TLS certificate " + cert + " and key " + key + " do not make a server context: "
                    + e.getMessage(), e);
        }
    }

    SslContext current() {
        return current;
    }

    /** Re-reads the files; true if a new context is in place. One caller at a time. */
    boolean refresh() {
        byte[][] m;
        try {
            m = read();
        } catch (IOException e) {
            return false; // mid-swap of the Secret's files: next time
        }
        if (Arrays.deepEquals(m, loaded) || Arrays.deepEquals(m, failed)) {
            return false;
        }
        try {
            current = build(m);
            loaded = m;
            failed = null;
            LOG.info("TLS certificate or key changed: new connections use the new ones");
            return true;
        } catch (Exception e) {
            failed = m;
            LOG.warning("TLS files changed but do not make a server context, keeping the previous one: " + e);
            return false;
        }
    }

    private byte[][] read() throws IOException {
        return new byte[][] {Files.readAllBytes(cert), Files.readAllBytes(key)};
    }

    private static SslContext build(byte[][] m) throws Exception {
        List<X509Certificate> chain = Pem.certificates(m[0]);
        PrivateKey k = Pem.privateKey(m[1]);
        checkKeyMatches(chain.get(0), k);
        return SslContextBuilder.forServer(k, chain.toArray(X509Certificate[]::new))
                .trustManager(new AskOnly())
                .clientAuth(ClientAuth.OPTIONAL)
                .protocols(PROTOCOLS)
                .sslProvider(SslProvider.JDK)
                .build();
    }

    private static void checkKeyMatches(X509Certificate leaf, PrivateKey key) throws Exception {
        String alg = switch (leaf.getPublicKey().getAlgorithm()) {
            case "EC" -> "SHA256withECDSA";
            case "RSA" -> "SHA256withRSA";
            default -> null;
        };
        if (alg == null) {
            return;
        }
        byte[] probe = "virt-api key check".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        Signature s = Signature.getInstance(alg);
        s.initSign(key);
        s.update(probe);
        byte[] sig = s.sign();
        Signature v = Signature.getInstance(alg);
        v.initVerify(leaf.getPublicKey());
        v.update(probe);
        if (!v.verify(sig)) {
            throw new java.security.GeneralSecurityException("the private key is not the certificate's");
        }
    }

    /**
     * Takes any client chain at the handshake so it can be judged per request ({@link FrontProxyAuth}); never
     * used for server certificates. Advertises no acceptable issuers.
     */
    private static final class AskOnly extends X509ExtendedTrustManager {
        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) {
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) {
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
                throws java.security.cert.CertificateException {
            throw new java.security.cert.CertificateException("server-side trust manager only");
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
                throws java.security.cert.CertificateException {
            throw new java.security.cert.CertificateException("server-side trust manager only");
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) throws java.security.cert.CertificateException {
            throw new java.security.cert.CertificateException("server-side trust manager only");
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    }
}
