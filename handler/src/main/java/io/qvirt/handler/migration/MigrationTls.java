package io.qvirt.handler.migration;

import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.qvirt.handler.nodeapi.PemFiles;
import io.qvirt.handler.nodeapi.TlsFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;

/**
 * The migration proxy's TLS contexts from the handler's own PEM files (as the node API reads them, in any of
 * the key forms {@link PemFiles} reads): mutual TLS, each end presents the handler's certificate (serverAuth and
 * clientAuth) and accepts only a peer whose certificate the CA signed. As KubeVirt's handlers (which share one
 * certificate), the peer's identity is its CA signature: the host name or address is not checked.
 */
public final class MigrationTls {
    private static final String[] PROTOCOLS = {"TLSv1.3", "TLSv1.2"};

    private MigrationTls() {
    }

    /**
     * The target side's context: requires a client certificate signed by {@code files.clientCa()}.
     *
     * @throws IllegalArgumentException naming the files if they cannot be read or do not make a context
     */
    public static SslContext server(TlsFiles files) {
        try {
            Material m = read(files);
            return SslContextBuilder.forServer(m.key, m.chain.toArray(X509Certificate[]::new))
                    .trustManager(m.ca.toArray(X509Certificate[]::new))
                    .clientAuth(ClientAuth.REQUIRE)
                    .protocols(PROTOCOLS)
                    .sslProvider(SslProvider.JDK)
                    .build();
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalArgumentException("migration TLS files " + files + ": " + e.getMessage(), e);
        }
    }

    /**
     * The source side's context: presents the certificate, trusts only {@code files.clientCa()}.
     *
     * @throws IllegalArgumentException naming the files if they cannot be read or do not make a context
     */
    public static SslContext client(TlsFiles files) {
        try {
            Material m = read(files);
            return SslContextBuilder.forClient()
                    .keyManager(m.key, m.chain.toArray(X509Certificate[]::new))
                    .trustManager(m.ca.toArray(X509Certificate[]::new))
                    .protocols(PROTOCOLS)
                    .sslProvider(SslProvider.JDK)
                    // The peer is any handler (one certificate for all): its CA signature is what is checked.
                    .endpointIdentificationAlgorithm(null)
                    .build();
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalArgumentException("migration TLS files " + files + ": " + e.getMessage(), e);
        }
    }

    private record Material(List<X509Certificate> chain, PrivateKey key, List<X509Certificate> ca) {
    }

    private static Material read(TlsFiles f) throws IOException, GeneralSecurityException {
        return new Material(PemFiles.certificates(Files.readAllBytes(f.certChain())),
                PemFiles.privateKey(Files.readAllBytes(f.key())), PemFiles.certificates(Files.readAllBytes(f.clientCa())));
    }
}
