package io.qvirt.launcher.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A registry over HTTPS (a {@link FakeRegistryPeer} with a certificate made by the JDK's keytool for
 * 127.0.0.1): TLS is verified unless the registry is named insecure, and neither a token realm nor a
 * redirect can move a pull from HTTPS to plain HTTP.
 */
class TlsRegistryTest {
    @TempDir
    static Path dir;

    static SSLContext serverTls;
    static SSLContext clientTls;

    FakeRegistryPeer registry;
    FakeRegistryPeer plain;

    @BeforeAll
    static void certificate() throws Exception {
        Path ks = dir.resolve("registry.p12");
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                "-genkeypair", "-keyalg", "EC", "-groupname", "secp256r1", "-alias", "registry", "-dname", "CN=127.0.0.1",
                "-ext", "san=ip:127.0.0.1", "-validity", "2", "-storetype", "PKCS12", "-keystore", ks.toString(),
                "-storepass", "changeit", "-keypass", "changeit").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0, "keytool: " + out);
        KeyStore keys = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(ks)) {
            keys.load(in, "changeit".toCharArray());
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(keys, "changeit".toCharArray());
        serverTls = SSLContext.getInstance("TLS");
        serverTls.init(kmf.getKeyManagers(), null, null);
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("registry", keys.getCertificate("registry"));
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        clientTls = SSLContext.getInstance("TLS");
        clientTls.init(null, tmf.getTrustManagers(), null);
    }

    @BeforeEach
    void start() throws Exception {
        registry = new FakeRegistryPeer(serverTls);
        plain = new FakeRegistryPeer();
        registry.image("t/img", "v1", FakeRegistryPeer.layer(Map.of("disk/disk.img", new byte[512])));
    }

    @AfterEach
    void stop() {
        registry.close();
        plain.close();
    }

    /** The HTTPS registry is not named insecure; the plain one is (it is only ever a realm or a redirect target). */
    private RegistryOptions opts() {
        return new RegistryOptions(Map.of(), Set.of(plain.hostPort()), DockerConfig.EMPTY, Duration.ofSeconds(5),
                Duration.ofSeconds(10), Duration.ofSeconds(10));
    }

    private ImageReference ref() {
        return ImageReference.parse(registry.hostPort() + "/t/img:v1");
    }

    @Test
    void tlsIsVerified() {
        // the JDK's trust store does not know the registry's certificate: no pull
        String m = assertThrows(ImageException.Unreachable.class, () -> new RegistryClient(opts()).manifest(ref()))
                .getMessage();
        assertTrue(m.contains("TLS failed"), m);
        // trusted, the same registry serves the image
        assertEquals(1, new RegistryClient(opts(), clientTls).manifest(ref()).layers().size());
    }

    @Test
    void aPlainHttpTokenRealmIsRefused() {
        plain.routes.put("/token", new FakeRegistryPeer.Reply(200, Map.of(), "{\"token\":\"t\"}".getBytes(StandardCharsets.UTF_8)));
        registry.challenge = "Bearer realm=\"http://" + plain.hostPort() + "/token\",service=\"fake\"";
        registry.requireAuthorization = "Bearer t";
        String m = assertThrows(ImageException.Protocol.class, () -> new RegistryClient(opts(), clientTls).manifest(ref()))
                .getMessage();
        assertTrue(m.contains("token realm http://" + plain.hostPort() + " refused: the registry speaks HTTPS and HTTPS is "
                + "never downgraded"), m);
        assertEquals(List.of(), plain.requests, "the plain host was never asked");
    }

    @Test
    void aRedirectToPlainHttpIsRefused() {
        Manifest good = new RegistryClient(opts(), clientTls).manifest(ref());
        Descriptor layer = good.layers().get(0);
        registry.routes.put("/v2/t/img/blobs/" + layer.digest(), new FakeRegistryPeer.Reply(307, Map.of("Location",
                "http://" + plain.hostPort() + "/blob"), new byte[0]));
        Path dest = dir.resolve("blob-" + System.nanoTime());
        String m = assertThrows(ImageException.Protocol.class, () -> new RegistryClient(opts(), clientTls).blob(ref(), layer,
                dest, null)).getMessage();
        assertTrue(m.contains("a redirect from HTTPS to http://" + plain.hostPort() + " refused: HTTPS is never downgraded"), m);
        assertEquals(List.of(), plain.requests);
        assertTrue(Files.notExists(dest));
    }
}
