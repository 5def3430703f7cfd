package io.qvirt.launcher;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qvirt.launcher.plan.config.EfiFirmware;
import io.qvirt.testdata.ConsoleWatcher;
import io.qvirt.testdata.GuestMarkers;
import io.qvirt.testdata.RawQmp;
import io.qvirt.testdata.TestGuest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code domain.firmware.bootloader.efi} on real QEMU under TCG with Debian's OVMF, through {@code launcher exec}
 * (the way the handler starts VMs): the test guest's EFI disks ({@link TestGuest#efiSignedQcow2()},
 * {@link TestGuest#efiUnsignedQcow2()}) boot to the guest's shell with and without Secure Boot, the guest's kernel
 * reports which, and under Secure Boot OVMF refuses an unsigned loader. The test attaches to the serial console
 * before the guest's CPUs start, so the firmware's own lines are seen too, and prints each boot's time.
 */
class EfiBootIT {
    /** OVMF under TCG: ~5 s to the loader, ~30 s to the shell on an idle machine; room for a busy one. */
    private static final Duration BOOT = Duration.ofSeconds(120);
    private static final Pattern SECURE_BOOT = Pattern.compile("secureboot: Secure boot (enabled|disabled)");

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
    void unsignedGrubBootsWithoutSecureBoot() throws Exception {
        try (Booted b = boot("efi-plain", TestGuest.get().efiUnsignedQcow2(), "efi: {secureBoot: false}", false)) {
            b.awaitBooted();
            b.tap.out.await(GuestMarkers.PROMPT_PATTERN, BOOT);
            assertEquals("disabled", secureBootAsTheGuestSeesIt(b));
            assertTrue(b.tap.out.text().contains("BdsDxe: starting Boot"), "OVMF's boot manager on the serial console");
        }
    }

    @Test
    void signedChainBootsUnderSecureBootFromAPrivateCopyOfTheVariables() throws Exception {
        Path template = EfiFirmware.DEBIAN_OVMF_DIR.resolve("OVMF_VARS_4M.ms.fd");
        byte[] before = Files.readAllBytes(template);
        try (Booted b = boot("efi-sb", TestGuest.get().efiSignedQcow2(), "efi: {}", true)) {
            b.awaitBooted();
            b.tap.out.await(GuestMarkers.PROMPT_PATTERN, BOOT);
            assertEquals("enabled", secureBootAsTheGuestSeesIt(b));
            Path vars = h.vmDir("efi-sb").resolve("efi-vars.fd");
            byte[] copy = Files.readAllBytes(vars);
            assertEquals(before.length, copy.length, "the VM's store is a copy of the template");
            assertFalse(java.util.Arrays.equals(before, copy), "OVMF wrote its boot variables to the VM's copy");
        }
        assertArrayEquals(before, Files.readAllBytes(template), "the template is never written");
    }

    @Test
    void secureBootRefusesAnUnsignedLoader() throws Exception {
        try (Booted b = boot("efi-deny", TestGuest.get().efiUnsignedQcow2(), "efi: {}", true)) {
            b.tap.out.await(Pattern.compile("BdsDxe: failed to load Boot[0-9A-F]{4} .*: Access Denied"), BOOT);
            // OVMF then has nothing else to boot: it says so and waits for a key.
            b.tap.out.await(Pattern.compile("BdsDxe: No bootable option or device was found"), BOOT);
            assertFalse(GuestMarkers.BOOTED.matcher(b.tap.out.text()).find(), b.tap.out.text());
            assertFalse(b.tap.out.text().contains("GRUB"), "GRUB never ran: " + b.tap.out.text());
        }
    }

    /** Asks the guest's kernel, through the serial console, what it found at boot. */
    private static String secureBootAsTheGuestSeesIt(Booted b) throws Exception {
        b.tap.type("dmesg | grep secureboot:\n");
        Matcher m = b.tap.out.await(SECURE_BOOT, Duration.ofSeconds(30));
        return m.group(1);
    }

    /**
     * Starts {@code launcher exec} for a VMI booting an overlay of {@code disk} with {@code efi} (plus the SMM
     * feature when {@code smm}), attaches to its console while the guest is paused, then starts the CPUs.
     */
    private Booted boot(String name, Path disk, String efi, boolean smm) throws Exception {
        Path overlay = tmp.resolve(name + ".qcow2");
        Process q = new ProcessBuilder("qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b",
                disk.toString(), overlay.toString()).redirectErrorStream(true).start();
        String qout = new String(q.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, q.waitFor(), qout);
        Path yaml = tmp.resolve(name + ".yaml");
        Files.writeString(yaml, """
                apiVersion: kubevirt.io/v1
                kind: VirtualMachineInstance
                metadata:
                  name: %s
                spec:
                  terminationGracePeriodSeconds: 0
                  domain:
                    %s
                    firmware:
                      bootloader:
                        %s
                    devices:
                      autoattachPodInterface: false
                      disks:
                      - name: root
                        disk: {bus: virtio}
                    resources:
                      requests:
                        memory: %dMi
                  volumes:
                  - name: root
                    hostDisk: {path: %s, type: Disk}
                """.formatted(name, smm ? "features: {smm: {}}" : "features: {}", efi, TestGuest.EFI_MEMORY_MIB, overlay));
        LauncherHarness.Started ex = h.start("exec", yaml.toString(), "--accel", "tcg");
        Path dir = h.vmDir(name);
        RawQmp qmp = RawQmp.connect(dir.resolve("qmp.sock"), Duration.ofSeconds(30));
        LauncherHarness.ConsoleTap tap = null;
        try {
            qmp.negotiate();
            tap = LauncherHarness.ConsoleTap.attach(dir.resolve("console.sock"));
            long t0 = System.nanoTime();
            String r = qmp.execute("{\"execute\":\"cont\"}");
            assertTrue(r.contains("\"return\""), r);
            return new Booted(name, ex, qmp, tap, t0);
        } catch (Exception | AssertionError e) {
            if (tap != null) {
                tap.close();
            }
            qmp.close();
            throw new AssertionError("starting " + name + ": " + ex.err(), e);
        }
    }

    /** A started VM; closing it kills QEMU through the launcher and checks the cleanup. */
    private final class Booted implements AutoCloseable {
        final String name;
        final LauncherHarness.Started exec;
        final RawQmp qmp;
        final LauncherHarness.ConsoleTap tap;
        final long t0;

        Booted(String name, LauncherHarness.Started exec, RawQmp qmp, LauncherHarness.ConsoleTap tap, long t0) {
            this.name = name;
            this.exec = exec;
            this.qmp = qmp;
            this.tap = tap;
            this.t0 = t0;
        }

        /** Waits for the guest's boot marker and prints how long it took from {@code cont}. */
        void awaitBooted() throws Exception {
            ConsoleWatcher.TimedMatch m = tap.out.awaitTimed(GuestMarkers.BOOTED, BOOT);
            System.out.printf("EfiBootIT %s: guest booted %.1f s after cont (TCG)%n", name, (m.nanoTime() - t0) / 1e9);
        }

        @Override
        public void close() throws Exception {
            tap.close();
            qmp.close();
            LauncherHarness.Result k = h.exec("kill", name);
            assertEquals(0, k.code(), k.toString());
            assertTrue(exec.awaitExit(Duration.ofSeconds(15)) != -999, "QEMU exited");
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (Files.exists(h.vmDir(name)) && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertFalse(Files.exists(h.vmDir(name)), "the VM's directory, its VARS copy with it, is removed");
        }
    }
}
