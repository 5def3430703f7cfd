package io.qvirt.kvmprobe;

import io.qvirt.testdata.ConsoleWatcher;
import io.qvirt.testdata.GuestMarkers;
import io.qvirt.testdata.Qemu;
import io.qvirt.testdata.TestGuest;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The verdict against real QEMU, on whatever this machine has: FULL must mean the test guest boots with
 * {@code -accel kvm} (QVIRT-GUEST-BOOTED on serial within 20 s); LIMITED or NONE must mean it does not
 * (QEMU refuses KVM, dies with "KVM internal error", or prints no marker in time). QEMU is killed after.
 */
class KvmCrossCheckIT {
    @Test
    void verdictMatchesWhatQemuCanBoot() throws Exception {
        ProbeReport report = KvmProbe.probe(ProbeOptions.defaults());
        TestGuest g = TestGuest.get();
        Process qemu = new ProcessBuilder(List.of(Qemu.binary().toString(), "-accel", "kvm", "-nodefaults",
                "-no-user-config", "-display", "none", "-no-reboot", "-m", Integer.toString(TestGuest.MEMORY_MIB),
                "-kernel", g.kernel().toString(), "-initrd", g.initrd().toString(),
                "-append", TestGuest.KERNEL_ARGS, "-serial", "stdio", "-monitor", "none"))
                .redirectErrorStream(true).start();
        boolean booted;
        String why;
        try (ConsoleWatcher console = new ConsoleWatcher(qemu.getInputStream(), "kvm-crosscheck")) {
            try {
                console.await(GuestMarkers.BOOTED, Duration.ofSeconds(20));
                booted = true;
                why = "booted";
            } catch (TimeoutException e) {
                booted = false;
                String text = console.text();
                why = text.contains("KVM internal error") ? "KVM internal error"
                        : !qemu.isAlive() ? "QEMU exited " + qemu.exitValue() : "no marker within 20 s";
                why += "; console tail: " + tail(text);
            }
        } finally {
            qemu.destroyForcibly();
            qemu.waitFor(15, TimeUnit.SECONDS);
        }
        assertEquals(report.verdict() == Verdict.FULL, booted,
                "probe said " + report.verdict() + " (" + report.reason() + ") but QEMU -accel kvm: " + why);
    }

    private static String tail(String s) {
        return s.length() <= 600 ? s : s.substring(s.length() - 600);
    }
}
