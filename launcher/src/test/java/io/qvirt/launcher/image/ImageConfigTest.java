package io.qvirt.launcher.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** --image-config, --registry-config (Docker config.json), --registry-mirror, --insecure-registry. */
class ImageConfigTest {
    @TempDir
    Path tmp;

    @Test
    void yamlConfigWithRelativePaths() throws Exception {
        Path f = tmp.resolve("images.yaml");
        Files.writeString(f, """
                mirrors:
                  quay.io: 127.0.0.1:5000
                  index.docker.io: mirror.local:5001
                insecure: [127.0.0.1:5000, mirror.local]
                registryConfig: auth/config.json
                cacheDir: /srv/images
                """);
        ImageConfig c = ImageConfig.load(f, "--image-config");
        assertEquals(Map.of("quay.io", "127.0.0.1:5000", "docker.io", "mirror.local:5001"), c.mirrors());
        assertEquals(List.of("127.0.0.1:5000", "mirror.local"), c.insecure());
        assertEquals(tmp.resolve("auth/config.json"), c.registryConfig());
        assertEquals(Path.of("/srv/images"), c.cacheDir());
    }

    @Test
    void jsonConfigAndEmptyFile() throws Exception {
        Path f = tmp.resolve("images.json");
        Files.writeString(f, "{\"insecure\": [\"localhost:5000\"]}");
        ImageConfig c = ImageConfig.load(f, "--image-config");
        assertEquals(List.of("localhost:5000"), c.insecure());
        assertNull(c.cacheDir());
        Path empty = tmp.resolve("empty.yaml");
        Files.writeString(empty, "");
        assertEquals(ImageConfig.EMPTY, ImageConfig.load(empty, "--image-config"));
    }

    @Test
    void badConfigsNameFileAndKey() throws Exception {
        Path f = tmp.resolve("bad.yaml");
        Files.writeString(f, "mirror: {quay.io: x}\n");
        String m = assertThrows(IllegalArgumentException.class, () -> ImageConfig.load(f, "--image-config")).getMessage();
        assertTrue(m.startsWith("--image-config: " + f + ": unknown key 'mirror'"), m);
        assertTrue(m.contains("cacheDir, insecure, mirrors, registryConfig"), m);
        Files.writeString(f, "mirrors: {quay.io: 'http://x/y'}\n");
        m = assertThrows(IllegalArgumentException.class, () -> ImageConfig.load(f, "--image-config")).getMessage();
        assertTrue(m.contains("mirrors") && m.contains("HOST[:PORT]"), m);
        Files.writeString(f, "insecure: 127.0.0.1:5000\n");
        m = assertThrows(IllegalArgumentException.class, () -> ImageConfig.load(f, "--image-config")).getMessage();
        assertTrue(m.contains("insecure must be a list"), m);
        Files.writeString(f, "[1, 2\n");
        m = assertThrows(IllegalArgumentException.class, () -> ImageConfig.load(f, "--image-config")).getMessage();
        assertTrue(m.startsWith("--image-config: cannot read " + f), m);
    }

    @Test
    void mirrorAndInsecureFlags() {
        assertEquals(Map.entry("quay.io", "127.0.0.1:5000"), RegistryOptions.parseMirror("--registry-mirror", "quay.io=127.0.0.1:5000"));
        assertEquals(Map.entry("docker.io", "m:1"), RegistryOptions.parseMirror("--registry-mirror", "registry-1.docker.io=m:1"));
        for (String bad : List.of("quay.io", "=x", "quay.io=", "quay.io=https://x", "a=b:70000")) {
            String m = assertThrows(IllegalArgumentException.class, () -> RegistryOptions.parseMirror("--registry-mirror", bad)).getMessage();
            assertTrue(m.startsWith("--registry-mirror: "), m);
        }
        assertEquals("127.0.0.1:5000", RegistryOptions.parseHost("--insecure-registry", "127.0.0.1:5000"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> RegistryOptions.parseHost("--insecure-registry", "http://x"))
                .getMessage().contains("--insecure-registry: 'http://x' is not allowed: HOST[:PORT]"));
    }

    @Test
    void endpointsAndInsecurity() {
        RegistryOptions o = new RegistryOptions(Map.of("quay.io", "127.0.0.1:5000"), Set.of("127.0.0.1:5000", "plain"),
                DockerConfig.EMPTY, RegistryOptions.DEFAULTS.connectTimeout(), RegistryOptions.DEFAULTS.requestTimeout(),
                RegistryOptions.DEFAULTS.stallTimeout());
        assertEquals("127.0.0.1:5000", o.endpoint("quay.io"));
        assertEquals("registry-1.docker.io", o.endpoint("docker.io"));
        assertEquals("ghcr.io", o.endpoint("ghcr.io"));
        assertTrue(o.isInsecure("127.0.0.1:5000"));
        assertFalse(o.isInsecure("127.0.0.1:5001"), "only the port named");
        assertFalse(o.isInsecure("localhost:5000"), "nothing is implicitly insecure");
        assertTrue(o.isInsecure("plain:8080"), "a host without port: every port");
        assertFalse(RegistryOptions.DEFAULTS.isInsecure("127.0.0.1:5000"));
    }

    @Test
    void dockerConfigAuthAndUsernamePassword() throws Exception {
        Path f = tmp.resolve("config.json");
        String auth = Base64.getEncoder().encodeToString("alice:s3cr:et".getBytes(StandardCharsets.UTF_8));
        Files.writeString(f, "{\"auths\": {"
                + "\"https://index.docker.io/v1/\": {\"auth\": \"" + auth + "\"},"
                + "\"127.0.0.1:5000\": {\"username\": \"bob\", \"password\": \"pw\"},"
                + "\"helper.example\": {\"identitytoken\": \"x\"}},"
                + "\"credsStore\": \"desktop\"}");
        DockerConfig c = DockerConfig.load(f, "--registry-config");
        assertEquals(new DockerConfig.Credentials("alice", "s3cr:et"), c.lookup("docker.io"));
        assertEquals(new DockerConfig.Credentials("alice", "s3cr:et"), c.lookup("registry-1.docker.io"));
        assertEquals(new DockerConfig.Credentials("bob", "pw"), c.lookup("127.0.0.1:5000"));
        assertNull(c.lookup("127.0.0.1:5001"));
        assertNull(c.lookup("helper.example"));
        assertFalse(c.lookup("docker.io").toString().contains("s3cr"), "toString hides the password");
    }

    @Test
    void badDockerConfigNamesEntry() throws Exception {
        Path f = tmp.resolve("config.json");
        Files.writeString(f, "{\"auths\": {\"r.io\": {\"auth\": \"!!!\"}}}");
        String m = assertThrows(IllegalArgumentException.class, () -> DockerConfig.load(f, "--registry-config")).getMessage();
        assertTrue(m.startsWith("--registry-config: " + f + ": auths.r.io.auth: not base64"), m);
        Files.writeString(f, "{\"auths\": {\"r.io\": {\"auth\": \"" + Base64.getEncoder().encodeToString("nocolon".getBytes()) + "\"}}}");
        m = assertThrows(IllegalArgumentException.class, () -> DockerConfig.load(f, "--registry-config")).getMessage();
        assertTrue(m.contains("user:password"), m);
        Files.writeString(f, "not json");
        m = assertThrows(IllegalArgumentException.class, () -> DockerConfig.load(f, "--registry-config")).getMessage();
        assertTrue(m.startsWith("--registry-config: cannot read " + f + " as JSON"), m);
    }
}
