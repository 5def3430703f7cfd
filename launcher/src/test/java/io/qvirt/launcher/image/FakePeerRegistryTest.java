package io.qvirt.launcher.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qvirt.launcher.plan.ImageFormat;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The registry client and the cache against a {@link FakeRegistryPeer} (FAKE: only for tampered bytes,
 * garbage, stalls and a Bearer token service, which the real registry in ContainerDiskIT cannot produce).
 */
class FakePeerRegistryTest {
    private static final byte[] QCOW2 = qcow2Like();

    @TempDir
    Path tmp;

    FakeRegistryPeer peer;

    @BeforeEach
    void start() throws Exception {
        peer = new FakeRegistryPeer();
    }

    @AfterEach
    void stop() {
        peer.close();
    }

    private RegistryOptions opts(DockerConfig creds, Duration stall) {
        return new RegistryOptions(Map.of(), Set.of(peer.hostPort()), creds, Duration.ofSeconds(5), Duration.ofSeconds(10), stall);
    }

    private ImageStore store() {
        return new ImageStore(tmp.resolve("cache"), new RegistryClient(opts(DockerConfig.EMPTY, Duration.ofSeconds(10))), null);
    }

    private String image(String repo) {
        return peer.hostPort() + "/" + repo + ":v1";
    }

    @Test
    void tamperedBlobIsRefusedNamingDigestAndImageAndNothingIsKept() throws Exception {
        byte[] layer = FakeRegistryPeer.layer(Map.of("disk/disk.qcow2", QCOW2));
        peer.image("t/guest", "v1", layer);
        String digest = FakeRegistryPeer.digest(layer);
        byte[] evil = layer.clone();
        evil[evil.length / 2] ^= 1;
        peer.blob("t/guest", digest, evil);
        ImageStore s = store();
        ImageStore.Image img = s.resolve(image("t/guest"), PullPolicy.IF_NOT_PRESENT);
        ImageException.DigestMismatch e = assertThrows(ImageException.DigestMismatch.class, () -> s.disk(img, null));
        assertEquals(digest, e.digest());
        assertTrue(e.getMessage().contains("image " + image("t/guest")) && e.getMessage().contains("blob " + digest), e.getMessage());
        assertFalse(Files.exists(tmp.resolve("cache/blobs/sha256").resolve(digest.substring(7))), "bad blob not kept");
        try (Stream<Path> left = Files.list(tmp.resolve("cache/tmp"))) {
            assertEquals(List.of(), left.toList(), "no work files left");
        }
        try (Stream<Path> imgs = Files.list(tmp.resolve("cache/images/sha256"))) {
            assertEquals(List.of(), imgs.toList(), "no disk extracted");
        }
    }

    @Test
    void blobLongerThanAnnouncedIsRefused() throws Exception {
        byte[] layer = FakeRegistryPeer.layer(Map.of("disk/disk.qcow2", QCOW2));
        peer.image("t/long", "v1", layer);
        byte[] longer = java.util.Arrays.copyOf(layer, layer.length + 100);
        peer.blob("t/long", FakeRegistryPeer.digest(layer), longer);
        ImageStore s = store();
        ImageStore.Image img = s.resolve(image("t/long"), PullPolicy.IF_NOT_PRESENT);
        String m = assertThrows(ImageException.DigestMismatch.class, () -> s.disk(img, null)).getMessage();
        assertTrue(m.contains("more than"), m);
    }

    @Test
    void manifestNotMatchingItsAnnouncedDigestOrGarbage() {
        peer.routes.put("/v2/t/x/manifests/v1", new FakeRegistryPeer.Reply(200, Map.of("Docker-Content-Digest",
                "sha256:" + "0".repeat(64)), "{\"schemaVersion\":2}".getBytes(StandardCharsets.UTF_8)));
        ImageStore s = store();
        String m = assertThrows(ImageException.DigestMismatch.class, () -> s.resolve(image("t/x"), PullPolicy.ALWAYS)).getMessage();
        assertTrue(m.contains("manifest v1 has digest sha256:") && m.contains("registry " + peer.hostPort()), m);
        peer.routes.put("/v2/t/y/manifests/v1", new FakeRegistryPeer.Reply(200, Map.of(), "<html>hi</html>".getBytes(StandardCharsets.UTF_8)));
        m = assertThrows(ImageException.Protocol.class, () -> s.resolve(image("t/y"), PullPolicy.ALWAYS)).getMessage();
        assertTrue(m.contains("bad manifest"), m);
        m = assertThrows(ImageException.NotFound.class, () -> s.resolve(image("t/none"), PullPolicy.ALWAYS)).getMessage();
        assertTrue(m.contains("MANIFEST_UNKNOWN"), m);
    }

    @Test
    void layersAppliedInOrderWithWhiteouts() throws Exception {
        Map<String, byte[]> l1 = new LinkedHashMap<>();
        l1.put("disk/old.img", new byte[4096]);
        l1.put("boot/vmlinuz", "k1".getBytes(StandardCharsets.UTF_8));
        Map<String, byte[]> l2 = new LinkedHashMap<>();
        l2.put("disk/.wh.old.img", null);
        l2.put("./disk/new.qcow2", QCOW2);
        l2.put("boot/vmlinuz", "k2".getBytes(StandardCharsets.UTF_8));
        peer.image("t/layers", "v1", FakeRegistryPeer.layer(l1), FakeRegistryPeer.layer(l2));
        ImageStore s = store();
        ImageStore.Image img = s.resolve(image("t/layers"), PullPolicy.IF_NOT_PRESENT);
        ImageStore.Disk d = s.disk(img, null);
        assertEquals("new.qcow2", d.path().getFileName().toString());
        assertEquals(ImageFormat.QCOW2, d.format());
        assertArrayEquals(QCOW2, Files.readAllBytes(d.path()));
        assertEquals("r--r--r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(d.path())));
        Path k = s.files(img, List.of("/boot/vmlinuz")).get("/boot/vmlinuz");
        assertEquals("k2", Files.readString(k), "the upper layer's file wins");
        String m = assertThrows(ImageException.MissingContent.class, () -> s.files(img, List.of("/boot/initrd.gz"))).getMessage();
        assertTrue(m.contains("no file /boot/initrd.gz in the image") && m.contains(image("t/layers")), m);

        // Once taken out, the cache answers without the registry.
        peer.close();
        ImageStore again = store();
        ImageStore.Image cached = again.resolve(image("t/layers"), PullPolicy.IF_NOT_PRESENT);
        assertTrue(cached.fromCache());
        assertEquals(d, again.disk(cached, null));
    }

    @Test
    void imageWithoutDiskOrWithTwo() {
        peer.image("t/nodisk", "v1", FakeRegistryPeer.layer(Map.of("etc/hostname", "x".getBytes(StandardCharsets.UTF_8))));
        ImageStore s = store();
        ImageStore.Image img = s.resolve(image("t/nodisk"), PullPolicy.IF_NOT_PRESENT);
        String m = assertThrows(ImageException.MissingContent.class, () -> s.disk(img, null)).getMessage();
        assertTrue(m.contains("no disk in the image") && m.contains(image("t/nodisk")), m);
        Map<String, byte[]> two = new LinkedHashMap<>();
        two.put("disk/a.img", new byte[512]);
        two.put("disk/b.img", new byte[512]);
        peer.image("t/two", "v1", FakeRegistryPeer.layer(two));
        ImageStore.Image img2 = s.resolve(image("t/two"), PullPolicy.IF_NOT_PRESENT);
        m = assertThrows(ImageException.MissingContent.class, () -> s.disk(img2, null)).getMessage();
        assertTrue(m.contains("more than one file under /disk/ (/disk/a.img, /disk/b.img)"), m);
        assertEquals(ImageFormat.RAW, s.disk(img2, "/disk/b.img").format());
    }

    @Test
    void neverPolicyUsesOnlyTheCache() {
        ImageStore s = store();
        String m = assertThrows(ImageException.NotCached.class, () -> s.resolve(image("t/absent"), PullPolicy.NEVER)).getMessage();
        assertTrue(m.contains("imagePullPolicy is Never") && m.contains(image("t/absent")), m);
        assertEquals(List.of(), peer.requests, "Never contacts no registry");
    }

    @Test
    void bearerTokenFlowWithBasicCredentialsAtTheTokenService() throws Exception {
        String realm = "http://" + peer.hostPort() + "/token";
        peer.routes.put("/token", new FakeRegistryPeer.Reply(200, Map.of(), "{\"token\":\"tok-123\"}".getBytes(StandardCharsets.UTF_8)));
        peer.image("t/auth", "v1", FakeRegistryPeer.layer(Map.of("disk/disk.qcow2", QCOW2)));
        FakeRegistryPeer.Reply ok = peer.routes.get("/v2/t/auth/manifests/v1");
        // The fake asks for a token until it gets one: the first manifest request is answered 401.
        peer.routes.put("/v2/t/auth/manifests/v1", new FakeRegistryPeer.Reply(401, Map.of("WWW-Authenticate",
                "Bearer realm=\"" + realm + "\",service=\"fake\",scope=\"repository:t/auth:pull\""), new byte[0]));
        Path cfg = tmp.resolve("config.json");
        Files.writeString(cfg, "{\"auths\":{\"" + peer.hostPort() + "\":{\"username\":\"u\",\"password\":\"p\"}}}");
        RegistryClient c = new RegistryClient(opts(DockerConfig.load(cfg, "--registry-config"), Duration.ofSeconds(10)));
        Thread swap = new Thread(() -> {
            while (peer.requests.stream().noneMatch(r -> r.startsWith("/token"))) {
                Thread.onSpinWait();
            }
            peer.routes.put("/v2/t/auth/manifests/v1", ok);
        });
        swap.start();
        Manifest m = c.manifest(ImageReference.parse(image("t/auth")));
        swap.join(5000);
        assertEquals(1, m.layers().size());
        int ti = indexOf(peer.requests, "/token");
        assertTrue(peer.requests.get(ti).contains("service=fake") && peer.requests.get(ti).contains("scope=repository%3At%2Fauth%3Apull"),
                peer.requests.toString());
        assertEquals("Basic dTpw", peer.authorizations.get(ti), "credentials go to the token service");
        assertEquals("Bearer tok-123", peer.authorizations.get(peer.authorizations.size() - 1));
    }

    @Test
    void stalledBlobIsCutOffNamingTheRegistry() {
        byte[] layer = FakeRegistryPeer.layer(Map.of("disk/disk.qcow2", QCOW2));
        peer.image("t/stall", "v1", layer);
        peer.routes.put("/v2/t/stall/blobs/" + FakeRegistryPeer.digest(layer), new FakeRegistryPeer.Reply(200, Map.of(), null));
        ImageStore s = new ImageStore(tmp.resolve("cache"), new RegistryClient(opts(DockerConfig.EMPTY, Duration.ofSeconds(2))), null);
        ImageStore.Image img = s.resolve(image("t/stall"), PullPolicy.IF_NOT_PRESENT);
        long t0 = System.nanoTime();
        String m = assertThrows(ImageException.Unreachable.class, () -> s.disk(img, null)).getMessage();
        assertTrue((System.nanoTime() - t0) / 1e9 < 8, "cut off within the stall bound");
        assertTrue(m.contains("no data for 2 s") && m.contains("registry " + peer.hostPort()), m);
    }

    private static int indexOf(List<String> l, String prefix) {
        for (int i = 0; i < l.size(); i++) {
            if (l.get(i).startsWith(prefix)) {
                return i;
            }
        }
        throw new AssertionError("no request " + prefix + " in " + l);
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
