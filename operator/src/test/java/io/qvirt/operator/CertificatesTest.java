package io.qvirt.operator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Certificates renewed before expiry, and for a new Node's address; kept otherwise; the CA rotated through an
 * overlapping bundle (trusted before it signs, the old one trusted after it stopped), so no two parties ever disagree;
 * an expired CA replaced at once; a user's Secret of the same name left alone.
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

            // Day 85 of the CA's 100 (a fifth left): a next CA joins the bundle, the old one still signs; every party is
            // handed the bundle (caBundles, virt-api's handler-ca.crt, the handlers' and the operator's ca.crt).
            assertEquals(Duration.ofDays(1), certs.overlap());
            List<Party> parties = new ArrayList<>(List.of(party(mock, ca)));
            Instant rotation = t0.plus(Duration.ofDays(85));
            String bundle = certs.ensure(List.of("10.0.0.7", "10.0.0.8"), labels, Map.of(), rotation);
            assertEquals(ca, InstallTest.secret(mock, Certificates.CA_SECRET, "tls.crt"), "the old CA still signs");
            assertEquals(2, Pki.certificates(bundle).size());
            assertEquals(ca, bundle.substring(0, ca.length()));
            X509Certificate next = Pki.parseCertificate(InstallTest.secret(mock, Certificates.CA_SECRET, "next.crt"));
            assertEquals(bundle, InstallTest.secret(mock, Certificates.CA_SECRET, Certificates.BUNDLE_KEY));
            parties.add(party(mock, bundle));
            // Half the overlap later: nothing moves.
            assertEquals(bundle, certs.ensure(List.of("10.0.0.7", "10.0.0.8"), labels, Map.of(), rotation.plus(Duration.ofHours(12))));
            assertEquals(ca, InstallTest.secret(mock, Certificates.CA_SECRET, "tls.crt"));

            // After the overlap: the next CA signs, every leaf is issued again under it, the old CA stays in the bundle.
            String bundle2 = certs.ensure(List.of("10.0.0.7", "10.0.0.8"), labels, Map.of(), rotation.plus(Duration.ofDays(1)));
            String ca2 = InstallTest.secret(mock, Certificates.CA_SECRET, "tls.crt");
            assertNotEquals(ca, ca2);
            assertEquals(next, Pki.parseCertificate(ca2));
            assertEquals(List.of(next, Pki.parseCertificate(ca)), Pki.certificates(bundle2));
            for (String s : List.of(Certificates.VIRT_API_SECRET, Certificates.HANDLER_SECRET, Certificates.OPERATOR_SECRET)) {
                cert(mock, s, "tls.crt").verify(next.getPublicKey());
            }
            cert(mock, Certificates.VIRT_API_SECRET, "handler-client.crt").verify(next.getPublicKey());
            assertEquals(bundle2, InstallTest.secret(mock, Certificates.VIRT_API_SECRET, "handler-ca.crt"));
            assertEquals(bundle2, InstallTest.secret(mock, Certificates.HANDLER_SECRET, "ca.crt"));
            parties.add(party(mock, bundle2));

            // Another overlap later: the old CA leaves the bundle.
            String bundle3 = certs.ensure(List.of("10.0.0.7", "10.0.0.8"), labels, Map.of(), rotation.plus(Duration.ofDays(2)));
            assertEquals(ca2, bundle3);
            assertEquals(null, Certificates.decode(mock.client.secrets().inNamespace("kubevirt").withName(Certificates.CA_SECRET)
                    .get(), "previous.crt"), "the old CA still in the CA Secret");
            parties.add(party(mock, bundle3));

            // No downtime: at every step, a party that has loaded the new files and one that has not yet accept each
            // other's certificates (the one-step replacement fails this at the switch).
            for (int i = 0; i + 1 < parties.size(); i++) {
                for (Party a : List.of(parties.get(i), parties.get(i + 1))) {
                    for (Party b : List.of(parties.get(i), parties.get(i + 1))) {
                        for (X509Certificate leaf : a.leaves()) {
                            assertTrue(trusted(leaf, b.bundle()), "step " + i + ": " + leaf.getSubjectX500Principal()
                                    + " not trusted by a party holding " + b.bundle().size() + " CA(s)");
                        }
                    }
                }
            }
        }
    }

    /** What one component holds at a moment: the leaf certificates it presents and the CAs it trusts. */
    private record Party(List<X509Certificate> leaves, List<X509Certificate> bundle) {
    }

    private static Party party(MockCluster mock, String caBundle) throws Exception {
        return new Party(List.of(cert(mock, Certificates.VIRT_API_SECRET, "tls.crt"),
                cert(mock, Certificates.VIRT_API_SECRET, "handler-client.crt"), cert(mock, Certificates.HANDLER_SECRET, "tls.crt"),
                cert(mock, Certificates.OPERATOR_SECRET, "tls.crt")), Pki.certificates(caBundle));
    }

    private static boolean trusted(X509Certificate leaf, List<X509Certificate> bundle) {
        for (X509Certificate ca : bundle) {
            try {
                leaf.verify(ca.getPublicKey());
                return true;
            } catch (java.security.GeneralSecurityException e) {
                // signed by another CA of the bundle, or by none
            }
        }
        return false;
    }

    @Test
    void duringARotationEveryCaBundleHoldsBothCas(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        assertEquals(0, MockCluster.render(dir, InstallTest.REGISTRY, InstallTest.TAG));
        try (MockCluster mock = new MockCluster()) {
            mock.applyRelease(dir);
            OperatorOptions options = new OperatorOptions(MockCluster.NS, InstallTest.REGISTRY, InstallTest.TAG,
                    Duration.ofMinutes(5), Duration.ofDays(100), Duration.ofDays(10));
            Instant t0 = Instant.parse("2026-12-01T00:00:00Z");
            for (Instant t : List.of(t0, t0.plus(Duration.ofDays(85)))) {
                new KubeVirtReconciler(mock.client, options, Templates.fromClassPath(), java.time.Clock.fixed(t, java.time.ZoneOffset.UTC))
                        .reconcile(MockCluster.NS, "kubevirt");
            }
            String bundle = InstallTest.secret(mock, Certificates.CA_SECRET, Certificates.BUNDLE_KEY);
            assertEquals(2, Pki.certificates(bundle).size(), "the next CA joined the bundle");
            String encoded = java.util.Base64.getEncoder().encodeToString(bundle.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            List<String> caBundles = new ArrayList<>();
            for (ManagedKind k : List.of(ManagedKind.API_SERVICE, ManagedKind.VALIDATING_WEBHOOK, ManagedKind.MUTATING_WEBHOOK)) {
                for (var o : mock.client.genericKubernetesResources(k.context()).list().getItems()) {
                    var tree = io.qvirt.api.KubevirtJson.toTree(o);
                    if (k == ManagedKind.API_SERVICE) {
                        caBundles.add(tree.at("/spec/caBundle").asText());
                    } else {
                        tree.path("webhooks").forEach(w -> caBundles.add(w.at("/clientConfig/caBundle").asText()));
                    }
                }
            }
            assertTrue(caBundles.size() >= 6, "APIServices and webhooks: " + caBundles.size());
            for (String b : caBundles) {
                assertEquals(encoded, b);
            }
        }
    }

    @Test
    void anExpiredCaIsReplacedAtOnce() throws Exception {
        try (MockCluster mock = new MockCluster()) {
            mock.client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName("kubevirt").endMetadata().build()).create();
            Certificates certs = new Certificates(mock.client, "kubevirt", Duration.ofDays(100), Duration.ofDays(10));
            Instant t0 = Instant.parse("2026-12-01T00:00:00Z");
            Map<String, String> labels = Map.of(InstallStrategy.MANAGED_BY_LABEL, InstallStrategy.MANAGED_BY);
            String ca = certs.ensure(List.of(), labels, Map.of(), t0);
            // The operator was away past the CA's end: nobody may trust it any more, so there is nothing to overlap with.
            String ca2 = certs.ensure(List.of(), labels, Map.of(), t0.plus(Duration.ofDays(101)));
            assertNotEquals(ca, ca2);
            assertEquals(1, Pki.certificates(ca2).size());
            cert(mock, Certificates.HANDLER_SECRET, "tls.crt").verify(Pki.parseCertificate(ca2).getPublicKey());
        }
    }
}
