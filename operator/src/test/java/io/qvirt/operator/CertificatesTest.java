package io.qvirt.operator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Certificates renewed before expiry, and for a new Node's address; kept otherwise; a new CA re-issues everything; a
 * user's Secret of the same name left alone.
 */
class CertificatesTest {
    @Test
    void leavesAUsersSecretAlone() throws Exception {
        try (MockCluster mock = new MockCluster()) {
            mock.client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName("kubevirt").endMetadata().build()).create();
            mock.client.secrets().inNamespace("kubevirt").resource(new io.fabric8.kubernetes.api.model.SecretBuilder()
                    .withNewMetadata().withName(Certificates.CA_SECRET).withNamespace("kubevirt").endMetadata()
                    .addToStringData("mine", "yes").build()).create();
            Certificates certs = new Certificates(mock.client, "kubevirt", Duration.ofDays(100), Duration.ofDays(10));
            org.junit.jupiter.api.Assertions.assertThrows(Certificates.ForeignSecretException.class, () -> certs.ensure(
                    List.of(), Map.of(InstallStrategy.MANAGED_BY_LABEL, InstallStrategy.MANAGED_BY), Map.of(), Instant.now()));
            var s = mock.client.secrets().inNamespace("kubevirt").withName(Certificates.CA_SECRET).get();
            assertEquals(null, s.getData() == null ? null : s.getData().get("tls.crt"));
            assertEquals(null, mock.client.secrets().inNamespace("kubevirt").withName(Certificates.VIRT_API_SECRET).get());
        }
    }

    private static X509Certificate cert(MockCluster mock, String secret, String key) throws Exception {
        return Pki.parseCertificate(InstallTest.secret(mock, secret, key));
    }

    @Test
    void renewsWithAFifthOfLifeLeftAndForNewNodes() throws Exception {
        try (MockCluster mock = new MockCluster()) {
            mock.client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName("kubevirt").endMetadata().build()).create();
            Certificates certs = new Certificates(mock.client, "kubevirt", Duration.ofDays(100), Duration.ofDays(10));
            Instant t0 = Instant.parse("2026-12-01T00:00:00Z");
            Map<String, String> labels = Map.of(InstallStrategy.MANAGED_BY_LABEL, InstallStrategy.MANAGED_BY);
            String ca = certs.ensure(List.of("10.0.0.7"), labels, Map.of(), t0);
            X509Certificate api0 = cert(mock, Certificates.VIRT_API_SECRET, "tls.crt");
            X509Certificate handler0 = cert(mock, Certificates.HANDLER_SECRET, "tls.crt");

            // Day 7 of 10: more than a fifth left, nothing changes.
            assertEquals(ca, certs.ensure(List.of("10.0.0.7"), labels, Map.of(), t0.plus(Duration.ofDays(7))));
            assertEquals(api0.getSerialNumber(), cert(mock, Certificates.VIRT_API_SECRET, "tls.crt").getSerialNumber());
            // A new Node: only the handlers' certificate is re-issued, naming both addresses.
            certs.ensure(List.of("10.0.0.7", "10.0.0.8"), labels, Map.of(), t0.plus(Duration.ofDays(7)));
            X509Certificate handler1 = cert(mock, Certificates.HANDLER_SECRET, "tls.crt");
            assertNotEquals(handler0.getSerialNumber(), handler1.getSerialNumber());
            assertEquals(2, handler1.getSubjectAlternativeNames().stream().filter(n -> ((Integer) n.get(0)) == 7).count());
            assertEquals(api0.getSerialNumber(), cert(mock, Certificates.VIRT_API_SECRET, "tls.crt").getSerialNumber());

            // Day 8.5: less than a fifth left, virt-api's (and its client certificate) renewed under the same CA.
            assertEquals(ca, certs.ensure(List.of("10.0.0.7", "10.0.0.8"), labels, Map.of(), t0.plus(Duration.ofHours(204))));
            X509Certificate api1 = cert(mock, Certificates.VIRT_API_SECRET, "tls.crt");
            assertNotEquals(api0.getSerialNumber(), api1.getSerialNumber());
            api1.verify(Pki.parseCertificate(ca).getPublicKey());
            api1.checkValidity(java.util.Date.from(t0.plus(Duration.ofDays(15))));

            // Day 85 of the CA's 100: a new CA, and every certificate issued again under it.
            String ca2 = certs.ensure(List.of("10.0.0.7", "10.0.0.8"), labels, Map.of(), t0.plus(Duration.ofDays(85)));
            assertNotEquals(ca, ca2);
            for (String s : List.of(Certificates.VIRT_API_SECRET, Certificates.HANDLER_SECRET, Certificates.OPERATOR_SECRET)) {
                cert(mock, s, "tls.crt").verify(Pki.parseCertificate(ca2).getPublicKey());
            }
            assertEquals(ca2, InstallTest.secret(mock, Certificates.VIRT_API_SECRET, "handler-ca.crt"));
            assertEquals(ca2, InstallTest.secret(mock, Certificates.HANDLER_SECRET, "ca.crt"));
        }
    }
}
