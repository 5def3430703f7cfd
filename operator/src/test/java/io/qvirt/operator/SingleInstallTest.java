package io.qvirt.operator;

import static io.qvirt.operator.MockCluster.NS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.Test;

/**
 * One install per cluster: a second KubeVirt CR is refused by the operator's webhook (KubeVirt's message) and, if it
 * gets in anyway, reported in its status and never installed; of two operator replicas one leads (a Lease) and works.
 */
class SingleInstallTest {
    @Test
    void aSecondKubeVirtIsRefusedAndReportedNeverInstalled() throws Exception {
        try (InstalledCluster c = new InstalledCluster();
             WebhookServer webhooks = new WebhookServer(c.mock.newClient("webhook"), NS, 0, Duration.ofMillis(200))) {
            KubernetesClient client = c.mock.client;
            // The webhook over HTTPS, with the certificate the operator made, trusted through the install's CA.
            X509Certificate ca = Pki.parseCertificate(InstallTest.secret(c.mock, Certificates.CA_SECRET, "tls.crt"));
            MockCluster.await(Duration.ofSeconds(10), "the webhook serving the operator's certificate",
                    () -> webhooks.certificate().getIssuerX500Principal().equals(ca.getSubjectX500Principal()));
            var trust = java.security.KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            trust.setCertificateEntry("ca", ca);
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            SSLContext tls = SSLContext.getInstance("TLS");
            tls.init(null, tmf.getTrustManagers(), new SecureRandom());
            String review = """
                    {"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u-2","operation":"CREATE",
                     "namespace":"other","name":"kubevirt2","object":{"apiVersion":"kubevirt.io/v1","kind":"KubeVirt"}}}""";
            String[] r = request(tls, webhooks.port(), "POST", KubeVirtAdmitter.CREATE_PATH, review);
            assertEquals("200", r[0], r[1]);
            var answer = io.qvirt.api.KubevirtJson.json().readTree(r[1]);
            assertEquals("u-2", answer.at("/response/uid").asText());
            assertEquals(false, answer.at("/response/allowed").asBoolean());
            assertEquals(KubeVirtAdmitter.ALREADY_CREATED, answer.at("/response/status/message").asText());
            assertEquals("200", request(tls, webhooks.port(), "GET", "/healthz", "")[0]);
            assertEquals("400", request(tls, webhooks.port(), "POST", KubeVirtAdmitter.CREATE_PATH, "{\"kind\":\"nothing\"}")[0]);

            // Past the webhook (the mock runs none): reported, and nothing installed for it.
            client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName("other").endMetadata().build()).create();
            KubeVirt second = new KubeVirt();
            second.getMetadata().setName("kubevirt2");
            second.getMetadata().setNamespace("other");
            second.setSpec(new KubeVirtSpec());
            second.getSpec().setImageTag("v9.9.9");
            client.resources(KubeVirt.class).inNamespace("other").resource(second).create();
            MockCluster.await(Duration.ofSeconds(30), "the second CR reported", () -> {
                KubeVirt kv = client.resources(KubeVirt.class).inNamespace("other").withName("kubevirt2").get();
                return InstallTest.is(kv, "Synchronized", "False");
            });
            KubeVirt kv = client.resources(KubeVirt.class).inNamespace("other").withName("kubevirt2").get();
            assertEquals("ExistingDeployment", InstallTest.condition(kv, "Synchronized").getReason());
            assertEquals(KubeVirtReconciler.EXISTING_DEPLOYMENT, InstallTest.condition(kv, "Synchronized").getMessage());
            assertNull(kv.getStatus().getPhase());
            assertTrue(kv.getMetadata().getFinalizers() == null || kv.getMetadata().getFinalizers().isEmpty());
            Thread.sleep(500);
            assertTrue(client.apps().deployments().inNamespace(NS).withName("virt-api").get().getSpec().getTemplate().getSpec()
                    .getContainers().get(0).getImage().endsWith(":" + InstallTest.TAG), "the first CR's install untouched");
            assertEquals(KubeVirtStatus.DEPLOYED, InstallTest.phase(c.cr()));
        }
    }

    /**
     * Sends {@code method path} with {@code body} over TLS to 127.0.0.1:{@code port}, verifying the server's certificate against the CA and the
     * name kube-apiserver would use, {@code kubevirt-operator-webhook.kubevirt.svc}; returns the status code and body.
     */
    static String[] request(SSLContext tls, int port, String method, String path, String body) throws Exception {
        String host = "kubevirt-operator-webhook.kubevirt.svc";
        try (java.net.Socket plain = new java.net.Socket("127.0.0.1", port);
             javax.net.ssl.SSLSocket s = (javax.net.ssl.SSLSocket) tls.getSocketFactory().createSocket(plain, host, port, true)) {
            var params = s.getSSLParameters();
            params.setEndpointIdentificationAlgorithm("HTTPS");
            s.setSSLParameters(params);
            byte[] bytes = body.getBytes(java.nio.charset.StandardCharsets.UTF_8);
            s.getOutputStream().write((method + " " + path + " HTTP/1.1\r\nHost: " + host + "\r\nContent-Type: application/json\r\n"
                    + "Content-Length: " + bytes.length + "\r\nConnection: close\r\n\r\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            s.getOutputStream().write(bytes);
            s.getOutputStream().flush();
            String response = new String(s.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            return new String[] {response.split(" ", 3)[1], response.substring(response.indexOf("\r\n\r\n") + 4)};
        }
    }

    @Test
    void twoReplicasOneLeader() throws Exception {
        java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("qvirt-operator-test");
        try (MockCluster mock = new MockCluster()) {
            org.junit.jupiter.api.Assertions.assertEquals(0, MockCluster.render(dir, InstallTest.REGISTRY, InstallTest.TAG));
            mock.applyRelease(dir);
            Operator a = new Operator(mock.newClient("operator-a"), InstallTest.options());
            Operator b = new Operator(mock.newClient("operator-b"), InstallTest.options());
            FakeCrdEstablisher crds = new FakeCrdEstablisher(mock.client).start();
            try {
                a.startLeaderElection("replica-a", Duration.ofSeconds(3), () -> { });
                MockCluster.await(Duration.ofSeconds(15), "replica-a leads", a::isLeader);
                b.startLeaderElection("replica-b", Duration.ofSeconds(3), () -> { });
                MockCluster.await(Duration.ofSeconds(30), "an install by the leader",
                        () -> mock.client.apps().daemonSets().inNamespace(NS).withName("virt-handler").get() != null);
                Thread.sleep(1500); // several of b's retry periods
                assertTrue(a.isLeader());
                assertTrue(!b.isLeader());
                assertEquals(0, b.passes(), "the standby reconciles nothing");
                Lease lease = mock.client.leases().inNamespace(NS).withName("virt-operator").get();
                assertEquals("replica-a", lease.getSpec().getHolderIdentity());

                a.close(); // releases the Lease
                MockCluster.await(Duration.ofSeconds(20), "replica-b takes over", b::isLeader);
                mock.client.apps().deployments().inNamespace(NS).withName("virt-api").delete();
                MockCluster.await(Duration.ofSeconds(30), "the new leader repairs",
                        () -> mock.client.apps().deployments().inNamespace(NS).withName("virt-api").get() != null);
                assertTrue(b.passes() > 0);
                assertNotNull(mock.client.leases().inNamespace(NS).withName("virt-operator").get());
                assertEquals("replica-b", mock.client.leases().inNamespace(NS).withName("virt-operator").get()
                        .getSpec().getHolderIdentity());
            } finally {
                a.close();
                b.close();
                crds.close();
                try (var files = java.nio.file.Files.walk(dir)) {
                    files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
                }
            }
        }
    }

}
