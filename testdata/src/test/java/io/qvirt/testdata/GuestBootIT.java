package io.qvirt.testdata;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Boots the real test guest under real {@code qemu-system-x86_64} and checks each of its behaviours.
 * Accelerator: TCG, always (this machine's /dev/kvm may be absent or unable to run a stock kernel; the
 * kvm-probe module decides when KVM is used). QMP is spoken raw here so this module needs no client.
 */
class GuestBootIT {
    private static final Duration BOOT = Duration.ofSeconds(60);
    private static TestGuest guest;

    @TempDir
    Path tmp;

    @BeforeAll
    static void guest() {
        guest = TestGuest.get();
        System.out.println("GuestBootIT: accelerator tcg; guest " + guest.properties().getProperty("kernel_package")
                + " " + guest.properties().getProperty("kernel_version"));
    }

    private List<String> base(Path qmp) {
        return new ArrayList<>(List.of(
                "-accel", "tcg", "-m", TestGuest.MEMORY_MIB + "M",
                "-nodefaults", "-no-user-config", "-display", "none", "-serial", "stdio",
                "-qmp", "unix:" + qmp + ",server=on,wait=off"));
    }

    @Test
    void kernelBootRunsCloudInitNetworkShellAndPowersOffOnAcpi() throws Exception {
        byte[] userData = "Hi.\\n".getBytes(StandardCharsets.US_ASCII); // the seed's bytes: H i . \ n
        assertEquals(5, userData.length);
        Path iso = cidata("testvm.default", "testvm", userData);
        int port = freePort();
        Path qmp = tmp.resolve("qmp.sock");
        List<String> args = base(qmp);
        args.addAll(List.of(
                "-kernel", guest.kernel().toString(), "-initrd", guest.initrd().toString(),
                "-append", TestGuest.KERNEL_ARGS,
                "-drive", "file=" + iso + ",if=virtio,format=raw,readonly=on",
                "-netdev", "user,id=net0,net=10.0.2.0/24,host=10.0.2.1,dns=10.0.2.3,dhcpstart=10.0.2.2,"
                        + "hostfwd=tcp:127.0.0.1:" + port + "-:80",
                "-device", "virtio-net-pci,netdev=net0"));
        try (QemuProcess q = QemuProcess.start(args, tmp.resolve("stderr"))) {
            ConsoleWatcher c = q.console();
            Matcher booted = c.await(GuestMarkers.BOOTED, BOOT);
            assertTrue(Double.parseDouble(booted.group(1)) > 0, "guest uptime is positive");

            Matcher ci = c.await(GuestMarkers.CLOUDINIT, BOOT);
            assertEquals("testvm.default", ci.group(1));
            assertEquals(sha256(userData), ci.group(2));

            Matcher net = c.await(GuestMarkers.NET, BOOT);
            assertEquals("10.0.2.2", net.group(1));
            assertEquals("10.0.2.1", net.group(2));

            c.await(GuestMarkers.PROMPT_PATTERN, BOOT);
            q.type("echo sum=$((40+2))\n");
            c.await(Pattern.compile("sum=42"), Duration.ofSeconds(20));

            // The guest's HTTP server answers /hostname through QEMU's host forward.
            HttpResponse<String> r = HttpClient.newHttpClient().send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/hostname"))
                            .timeout(Duration.ofSeconds(20)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode());
            assertEquals("testvm", r.body().strip());

            try (RawQmp m = RawQmp.connect(qmp, Duration.ofSeconds(10))) {
                assertTrue(m.greeting().contains("\"QMP\""), m.greeting());
                assertEquals("{\"return\": {}}", m.negotiate());
                assertEquals("{\"return\": {}}", m.execute("{\"execute\":\"system_powerdown\"}"));
                c.await(GuestMarkers.POWEROFF, BOOT);
                String shutdown = m.awaitEvent("SHUTDOWN");
                assertTrue(shutdown.contains("\"guest\": true"), shutdown);
                assertTrue(shutdown.contains("guest-shutdown"), shutdown);
            }
            assertEquals(0, q.awaitExit(Duration.ofSeconds(20)), () -> "qemu exit; stderr: " + q.stderr());
        }
    }

    @Test
    void diskImageBootsToShellWithoutCloudInitOrNetwork() throws Exception {
        Path qmp = tmp.resolve("qmp.sock");
        List<String> args = base(qmp);
        // snapshot=on: writes go to a temporary overlay; the built image is shared and must stay pristine.
        args.addAll(List.of("-drive", "file=" + guest.diskQcow2() + ",if=virtio,format=qcow2,snapshot=on"));
        try (QemuProcess q = QemuProcess.start(args, tmp.resolve("stderr"))) {
            ConsoleWatcher c = q.console();
            c.await(GuestMarkers.BOOTED, BOOT);
            c.await(GuestMarkers.PROMPT_PATTERN, BOOT);
            String text = c.text();
            assertTrue(text.contains("SYSLINUX"), "booted through syslinux from the disk image");
            assertFalse(GuestMarkers.CLOUDINIT.matcher(text).find(), "no cidata volume, no cloud-init line");
            assertFalse(GuestMarkers.NET.matcher(text).find(), "no NIC, no network line");
            try (RawQmp m = RawQmp.connect(qmp, Duration.ofSeconds(10))) {
                m.negotiate();
                m.execute("{\"execute\":\"system_powerdown\"}");
                c.await(GuestMarkers.POWEROFF, BOOT);
            }
            assertEquals(0, q.awaitExit(Duration.ofSeconds(20)), () -> "qemu exit; stderr: " + q.stderr());
        }
    }

    private Path cidata(String instanceId, String hostname, byte[] userData) throws IOException, InterruptedException {
        Path dir = Files.createDirectories(tmp.resolve("cidata"));
        Files.writeString(dir.resolve("meta-data"), "instance-id: " + instanceId + "\nlocal-hostname: " + hostname + "\n");
        Files.write(dir.resolve("user-data"), userData);
        Path iso = tmp.resolve("cidata.iso");
        Process p = new ProcessBuilder("xorriso", "-as", "mkisofs", "-quiet", "-V", "cidata", "-J", "-r",
                "-o", iso.toString(), dir.resolve("meta-data").toString(), dir.resolve("user-data").toString())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), out);
        return iso;
    }

    private static String sha256(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
