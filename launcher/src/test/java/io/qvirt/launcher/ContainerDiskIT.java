package io.qvirt.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.qvirt.testdata.GuestMarkers;
import io.qvirt.testdata.LocalRegistry;
import io.qvirt.testdata.TestGuest;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * containerDisk and kernelBoot end to end: the packaged launcher pulls the test guest's images from REAL
 * registries (Debian's docker-registry; one anonymous over plain HTTP, one with htpasswd basic auth) into
 * its cache and boots them under real QEMU (TCG).
 */
class ContainerDiskIT {
    private static final Duration BOOT = Duration.ofSeconds(90);
    private static final String USER = "qvirt";
    private static final String PASSWORD = "qvirt-secret";
    /** bcrypt (cost 10) of {@link #PASSWORD}: the registry accepts bcrypt only, and no htpasswd tool is needed. */
    private static final String BCRYPT = "$2b$10$LQN.aMD1dgmeT4UvCuSqq.rSQ06vJqQQmoW1ghWIZnFBl6dNmsRV.";

    @TempDir
    static Path shared;

    static LocalRegistry open;
    static LocalRegistry locked;

    @TempDir
    Path tmp;

    LauncherHarness h;

    @BeforeAll
    static void registries() throws Exception {
        Path oci = TestGuest.get().ociLayout();
        open = LocalRegistry.start(shared.resolve("open"), null);
        open.push(oci, "guest", "qvirt/guest:latest", null);
        open.push(oci, "kernel", "qvirt/kernel:latest", null);
        Path htpasswd = shared.resolve("htpasswd");
        Files.writeString(htpasswd, USER + ":" + BCRYPT + "\n");
        locked = LocalRegistry.start(shared.resolve("locked"), htpasswd);
        locked.push(oci, "guest", "qvirt/guest:v1", USER + ":" + PASSWORD);
    }

    @AfterAll
    static void stopRegistries() {
        if (open != null) {
            open.close();
        }
        if (locked != null) {
            locked.close();
        }
    }

    @BeforeEach
    void setUp() throws IOException {
        h = new LauncherHarness(tmp);
    }

    @AfterEach
    void tearDown() {
        h.close();
    }

    /** A VMI booting a containerDisk, with the given pull policy (null: KubeVirt's default). */
    private Path diskVmi(String name, String image, String policy) throws IOException {
        Path f = tmp.resolve(name + ".yaml");
        Files.writeString(f, """
                apiVersion: kubevirt.io/v1
                kind: VirtualMachineInstance
                metadata:
                  name: %s
                spec:
                  terminationGracePeriodSeconds: 20
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
                %s""".formatted(name, image, policy == null ? "" : "      imagePullPolicy: " + policy + "\n"));
        return f;
    }

    private Path cache() {
        return tmp.resolve("images");
    }

    /** Boots with {@code launcher run}, waits for the guest's marker and prompt, shuts down gracefully; returns run's stderr. */
    private String bootAndStop(String name, Path yaml, String... extra) throws Exception {
        List<String> args = new java.util.ArrayList<>(List.of("run", yaml.toString(), "--console", "--accel", "tcg",
                "--image-cache", cache().toString()));
        args.addAll(List.of(extra));
        LauncherHarness.Started run = h.start(args.toArray(String[]::new));
        try {
            run.out().await(GuestMarkers.BOOTED, BOOT);
        } catch (Exception e) {
            throw new AssertionError("no boot: " + run.err() + "\n" + run.out().text(), e);
        }
        run.out().await(GuestMarkers.PROMPT_PATTERN, BOOT);
        // SIGTERM: run's own graceful shutdown (ACPI power button), then it reports how the VM ended. (Through
        // the ProcessHandle: Process.destroy() would also close our end of the launcher's stdout.)
        run.process().toHandle().destroy();
        assertEquals(0, run.awaitExit(Duration.ofSeconds(40)), run.err());
        run.out().await(GuestMarkers.POWEROFF, Duration.ofSeconds(5));
        run.out().await(Pattern.compile("VM default/" + name + ": Succeeded \\(guest-shutdown\\)"), Duration.ofSeconds(5));
        assertFalse(Files.exists(h.vmDir(name)), "the VM's directory, overlay included, is removed");
        return run.err();
    }

    @Test
    void pullsBootsThenStartsFromTheCacheWithoutTheRegistry() throws Exception {
        String image = open.hostPort() + "/qvirt/guest:latest";
        Path yaml = diskVmi("cd1", image, "IfNotPresent");
        long t0 = System.nanoTime();
        String err = bootAndStop("cd1", yaml, "--insecure-registry", open.hostPort());
        double cold = (System.nanoTime() - t0) / 1e9;
        assertTrue(err.contains("image " + image + ": sha256:") && err.contains("pulled") && err.contains("from " + open.hostPort()), err);
        assertTrue(open.requests().stream().anyMatch(r -> r.startsWith("GET /v2/qvirt/guest/blobs/sha256:")), open.requests().toString());

        // The base disk in the cache: the image's disk byte for byte, read-only, untouched by the guest.
        Path base;
        try (Stream<Path> s = Files.walk(cache().resolve("images"))) {
            base = s.filter(p -> p.getFileName().toString().equals("disk.qcow2")).findFirst().orElseThrow();
        }
        assertEquals(sha256(TestGuest.get().diskQcow2()), sha256(base), "the base disk is never written");
        assertEquals("r--r--r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(base)));

        int before = open.requests().size();
        long t1 = System.nanoTime();
        String err2 = bootAndStop("cd1", yaml, "--insecure-registry", open.hostPort());
        double warm = (System.nanoTime() - t1) / 1e9;
        assertTrue(err2.contains("image " + image + ": sha256:") && err2.contains("cached"), err2);
        List<String> after = open.requests().subList(before, open.requests().size());
        assertEquals(List.of(), after.stream().filter(r -> r.contains("/blobs/")).toList(), "no blob GET on a cached start");
        assertEquals(List.of(), after, "IfNotPresent with the image cached: no request at all");
        assertEquals(sha256(TestGuest.get().diskQcow2()), sha256(base), "still untouched after the second run");
        System.out.printf("containerDisk run to shutdown: cold %.1f s, cached %.1f s; pull lines:%n%s%n%s%n", cold, warm,
                err.lines().filter(l -> l.startsWith("image ")).findFirst().orElse(""),
                err2.lines().filter(l -> l.startsWith("image ")).findFirst().orElse(""));
    }

    @Test
    void twoLaunchersPullingTheSameImageAtOnceShareOneDownload() throws Exception {
        String image = open.hostPort() + "/qvirt/guest:latest";
        String layer = guestLayerDigest();
        int before = open.requests().size();
        LauncherHarness.Started a = h.start("exec", diskVmi("twin-a", image, null).toString(), "--accel", "tcg",
                "--image-cache", cache().toString(), "--insecure-registry", open.hostPort());
        LauncherHarness.Started b = h.start("exec", diskVmi("twin-b", image, null).toString(), "--accel", "tcg",
                "--image-cache", cache().toString(), "--insecure-registry", open.hostPort());
        waitFor(() -> Files.exists(h.vmDir("twin-a").resolve("qmp.sock")), Duration.ofSeconds(60), a);
        waitFor(() -> Files.exists(h.vmDir("twin-b").resolve("qmp.sock")), Duration.ofSeconds(60), b);
        List<String> blobGets = open.requests().subList(before, open.requests().size()).stream()
                .filter(r -> r.startsWith("GET /v2/qvirt/guest/blobs/" + layer)).toList();
        assertEquals(1, blobGets.size(), "the second launcher waited for the first one's pull: " + blobGets);
        Path base;
        try (Stream<Path> s = Files.walk(cache().resolve("images"))) {
            base = s.filter(p -> p.getFileName().toString().equals("disk.qcow2")).findFirst().orElseThrow();
        }
        assertEquals(sha256(TestGuest.get().diskQcow2()), sha256(base));
        try (Stream<Path> s = Files.list(cache().resolve("tmp"))) {
            assertEquals(0, s.count(), "no work files left");
        }
    }

    @Test
    void kernelBootFromTheKernelImage() throws Exception {
        Path f = tmp.resolve("kb.yaml");
        Files.writeString(f, """
                apiVersion: kubevirt.io/v1
                kind: VirtualMachineInstance
                metadata:
                  name: kb
                spec:
                  terminationGracePeriodSeconds: 20
                  domain:
                    devices:
                      autoattachPodInterface: false
                    firmware:
                      kernelBoot:
                        kernelArgs: %s
                        container:
                          image: %s/qvirt/kernel:latest
                          kernelPath: /boot/vmlinuz
                          initrdPath: /boot/initrd.gz
                    resources:
                      requests: {memory: 128Mi}
                """.formatted(TestGuest.KERNEL_ARGS, open.hostPort()));
        String err = bootAndStop("kb", f, "--insecure-registry", open.hostPort());
        assertTrue(err.contains("kernelBoot /boot/vmlinuz, /boot/initrd.gz"), err);
        Path kernel;
        try (Stream<Path> s = Files.walk(cache().resolve("images"))) {
            kernel = s.filter(p -> p.endsWith("boot/vmlinuz")).findFirst().orElseThrow();
        }
        assertEquals(sha256(TestGuest.get().kernel()), sha256(kernel));

        // A path the image does not hold: refused naming path and image, nothing started.
        Files.writeString(f, Files.readString(f).replace("/boot/initrd.gz", "/boot/initrd.img"));
        LauncherHarness.Result r = h.exec("run", f.toString(), "--accel", "tcg", "--image-cache", cache().toString(),
                "--insecure-registry", open.hostPort());
        assertEquals(1, r.code(), r.toString());
        assertTrue(r.err().contains("no file /boot/initrd.img in the image") && r.err().contains(open.hostPort() + "/qvirt/kernel:latest"), r.toString());
        assertFalse(Files.exists(h.vmDir("kb")));
    }

    @Test
    void tamperedBlobInTheRegistryIsRefusedAndNothingBoots() throws Exception {
        try (LocalRegistry evil = LocalRegistry.start(tmp.resolve("evil"), null)) {
            evil.push(TestGuest.get().ociLayout(), "guest", "qvirt/guest:v1", null);
            String layer = guestLayerDigest();
            Path data = evil.blobData(layer);
            byte[] b = Files.readAllBytes(data);
            b[b.length / 2] ^= 0x40;
            Files.write(data, b);
            String image = evil.hostPort() + "/qvirt/guest:v1";
            LauncherHarness.Result r = h.exec("run", diskVmi("bad", image, null).toString(), "--accel", "tcg",
                    "--image-cache", cache().toString(), "--insecure-registry", evil.hostPort());
            assertEquals(1, r.code(), r.toString());
            assertTrue(r.err().contains("error: image " + image + " (registry " + evil.hostPort() + "): blob " + layer)
                    && r.err().contains("digest mismatch"), r.toString());
            assertFalse(r.out().contains("QVIRT-GUEST-BOOTED"));
            assertFalse(Files.exists(h.vmDir("bad")), "nothing was prepared");
            assertFalse(Files.exists(cache().resolve("blobs/sha256").resolve(layer.substring(7))), "the bad blob is not kept");
            try (Stream<Path> s = Files.list(cache().resolve("tmp"))) {
                assertEquals(0, s.count(), "no work files left");
            }
        }
    }

    @Test
    void unreachableRegistryFailsFastNamingIt() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        String reg = "127.0.0.1:" + port;
        long t0 = System.nanoTime();
        LauncherHarness.Result r = h.exec("run", diskVmi("gone", reg + "/qvirt/guest:v1", null).toString(), "--accel", "tcg",
                "--image-cache", cache().toString(), "--insecure-registry", reg);
        double secs = (System.nanoTime() - t0) / 1e9;
        assertEquals(1, r.code(), r.toString());
        assertTrue(r.err().contains("image " + reg + "/qvirt/guest:v1 (registry " + reg + "): unreachable: connection refused"), r.toString());
        assertTrue(secs < 15, "bounded: " + secs + " s");

        // A plain-HTTP registry not named insecure: TLS fails, and the message says what to do.
        r = h.exec("run", diskVmi("tls", open.hostPort() + "/qvirt/guest:latest", null).toString(), "--accel", "tcg",
                "--image-cache", cache().toString());
        assertEquals(1, r.code(), r.toString());
        assertTrue(r.err().contains("unreachable: TLS failed") && r.err().contains("--insecure-registry " + open.hostPort()), r.toString());

        // Never with nothing cached; an unknown tag.
        r = h.exec("run", diskVmi("never", open.hostPort() + "/qvirt/guest:latest", "Never").toString(), "--accel", "tcg",
                "--image-cache", cache().toString(), "--insecure-registry", open.hostPort());
        assertEquals(1, r.code(), r.toString());
        assertTrue(r.err().contains("imagePullPolicy is Never and the image is not in the cache"), r.toString());
        r = h.exec("run", diskVmi("nosuch", open.hostPort() + "/qvirt/guest:nosuch", null).toString(), "--accel", "tcg",
                "--image-cache", cache().toString(), "--insecure-registry", open.hostPort());
        assertEquals(1, r.code(), r.toString());
        assertTrue(r.err().contains("manifest nosuch not found (HTTP 404): MANIFEST_UNKNOWN"), r.toString());

        // Bad flags: exit 2 naming the flag, before anything.
        r = h.exec("run", diskVmi("flag", open.hostPort() + "/qvirt/guest:latest", null).toString(),
                "--registry-mirror", "quay.io");
        assertEquals(2, r.code(), r.toString());
        assertTrue(r.err().contains("--registry-mirror: 'quay.io' is not allowed: SRC=DST"), r.toString());
    }

    @Test
    void basicAuthWithDockerConfigAndWrongPasswordRefused() throws Exception {
        String image = locked.hostPort() + "/qvirt/guest:v1";
        Path yaml = diskVmi("auth", image, null);
        Path good = tmp.resolve("good.json");
        Files.writeString(good, "{\"auths\":{\"" + locked.hostPort() + "\":{\"auth\":\""
                + Base64.getEncoder().encodeToString((USER + ":" + PASSWORD).getBytes(StandardCharsets.UTF_8)) + "\"}}}");
        Path bad = tmp.resolve("bad.json");
        Files.writeString(bad, "{\"auths\":{\"" + locked.hostPort() + "\":{\"username\":\"" + USER + "\",\"password\":\"nope\"}}}");

        LauncherHarness.Result r = h.exec("run", yaml.toString(), "--accel", "tcg", "--image-cache", cache().toString(),
                "--insecure-registry", locked.hostPort(), "--registry-config", bad.toString());
        assertEquals(1, r.code(), r.toString());
        assertTrue(r.err().contains("image " + image + " (registry " + locked.hostPort() + "): access refused (HTTP 401) with the credentials given"), r.toString());
        r = h.exec("run", yaml.toString(), "--accel", "tcg", "--image-cache", cache().toString(),
                "--insecure-registry", locked.hostPort());
        assertEquals(1, r.code(), r.toString());
        assertTrue(r.err().contains("asks for credentials (Basic) and there are none for " + locked.hostPort()), r.toString());

        // With the right credentials (through --image-config this time): pulled, and QEMU starts paused.
        Path cfg = tmp.resolve("images.yaml");
        Files.writeString(cfg, "insecure: [" + locked.hostPort() + "]\nregistryConfig: good.json\ncacheDir: images\n");
        LauncherHarness.Started ex = h.start("exec", yaml.toString(), "--accel", "tcg", "--image-config", cfg.toString());
        waitFor(() -> Files.exists(h.vmDir("auth").resolve("qmp.sock")), Duration.ofSeconds(60), ex);
        assertTrue(ex.err().contains("image " + image + ": sha256:") && ex.err().contains("pulled"), ex.err());
        assertTrue(Files.exists(h.vmDir("auth").resolve("disks/containerdisk.qcow2")), "the VM's own overlay");
    }

    @Test
    void mirrorServesAnotherRegistrysImage() throws Exception {
        Path yaml = diskVmi("mirrored", "quay.io/qvirt/guest:latest", null);
        int before = open.requests().size();
        LauncherHarness.Started ex = h.start("exec", yaml.toString(), "--accel", "tcg", "--image-cache", cache().toString(),
                "--registry-mirror", "quay.io=" + open.hostPort(), "--insecure-registry", open.hostPort());
        waitFor(() -> Files.exists(h.vmDir("mirrored").resolve("qmp.sock")), Duration.ofSeconds(60), ex);
        assertTrue(ex.err().contains("image quay.io/qvirt/guest:latest: sha256:") && ex.err().contains("from " + open.hostPort()), ex.err());
        assertTrue(open.requests().subList(before, open.requests().size()).contains("GET /v2/qvirt/guest/manifests/latest HTTP/1.1"),
                open.requests().toString());
        assertTrue(Files.isDirectory(cache().resolve("refs/quay.io/qvirt/guest")), "cached under the name the spec uses");

        // The pull's HTTP connections do not leak into QEMU (the VM has no network: any TCP socket would be one).
        long pid = ex.process().pid();
        // While the JVM's exec'ing thread takes over the pid, /proc/PID/exe briefly reads as missing: not yet.
        waitFor(() -> {
            try {
                return Files.readSymbolicLink(Path.of("/proc/" + pid + "/exe")).toString().endsWith("qemu-system-x86_64");
            } catch (java.nio.file.NoSuchFileException e) {
                return false;
            }
        }, Duration.ofSeconds(30), ex);
        java.util.Set<String> tcp = new java.util.HashSet<>();
        for (String table : List.of("tcp", "tcp6")) {
            for (String l : Files.readAllLines(Path.of("/proc/" + pid + "/net/" + table)).stream().skip(1).toList()) {
                tcp.add(l.trim().split("\\s+")[9]);
            }
        }
        List<String> leaked;
        try (Stream<Path> s = Files.list(Path.of("/proc/" + pid + "/fd"))) {
            leaked = s.map(f -> {
                try {
                    return Files.readSymbolicLink(f).toString();
                } catch (IOException e) {
                    return "";
                }
            }).filter(t -> t.startsWith("socket:[") && tcp.contains(t.substring(8, t.length() - 1))).toList();
        }
        assertEquals(List.of(), leaked, "no TCP socket of the pull in QEMU");
    }

    private static String guestLayerDigest() throws IOException {
        ObjectMapper json = new ObjectMapper();
        Path oci = TestGuest.get().ociLayout();
        for (JsonNode m : json.readTree(oci.resolve("index.json").toFile()).path("manifests")) {
            if (m.path("annotations").path("org.opencontainers.image.ref.name").asText().equals("guest")) {
                String d = m.path("digest").asText().substring(7);
                JsonNode manifest = json.readTree(oci.resolve("blobs/sha256").resolve(d).toFile());
                return manifest.path("layers").get(0).path("digest").asText();
            }
        }
        throw new AssertionError("no guest image in " + oci);
    }

    private static String sha256(Path p) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        try (InputStream in = Files.newInputStream(p)) {
            byte[] buf = new byte[1 << 16];
            int k;
            while ((k = in.read(buf)) > 0) {
                md.update(buf, 0, k);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    private interface Check {
        boolean ok() throws Exception;
    }

    private static void waitFor(Check c, Duration d, LauncherHarness.Started s) throws Exception {
        long deadline = System.nanoTime() + d.toNanos();
        while (System.nanoTime() < deadline) {
            if (c.ok()) {
                return;
            }
            if (!s.process().isAlive()) {
                throw new AssertionError("launcher exited " + s.process().exitValue() + ": " + s.err());
            }
            Thread.sleep(50);
        }
        throw new AssertionError("not within " + d + ": " + s.err());
    }
}
