package io.qvirt.handler.nodeapi;

import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The node API's server {@link SslContext}, rebuilt when its PEM files change.
 *
 * <p>Kubernetes updates a mounted Secret by swapping a symlink, so the files change all at once but at
 * a moment of its choosing; cert-rotation must not need a handler restart. {@link #refresh()} re-reads
 * the three files (a few KiB) and builds a new context only when their bytes differ from the ones in
 * use; a set that does not build (a half-written file, a key not matching the certificate) is logged
 * once and the previous context stays, so a bad rotation never locks virt-api out. Comparing the bytes
 * rather than mtimes also catches a swap that keeps the timestamps (a copy with {@code cp -p}).
 *
 * <p>{@link #current()} is what every new connection uses; connections already open keep the context
 * they started with.
 */
final class ReloadingSslContext {
    private static final Logger LOG = Logger.getLogger(ReloadingSslContext.class.getName());
    /** TLS 1.0 and 1.1 are refused: KubeVirt's handler and virt-api speak 1.2 at least. */
    static final String[] PROTOCOLS = {"TLSv1.3", "TLSv1.2"};

    private final TlsFiles files;
    private volatile SslContext current;
    private Material loaded;
    private Material lastFailed;

    /** The three files' bytes, compared as a whole. */
    private record Material(byte[] cert, byte[] key, byte[] ca) {
        boolean sameAs(Material o) {
            return o != null && Arrays.equals(cert, o.cert) && Arrays.equals(key, o.key) && Arrays.equals(ca, o.ca);
        }
    }

    /**
     * Loads the files once.
     *
     * @throws IllegalArgumentException naming the files if they cannot be read or do not make a server context
     */
    ReloadingSslContext(TlsFiles files) {
        this.files = files;
        Material m;
        try {
            m = read();
        } catch (IOException e) {
            throw new IllegalArgumentException("node API TLS files unreadable: " + e.getMessage(), e);
        }
        try {
            current = build(m);
        } catch (Exception e) {
            throw new IllegalArgumentException("node API TLS files " + files + " do not make a server context: " + e.getMessage(), e);
        }
        loaded = m;
    }

    /** The context new connections get. */
    SslContext current() {
        return current;
    }

    /**
     * Re-reads the files and swaps the context if they changed and build. Blocking file I/O: called from
     * the server's reload thread, never from an event loop. Not thread-safe (one caller).
     *
     * @return true if a new context was put in place
     */
    boolean refresh() {
        Material m;
        try {
            m = read();
        } catch (IOException e) {
            // Mid-swap (the old ..data link gone, the new one not yet there): try again at the next tick.
            LOG.log(Level.FINE, "node API TLS files not readable now, keeping the current ones", e);
            return false;
        }
        if (m.sameAs(loaded) || m.sameAs(lastFailed)) {
            return false;
        }
        try {
            current = build(m);
            loaded = m;
            lastFailed = null;
            LOG.info("node API TLS certificate, key or client CA changed: new connections use the new ones");
            return true;
        } catch (Exception e) {
            lastFailed = m;
            LOG.warning("node API TLS files changed but do not make a server context, keeping the previous one: " + e);
            return false;
        }
    }

    /**
     * Fails unless {@code key} is {@code leaf}'s. The JDK provider does not check this when it builds a
     * context; a mismatched pair (a rotation caught between its two files) would only show as every
     * handshake failing, so such a pair is refused here and the previous context kept.
     */
    private static void checkKeyMatches(X509Certificate leaf, PrivateKey key) throws GeneralSecurityException {
        PublicKey pub = leaf.getPublicKey();
        String alg = switch (pub.getAlgorithm()) {
            case "EC" -> "SHA256withECDSA";
            case "RSA" -> "SHA256withRSA";
            case "Ed25519", "EdDSA" -> "Ed25519";
            default -> null;
        };
        if (alg == null) {
            return; // An algorithm without a check here: the handshake will tell.
        }
        byte[] probe = "qvirt node API key check".getBytes(StandardCharsets.US_ASCII);
        Signature sign = Signature.getInstance(alg);
        sign.initSign(key);
        sign.update(probe);
        byte[] sig = sign.sign();
        Signature verify = Signature.getInstance(alg);
        verify.initVerify(pub);
        verify.update(probe);
        if (!verify.verify(sig)) {
            throw new GeneralSecurityException("the private key is not the one of the certificate for "
                    + leaf.getSubjectX500Principal().getName());
        }
    }

    private Material read() throws IOException {
        return new Material(Files.readAllBytes(files.certChain()), Files.readAllBytes(files.key()),
                Files.readAllBytes(files.clientCa()));
    }

    private static SslContext build(Material m) throws IOException, GeneralSecurityException {
        List<X509Certificate> chain = PemFiles.certificates(m.cert());
        PrivateKey key = PemFiles.privateKey(m.key());
        checkKeyMatches(chain.get(0), key);
        return SslContextBuilder
                .forServer(key, chain.toArray(X509Certificate[]::new))
                .trustManager(PemFiles.certificates(m.ca()).toArray(X509Certificate[]::new))
                .clientAuth(ClientAuth.REQUIRE)
                .protocols(PROTOCOLS)
                // The JDK's provider: netty-tcnative is not shipped in the handler's image.
                .sslProvider(SslProvider.JDK)
                .build();
    }
}
