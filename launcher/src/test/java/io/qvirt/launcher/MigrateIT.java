package io.qvirt.launcher;

import static io.qvirt.launcher.LauncherHarness.alive;
import static io.qvirt.launcher.LauncherHarness.waitFor;

import io.qvirt.launcher.LauncherHarness.ConsoleTap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.qvirt.testdata.ConsoleWatcher;
import io.qvirt.testdata.GuestMarkers;
import io.qvirt.testdata.TestGuest;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.URI;
import java.net.UnixDomainSocketAddress;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code launcher migrate} end to end: the packaged jar in its own JVM, two real QEMUs under TCG, the real test
 * guest. The guest proves it is the same boot (its uptime goes on, one boot line in the console log, data it
 * wrote before is there after), the forwarded port answers from the new QEMU, and the source QEMU is gone.
 */
class MigrateIT {
    private static final Duration BOOT = Duration.ofSeconds(90);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern UPTIME = Pattern.compile("up=([0-9.]+)\\r?\\n");
    private static final Pattern MARK = Pattern.compile("\\nmark=(qvirt-mig-[0-9]+)\\r?\\n");

    @TempDir
    Path tmp;

    LauncherHarness h;

    @BeforeEach
    void setUp() throws IOException {
        h = new LauncherHarness(tmp);
    }

    @AfterEach
    void tearDown() throws IOException {
        h.close();
        // A migrated-in QEMU runs detached (its parent, migrate, has exited): kill what this test left.
        try (Stream<Path> s = Files.walk(tmp)) {
            for (Path p : s.filter(f -> f.getFileName().toString().equals("launcher.json")).toList()) {
                long pid = JSON.readTree(p.toFile()).path("qemuPid").asLong();
                if (pid > 0 && cmdline(pid).contains(tmp.toString())) {
                    ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
                }
            }
        }
    }

    /**
     * A VM under {@code launcher run} (hostDisk root, shared; emptyDisk, copied; a forwarded port): a target
     * whose argv would differ is refused before anything is made; a cancelled migration leaves the source running
     * and no target, and so does {@code --cancel} after a migrate that was killed; then the migration to another runtime root moves the running guest, and run exits 0 saying
     * where it went.
     */
    @Test
    void runOwnedVmRefusesAMismatchSurvivesACancelThenMovesWithItsBoot() throws Exception {
        Path disk = h.overlay("mig1");
        Path yaml = tmp.resolve("mig1.yaml");
        Files.writeString(yaml, """
                apiVersion: kubevirt.io/v1
                kind: VirtualMachine
                metadata:
                  name: mig1
                spec:
                  running: true
                  template:
                    spec:
                      domain:
                        devices:
                          disks:
                          - name: root
                            disk:
                              bus: virtio
                            bootOrder: 1
                          - name: scratch
                            disk:
                              bus: virtio
                          interfaces:
                          - name: default
                            masquerade: {}
                            ports:
                            - name: http
                              port: 80
                        resources:
                          requests:
                            memory: 128Mi
                      networks:
                      - name: default
                        pod: {}
                      volumes:
                      - name: root
                        hostDisk:
                          path: %s
                          type: Disk
                      - name: scratch
                        emptyDisk:
                          capacity: 16Mi
                """.formatted(disk));
        LauncherHarness.Started run = h.start("run", yaml.toString(), "--accel", "tcg");
        Path src = h.vmDir("mig1");
        Path root2 = tmp.resolve("run2");
        Path dst = root2.resolve("default/mig1");
        waitFor(() -> Files.exists(src.resolve("launcher.json")), Duration.ofSeconds(30), "launcher.json: " + run.err());
        long srcPid = launcherJson(src).path("qemuPid").asLong();
        int hostPort = launcherJson(src).path("forwards").get(0).path("hostPort").asInt();
        double up1;
        try (ConsoleTap c = ConsoleTap.attach(src.resolve("console.sock"))) {
            c.out.await(GuestMarkers.PROMPT_PATTERN, BOOT);
            c.type("echo qvirt-mig-$((6*7)) | dd of=/dev/vdb bs=512 seek=100 conv=fsync 2>/dev/null; "
                    + "echo up=$(cut -d' ' -f1 /proc/uptime)\n");
            up1 = Double.parseDouble(c.out.await(UPTIME, Duration.ofSeconds(30)).group(1));
        }
        String served = httpHostname(hostPort);
        assertEquals("qvirt-guest", served, "the guest's HTTP server through the forward, before");

        // A target whose command line would differ (here: the spec it is planned from asks for more memory).
        Path vmiJson = src.resolve("vmi.json");
        String spec = Files.readString(vmiJson);
        Files.writeString(vmiJson, spec.replace("128Mi", "192Mi"));
        LauncherHarness.Result refused = h.exec("migrate", "mig1", "--to-runtime-root", root2.toString());
        Files.writeString(vmiJson, spec);
        assertEquals(1, refused.code(), refused.toString());
        assertTrue(refused.err().contains("source has \"-m 128M\", target has not"), refused.toString());
        assertTrue(refused.err().contains("refused before anything is sent"), refused.toString());
        assertFalse(Files.exists(dst), "nothing made for the target");

        // Cancelled mid-way (SIGTERM, as Ctrl-C): the source runs on, the target is gone.
        LauncherHarness.Started slow = h.start("migrate", "mig1", "--to-runtime-root", root2.toString(), "--bandwidth", "1");
        waitFor(() -> slow.err().contains("migrate: active"), Duration.ofSeconds(60), "migration under way: " + slow.err());
        slow.process().destroy();
        assertEquals(1, slow.awaitExit(Duration.ofSeconds(60)), slow.err());
        assertTrue(slow.err().contains("migration cancelled (SIGTERM); the VM runs on the source"), slow.err());
        assertFalse(Files.exists(dst), "the target's directory is removed");
        assertFalse(anyQemuUnder(root2), "no target QEMU left");
        assertTrue(alive(srcPid), "the source QEMU runs on");
        LauncherHarness.Result st = h.exec("status", "mig1");
        assertTrue(st.out().contains("Running (running)"), st.toString());
        assertEquals(served, httpHostname(hostPort), "the guest still serves from the source");

        // migrate itself killed mid-way: the source's QEMU goes on migrating alone; --cancel restores it, and the
        // target, whose stream then closes, exits by itself (its stale directory is replaced by the next target).
        LauncherHarness.Started killed = h.start("migrate", "mig1", "--to-runtime-root", root2.toString(), "--bandwidth", "1");
        waitFor(() -> killed.err().contains("migrate: active"), Duration.ofSeconds(60), "migration under way: " + killed.err());
        killed.process().destroyForcibly();
        killed.awaitExit(Duration.ofSeconds(10));
        LauncherHarness.Result undo = h.exec("migrate", "mig1", "--cancel");
        assertEquals(0, undo.code(), undo.toString());
        assertTrue(undo.out().contains("VM default/mig1: migration cancelled (it was active"), undo.toString());
        assertTrue(undo.out().contains("VM default/mig1: Running (running)"), undo.toString());
        waitFor(() -> !anyQemuUnder(root2), Duration.ofSeconds(10), "the orphaned target QEMU exits");
        assertEquals(served, httpHostname(hostPort), "the guest serves from the source again");

        LauncherHarness.Result m = h.exec("migrate", "mig1", "--to-runtime-root", root2.toString());
        assertEquals(0, m.code(), m.toString());
        assertTrue(m.out().contains("VM default/mig1 migrated to " + dst), m.toString());
        assertTrue(m.out().contains("disks copied"), "the emptyDisk was mirrored: " + m);
        assertTrue(m.err().contains("migrate: completed"), m.toString());
        assertEquals(0, run.awaitExit(Duration.ofSeconds(30)), run.err());
        run.out().await(Pattern.compile("Succeeded \\(migrated to " + Pattern.quote(dst.toString())), Duration.ofSeconds(5));
        assertFalse(alive(srcPid), "the source QEMU has quit");
        assertFalse(Files.exists(src), "run removed the source's directory");

        long dstPid = launcherJson(dst).path("qemuPid").asLong();
        assertNotEquals(srcPid, dstPid);
        LauncherHarness.Result st2 = h.exec("--log-format=text", "status", "mig1", "--runtime-root", root2.toString());
        assertTrue(st2.out().contains("Running (running)"), st2.toString());
        assertTrue(st2.out().contains("qemu pid " + dstPid + ", started by migrate"), st2.toString());
        assertEquals(served, httpHostname(hostPort), "the forwarded port answers from the new QEMU");
        try (ConsoleTap c = ConsoleTap.attach(dst.resolve("console.sock"))) {
            c.type("echo; echo mark=$(dd if=/dev/vdb bs=512 skip=100 count=1 2>/dev/null | head -n1); "
                    + "echo up=$(cut -d' ' -f1 /proc/uptime)\n");
            assertEquals("qvirt-mig-42", c.out.await(MARK, Duration.ofSeconds(30)).group(1), "the emptyDisk's data moved");
            double up2 = Double.parseDouble(c.out.await(UPTIME, Duration.ofSeconds(30)).group(1));
            assertTrue(up2 > up1, "uptime goes on: " + up1 + " then " + up2);
        }
        String log = Files.readString(dst.resolve("console.log"), StandardCharsets.ISO_8859_1);
        assertEquals(1, GuestMarkers.BOOTED.matcher(log).results().count(), "one boot in the carried-over console log");
        assertTrue(log.contains("up=" + fmt(up1)), "the console log holds what the guest printed on the source");

        assertEquals(0, h.exec("--log-format=text", "kill", "mig1", "--runtime-root", root2.toString()).code());
        waitFor(() -> !alive(dstPid), Duration.ofSeconds(10), "target QEMU killed");
    }

    /**
     * A VM left by {@code launcher exec} (nobody owns it) with a containerDisk: its overlay is mirrored, RAM goes
     * over two multifd channels, the target gets another directory name in the same root.
     */
    @Test
    void execdContainerDiskVmMovesItsOverlayToAnotherName() throws Exception {
        Path yaml = containerDiskVm("cd1");
        Path links = tmp.resolve("container-disks");
        LauncherHarness.Started ex = h.start("exec", yaml.toString(), "--accel", "tcg", "--autostart",
                "--container-disk-dir", links.toString());
        Path src = h.vmDir("cd1");
        Path dst = h.vmDir("cd1-b");
        waitFor(() -> Files.exists(src.resolve("launcher.json")), Duration.ofSeconds(30), "launcher.json: " + ex.err());
        double up1;
        try (ConsoleTap c = ConsoleTap.attach(src.resolve("console.sock"))) {
            c.out.await(GuestMarkers.PROMPT_PATTERN, BOOT);
            c.type("echo qvirt-mig-$((7*6)) | dd of=/dev/vda bs=512 seek=60000 conv=fsync 2>/dev/null; "
                    + "echo up=$(cut -d' ' -f1 /proc/uptime)\n");
            up1 = Double.parseDouble(c.out.await(UPTIME, Duration.ofSeconds(30)).group(1));
        }
        LauncherHarness.Result m = h.exec("migrate", "cd1", "--to", "cd1-b", "--multifd", "2");
        assertEquals(0, m.code(), m.toString());
        assertTrue(m.out().contains("disks copied"), m.toString());
        assertTrue(ex.awaitExit(Duration.ofSeconds(10)) >= 0, "the exec'd source QEMU has quit");
        waitFor(() -> !Files.exists(src), Duration.ofSeconds(10), "the unowned source's directory is removed");
        try (ConsoleTap c = ConsoleTap.attach(dst.resolve("console.sock"))) {
            c.type("echo; echo mark=$(dd if=/dev/vda bs=512 skip=60000 count=1 2>/dev/null | head -n1); "
                    + "echo up=$(cut -d' ' -f1 /proc/uptime)\n");
            assertEquals("qvirt-mig-42", c.out.await(MARK, Duration.ofSeconds(30)).group(1),
                    "what the guest wrote to its containerDisk moved with the overlay");
            double up2 = Double.parseDouble(c.out.await(UPTIME, Duration.ofSeconds(30)).group(1));
            assertTrue(up2 > up1, "uptime goes on: " + up1 + " then " + up2);
        }
        LauncherHarness.Result st = h.exec("status", "cd1-b");
        assertTrue(st.out().contains("Running (running)") && st.out().contains("started by migrate"), st.toString());
        assertEquals(0, h.exec("kill", "cd1-b").code());
        waitFor(() -> !Files.exists(dst), Duration.ofSeconds(10), "kill removes the migrated-in VM's directory");
    }

    /**
     * {@code --on-timeout} (KubeVirt's allowWorkloadDisruption): {@code pause} stops the guest at the timeout and
     * cancels only at twice it (the source's guest runs again), or lets a migration that can finish paused finish
     * (the guest runs on the target); {@code postcopy} switches over at the timeout and completes.
     */
    @Test
    void theTimeoutPausesTheGuestOrSwitchesToPostcopy() throws Exception {
        Path yaml = containerDiskVm("to1");
        LauncherHarness.Started ex = h.start("exec", yaml.toString(), "--accel", "tcg", "--autostart",
                "--container-disk-dir", tmp.resolve("container-disks").toString());
        Path a = h.vmDir("to1");
        Path b = h.vmDir("to1-b");
        waitFor(() -> Files.exists(a.resolve("launcher.json")), Duration.ofSeconds(30), "launcher.json: " + ex.err());
        double up1;
        try (ConsoleTap c = ConsoleTap.attach(a.resolve("console.sock"))) {
            c.out.await(GuestMarkers.PROMPT_PATTERN, BOOT);
            c.type("echo up=$(cut -d' ' -f1 /proc/uptime)\n");
            up1 = Double.parseDouble(c.out.await(UPTIME, Duration.ofSeconds(30)).group(1));
        }
        long pidA = launcherJson(a).path("qemuPid").asLong();

        // 1 MiB/s cannot move ~90 MiB in 10 s: paused at 5 s, cancelled at 10 s, the guest runs again on the source
        LauncherHarness.Result paused = h.exec("migrate", "to1", "--to", "to1-b", "--bandwidth", "1", "--timeout", "5",
                "--on-timeout", "pause");
        assertEquals(1, paused.code(), paused.toString());
        assertTrue(paused.err().contains("migrate: mode Paused"), paused.toString());
        assertTrue(paused.err().contains("it took longer than 10 s"), paused.toString());
        assertFalse(Files.exists(b), "the target is removed");
        assertTrue(alive(pidA));
        LauncherHarness.Result st = h.exec("status", "to1");
        assertTrue(st.out().contains("Running (running)"), "resumed after the cancel: " + st);

        // 12 MiB/s needs ~7.5 s for the ~90 MiB an idle guest sends: paused at 5 s (~2.5 s before it would end), the
        // rest (~30 MiB, nothing dirtied any more) sent in ~2.5 s, well before the cancel at 10 s; the target's guest runs
        LauncherHarness.Result done = h.exec("migrate", "to1", "--to", "to1-b", "--bandwidth", "12", "--timeout", "5",
                "--on-timeout", "pause");
        assertEquals(0, done.code(), done.toString());
        assertTrue(done.err().contains("migrate: mode Paused"), done.toString());
        assertTrue(done.out().contains("the guest paused from the timeout on"), done.toString());
        LauncherHarness.Result stB = h.exec("status", "to1-b");
        assertTrue(stB.out().contains("Running (running)"), "running on the target: " + stB);

        // postcopy at the timeout: the rest is fetched by the running target, whatever the bandwidth cap
        LauncherHarness.Result post = h.exec("migrate", "to1-b", "--to", "to1", "--bandwidth", "1", "--timeout", "5",
                "--on-timeout", "postcopy", "--auto-converge");
        assertEquals(0, post.code(), post.toString());
        assertTrue(post.err().contains("migrate: mode PostCopy"), post.toString());
        assertTrue(post.out().contains(", postcopy"), post.toString());
        try (ConsoleTap c = ConsoleTap.attach(a.resolve("console.sock"))) {
            c.type("echo; echo up=$(cut -d' ' -f1 /proc/uptime)\n");
            double up2 = Double.parseDouble(c.out.await(UPTIME, Duration.ofSeconds(30)).group(1));
            assertTrue(up2 > up1, "the same boot after both moves: " + up1 + " then " + up2);
        }
        LauncherHarness.Result bad = h.exec("migrate", "to1", "--to", "to1-b", "--on-timeout", "later");
        assertEquals(2, bad.code(), bad.toString());
        assertTrue(bad.err().contains("--on-timeout: 'later' is not allowed: cancel, postcopy or pause"), bad.toString());
        LauncherHarness.Result both = h.exec("migrate", "to1", "--to", "to1-b", "--multifd", "2", "--on-timeout", "postcopy");
        assertEquals(2, both.code(), both.toString());
        assertTrue(both.err().contains("--multifd: not allowed with --postcopy or --on-timeout postcopy"), both.toString());
        assertFalse(Files.exists(b), "nothing made for a refused migrate");
        assertEquals(0, h.exec("kill", "to1").code());
    }

    /** A VMI booting the test guest from a containerDisk published under tmp/container-disks. */
    private Path containerDiskVm(String name) throws IOException {
        Path published = Files.createDirectories(tmp.resolve("container-root/disk"));
        Files.copy(TestGuest.get().diskQcow2(), published.resolve("disk.qcow2"));
        Path links = Files.createDirectories(tmp.resolve("container-disks"));
        Files.createSymbolicLink(links.resolve("containerdisk"), published);
        Path yaml = tmp.resolve(name + ".yaml");
        Files.writeString(yaml, """
                apiVersion: kubevirt.io/v1
                kind: VirtualMachineInstance
                metadata:
                  name: %s
                spec:
                  domain:
                    devices:
                      autoattachPodInterface: false
                      disks:
                      - name: containerdisk
                        disk:
                          bus: virtio
                    resources:
                      requests:
                        memory: 128Mi
                  volumes:
                  - name: containerdisk
                    containerDisk:
                      image: registry.invalid/never/pulled:v1
                """.formatted(name));
        return yaml;
    }

    private static String httpHostname(int port) throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + port + "/hostname")).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode());
        return r.body().strip();
    }

    /** The guest prints uptime with two decimals; the parsed double prints them back the same way. */
    private static String fmt(double d) {
        return String.format(java.util.Locale.ROOT, "%.2f", d);
    }

    private static JsonNode launcherJson(Path dir) throws IOException {
        return JSON.readTree(dir.resolve("launcher.json").toFile());
    }

    private static boolean anyQemuUnder(Path dir) {
        return ProcessHandle.allProcesses().anyMatch(p -> cmdline(p.pid()).contains(dir.toString())
                && cmdline(p.pid()).contains("qemu-system"));
    }

    private static String cmdline(long pid) {
        try {
            return new String(Files.readAllBytes(Path.of("/proc/" + pid + "/cmdline")), StandardCharsets.UTF_8)
                    .replace('\0', ' ');
        } catch (IOException e) {
            return "";
        }
    }



}
