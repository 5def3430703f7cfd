package io.qvirt.testdata;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** TestPki with the real openssl CLI: the chain verifies, SANs and usages are there, keys load as PKCS#8. */
class TestPkiTest {
    @Test
    void caServerAndClientCertificates(@TempDir Path dir) throws Exception {
        TestPki pki = TestPki.open(dir, "qvirt-test-ca");
        pki.server("handler-n1", List.of("127.0.1.1"), List.of("n1"));
        pki.client("client", "virt-api");
        X509Certificate ca = read(pki.caCert());
        X509Certificate server = read(pki.cert("handler-n1"));
        X509Certificate client = read(pki.cert("client"));
        server.verify(ca.getPublicKey());
        client.verify(ca.getPublicKey());
        assertTrue(ca.getBasicConstraints() >= 0, "the CA is a CA");
        assertEquals(-1, server.getBasicConstraints());
        assertEquals("CN=virt-api", client.getSubjectX500Principal().getName());
        assertEquals("[[7, 127.0.1.1], [2, n1]]", server.getSubjectAlternativeNames().toString());
        assertTrue(server.getExtendedKeyUsage().contains("1.3.6.1.5.5.7.3.1"), "serverAuth");
        assertEquals(List.of("1.3.6.1.5.5.7.3.2"), client.getExtendedKeyUsage());
        String pem = Files.readString(pki.key("client"));
        assertTrue(pem.startsWith("-----BEGIN PRIVATE KEY-----"), pem.substring(0, 30));
        KeyFactory.getInstance("RSA").generatePrivate(new PKCS8EncodedKeySpec(Base64.getMimeDecoder()
                .decode(pem.replaceAll("-----[A-Z ]+-----", ""))));
        assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(
                Files.getPosixFilePermissions(pki.key("client"))));
        // Opening again keeps the CA.
        byte[] before = Files.readAllBytes(pki.caCert());
        TestPki.open(dir, "qvirt-test-ca");
        assertEquals(new String(before), Files.readString(pki.caCert()));
    }

    private static X509Certificate read(Path p) throws Exception {
        try (InputStream in = Files.newInputStream(p)) {
            return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
    }
}
