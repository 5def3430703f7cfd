package io.qvirt.launcher.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qvirt.launcher.image.FakeRegistryPeer.TarEntry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Hostile images and registries, served by a {@link FakeRegistryPeer} (FAKE: fast, and able to say what no real
 * registry says): path traversal, link escapes, whiteouts out of their directory, a gzip bomb, a layer larger
 * than the cache, an oversized manifest, a blob longer than declared, a token realm on another host, a redirect
 * to another host. {@link HostileRegistryIT} builds the same images for real and pushes them with skopeo to a
 * real registry; only the manifest over 4 MiB (a real registry refuses to store one) and 257 layers are here
 * alone.
 */
class HostileImageTest {
    private static final byte[] QCOW2 = qcow2Like();

    @TempDir
    Path tmp;

    FakeRegistryPeer peer;
    FakeRegistryPeer other;

    @BeforeEach
    void start() throws Exception {
        peer = new FakeRegistryPeer();
        other = new FakeRegistryPeer();
    }

    @AfterEach
    void stop() {
        peer.close();
        other.close();
    }

    private RegistryOptions opts(DockerConfig creds) {
        return new RegistryOptions(Map.of(), Set.of(peer.hostPort(), other.hostPort()), creds, Duration.ofSeconds(5),
                Duration.ofSeconds(10), Duration.ofSeconds(10));
    }

    private ImageStore store(long maxLayerBytes) {
        return new ImageStore(tmp.resolve("cache"), new RegistryClient(opts(DockerConfig.EMPTY)), null, maxLayerBytes);
    }

    private String image(String repo) {
        return peer.hostPort() + "/" + repo + ":v1";
    }

    /** The image's disk, expecting the refusal. */
    private ImageException.Unsafe refusedDisk(String repo, List<TarEntry> entries) {
        peer.image(repo, "v1", FakeRegistryPeer.layerOf(entries));
        ImageStore s = store(0);
        ImageStore.Image img = s.resolve(image(repo), PullPolicy.IF_NOT_PRESENT);
        return assertThrows(ImageException.Unsafe.class, () -> s.disk(img, null));
    }

    private void nothingKept() throws Exception {
        try (Stream<Path> imgs = Files.list(tmp.resolve("cache/images/sha256"))) {
            assertEquals(List.of(), imgs.toList(), "nothing taken out of a refused image");
        }
        try (Stream<Path> left = Files.list(tmp.resolve("cache/tmp"))) {
            assertEquals(List.of(), left.toList(), "no work files left");
        }
        try (Stream<Path> all = Files.walk(tmp)) {
            assertEquals(List.of(), all.filter(p -> p.getFileName().toString().startsWith("pwned")).toList());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"../../../../pwned", "/../../pwned", "./disk/../../pwned", "disk/../../../pwned"})
    void pathTraversalIsRefusedNamingTheEntry(String name) throws Exception {
        ImageException.Unsafe e = refusedDisk("t/traversal", List.of(TarEntry.file("disk/disk.qcow2", QCOW2),
                TarEntry.file(name, "x".getBytes(StandardCharsets.UTF_8))));
        assertTrue(e.getMessage().contains("entry '" + name + "': its path leaves the image; the image is refused"),
                e.getMessage());
        assertTrue(e.getMessage().startsWith("image " + image("t/traversal") + " (registry " + peer.hostPort() + "): layer sha256:"),
                e.getMessage());
        nothingKept();
    }

    @Test
    void symbolicLinkEscapeIsRefused() throws Exception {
        ImageException.Unsafe e = refusedDisk("t/symlink", List.of(
                TarEntry.symlink("disk/disk.qcow2", "../../../../etc/shadow")));
        assertTrue(e.getMessage().contains("entry 'disk/disk.qcow2': a symbolic link to '../../../../etc/shadow', outside "
                + "the image"), e.getMessage());
        nothingKept();
        // a link that stays inside, and an absolute one (resolved in the image's own root), are no reason to refuse
        peer.image("t/links", "v1", FakeRegistryPeer.layerOf(List.of(TarEntry.symlink("etc/localtime",
                "/usr/share/zoneinfo/UTC"), TarEntry.symlink("boot/vmlinuz", "../usr/lib/vmlinuz"),
                TarEntry.file("disk/disk.qcow2", QCOW2))));
        ImageStore s = store(0);
        ImageStore.Disk d = s.disk(s.resolve(image("t/links"), PullPolicy.IF_NOT_PRESENT), null);
        assertArrayEquals(QCOW2, Files.readAllBytes(d.path()));
    }

    @Test
    void hardLinkEscapeIsRefused() throws Exception {
        ImageException.Unsafe e = refusedDisk("t/hardlink", List.of(TarEntry.file("disk/disk.qcow2", QCOW2),
                TarEntry.hardlink("disk/other", "../../etc/shadow")));
        assertTrue(e.getMessage().contains("entry 'disk/other': a hard link to '../../etc/shadow', outside the image"),
                e.getMessage());
        nothingKept();
    }

    @Test
    void whiteoutOutsideItsDirectoryIsRefused() throws Exception {
        ImageException.Unsafe e = refusedDisk("t/whiteout", List.of(TarEntry.file("disk/disk.qcow2", QCOW2),
                TarEntry.file("disk/.wh...", new byte[0])));
        assertTrue(e.getMessage().contains("entry 'disk/.wh...': a whiteout of '..', which is not a file of its directory"),
                e.getMessage());
        nothingKept();
    }

    @Test
    void gzipBombFailsCleanlyAtTheLimit() throws Exception {
        long size = 256L << 20;
        byte[] bomb = FakeRegistryPeer.zeroLayer("disk/disk.img", size);
        assertTrue(bomb.length < size / 500, "compressed " + bomb.length);
        peer.image("t/bomb", "v1", bomb);
        ImageStore s = store(16 << 20);
        ImageStore.Image img = s.resolve(image("t/bomb"), PullPolicy.IF_NOT_PRESENT);
        long t0 = System.nanoTime();
        String m = assertThrows(ImageException.Unsafe.class, () -> s.disk(img, null)).getMessage();
        assertTrue((System.nanoTime() - t0) / 1e9 < 10, "stopped early");
        assertTrue(m.contains("layer " + FakeRegistryPeer.digest(bomb) + " decompresses to more than 16777216 bytes (the "
                + "configured limit); refused"), m);
        nothingKept();
        // under the limit the same kind of layer is fine
        peer.image("t/small", "v1", FakeRegistryPeer.zeroLayer("disk/disk.img", 1 << 20));
        ImageStore.Disk d = s.disk(s.resolve(image("t/small"), PullPolicy.IF_NOT_PRESENT), null);
        assertEquals(1 << 20, Files.size(d.path()));
    }

    @Test
    void theDefaultLimitIsTheCachesFreeSpace() throws Exception {
        // a layer declaring more than the file system can hold is not even downloaded
        String d = "sha256:" + "a".repeat(64);
        byte[] m = ("{\"schemaVersion\":2,\"mediaType\":\"" + Manifest.OCI_MANIFEST + "\",\"config\":{\"mediaType\":"
                + "\"application/vnd.oci.image.config.v1+json\",\"digest\":\"" + d + "\",\"size\":2},\"layers\":[{"
                + "\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"" + d + "\",\"size\":"
                + (1L << 60) + "}]}").getBytes(StandardCharsets.UTF_8);
        peer.routes.put("/v2/t/huge/manifests/v1", new FakeRegistryPeer.Reply(200, Map.of("Content-Type",
                Manifest.OCI_MANIFEST), m));
        ImageStore s = store(0);
        ImageStore.Image img = s.resolve(image("t/huge"), PullPolicy.IF_NOT_PRESENT);
        String msg = assertThrows(ImageException.Unsafe.class, () -> s.disk(img, null)).getMessage();
        assertTrue(msg.contains("layer " + d + " declares " + (1L << 60) + " bytes, more than ") && msg.contains(
                "the free space of the cache's file system; set " + ImageStore.MAX_LAYER_ENV), msg);
        assertTrue(peer.requests.stream().noneMatch(r -> r.contains("/blobs/")), peer.requests.toString());
    }

    @Test
    void blobDownloadStopsAtTheDeclaredSize() throws Exception {
        byte[] layer = FakeRegistryPeer.layer(Map.of("disk/disk.qcow2", QCOW2));
        peer.image("t/liar", "v1", layer);
        byte[] huge = new byte[64 << 20];
        System.arraycopy(layer, 0, huge, 0, layer.length);
        peer.blob("t/liar", FakeRegistryPeer.digest(layer), huge);
        ImageStore s = store(0);
        ImageStore.Image img = s.resolve(image("t/liar"), PullPolicy.IF_NOT_PRESENT);
        String m = assertThrows(ImageException.DigestMismatch.class, () -> s.disk(img, null)).getMessage();
        assertTrue(m.contains("sent more than the " + layer.length + " bytes its manifest declares (stopped after ")
                && m.contains("nothing kept"), m);
        nothingKept();
    }

    @Test
    void oversizedManifestsAndTooManyLayersAreRefused() {
        byte[] big = new byte[(4 << 20) + 1];
        java.util.Arrays.fill(big, (byte) ' ');
        peer.routes.put("/v2/t/big/manifests/v1", new FakeRegistryPeer.Reply(200, Map.of(), big));
        ImageStore s = store(0);
        String m = assertThrows(ImageException.Protocol.class, () -> s.resolve(image("t/big"), PullPolicy.ALWAYS))
                .getMessage();
        assertTrue(m.contains("manifest v1 is larger than 4 MiB"), m);
        // an index is a manifest document too: the same bound for the child it points to
        String childDigest = FakeRegistryPeer.digest(big);
        byte[] index = ("{\"schemaVersion\":2,\"mediaType\":\"" + Manifest.OCI_INDEX + "\",\"manifests\":[{\"mediaType\":\""
                + Manifest.OCI_MANIFEST + "\",\"digest\":\"" + childDigest + "\",\"size\":" + big.length
                + ",\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}}]}").getBytes(StandardCharsets.UTF_8);
        peer.routes.put("/v2/t/index/manifests/v1", new FakeRegistryPeer.Reply(200, Map.of(), index));
        peer.routes.put("/v2/t/index/manifests/" + childDigest, new FakeRegistryPeer.Reply(200, Map.of(), big));
        m = assertThrows(ImageException.Protocol.class, () -> s.resolve(image("t/index"), PullPolicy.ALWAYS)).getMessage();
        assertTrue(m.contains("manifest " + childDigest + " is larger than 4 MiB"), m);

        List<byte[]> layers = new ArrayList<>();
        for (int i = 0; i < Manifest.MAX_LAYERS + 1; i++) {
            layers.add(FakeRegistryPeer.layer(Map.of("f" + i, new byte[1])));
        }
        peer.image("t/layers", "v1", layers.toArray(new byte[0][]));
        m = assertThrows(ImageException.Protocol.class, () -> s.resolve(image("t/layers"), PullPolicy.ALWAYS)).getMessage();
        assertTrue(m.contains("257 layers; at most 256"), m);
    }

    @Test
    void aTokenRealmOnAnotherHostNeverGetsTheRegistrysCredentials() throws Exception {
        peer.image("t/auth", "v1", FakeRegistryPeer.layer(Map.of("disk/disk.qcow2", QCOW2)));
        other.routes.put("/token", new FakeRegistryPeer.Reply(200, Map.of(),
                "{\"token\":\"tok-anon\"}".getBytes(StandardCharsets.UTF_8)));
        peer.challenge = "Bearer realm=\"http://" + other.hostPort() + "/token\",service=\"fake\"";
        peer.requireAuthorization = "Bearer tok-anon";
        Path cfg = tmp.resolve("config.json");
        Files.writeString(cfg, "{\"auths\":{\"" + peer.hostPort() + "\":{\"username\":\"u\",\"password\":\"secret\"}}}");
        RegistryClient c = new RegistryClient(opts(DockerConfig.load(cfg, "--registry-config")));
        Manifest m = c.manifest(ImageReference.parse(image("t/auth")));
        assertEquals(1, m.layers().size());
        assertEquals(List.of("null"), other.authorizations, "the other host got no credentials");
        assertTrue(peer.authorizations.stream().noneMatch(a -> a.startsWith("Basic")), peer.authorizations.toString());

        // refused anonymously, the message says why the credentials were kept back
        other.routes.put("/token", new FakeRegistryPeer.Reply(401, Map.of(), new byte[0]));
        RegistryClient c2 = new RegistryClient(opts(DockerConfig.load(cfg, "--registry-config")));
        String msg = assertThrows(ImageException.AuthRefused.class, () -> c2.manifest(ImageReference.parse(image("t/auth"))))
                .getMessage();
        assertTrue(msg.contains("token service " + other.hostPort() + " refused anonymous access (HTTP 401); the "
                + "credentials for " + peer.hostPort() + " were not sent to it: it is another host"), msg);
        assertTrue(other.authorizations.stream().allMatch("null"::equals), other.authorizations.toString());

        // a realm the user names in the registry config gets that entry's credentials, not the registry's
        Files.writeString(cfg, "{\"auths\":{\"" + peer.hostPort() + "\":{\"username\":\"u\",\"password\":\"secret\"},\""
                + other.hostPort() + "\":{\"username\":\"tokenuser\",\"password\":\"tp\"}}}");
        other.routes.put("/token", new FakeRegistryPeer.Reply(200, Map.of(),
                "{\"token\":\"tok-anon\"}".getBytes(StandardCharsets.UTF_8)));
        other.authorizations.clear();
        new RegistryClient(opts(DockerConfig.load(cfg, "--registry-config"))).manifest(ImageReference.parse(image("t/auth")));
        assertEquals(List.of("Basic " + Base64.getEncoder().encodeToString("tokenuser:tp".getBytes(StandardCharsets.UTF_8))),
                other.authorizations);
    }

    @Test
    void aRedirectToAnotherHostCarriesNoCredentials() throws Exception {
        byte[] layer = FakeRegistryPeer.layer(Map.of("disk/disk.qcow2", QCOW2));
        peer.image("t/redir", "v1", layer);
        String digest = FakeRegistryPeer.digest(layer);
        String basic = "Basic " + Base64.getEncoder().encodeToString("u:secret".getBytes(StandardCharsets.UTF_8));
        peer.requireAuthorization = basic;
        peer.routes.put("/v2/t/redir/blobs/" + digest, new FakeRegistryPeer.Reply(307, Map.of("Location",
                "http://" + other.hostPort() + "/storage/" + digest.substring(7)), new byte[0]));
        other.routes.put("/storage/" + digest.substring(7), new FakeRegistryPeer.Reply(200, Map.of(), layer));
        Path cfg = tmp.resolve("config.json");
        Files.writeString(cfg, "{\"auths\":{\"" + peer.hostPort() + "\":{\"username\":\"u\",\"password\":\"secret\"}}}");
        ImageStore s = new ImageStore(tmp.resolve("cache"), new RegistryClient(opts(DockerConfig.load(cfg, "x"))), null, 0);
        ImageStore.Disk d = s.disk(s.resolve(image("t/redir"), PullPolicy.IF_NOT_PRESENT), null);
        assertArrayEquals(QCOW2, Files.readAllBytes(d.path()));
        assertTrue(peer.authorizations.contains(basic), "the registry itself got them: " + peer.authorizations);
        assertEquals(List.of("null"), other.authorizations, "the redirect target got none");
        assertFalse(other.requests.isEmpty());
    }

    @Test
    void climbsIsLexicalAndBoundedByTheRoot() {
        assertTrue(ImageStore.climbs("", "../x"));
        assertTrue(ImageStore.climbs("disk", "../../x"));
        assertTrue(ImageStore.climbs("", "a/../../x"));
        assertFalse(ImageStore.climbs("disk", "../boot/x"));
        assertFalse(ImageStore.climbs("", "a/./b/../c"));
    }

    private static byte[] qcow2Like() {
        byte[] b = new byte[1024];
        b[0] = 'Q';
        b[1] = 'F';
        b[2] = 'I';
        b[3] = (byte) 0xfb;
        return b;
    }
}
