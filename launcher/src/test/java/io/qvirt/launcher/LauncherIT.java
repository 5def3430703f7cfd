package io.qvirt.launcher;

import static io.qvirt.launcher.LauncherHarness.alive;
import static io.qvirt.launcher.LauncherHarness.waitFor;

import io.qvirt.launcher.LauncherHarness.ConsoleTap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.qvirt.testdata.ConsoleWatcher;
import io.qvirt.testdata.GuestMarkers;
import io.qvirt.testdata.RawQmp;
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
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The launcher CLI end to end: the packaged jar in its own JVM, real QEMU (TCG: this machine's KVM may
 * not run a stock kernel; --accel tcg keeps the tests the same everywhere), the real test guest.
 */
class LauncherIT {
    private static final Duration BOOT = Duration.ofSeconds(90);
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    LauncherHarness h;

    @BeforeEach
    void setUp() throws IOException {
        h = new LauncherHarness(tmp);
    }

    @AfterEach
    void tearDown() {
        h.close();
    }

    @Test
    void runBootsPausesUnpausesAndShutsDownGracefully() throws Exception {
        Path yaml = h.vmYaml("vm1", h.overlay("vm1"), null);
        LauncherHarness.Started run = h.start("run", yaml.toString(), "--console", "--accel", "tcg");
        run.out().await(GuestMarkers.BOOTED, BOOT);
        run.out().await(GuestMarkers.PROMPT_PATTERN, BOOT);

        long qemuPid = launcherJson("vm1").path("qemuPid").asLong();
        assertNoJvmFds(qemuPid);
        assertEquals(List.of("0", "1", "2", "3", "4", "5"), fdsOf(qemuPid).subList(0, 6));

        LauncherHarness.Result p = h.exec("pause", "vm1");
        assertEquals(0, p.code(), p.toString());
        assertTrue(p.out().contains("Paused (paused)"), p.toString());
        LauncherHarness.Result st = h.exec("status", "vm1");
        assertTrue(st.out().contains("Paused (paused)"), st.toString());
        assertTrue(st.out().contains("started by run"), st.toString());
        LauncherHarness.Result u = h.exec("unpause", "vm1");
        assertTrue(u.out().contains("Running (running)"), u.toString());

        LauncherHarness.Result s = h.exec("shutdown", "vm1");
        assertEquals(0, s.code(), s.toString());
        assertTrue(s.out().contains("GUEST_POWERED_OFF"), s.toString());
        run.out().await(GuestMarkers.POWEROFF, BOOT);
        assertEquals(0, run.awaitExit(Duration.ofSeconds(30)), run.err());
        run.out().await(Pattern.compile("Succeeded \\(guest-shutdown\\)"), Duration.ofSeconds(5));
        assertFalse(Files.exists(h.vmDir("vm1")), "the VM's directory is removed");
        assertFalse(Files.exists(Path.of("/proc/" + qemuPid)), "QEMU reaped");
    }

    @Test
    void execBecomesQemuAndIsDrivenThroughQmpSock() throws Exception {
        Path yaml = h.vmYaml("vm2", h.overlay("vm2"), null);
        LauncherHarness.Started ex = h.start("exec", yaml.toString(), "--accel", "tcg", "--autostart");
        long pid = ex.process().pid();
        Path qmp = h.vmDir("vm2").resolve("qmp.sock");
        waitFor(() -> exeOf(pid).endsWith("qemu-system-x86_64"), Duration.ofSeconds(30), "pid " + pid + " becomes QEMU: " + ex.err());
        assertNoJvmFds(pid);
        List<String> fds = fdsOf(pid);
        assertTrue(fds.contains("512") && fds.contains("513"), "qmp.sock and console.sock inherited as 512, 513: " + fds);
        JsonNode info = launcherJson("vm2");
        assertEquals(pid, info.path("qemuPid").asLong());
        assertEquals(0, info.path("launcherPid").asLong(), "nothing but QEMU runs for the VM");

        try (ConsoleTap c = ConsoleTap.attach(h.vmDir("vm2").resolve("console.sock"))) {
            c.out.await(GuestMarkers.PROMPT_PATTERN, BOOT);
            LauncherHarness.Result st = h.exec("status", "vm2");
            assertTrue(st.out().contains("Running (running)"), st.toString());
            assertTrue(st.out().contains("started by exec"), st.toString());
            try (RawQmp m = RawQmp.connect(qmp, Duration.ofSeconds(10))) {
                m.negotiate();
                m.execute("{\"execute\":\"system_powerdown\"}");
                c.out.await(GuestMarkers.POWEROFF, BOOT);
                m.awaitEvent("SHUTDOWN");
            }
        }
        // -no-shutdown: QEMU stays, in shutdown, until a manager collects it.
        assertTrue(exeOf(pid).endsWith("qemu-system-x86_64"), "QEMU still there after the guest powered off");
        LauncherHarness.Result st = h.exec("status", "vm2");
        assertTrue(st.out().contains("Succeeded (shutdown: guest-shutdown)"), st.toString());
        LauncherHarness.Result k = h.exec("kill", "vm2");
        assertEquals(0, k.code(), k.toString());
        assertTrue(ex.awaitExit(Duration.ofSeconds(10)) >= 0, "QEMU exited");
        waitFor(() -> !Files.exists(h.vmDir("vm2")), Duration.ofSeconds(10), "exec'd VM's directory removed by kill");
    }

    /**
     * The cluster's containerDisk contract (see the controller's LauncherPods): the disk container publishes
     * its /disk as DIR/&lt;volume&gt;, a link, possibly after exec has started; exec waits for it, boots from an
     * overlay over the file behind it, and never writes that file. Here the link is made by the test, late.
     */
    @Test
    void execFindsAContainerDiskPublishedAsALinkAndNeverWritesIt() throws Exception {
        Path published = Files.createDirectories(tmp.resolve("container-root/disk"));
        Path base = published.resolve("disk.qcow2");
        Files.copy(io.qvirt.testdata.TestGuest.get().diskQcow2(), base);
        String before = sha256(base);
        Path dir = Files.createDirectories(tmp.resolve("container-disks"));
        String y = """
                apiVersion: kubevirt.io/v1
                kind: VirtualMachineInstance
                metadata:
                  name: cdvm
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
                """;
        Path yaml = tmp.resolve("cdvm.yaml");
        Files.writeString(yaml, y);
        LauncherHarness.Started ex = h.start("exec", yaml.toString(), "--accel", "tcg", "--autostart",
                "--container-disk-dir", dir.toString());
        Thread.sleep(1500);
        assertFalse(Files.exists(h.vmDir("cdvm").resolve("launcher.json")), "exec waits for the link: " + ex.err());
        Files.createSymbolicLink(dir.resolve("containerdisk"), published);
        Path json = h.vmDir("cdvm").resolve("launcher.json");
        waitFor(() -> Files.exists(json), Duration.ofSeconds(30), "launcher.json: " + ex.err());
        try (ConsoleTap c = ConsoleTap.attach(h.vmDir("cdvm").resolve("console.sock"))) {
            c.out.await(GuestMarkers.PROMPT_PATTERN, BOOT);
            c.type("dd if=/dev/urandom of=/dev/vda bs=512 seek=4096 count=64 conv=fsync 2>/dev/null; echo written-$((6*7))\n");
            // The terminal echoes what is typed: wait for what only the command prints.
            c.out.await(Pattern.compile("written-42\\r?\\n"), Duration.ofSeconds(20));
        }
        Path overlay = h.vmDir("cdvm").resolve("disks/containerdisk.qcow2");
        assertTrue(Files.size(overlay) > 32 * 1024, "the guest's 32 KiB write went to the VM's overlay");
        assertFalse(ex.err().contains("registry.invalid"), "nothing was pulled: " + ex.err());
        assertEquals(0, h.exec("kill", "cdvm").code());
        assertTrue(ex.awaitExit(Duration.ofSeconds(10)) >= 0, "QEMU exited");
        assertEquals(before, sha256(base), "the published disk is only ever a backing file");
    }

    private static String sha256(Path p) throws Exception {
        try (var in = Files.newInputStream(p)) {
            MessageDigest d = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            int n;
            while ((n = in.read(buf)) > 0) {
                d.update(buf, 0, n);
            }
            return HexFormat.of().formatHex(d.digest());
        }
    }

    @Test
    void sigkilledRunNeverLeavesAnOrphanQemu() throws Exception {
        Path yaml = h.vmYaml("vm3", h.overlay("vm3"), null);
        for (int i = 0; i < 20; i++) {
            LauncherHarness.Started run = h.start("run", yaml.toString(), "--accel", "tcg");
            Path json = h.vmDir("vm3").resolve("launcher.json");
            // The killed round's directory stays (nobody was left to remove it); the next run replaces it.
            long me = run.process().pid();
            waitFor(() -> {
                try {
                    return Files.exists(json) && launcherJson("vm3").path("launcherPid").asLong() == me;
                } catch (IOException e) {
                    return false; // the new run is replacing the killed round's directory under us: not yet
                }
            }, Duration.ofSeconds(30), "launcher.json of round " + i + ": " + run.err());
            long qemu = launcherJson("vm3").path("qemuPid").asLong();
            assertTrue(alive(qemu), "QEMU runs, round " + i);
            run.process().destroyForcibly(); // SIGKILL
            long t0 = System.nanoTime();
            waitFor(() -> !alive(qemu), Duration.ofSeconds(1), "QEMU " + qemu + " gone within 1 s of SIGKILL, round " + i);
            assertTrue(System.nanoTime() - t0 < 1_000_000_000L);
            run.awaitExit(Duration.ofSeconds(5));
        }
    }

    @Test
    void qemuKilledMakesRunFailNamingTheSignal() throws Exception {
        Path yaml = h.vmYaml("vm4", h.overlay("vm4"), null);
        LauncherHarness.Started run = h.start("run", yaml.toString(), "--accel", "tcg");
        Path json = h.vmDir("vm4").resolve("launcher.json");
        waitFor(() -> Files.exists(json), Duration.ofSeconds(30), "launcher.json: " + run.err());
        long qemu = launcherJson("vm4").path("qemuPid").asLong();
        new ProcessBuilder("kill", "-9", Long.toString(qemu)).start().waitFor();
        assertEquals(1, run.awaitExit(Duration.ofSeconds(30)), run.err());
        assertTrue(run.err().contains("killed by signal 9 (SIGKILL)"), run.err());
        assertTrue(run.out().text().contains("Failed"), run.out().text());
    }

    @Test
    void guestIgnoringAcpiIsKilledAfterTheGracePeriod() throws Exception {
        Path yaml = h.vmYaml("vm5", h.overlay("vm5"), null);
        LauncherHarness.Started run = h.start("run", yaml.toString(), "--accel", "tcg");
        waitFor(() -> Files.exists(h.vmDir("vm5").resolve("launcher.json")), Duration.ofSeconds(30), run.err());
        try (ConsoleTap c = ConsoleTap.attach(h.vmDir("vm5").resolve("console.sock"))) {
            c.out.await(GuestMarkers.PROMPT_PATTERN, BOOT);
            c.type("rm /etc/acpi/PWRF/00000080; echo acpid-$((40+2))\n");
            c.out.await(Pattern.compile("acpid-42\\r?\\n"), Duration.ofSeconds(20));
        }
        long t0 = System.nanoTime();
        LauncherHarness.Result s = h.exec("shutdown", "vm5", "--grace", "3");
        assertEquals(0, s.code(), s.toString());
        assertTrue(s.out().contains("FORCED_AFTER_GRACE"), s.toString());
        assertTrue(System.nanoTime() - t0 >= 3_000_000_000L, "waited the grace period");
        assertEquals(0, run.awaitExit(Duration.ofSeconds(30)), run.err());
    }

    @Test
    void guestPanicFailsTheVmWithTheReason() throws Exception {
        Path yaml = h.vmYaml("vm6", h.overlay("vm6"), null);
        LauncherHarness.Started run = h.start("run", yaml.toString(), "--accel", "tcg");
        waitFor(() -> Files.exists(h.vmDir("vm6").resolve("launcher.json")), Duration.ofSeconds(30), run.err());
        try (ConsoleTap c = ConsoleTap.attach(h.vmDir("vm6").resolve("console.sock"))) {
            c.out.await(GuestMarkers.PROMPT_PATTERN, BOOT);
            c.type("echo c > /proc/sysrq-trigger\n");
            assertEquals(1, run.awaitExit(Duration.ofSeconds(60)), run.err());
        }
        assertTrue(run.err().contains("guest-panicked"), run.err());
        assertTrue(run.out().text().contains("Failed (guest-panicked"), run.out().text());
    }

    /**
     * The seed VM's shape on a hostDisk: cloudInitNoCloud with the seed's userDataBase64 (5 bytes, a literal
     * backslash), masquerade with DHCP, and a port forwarded from 127.0.0.1 to the guest's HTTP server.
     */
    @Test
    void cloudInitBytesNetworkAndForwardedPortReachTheGuest() throws Exception {
        Path disk = h.overlay("ci");
        String y = """
                apiVersion: kubevirt.io/v1
                kind: VirtualMachine
                metadata:
                  name: civm
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
                          - name: cloudinitdisk
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
                      - name: cloudinitdisk
                        cloudInitNoCloud:
                          userDataBase64: SGkuXG4=
                """.formatted(disk);
        Path yaml = tmp.resolve("civm.yaml");
        Files.writeString(yaml, y);
        LauncherHarness.Started run = h.start("run", yaml.toString(), "--console", "--accel", "tcg");
        Matcher ci = run.out().await(GuestMarkers.CLOUDINIT, BOOT);
        assertEquals("civm.default", ci.group(1), "instance-id is <name>.<namespace>, as KubeVirt writes it");
        byte[] seed = {'H', 'i', '.', '\\', 'n'};
        assertEquals(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(seed)), ci.group(2),
                "user-data holds exactly the 5 decoded bytes");
        Matcher net = run.out().await(GuestMarkers.NET, BOOT);
        assertEquals("10.0.2.2", net.group(1));
        assertEquals("10.0.2.1", net.group(2));
        run.out().await(GuestMarkers.PROMPT_PATTERN, BOOT);

        JsonNode fwd = launcherJson("civm").path("forwards").get(0);
        assertEquals(80, fwd.path("guestPort").asInt(), fwd.toString());
        int hostPort = fwd.path("hostPort").asInt();
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + hostPort + "/hostname")).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode());
        assertEquals("civm", r.body().strip(), "local-hostname from meta-data, served by the guest through the forward");
        LauncherHarness.Result st = h.exec("status", "civm");
        assertTrue(st.out().contains("ipAddress 127.0.0.1 "), st.toString());
        assertTrue(st.out().contains("forward tcp 127.0.0.1:" + hostPort + " -> guest:80 (default/http)"), st.toString());
        Path iso = h.vmDir("civm").resolve("disks/cloudinitdisk.iso");
        assertTrue(Files.isRegularFile(iso), "the cidata ISO lives in the VM's directory");

        assertEquals(0, h.exec("shutdown", "civm").code());
        assertEquals(0, run.awaitExit(Duration.ofSeconds(30)), run.err());
        assertFalse(Files.exists(iso), "the ISO goes with the VM");
    }

    @Test
    void invalidSpecsAreRefusedBeforeAnythingIsSpawned() throws Exception {
        Path disk = h.overlay("bad");
        List<String[]> cases = new ArrayList<>();
        cases.add(new String[] {"badmem", "", "memory: 128Mi", "memory: lots", "spec.template.spec.domain.resources.requests.memory"});
        cases.add(new String[] {"novol", "", "volumes:\n      - name: root", "volumes:\n      - name: other", "spec.template.spec.domain.devices.disks[0].name"});
        cases.add(new String[] {"gpu", "", "autoattachPodInterface: false", "autoattachPodInterface: false\n          gpus:\n          - name: gpu1\n            deviceName: nvidia.com/GP100GL", "spec.template.spec.domain.devices.gpus"});
        for (String[] c : cases) {
            Path good = h.vmYaml(c[0], disk, c[1]);
            String text = Files.readString(good);
            assertTrue(text.contains(c[2]), "fixture edit applies: " + c[0]);
            Files.writeString(good, text.replace(c[2], c[3]));
            for (String cmd : new String[] {"validate", "run"}) {
                LauncherHarness.Result r = cmd.equals("validate") ? h.exec(cmd, good.toString())
                        : h.exec(cmd, good.toString(), "--accel", "tcg");
                assertEquals(2, r.code(), c[0] + " " + cmd + ": " + r);
                assertTrue(r.err().contains(c[4]), c[0] + " " + cmd + " names " + c[4] + ": " + r);
                assertFalse(r.err().contains("Exception"), "no stack trace: " + r);
                assertFalse(Files.exists(h.vmDir(c[0])), "no directory left for " + c[0]);
            }
        }
    }

    /** Issue 22: a 4 MB manifest and a containerDisk path leaving the image, as a new user would feed them. */
    @Test
    void hostileManifestsAreRefusedFastAndByField() throws Exception {
        Path big = tmp.resolve("big.yaml");
        StringBuilder y = new StringBuilder(Files.readString(h.vmYaml("big", tmp.resolve("none.img"), null)));
        String filler = "# " + "x".repeat(1021) + "\n";
        while (y.length() < 4 * 1024 * 1024) {
            y.append(filler);
        }
        Files.writeString(big, y);
        long t0 = System.nanoTime();
        LauncherHarness.Result r = h.exec("validate", big.toString());
        Duration took = Duration.ofNanos(System.nanoTime() - t0);
        assertEquals(2, r.code(), r.toString());
        assertTrue(r.err().contains("larger than 3145728 bytes (3 MiB, the API server's request limit); refused before "
                + "reading"), r.toString());
        assertFalse(r.err().contains("Exception"), r.toString());
        // JVM start included; before issue 22 this took 7.7 s and 456 MB.
        assertTrue(took.compareTo(Duration.ofSeconds(5)) < 0, "answered in " + took.toMillis() + " ms");

        Path shadow = tmp.resolve("shadow.yaml");
        Files.writeString(shadow, """
                apiVersion: kubevirt.io/v1
                kind: VirtualMachine
                metadata:
                  name: shadow
                spec:
                  running: true
                  template:
                    spec:
                      domain:
                        devices:
                          autoattachPodInterface: false
                          disks:
                          - name: root
                            disk: {bus: virtio}
                        resources:
                          requests:
                            memory: 128Mi
                      volumes:
                      - name: root
                        containerDisk:
                          image: 127.0.0.1:1/qvirt/none:latest
                          path: /disk/../../etc/shadow
                """);
        // KubeVirt's ValidatePath names the containerDisk (pkg/storage/admitters/disks.go), not its path field.
        String field = "spec.template.spec.volumes[0].containerDisk";
        LauncherHarness.Result v = h.exec("validate", shadow.toString());
        assertEquals(2, v.code(), v.toString());
        assertTrue(v.err().contains(field + ": " + field + " must be an absolute path to a file without relative "
                + "components"), v.toString());
        // run refuses it the same way before any pull (port 1 has no registry: a pull would exit 1, unreachable).
        Path cache = tmp.resolve("cache");
        LauncherHarness.Result run = h.exec("run", shadow.toString(), "--accel", "tcg", "--image-cache", cache.toString());
        assertEquals(2, run.code(), run.toString());
        assertTrue(run.err().contains(field + ": " + field + " must be an absolute path"), run.toString());
        assertFalse(Files.exists(cache), "nothing pulled, no cache made");
        assertFalse(Files.exists(h.vmDir("shadow")), "no VM directory");
    }

    /** Issue 22: a guest asking for more memory than the host has is refused before QEMU is spawned. */
    @Test
    void guestLargerThanTheHostIsRefusedBeforeAnythingIsSpawned() throws Exception {
        // QEMU through a recorder, so a spawn would be seen even by a QEMU that died at once.
        Path calls = tmp.resolve("qemu-calls");
        Path qemu = tmp.resolve("qemu-recorder");
        Files.writeString(qemu, "#!/bin/sh\necho \"$$ $*\" >> '" + calls + "'\nexec '" + realQemu() + "' \"$@\"\n");
        assertTrue(qemu.toFile().setExecutable(true));
        Map<String, String> env = Map.of("QVIRT_QEMU", qemu.toString());

        long available = 0;
        for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
            if (line.startsWith("MemAvailable:")) {
                available = Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        assertTrue(available > 0, "MemAvailable read");
        String huge = (available / (1L << 30) + 64) + "Gi";
        Path disk = h.overlay("huge");
        Path yaml = h.vmYaml("huge", disk, null);
        Files.writeString(yaml, Files.readString(yaml).replace("memory: 128Mi", "memory: " + huge));
        assertEquals(0, h.exec("validate", yaml.toString()).code(), "the spec itself is valid; only run checks the host");

        String field = "spec.template.spec.domain.resources.requests.memory";
        for (String cmd : new String[] {"run", "exec"}) {
            LauncherHarness.Result r = h.exec(env, cmd, yaml.toString(), "--accel", "tcg");
            assertEquals(2, r.code(), cmd + ": " + r);
            assertTrue(r.err().contains(field + ": " + huge.replace("Gi", ".0 GiB")), cmd + " names the field: " + r);
            assertTrue(r.err().contains("of guest memory is more than this host can give: MemAvailable is "), r.toString());
            assertFalse(r.err().contains("Exception"), r.toString());
            assertFalse(Files.exists(calls), cmd + " spawned no QEMU: " + (Files.exists(calls) ? Files.readString(calls) : ""));
            try (var entries = Files.list(h.root)) {
                assertEquals(List.of(), entries.toList(), cmd + " left no directory under the runtime root");
            }
            assertTrue(processesMentioning(disk.toString()).isEmpty(), "no QEMU left");
        }
        LauncherHarness.Result neg = h.exec(env, "run", yaml.toString(), "--accel", "tcg", "--overcommit", "-1");
        assertEquals(2, neg.code(), neg.toString());
        assertTrue(neg.err().contains("--overcommit: must be >= 0 percent"), neg.toString());

        // Control: the recorder does see a spawn (a guest that fits, paused by exec until killed).
        Files.writeString(yaml, Files.readString(yaml).replace("memory: " + huge, "memory: 128Mi"));
        LauncherHarness.Started ok = h.start(env, "exec", yaml.toString(), "--accel", "tcg");
        waitFor(() -> Files.exists(calls), Duration.ofSeconds(30), "QEMU spawned through the recorder: " + ok.err());
        assertEquals(0, h.exec("kill", "huge").code());
    }

    private static Path realQemu() {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            Path p = Path.of(dir, "qemu-system-x86_64");
            if (Files.isExecutable(p)) {
                return p.toAbsolutePath();
            }
        }
        throw new AssertionError("qemu-system-x86_64 not on PATH");
    }

    /** Pids of processes whose command line contains {@code text}. */
    private static List<Long> processesMentioning(String text) {
        List<Long> pids = new ArrayList<>();
        ProcessHandle.allProcesses().forEach(p -> {
            try {
                String cmdline = Files.readString(Path.of("/proc/" + p.pid() + "/cmdline")).replace('\0', ' ');
                if (cmdline.contains(text)) {
                    pids.add(p.pid());
                }
            } catch (IOException | RuntimeException e) {
                // gone, or not readable
            }
        });
        return pids;
    }

    @Test
    void secondVmOfTheSameNameAndSecondConsoleAreRefused() throws Exception {
        Path yaml = h.vmYaml("vm7", h.overlay("vm7"), null);
        LauncherHarness.Started run = h.start("run", yaml.toString(), "--console", "--accel", "tcg");
        run.out().await(GuestMarkers.BOOTED, BOOT);
        LauncherHarness.Result second = h.exec("run", yaml.toString(), "--accel", "tcg");
        assertEquals(1, second.code(), second.toString());
        assertTrue(second.err().contains("already running"), second.toString());
        LauncherHarness.Result console = h.exec("console", "vm7");
        assertEquals(1, console.code(), console.toString());
        assertTrue(console.err().contains("in use by launcher run"), console.toString());
        assertTrue(Files.exists(h.vmDir("vm7").resolve("qmp.sock")), "the first VM is untouched");
        LauncherHarness.Result k = h.exec("kill", "vm7");
        assertEquals(0, k.code(), k.toString());
        assertTrue(run.awaitExit(Duration.ofSeconds(30)) != -999, "run ends when its QEMU is killed");
    }

    private JsonNode launcherJson(String name) throws IOException {
        return JSON.readTree(h.vmDir(name).resolve("launcher.json").toFile());
    }

    /** No fd of QEMU points at anything the JVM had open: jars, the JDK, its own sockets and pipes. */
    private static void assertNoJvmFds(long pid) throws IOException {
        String javaHome = System.getProperty("java.home");
        try (var s = Files.list(Path.of("/proc/" + pid + "/fd"))) {
            for (Path fd : s.toList()) {
                String target;
                try {
                    target = Files.readSymbolicLink(fd).toString();
                } catch (IOException e) {
                    continue;
                }
                assertFalse(target.endsWith(".jar") || target.startsWith(javaHome) || target.contains("/jvm/"),
                        "QEMU " + pid + " inherited " + fd.getFileName() + " -> " + target);
            }
        }
    }

    /** The fd numbers a process holds, sorted numerically. */
    private static List<String> fdsOf(long pid) throws IOException {
        try (var s = Files.list(Path.of("/proc/" + pid + "/fd"))) {
            return s.map(p -> p.getFileName().toString()).sorted((a, b) -> Integer.parseInt(a) - Integer.parseInt(b)).toList();
        }
    }

    private static String exeOf(long pid) {
        try {
            return Files.readSymbolicLink(Path.of("/proc/" + pid + "/exe")).toString();
        } catch (IOException e) {
            return "";
        }
    }



}
