package io.qvirt.launcher.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qvirt.launcher.image.FakeRegistryPeer.TarEntry;
import io.qvirt.launcher.image.OciLayoutWriter.Layer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hostile images built for real: each test writes an OCI image layout (oci-layout, index.json, blobs) whose
 * layers hold the hostile entry, pushes it with skopeo to a REAL registry (Debian's docker-registry, started by
 * {@code testdata/registry.sh} on its own port and directory), and pulls it with qvirt's own registry client and
 * image cache. Each refusal must name the entry, and nothing may appear outside the cache: a canary file and
 * an empty directory next to the cache are what the entries aim at.
 *
 * <p>Real registry and skopeo: path traversal ({@code ../}, and {@code /../} from an absolute path), a symbolic
 * link out of the image followed by a file written through it, a hard link to a host file, a whiteout of
 * {@code ..}, a gzip bomb (256 MiB of zeros in ~256 KiB), a layer longer and one shorter than its manifest
 * declares, one declaring 2^60 bytes (skopeo copies the manifest as written and the registry only checks that
 * the blobs exist), a token
 * realm on another host (the registry configured for token auth; the token service is a {@link FakeTokenServer}
 * on 127.0.0.2, Debian shipping none), and a redirect to another host (distribution's own {@code redirect}
 * storage middleware sends blob GETs to 127.0.0.2, where a {@link FakeBlobCdn} serves the registry's storage).
 *
 * <p>Left to {@link HostileImageTest}'s fake peer, because the real registry cannot be made to serve it: a
 * manifest over 4 MiB (alone or as an index's child). distribution refuses to store one ("http: request body
 * too large", checked here), skopeo then falls back to a Docker schema 2 conversion that drops the
 * annotations, so what is stored is small (also checked here), and one written straight into its storage is
 * answered 500 ("storage: read exceeds limit", checked here too); qvirt's cap is the same 4 MiB, so a real
 * registry never serves what qvirt refuses, and a hostile one is a fake peer by definition. Also left there:
 * 257 layers (a real push of 257 blobs costs seconds and proves nothing the manifest alone does not).
 */
class HostileRegistryIT {
    private static final byte[] QCOW2 = qcow2Like();
    private static final String USER = "qvirt";
    private static final String PASSWORD = "qvirt-secret";
    /** bcrypt (cost 10) of {@link #PASSWORD}: the registry accepts bcrypt only. */
    private static final String BCRYPT = "$2b$10$LQN.aMD1dgmeT4UvCuSqq.rSQ06vJqQQmoW1ghWIZnFBl6dNmsRV.";
    private static final String BASIC = "Basic " + Base64.getEncoder().encodeToString((USER + ":" + PASSWORD)
            .getBytes(StandardCharsets.UTF_8));
    /** More "../" than any temp directory is deep: from anywhere, this plus an absolute path without its "/" is that path. */
    private static final String UP = "../".repeat(24);

    @TempDir
    static Path shared;

    static ScriptedRegistry open;
    static FakeTokenServer tokens;
    static ScriptedRegistry tokenAuth;
    static FakeBlobCdn cdn;
    static ScriptedRegistry redirecting;

    @TempDir
    Path tmp;
    /** A directory beside the cache, which must stay as it is: holding only {@link #canary}, unchanged. */
    Path outside;
    Path canary;

    @BeforeAll
    static void registries() throws Exception {
        InetAddress otherHost = InetAddress.getByName("127.0.0.2");
        open = ScriptedRegistry.start(shared.resolve("open"));
        tokens = new FakeTokenServer(otherHost, shared.resolve("token-pki"));
        tokenAuth = ScriptedRegistry.start(shared.resolve("token"), "--token-realm", tokens.realm(), "--token-certs",
                tokens.certs().toString());
        Path htpasswd = shared.resolve("htpasswd");
        Files.writeString(htpasswd, USER + ":" + BCRYPT + "\n");
        cdn = new FakeBlobCdn(otherHost, shared.resolve("redirect/storage"));
        redirecting = ScriptedRegistry.start(shared.resolve("redirect"), "--htpasswd", htpasswd.toString(),
                "--redirect-blobs", cdn.baseUrl());
    }

    @AfterAll
    static void stopAll() {
        for (AutoCloseable c : Arrays.asList(open, tokenAuth, redirecting, tokens, cdn)) {
            if (c != null) {
                try {
                    c.close();
                } catch (Exception e) {
                    System.err.println("HostileRegistryIT: stopping " + c + ": " + e);
                }
            }
        }
    }

    @BeforeEach
    void canary() throws IOException {
        outside = Files.createDirectories(tmp.resolve("outside"));
        canary = Files.writeString(outside.resolve("canary"), "canary\n");
    }

    // ---- helpers ----

    /** Writes a layout of {@code layers} in a temp dir, pushes it as hostile/NAME:v1 to {@code r}; the image reference. */
    private String push(ScriptedRegistry r, String name, List<Layer> layers, String annotation, String creds)
            throws Exception {
        OciLayoutWriter.Written w = OciLayoutWriter.write(tmp.resolve("oci-" + name), "v1", layers, annotation);
        r.push(w, "hostile/" + name + ":v1", creds);
        return r.hostPort() + "/hostile/" + name + ":v1";
    }

    /** One layer of these entries, pushed anonymously to the open registry. */
    private String pushEntries(String name, TarEntry... entries) throws Exception {
        return push(open, name, List.of(Layer.of(OciLayoutWriter.gzipTar(List.of(entries)))), null, null);
    }

    private Path cache() {
        return tmp.resolve("cache");
    }

    private ImageStore store(ScriptedRegistry r, DockerConfig creds, long maxLayerBytes) {
        RegistryOptions o = new RegistryOptions(Map.of(), Set.of(r.hostPort()), creds, Duration.ofSeconds(5),
                Duration.ofSeconds(10), Duration.ofSeconds(10));
        return new ImageStore(cache(), new RegistryClient(o), null, maxLayerBytes);
    }

    /** Pulls the image's disk from the open registry, expecting a refusal of {@code type}. */
    private <T extends ImageException> T refusal(Class<T> type, String image, long maxLayerBytes) {
        ImageStore s = store(open, DockerConfig.EMPTY, maxLayerBytes);
        ImageStore.Image img = s.resolve(image, PullPolicy.IF_NOT_PRESENT);
        return assertThrows(type, () -> s.disk(img, null));
    }

    /** The message starts with the image and registry, then the layer and the entry by its name in the archive. */
    private void namesTheEntry(String image, String message, String entry, String why) {
        assertTrue(message.startsWith("image " + image + " (registry " + open.hostPort() + "): layer sha256:"), message);
        assertTrue(message.contains(", entry '" + entry + "': " + why + "; the image is refused"), message);
    }

    private void nothingOutside() throws IOException {
        assertEquals("canary\n", Files.readString(canary), "the canary is unchanged");
        assertEquals(1, ((Number) Files.getAttribute(canary, "unix:nlink")).intValue(), "no hard link to the canary");
        try (Stream<Path> s = Files.walk(outside)) {
            assertEquals(List.of(canary), s.filter(p -> !p.equals(outside)).toList(), "nothing new beside the cache");
        }
        try (Stream<Path> s = Files.walk(tmp, 1)) {
            assertEquals(List.of(), s.filter(p -> p.getFileName().toString().startsWith("pwned")).toList());
        }
    }

    private void nothingKept() throws IOException {
        try (Stream<Path> s = Files.list(cache().resolve("images/sha256"))) {
            assertEquals(List.of(), s.toList(), "nothing taken out of a refused image");
        }
        try (Stream<Path> s = Files.list(cache().resolve("tmp"))) {
            assertEquals(List.of(), s.toList(), "no work files left");
        }
    }

    /** {@code p} as a path relative to "/", for entries that climb to it. */
    private static String fromRoot(Path p) {
        return p.toAbsolutePath().toString().substring(1);
    }

    // ---- tar entries ----

    @Test
    void pathTraversalAndAnEscapingAbsolutePathAreRefusedNamingTheEntry() throws Exception {
        for (String entry : List.of(UP + fromRoot(canary), "/" + UP + fromRoot(outside.resolve("pwned-absolute")))) {
            String name = entry.startsWith("/") ? "absolute" : "traversal";
            String image = pushEntries(name, TarEntry.file("disk/disk.qcow2", QCOW2),
                    TarEntry.file(entry, "pwned\n".getBytes(StandardCharsets.UTF_8)));
            String m = refusal(ImageException.Unsafe.class, image, 0).getMessage();
            namesTheEntry(image, m, entry, "its path leaves the image");
            nothingOutside();
            nothingKept();
        }
    }

    @Test
    void anAbsolutePathOrLinkIsTheImagesOwnAndNothingIsWrittenThroughIt() throws Exception {
        // tar would write these on the host; in an image they name the image's own root, and qvirt writes only
        // the files it takes out, under names it makes: the disk is taken, nothing lands beside the cache.
        String image = pushEntries("absolute-inside",
                TarEntry.file("/" + fromRoot(outside.resolve("pwned-file")), "pwned\n".getBytes(StandardCharsets.UTF_8)),
                TarEntry.symlink("disk", outside.toAbsolutePath().toString()),
                TarEntry.file("disk/disk.qcow2", QCOW2));
        ImageStore s = store(open, DockerConfig.EMPTY, 0);
        ImageStore.Disk d = s.disk(s.resolve(image, PullPolicy.IF_NOT_PRESENT), null);
        assertArrayEquals(QCOW2, Files.readAllBytes(d.path()));
        assertTrue(d.path().startsWith(cache()), d.path().toString());
        nothingOutside();
    }

    @Test
    void aSymbolicLinkOutOfTheImageIsRefusedBeforeAnythingIsWrittenThroughIt() throws Exception {
        // The classic two-step: a directory that is a link out, then a file under it.
        String target = UP + fromRoot(outside);
        String image = pushEntries("symlink", TarEntry.symlink("disk", target), TarEntry.file("disk/disk.qcow2", QCOW2));
        String m = refusal(ImageException.Unsafe.class, image, 0).getMessage();
        namesTheEntry(image, m, "disk", "a symbolic link to '" + target + "', outside the image");
        nothingOutside();
        nothingKept();
    }

    @Test
    void aHardLinkToAHostFileIsRefused() throws Exception {
        String target = UP + fromRoot(canary);
        String image = pushEntries("hardlink", TarEntry.hardlink("disk/disk.qcow2", target));
        String m = refusal(ImageException.Unsafe.class, image, 0).getMessage();
        namesTheEntry(image, m, "disk/disk.qcow2", "a hard link to '" + target + "', outside the image");
        nothingOutside();
        nothingKept();
    }

    @Test
    void aWhiteoutOfDotDotIsRefused() throws Exception {
        byte[] base = OciLayoutWriter.gzipTar(List.of(TarEntry.file("disk/disk.qcow2", QCOW2)));
        byte[] top = OciLayoutWriter.gzipTar(List.of(TarEntry.file("disk/.wh...", new byte[0])));
        String image = push(open, "whiteout", List.of(Layer.of(base), Layer.of(top)), null, null);
        String m = refusal(ImageException.Unsafe.class, image, 0).getMessage();
        namesTheEntry(image, m, "disk/.wh...", "a whiteout of '..', which is not a file of its directory");
        nothingOutside();
        nothingKept();
    }

    @Test
    void launcherRunRefusesAHostileImageBeforeSpawningQemu() throws Exception {
        // What a user sees: the packaged CLI, the same traversal, exit 1 with the entry named, no QEMU, no VM left.
        String entry = UP + fromRoot(canary);
        String image = pushEntries("cli-traversal", TarEntry.file("disk/disk.qcow2", QCOW2),
                TarEntry.file(entry, "pwned\n".getBytes(StandardCharsets.UTF_8)));
        Path yaml = Files.writeString(tmp.resolve("hostile.yaml"), """
                apiVersion: kubevirt.io/v1
                kind: VirtualMachineInstance
                metadata:
                  name: hostile
                spec:
                  domain:
                    devices:
                      autoattachPodInterface: false
                      disks:
                      - name: containerdisk
                        disk: {bus: virtio}
                    resources:
                      requests: {memory: 128Mi}
                  volumes:
                  - name: containerdisk
                    containerDisk:
                      image: %s
                """.formatted(image));
        Path jar = io.qvirt.testdata.TestGuest.projectRoot().resolve("launcher/target/qvirt-launcher.jar");
        assertTrue(Files.isRegularFile(jar), "launcher jar not built: " + jar);
        Process p = new ProcessBuilder("java", "-jar", jar.toString(), "run", yaml.toString(), "--accel", "tcg",
                "--runtime-root", tmp.resolve("run").toString(), "--image-cache", cache().toString(),
                "--insecure-registry", open.hostPort()).redirectErrorStream(true).start();
        java.util.concurrent.CompletableFuture<String> out = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try {
                return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                return "(unreadable: " + e + ")";
            }
        });
        if (!p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("launcher run did not end within 60 s");
        }
        String text = out.get(5, java.util.concurrent.TimeUnit.SECONDS);
        System.out.println("launcher run on a hostile image, exit " + p.exitValue() + ":\n" + text.strip());
        assertEquals(1, p.exitValue(), text);
        assertTrue(text.contains("error: image " + image + " (registry " + open.hostPort() + "): layer sha256:")
                && text.contains(", entry '" + entry + "': its path leaves the image; the image is refused"), text);
        assertFalse(text.contains("Exception") || text.contains("\tat "), text);
        assertFalse(text.contains("qemu pid"), text);
        assertFalse(Files.exists(tmp.resolve("run/default/hostile/qmp.sock")), "no QEMU was started");
        nothingOutside();
        nothingKept();
    }

    // ---- bounds ----

    @Test
    void aGzipBombStopsAtTheConfiguredLimit() throws Exception {
        long size = 256L << 20;
        long t0 = System.nanoTime();
        byte[] bomb = FakeRegistryPeer.zeroLayer("disk/disk.img", size);
        double made = (System.nanoTime() - t0) / 1e9;
        assertTrue(bomb.length < size / 500, "compressed " + bomb.length);
        String image = push(open, "bomb", List.of(Layer.of(bomb)), null, null);
        long limit = 16 << 20;
        long t1 = System.nanoTime();
        String m = refusal(ImageException.Unsafe.class, image, limit).getMessage();
        double refused = (System.nanoTime() - t1) / 1e9;
        assertTrue(m.contains("layer " + FakeRegistryPeer.digest(bomb) + " decompresses to more than " + limit
                + " bytes (the configured limit); refused"), m);
        assertTrue(refused < 10, "stopped at the limit, not at the end: " + refused + " s");
        nothingOutside();
        nothingKept();
        System.out.printf("gzip bomb: %d MiB of zeros in %d KiB (made in %.1f s), refused at %d MiB in %.2f s%n",
                size >> 20, bomb.length >> 10, made, limit >> 20, refused);
    }

    @Test
    void aLayerLongerThanItsManifestSaysIsCutAtTheDeclaredSize() throws Exception {
        // An incompressible 8 MiB layer whose manifest says 64 KiB: the download must stop near 64 KiB.
        byte[] noise = new byte[8 << 20];
        new Random(22).nextBytes(noise);
        byte[] layer = OciLayoutWriter.gzipTar(List.of(TarEntry.file("disk/disk.img", noise)));
        int declared = 64 << 10;
        String image = push(open, "liar-short", List.of(new Layer(layer, declared)), null, null);
        String m = refusal(ImageException.DigestMismatch.class, image, 0).getMessage();
        String stop = "sent more than the " + declared + " bytes its manifest declares (stopped after ";
        assertTrue(m.contains(stop) && m.contains("nothing kept"), m);
        int at = m.indexOf(stop) + stop.length();
        long stoppedAfter = Long.parseLong(m.substring(at, m.indexOf(')', at)));
        assertTrue(stoppedAfter <= declared + (64 << 10), "read past the declared size by at most one buffer: " + stoppedAfter);
        nothingKept();
        try (Stream<Path> s = Files.list(cache().resolve("blobs/sha256"))) {
            assertFalse(s.anyMatch(p -> p.getFileName().toString().equals(FakeRegistryPeer.digest(layer).substring(7))));
        }

        // and one shorter than declared: refused, nothing kept
        byte[] small = OciLayoutWriter.gzipTar(List.of(TarEntry.file("disk/disk.qcow2", QCOW2)));
        String image2 = push(open, "liar-long", List.of(new Layer(small, small.length + 100)), null, null);
        String m2 = refusal(ImageException.DigestMismatch.class, image2, 0).getMessage();
        assertTrue(m2.contains("sent " + small.length + " bytes instead of " + (small.length + 100)), m2);
        nothingKept();
        System.out.printf("lying size: 8 MiB layer declared as 64 KiB, download stopped after %d bytes%n", stoppedAfter);
    }

    @Test
    void aLayerDeclaringMoreThanTheCacheCanHoldIsNotDownloaded() throws Exception {
        byte[] layer = OciLayoutWriter.gzipTar(List.of(TarEntry.file("disk/disk.qcow2", QCOW2)));
        long declared = 1L << 60;
        String image = push(open, "huge", List.of(new Layer(layer, declared)), null, null);
        String digest = FakeRegistryPeer.digest(layer);
        String m = refusal(ImageException.Unsafe.class, image, 0).getMessage();
        assertTrue(m.contains("layer " + digest + " declares " + declared + " bytes, more than ") && m.contains(
                "the free space of the cache's file system; set " + ImageStore.MAX_LAYER_ENV), m);
        assertTrue(open.requests().stream().noneMatch(r -> r.startsWith("GET /v2/hostile/huge/blobs/" + digest)),
                "not even asked for: " + open.requests());
        nothingKept();
    }

    @Test
    void theRealRegistryCannotServeAManifestOverFourMiB() throws Exception {
        byte[] layer = OciLayoutWriter.gzipTar(List.of(TarEntry.file("disk/disk.qcow2", QCOW2)));
        // Just under the cap: stored, served, and taken by qvirt (its cap refuses nothing a registry serves).
        String near = push(open, "near-cap", List.of(Layer.of(layer)), "x".repeat((4 << 20) - 4096), null);
        ImageStore s = store(open, DockerConfig.EMPTY, 0);
        ImageStore.Image img = s.resolve(near, PullPolicy.ALWAYS);
        assertTrue(img.manifest().raw().length > (4 << 20) - 4096, "size " + img.manifest().raw().length);
        assertArrayEquals(QCOW2, Files.readAllBytes(s.disk(img, null).path()));

        // Over the cap: distribution refuses the manifest itself...
        OciLayoutWriter.Written big = OciLayoutWriter.write(tmp.resolve("oci-big"), "v1", List.of(Layer.of(layer)),
                "x".repeat(4 << 20));
        HttpResponse<String> put = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build().send(
                HttpRequest.newBuilder(URI.create("http://" + open.hostPort() + "/v2/hostile/near-cap/manifests/big"))
                        .timeout(Duration.ofSeconds(10)).header("Content-Type", Manifest.OCI_MANIFEST)
                        .PUT(HttpRequest.BodyPublishers.ofByteArray(big.manifest())).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(400, put.statusCode(), put.body());
        assertTrue(put.body().contains("MANIFEST_INVALID") && put.body().contains("request body too large"), put.body());
        // ...and skopeo, refused, stores a Docker schema 2 conversion without the annotations: small.
        String converted = push(open, "big", List.of(Layer.of(layer)), "x".repeat(4 << 20), null);
        ImageStore.Image small = store(open, DockerConfig.EMPTY, 0).resolve(converted, PullPolicy.ALWAYS);
        assertTrue(small.manifest().raw().length < 4096, new String(small.manifest().raw(), StandardCharsets.UTF_8));
        assertTrue(new String(small.manifest().raw(), StandardCharsets.UTF_8).contains(Manifest.DOCKER_MANIFEST));

        // ...and one written straight into its storage (blob, revision and tag links, as a push would leave them) is
        // not served either: distribution caps manifest reads at 4 MiB as well. A registry that serves one is not
        // distribution: HostileImageTest's fake peer plays it.
        String hex = FakeRegistryPeer.digest(big.manifest()).substring(7);
        Path v2 = open.storage().resolve("docker/registry/v2");
        Files.createDirectories(v2.resolve("blobs/sha256/" + hex.substring(0, 2) + "/" + hex));
        Files.write(v2.resolve("blobs/sha256/" + hex.substring(0, 2) + "/" + hex + "/data"), big.manifest());
        Path links = v2.resolve("repositories/hostile/near-cap/_manifests");
        for (String link : List.of("revisions/sha256/" + hex, "tags/stored/current", "tags/stored/index/sha256/" + hex)) {
            Files.createDirectories(links.resolve(link));
            Files.writeString(links.resolve(link).resolve("link"), "sha256:" + hex);
        }
        HttpResponse<String> get = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build().send(
                HttpRequest.newBuilder(URI.create("http://" + open.hostPort() + "/v2/hostile/near-cap/manifests/stored"))
                        .timeout(Duration.ofSeconds(10)).header("Accept", Manifest.OCI_MANIFEST).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(500, get.statusCode(), get.body());
        assertTrue(Files.readString(open.storage().resolveSibling("registry.log")).contains("storage: read exceeds limit"),
                "distribution's own read cap");
        // qvirt gets the registry's error, cleanly, and keeps nothing.
        ImageException e = assertThrows(ImageException.class, () -> store(open, DockerConfig.EMPTY, 0).resolve(
                open.hostPort() + "/hostile/near-cap:stored", PullPolicy.ALWAYS));
        assertTrue(e.getMessage().contains("500"), e.getMessage());
    }

    // ---- credentials ----

    @Test
    void aTokenRealmOnAnotherHostNeverGetsTheRegistrysCredentials() throws Exception {
        String image = push(tokenAuth, "auth", List.of(Layer.of(OciLayoutWriter.gzipTar(List.of(
                TarEntry.file("disk/disk.qcow2", QCOW2))))), null, null);
        assertTrue(tokens.realm().startsWith("http://127.0.0.2:"), tokens.realm());
        Path cfg = tmp.resolve("config.json");
        Files.writeString(cfg, "{\"auths\":{\"" + tokenAuth.hostPort() + "\":{\"username\":\"" + USER + "\",\"password\":\""
                + PASSWORD + "\"}}}");

        // The registry's realm is another host: asked anonymously, it grants a pull, the registry takes the token.
        tokens.authorizations.clear();
        ImageStore s = store(tokenAuth, DockerConfig.load(cfg, "--registry-config"), 0);
        ImageStore.Disk d = s.disk(s.resolve(image, PullPolicy.ALWAYS), null);
        assertArrayEquals(QCOW2, Files.readAllBytes(d.path()));
        assertFalse(tokens.authorizations.isEmpty(), "the token service was asked");
        assertTrue(tokens.authorizations.stream().allMatch("null"::equals), "no credentials to another host: "
                + tokens.authorizations);
        assertTrue(tokenAuth.requests().stream().anyMatch(r -> r.startsWith("GET /v2/hostile/auth/blobs/sha256:")),
                "the real registry served the blob on the fake token: " + tokenAuth.requests());

        // A token service that wants credentials: refused, and the message says why none were sent.
        tokens.refuseAnonymous = true;
        try {
            tokens.authorizations.clear();
            RegistryClient c = new RegistryClient(new RegistryOptions(Map.of(), Set.of(tokenAuth.hostPort()),
                    DockerConfig.load(cfg, "--registry-config"), Duration.ofSeconds(5), Duration.ofSeconds(10),
                    Duration.ofSeconds(10)));
            String m = assertThrows(ImageException.AuthRefused.class, () -> c.manifest(ImageReference.parse(image)))
                    .getMessage();
            assertTrue(m.contains("token service " + tokens.hostPort() + " refused anonymous access (HTTP 401); the "
                    + "credentials for " + tokenAuth.hostPort() + " were not sent to it: it is another host"), m);
            assertEquals(List.of("null"), tokens.authorizations);

            // Named in the registry config, the realm's host gets its own entry's credentials, never the registry's.
            tokens.users.put("tokenuser:token-secret", true);
            Files.writeString(cfg, "{\"auths\":{\"" + tokenAuth.hostPort() + "\":{\"username\":\"" + USER
                    + "\",\"password\":\"" + PASSWORD + "\"},\"" + tokens.hostPort()
                    + "\":{\"username\":\"tokenuser\",\"password\":\"token-secret\"}}}");
            tokens.authorizations.clear();
            // A cache of its own, so the pull asks the registry (and so the token service) again.
            ImageStore s2 = new ImageStore(tmp.resolve("cache2"), new RegistryClient(new RegistryOptions(Map.of(),
                    Set.of(tokenAuth.hostPort()), DockerConfig.load(cfg, "--registry-config"), Duration.ofSeconds(5),
                    Duration.ofSeconds(10), Duration.ofSeconds(10))), null, 0);
            assertArrayEquals(QCOW2, Files.readAllBytes(s2.disk(s2.resolve(image, PullPolicy.ALWAYS), null).path()));
            assertFalse(tokens.authorizations.isEmpty());
            assertTrue(tokens.authorizations.stream().allMatch(("Basic " + Base64.getEncoder().encodeToString(
                    "tokenuser:token-secret".getBytes(StandardCharsets.UTF_8)))::equals), tokens.authorizations.toString());
            assertFalse(tokens.authorizations.contains(BASIC));
        } finally {
            tokens.refuseAnonymous = false;
        }
    }

    @Test
    void aRedirectToAnotherHostCarriesNoCredentials() throws Exception {
        byte[] layer = OciLayoutWriter.gzipTar(List.of(TarEntry.file("disk/disk.qcow2", QCOW2)));
        String image = push(redirecting, "redirect", List.of(Layer.of(layer)), null, USER + ":" + PASSWORD);
        assertTrue(cdn.baseUrl().startsWith("http://127.0.0.2:"), cdn.baseUrl());
        Path cfg = tmp.resolve("config.json");
        Files.writeString(cfg, "{\"auths\":{\"" + redirecting.hostPort() + "\":{\"username\":\"" + USER
                + "\",\"password\":\"" + PASSWORD + "\"}}}");
        cdn.requests.clear();
        cdn.authorizations.clear();
        ImageStore s = store(redirecting, DockerConfig.load(cfg, "--registry-config"), 0);
        ImageStore.Disk d = s.disk(s.resolve(image, PullPolicy.ALWAYS), null);
        assertArrayEquals(QCOW2, Files.readAllBytes(d.path()));
        String hex = FakeRegistryPeer.digest(layer).substring(7);
        assertTrue(cdn.requests.contains("GET /docker/registry/v2/blobs/sha256/" + hex.substring(0, 2) + "/" + hex + "/data"),
                "the real registry redirected the layer to the other host: " + cdn.requests);
        assertTrue(cdn.authorizations.stream().allMatch("null"::equals), "the redirect target got no credentials: "
                + cdn.authorizations);
        // The registry itself asks for them (htpasswd), so they did go to it: the manifest came back.
        assertTrue(redirecting.requests().stream().anyMatch(r -> r.startsWith("GET /v2/hostile/redirect/manifests/v1")));
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
