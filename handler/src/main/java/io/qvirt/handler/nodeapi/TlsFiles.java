package io.qvirt.handler.nodeapi;

import java.nio.file.Path;
import java.util.Objects;

/**
 * Where the node API's TLS material is: PEM files as mounted from a Secret.
 *
 * @param certChain the server's certificate, then any intermediates (PEM {@code CERTIFICATE} blocks)
 * @param key       the server certificate's private key, unencrypted PEM: PKCS#8 ({@code PRIVATE KEY}),
 *                  SEC 1 ({@code EC PRIVATE KEY}, as KubeVirt writes) or PKCS#1 ({@code RSA PRIVATE KEY})
 * @param clientCa  the CA certificate(s) whose signature a client certificate must carry
 */
public record TlsFiles(Path certChain, Path key, Path clientCa) {
    public TlsFiles {
        Objects.requireNonNull(certChain, "certChain");
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(clientCa, "clientCa");
    }
}
