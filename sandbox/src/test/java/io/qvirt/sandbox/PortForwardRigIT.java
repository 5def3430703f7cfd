package io.qvirt.sandbox;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.qvirt.api.ManifestLoader;
import io.qvirt.api.VirtualMachine;
import io.qvirt.api.VirtualMachineInstance;
import io.qvirt.api.model.Port;
import io.qvirt.testdata.ConsoleWatcher;
import io.qvirt.testdata.GuestMarkers;
import io.qvirt.testdata.TestGuest;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code virtctl port-forward} and {@code virtctl ssh} on the rig, as real processes through the whole path: virtctl
 * -> the front door (playing kube-apiserver's aggregator; fabric8's CRUD mock behind it, NOT a kube-apiserver) ->
 * virt-api (SubjectAccessReview on .../portforward) -> the node's handler over mutual TLS -> TCP to the pod address
 * (127.0.node.n) -> the launcher's forward -> QEMU's user networking -> the guest's port. The guest (real, under TCG)
 * serves {@code GET /hostname} on port 80 (busybox httpd); it has no sshd, so the test starts {@code nc -l -p 22} in it
 * through the console, sending an SSH banner and keeping what the client sends: the real {@code ssh} must print the
 * guest's banner ({@code -v}) and the guest must have received ssh's, so bytes crossed both ways.
 */
class PortForwardRigIT {
    private static final Duration BOOT = Duration.ofSeconds(180);
    private static final Duration SHORT = Duration.ofSeconds(30);
    private static final Path VIRTCTL = SandboxIT.ROOT.resolve("bin/virtctl");
    /** What the guest's stand-in sshd sends: an SSH identification string ssh -v reports as the server's software. */
    private static final String GUEST_BANNER = "SSH-2.0-QVIRT_GUEST_SSHD";

    @TempDir
    static Path tmp;
    static Path dir;
    static KubernetesClient client;
    static final List<Process> started = new ArrayList<>();

    record Result(int code, String out, String err) {
    }

    @BeforeAll
    static void up() throws Exception {
        assertTrue(Files.isRegularFile(SandboxIT.ROOT.resolve("virtctl/target/qvirt-virtctl.jar")),
                "bin/virtctl is not built (mvn -pl virtctl package): the sandbox module needs qvirt-virtctl as a test dependency");
        assertTrue(Files.isExecutable(Path.of("/usr/bin/ssh")) || Files.isExecutable(Path.of("/bin/ssh")),
                "the ssh client is not installed (scripts/install-deps.sh installs openssh-client)");
        SandboxIT.registry();
        dir = tmp.resolve("rig");
        SandboxIT.Result up = SandboxIT.run(Duration.ofSeconds(240), SandboxIT.BIN.toString(), "up", "--dir",
                dir.toString(), "--nodes", "1");
        assertEquals(0, up.code(), up.out());
        client = SandboxIT.client(dir);
    }

    @AfterAll
    static void down() throws Exception {
        for (Process p : started) {
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
        }
        if (client != null) {
            client.close();
        }
        if (dir != null) {
            SandboxIT.Result down = SandboxIT.run(Duration.ofSeconds(120), SandboxIT.BIN.toString(), "down", "--dir", dir.toString());
            assertEquals(0, down.code(), down.out());
            assertEquals(List.of(), SandboxIT.processesMentioning(dir), "down leaves no process");
        }
    }

    static ProcessBuilder virtctlProcess(String... args) {
        List<String> cmd = new ArrayList<>(List.of(VIRTCTL.toString(), "--kubeconfig", dir.resolve("kubeconfig").toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().put("HOME", tmp.toString());
        pb.environment().remove("KUBECONFIG");
        pb.environment().remove("SSH_AUTH_SOCK");
        return pb;
    }

    static Process start(ProcessBuilder pb) throws java.io.IOException {
        Process p = pb.start();
        started.add(p);
        return p;
    }

    /** A run with stdin from {@code input} (closed after), bounded by 90 s. */
    static Result virtctl(byte[] input, String... args) throws Exception {
        Path out = Files.createTempFile(tmp, "out", ".txt");
        Path err = Files.createTempFile(tmp, "err", ".txt");
        Process p = start(virtctlProcess(args).redirectOutput(out.toFile()).redirectError(err.toFile()));
        try (OutputStream in = p.getOutputStream()) {
            in.write(input);
        }
        if (!p.waitFor(90, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("virtctl " + String.join(" ", args) + " did not end within 90 s: " + Files.readString(err));
        }
        return new Result(p.exitValue(), Files.readString(out), Files.readString(err));
    }

    static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (java.io.IOException e) {
            return "";
        }
    }

    static byte[] get(HttpClient http, String url) throws Exception {
        HttpResponse<byte[]> r = http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(60)).build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(200, r.statusCode(), url);
        return r.body();
    }

    @Test
    void portForwardAndSshReachTheGuestThroughVirtApiAndTheHandler() throws Exception {
        VirtualMachine vm = ManifestLoader.loadOne(TestGuest.testVmYaml()).vm();
        vm.getMetadata().setNamespace("default");
        vm.getSpec().setRunning(true);
        // Masquerade on qvirt reaches the ports the interface lists (QEMU user networking cannot forward all).
        Port http = new Port();
        http.setName("http");
        http.setPort(80);
        Port ssh = new Port();
        ssh.setName("ssh");
        ssh.setPort(22);
        vm.getSpec().getTemplate().getSpec().getDomain().getDevices().getInterfaces().get(0).setPorts(List.of(http, ssh));
        client.resources(VirtualMachine.class).resource(vm).create();
        VirtualMachineInstance v = SandboxIT.awaitValue(BOOT, "VMI testvm Running", () -> {
            VirtualMachineInstance x = client.resources(VirtualMachineInstance.class).inNamespace("default").withName("testvm").get();
            return x != null && x.getStatus() != null && "Running".equals(x.getStatus().getPhase()) ? x : null;
        });
        Path log = dir.resolve("nodes").resolve(v.getStatus().getNodeName()).resolve("run/default/testvm/console.log");
        SandboxIT.await(BOOT, "the guest's shell prompt in console.log", () -> read(log).contains(GuestMarkers.PROMPT));

        // ---- port-forward: a local port, HTTP over it ----
        Path pfErr = tmp.resolve("pf.err");
        Process pf = start(virtctlProcess("port-forward", "vm/testvm", "18080:80").redirectError(pfErr.toFile())
                .redirectOutput(ProcessBuilder.Redirect.DISCARD));
        SandboxIT.await(SHORT, "port-forward listening", () -> read(pfErr).contains("forwarding tcp 127.0.0.1:18080 to 80\n"));
        HttpClient http1 = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
        long t0 = System.nanoTime();
        HttpResponse<String> page = http1.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:18080/hostname"))
                .timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());
        long firstMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertEquals(200, page.statusCode(), page.body());
        assertEquals("testvm", page.body().strip(), "the guest's hostname (cloud-init's local-hostname), through the tunnel");
        long t1 = System.nanoTime();
        for (int i = 0; i < 5; i++) {
            HttpResponse<String> again = http1.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:18080/hostname"))
                    .timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals("testvm", again.body().strip(), "connection " + (i + 2) + ": a WebSocket each");
        }
        System.out.printf("port-forward GET /hostname: first %d ms, then %d ms each (5 more, one WebSocket per connection)%n",
                firstMs, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t1) / 5);
        pf.destroy(); // Ctrl-C's SIGINT and SIGTERM end it alike
        assertTrue(pf.waitFor(10, TimeUnit.SECONDS), "port-forward ends on a signal");

        // ---- stdio: one connection over stdin/stdout; a port the VM does not forward ----
        Result notForwarded = virtctl(new byte[0], "port-forward", "--stdio", "vm/testvm", "8081");
        assertEquals(1, notForwarded.code(), notForwarded.err());
        assertEquals("error: Can't connect to websocket (400): port 8081/tcp of VMI default/testvm is not forwarded: qvirt's "
                + "masquerade (QEMU user networking) reaches only the ports listed in spec.domain.devices.interfaces[].ports "
                + "(listed: 80/tcp, 22/tcp)\n", notForwarded.err());

        // ---- the namespace user: their own namespace yes, another no ----
        Process mine = start(virtctlProcess("--context", "qvirt-sandbox-user", "port-forward", "--stdio", "vmi/testvm", "80")
                .redirectError(tmp.resolve("mine.err").toFile()));
        try (ConsoleWatcher out = new ConsoleWatcher(mine.getInputStream(), "port-forward --stdio as sandbox-user")) {
            OutputStream in = mine.getOutputStream();
            in.write("GET /hostname HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            in.flush();
            out.await(Pattern.compile("200 OK[\\s\\S]*\r\n\r\ntestvm\n"), SHORT);
            assertTrue(mine.waitFor(SHORT.toSeconds(), TimeUnit.SECONDS), "httpd closes after its answer: so does port-forward");
            assertEquals(0, mine.exitValue(), read(tmp.resolve("mine.err")));
        }
        Result elsewhere = virtctl(new byte[0], "--context", "qvirt-sandbox-user", "port-forward", "--stdio", "vm/testvm/kubevirt", "80");
        assertEquals(1, elsewhere.code(), elsewhere.err());
        assertTrue(elsewhere.err().startsWith("error: Can't connect to websocket (403): ") && elsewhere.err().contains("forbidden")
                && elsewhere.err().contains("sandbox-user") && elsewhere.err().contains("virtualmachines/portforward"), elsewhere.err());
        assertEquals(1, elsewhere.err().lines().count(), elsewhere.err());

        // ---- ssh: the system ssh through ProxyCommand=virtctl port-forward --stdio, to a stand-in sshd in the guest ----
        Process console = start(virtctlProcess("console", "testvm", "--timeout", "1").redirectError(tmp.resolve("console.err").toFile()));
        try (ConsoleWatcher guest = new ConsoleWatcher(console.getInputStream(), "virtctl console testvm")) {
            SandboxIT.await(SHORT, "virtctl console connected", () -> read(tmp.resolve("console.err")).contains("Successfully connected"));
            OutputStream typed = console.getOutputStream();
            typed.write(("(printf '" + GUEST_BANNER + "\\r\\n'; sleep 4) | nc -l -p 22 > /tmp/sshin &\necho nc-$((20+2))-up\n")
                    .getBytes(StandardCharsets.US_ASCII));
            typed.flush();
            guest.await(Pattern.compile("nc-22-up\\r?\\n"), SHORT);

            Result sshRun = virtctl(new byte[0], "ssh", "--local-ssh-opts=-v", "--local-ssh-opts=-o StrictHostKeyChecking=no",
                    "--local-ssh-opts=-o UserKnownHostsFile=/dev/null", "--local-ssh-opts=-o BatchMode=yes", "-c", "true",
                    "root@vm/testvm");
            // No sshd answers past the banner, so ssh fails (255) after the exchange: virtctl says so, exit 1.
            assertEquals(1, sshRun.code(), sshRun.err());
            assertTrue(sshRun.err().contains("remote software version QVIRT_GUEST_SSHD"),
                    "ssh read the guest's banner through the tunnel: " + sshRun.err());
            assertTrue(sshRun.err().endsWith("error: ssh exited with status 255\n"), sshRun.err());

            typed.write("echo got-$(head -n 1 /tmp/sshin | cut -c1-15)-end\n".getBytes(StandardCharsets.US_ASCII));
            typed.flush();
            guest.await(Pattern.compile("got-SSH-2\\.0-OpenSSH-end"), SHORT);

            // ---- a figure: 8 MiB of random bytes from the guest's httpd, on the pod address's forward directly (what
            // a Service would reach) and through port-forward (front door, virt-api, handler); the same bytes both ways ----
            typed.write("dd if=/dev/urandom of=/www/big bs=64k count=128 2>/dev/null; echo big-$((1+2))-done\n"
                    .getBytes(StandardCharsets.US_ASCII));
            typed.flush();
            guest.await(Pattern.compile("big-3-done\\r?\\n"), SHORT);
            String podIp = client.resources(VirtualMachineInstance.class).inNamespace("default").withName("testvm").get()
                    .getStatus().getInterfaces().get(0).getIpAddress();
            long d0 = System.nanoTime();
            byte[] direct = get(http1, "http://" + podIp + ":80/big");
            long directNanos = System.nanoTime() - d0;
            Path pf2Err = tmp.resolve("pf2.err");
            Process pf2 = start(virtctlProcess("port-forward", "vm/testvm", "18081:80").redirectError(pf2Err.toFile())
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD));
            SandboxIT.await(SHORT, "port-forward listening", () -> read(pf2Err).contains("forwarding tcp 127.0.0.1:18081 to 80\n"));
            long t2 = System.nanoTime();
            byte[] tunneled = get(http1, "http://127.0.0.1:18081/big");
            long tunnelNanos = System.nanoTime() - t2;
            assertEquals(8 << 20, direct.length);
            assertTrue(java.util.Arrays.equals(direct, tunneled), "8 MiB through port-forward, byte for byte as directly");
            System.out.printf("8 MiB from the guest's httpd: pod address directly %.1f MiB/s (%d ms), through port-forward "
                    + "%.1f MiB/s (%d ms)%n", 8e9 / directNanos, directNanos / 1_000_000, 8e9 / tunnelNanos, tunnelNanos / 1_000_000);
            pf2.destroy();
            assertTrue(pf2.waitFor(10, TimeUnit.SECONDS));
            typed.write(29); // Ctrl-]
            typed.flush();
            assertTrue(console.waitFor(30, TimeUnit.SECONDS), "Ctrl-] leaves the console");
        }
        client.resources(VirtualMachine.class).inNamespace("default").withName("testvm").delete();
    }
}
