package io.qvirt.apiserver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.qvirt.api.KubevirtJson;
import io.qvirt.api.VirtualMachine;
import io.qvirt.testdata.TestPki;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Who may: the aggregator's client certificate (CA, allowed name) before the identity headers, then a
 * SubjectAccessReview for the subresource; refusals are 401/403 and change nothing. Routing: discovery, version,
 * healthz and metrics; unknown paths 404, wrong methods 405, oversized bodies 413; the serving certificate reloaded.
 */
class AuthAndRoutingTest {
    @TempDir
    static Path dir;
    static Rig rig;

    @BeforeAll
    static void up() throws Exception {
        rig = new Rig(dir);
    }

    @AfterAll
    static void down() {
        if (rig != null) {
            rig.close();
        }
    }

    static String vm() throws Exception {
        SubresourcesTest.rig = rig;
        return SubresourcesTest.vm(false, null);
    }

    static String start(String vm) {
        return "/apis/subresources.kubevirt.io/v1/namespaces/default/virtualmachines/" + vm + "/start";
    }

    static Boolean running(String vm) {
        return rig.client.resources(VirtualMachine.class).inNamespace("default").withName(vm).get().getSpec().getRunning();
    }

    @Test
    void noCertificateAnotherCaOrAnotherNameIs401AndNothingChanges() throws Exception {
        String vm = vm();
        for (HttpClient c : List.of(rig.http(null, null), rig.http(rig.other, "front-proxy-client"), rig.http(rig.frontProxy, "intruder"))) {
            HttpResponse<String> r = rig.send(c, "PUT", start(vm), null, "alice");
            SubresourcesTest.assertRefused(r, 401, "request is not authenticated");
        }
        assertEquals(Boolean.FALSE, running(vm), "nothing changed");
        assertTrue(rig.reviews.stream().noneMatch(r -> r.name() != null && r.name().equals(vm)), "no review for an unauthenticated caller");
    }

    /**
     * An expired client certificate from the right CA, with the allowed name: 401, nothing changed. Issued here with
     * openssl ({@code -days -1}: notAfter a day before notBefore).
     */
    @Test
    void anExpiredFrontProxyCertificateIs401AndNothingChanges() throws Exception {
        Path d = rig.frontProxy.dir();
        Path ext = Files.writeString(d.resolve("expired.ext"), "basicConstraints=critical,CA:FALSE\n"
                + "keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n");
        openssl("req", "-new", "-newkey", "rsa:2048", "-nodes", "-sha256", "-keyout", rig.frontProxy.key("expired").toString(),
                "-out", d.resolve("expired.csr").toString(), "-subj", "/CN=front-proxy-client");
        openssl("x509", "-req", "-sha256", "-days", "-1", "-in", d.resolve("expired.csr").toString(),
                "-CA", rig.frontProxy.caCert().toString(), "-CAkey", rig.frontProxy.caKey().toString(), "-set_serial", "0x51",
                "-extfile", ext.toString(), "-out", rig.frontProxy.cert("expired").toString());
        X509Certificate expired = Pem.certificates(Files.readAllBytes(rig.frontProxy.cert("expired"))).get(0);
        assertTrue(expired.getNotAfter().before(new java.util.Date()), "the certificate is expired: " + expired.getNotAfter());

        String vm = vm();
        HttpResponse<String> r = rig.send(rig.http(rig.frontProxy, "expired"), "PUT", start(vm), null, "alice");
        SubresourcesTest.assertRefused(r, 401, "request is not authenticated");
        assertEquals(Boolean.FALSE, running(vm), "nothing changed");
        assertTrue(rig.reviews.stream().noneMatch(x -> x.name() != null && x.name().equals(vm)), "no review for an unauthenticated caller");
    }

    private static void openssl(String... args) throws Exception {
        List<String> cmd = new java.util.ArrayList<>(List.of("openssl"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS), "openssl ended");
        assertEquals(0, p.exitValue(), String.join(" ", cmd) + ": " + out);
    }

    @Test
    void identityHeadersAreRequired() throws Exception {
        String vm = vm();
        HttpResponse<String> r = rig.send(rig.aggregator(), "PUT", start(vm), null, null);
        SubresourcesTest.assertRefused(r, 401, "a valid user header is required for authorization");
        HttpRequest req = HttpRequest.newBuilder(URI.create(rig.base() + start(vm))).header("X-Remote-User", "alice")
                .PUT(HttpRequest.BodyPublishers.noBody()).build();
        SubresourcesTest.assertRefused(rig.aggregator().send(req, HttpResponse.BodyHandlers.ofString()), 401,
                "a valid group header is required for authorization");
        assertEquals(Boolean.FALSE, running(vm));
    }

    @Test
    void aDeniedReviewIs403AndTheReviewAsksForTheSubresource() throws Exception {
        String vm = vm();
        rig.deny.put("mallory", "virtualmachines/start");
        HttpResponse<String> r = rig.send(rig.aggregator(), "PUT", start(vm), null, "mallory");
        SubresourcesTest.assertRefused(r, 403, "virtualmachines.subresources.kubevirt.io \"" + vm + "\" is forbidden: User \"mallory\" "
                + "cannot update resource \"virtualmachines/start\" in API group \"subresources.kubevirt.io\" in the namespace "
                + "\"default\": denied by the test's rule");
        assertEquals(Boolean.FALSE, running(vm), "nothing changed");
        AccessReviewer.Request q = rig.reviews.stream().filter(x -> "mallory".equals(x.user())).findFirst().orElseThrow();
        assertEquals(List.of("default", "update", "subresources.kubevirt.io", "v1", "virtualmachines", "start", vm),
                List.of(q.namespace(), q.verb(), q.group(), q.version(), q.resource(), q.subresource(), q.name()));
        assertEquals(List.of("system:authenticated"), q.groups());
        // The same user may do what the rule does not name.
        assertEquals(202, rig.send(rig.aggregator(), "PUT", start(vm), null, "alice").statusCode());
        assertEquals(Boolean.TRUE, running(vm));
    }

    @Test
    void discoveryVersionAndHealthNeedNoCertificate() throws Exception {
        HttpClient anon = rig.http(null, null);
        HttpResponse<String> list = rig.send(anon, "GET", "/apis/subresources.kubevirt.io/v1", null, null);
        assertEquals(200, list.statusCode());
        JsonNode l = KubevirtJson.json().readTree(list.body());
        assertEquals("APIResourceList", l.path("kind").asText());
        assertEquals("subresources.kubevirt.io/v1", l.path("groupVersion").asText());
        assertTrue(list.body().contains("\"virtualmachines/start\""), list.body());
        assertTrue(list.body().contains("\"virtualmachineinstances/console\""), list.body());
        assertEquals("subresources.kubevirt.io/v1alpha3", KubevirtJson.json().readTree(
                rig.send(anon, "GET", "/apis/subresources.kubevirt.io/v1alpha3", null, null).body()).path("groupVersion").asText());
        assertEquals("APIGroup", KubevirtJson.json().readTree(rig.send(anon, "GET", "/apis/subresources.kubevirt.io", null, null).body())
                .path("kind").asText());
        HttpResponse<String> v = rig.send(anon, "GET", "/apis/subresources.kubevirt.io/v1/version", null, null);
        assertEquals(200, v.statusCode());
        assertTrue(KubevirtJson.json().readTree(v.body()).path("gitVersion").asText().startsWith("v"), v.body());
        assertEquals("ok", KubevirtJson.json().readTree(rig.send(anon, "GET", "/apis/subresources.kubevirt.io/v1/healthz", null, null).body())
                .path("apiserver").path("connectivity").asText());
        assertEquals("ok", rig.send(anon, "GET", "/healthz", null, null).body());
    }

    @Test
    void unknownPathsWrongMethodsAndBigBodies() throws Exception {
        String vm = vm();
        SubresourcesTest.assertRefused(rig.send(rig.aggregator(), "PUT",
                "/apis/subresources.kubevirt.io/v1/namespaces/default/virtualmachines/" + vm + "/explode", null, "alice"),
                404, "the server could not find the requested resource");
        SubresourcesTest.assertRefused(rig.send(rig.aggregator(), "GET", start(vm), null, "alice"), 405, "virtualmachines/start takes PUT");
        assertEquals(404, rig.send(rig.aggregator(), "GET", "/apis/other.io/v1", null, "alice").statusCode());
        assertEquals(405, rig.send(rig.aggregator(), "GET", "/virtualmachines-validate", null, null).statusCode());
        HttpResponse<String> big = rig.send(rig.aggregator(), "PUT", start(vm), "{\"x\":\"" + "a".repeat(2 << 20) + "\"}", "alice");
        assertEquals(413, big.statusCode());
        assertEquals(Boolean.FALSE, running(vm));
        HttpResponse<String> metrics = rig.send(rig.http(null, null), "GET", "/metrics", null, null);
        assertTrue(metrics.body().contains("virt_api_requests_total{route=\"virtualmachines/start\",code=\"405\"} "), metrics.body());
    }

    @Test
    void aNewServingCertificateIsUsedWithoutARestart() throws Exception {
        try (Rig own = new Rig(dir.resolve("reload"))) {
            rotate(own);
        }
    }

    private static void rotate(Rig rig) throws Exception {
        X509Certificate before = serverCert(rig);
        TestPki fresh = TestPki.open(dir.resolve("fresh"), "fresh-ca");
        fresh.server("virt-api", List.of("127.0.0.1"), List.of());
        Path cert = rig.serving.cert("virt-api");
        Path key = rig.serving.key("virt-api");
        // A key not matching the certificate keeps the old pair.
        Files.copy(fresh.key("virt-api"), key.resolveSibling("k.tmp"), StandardCopyOption.REPLACE_EXISTING);
        Files.move(key.resolveSibling("k.tmp"), key, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        Thread.sleep(6000);
        assertEquals(before, serverCert(rig), "a mismatched pair is not used");
        Files.copy(fresh.cert("virt-api"), cert.resolveSibling("c.tmp"), StandardCopyOption.REPLACE_EXISTING);
        Files.move(cert.resolveSibling("c.tmp"), cert, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        X509Certificate now = serverCert(rig);
        while (now.equals(before) && System.nanoTime() < deadline) {
            Thread.sleep(200);
            now = serverCert(rig);
        }
        assertNotEquals(before, now, "new connections get the new certificate");
        assertEquals("CN=fresh-ca", now.getIssuerX500Principal().getName());
    }

    /** The certificate virt-api presents now (any accepted: only read here). */
    private static X509Certificate serverCert(Rig rig) throws Exception {
        javax.net.ssl.SSLContext ctx = javax.net.ssl.SSLContext.getInstance("TLS");
        X509Certificate[] seen = new X509Certificate[1];
        ctx.init(null, new javax.net.ssl.TrustManager[] {new javax.net.ssl.X509TrustManager() {
            @Override
            public void checkClientTrusted(X509Certificate[] c, String a) {
            }

            @Override
            public void checkServerTrusted(X509Certificate[] c, String a) {
                seen[0] = c[0];
            }

            @Override
            public X509Certificate[] getAcceptedIssuers() {
                return new X509Certificate[0];
            }
        }}, null);
        try (SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket("127.0.0.1", rig.server.address().getPort())) {
            s.startHandshake();
        }
        return seen[0];
    }
}
