package io.qvirt.kvmprobe.guest;

import io.qvirt.testdata.Qemu;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Proves the smoke guests' bytes without KVM: each is the boot sector of a raw IDE disk that SeaBIOS
 * loads at 0x7c00 and enters in real mode, under QEMU TCG with isa-debug-exit at port 0xf4 (exit status
 * = code * 2 + 1). {@code -no-reboot} turns a triple fault into exit status 0 instead of a reboot loop.
 */
class SmokeGuestsQemuTest {
    @TempDir
    Path dir;

    private int boot(byte[] code, String name) throws Exception {
        Path img = dir.resolve(name + ".img");
        Files.write(img, SmokeGuests.bootSector(code));
        Process p = new ProcessBuilder(List.of(Qemu.binary().toString(), "-accel", "tcg", "-nodefaults",
                "-no-user-config", "-display", "none", "-no-reboot", "-m", "16",
                "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
                "-drive", "file=" + img + ",format=raw,if=ide,index=0"))
                .redirectErrorStream(true).redirectOutput(dir.resolve(name + ".log").toFile()).start();
        try {
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                fail(name + ": QEMU did not exit within 60 s: " + Files.readString(dir.resolve(name + ".log")));
            }
            return p.exitValue();
        } finally {
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void realModeGuestSucceedsUnderTcg() throws Exception {
        assertEquals(SmokeGuests.qemuExitStatus(SmokeGuests.SUCCESS), boot(SmokeGuests.realMode(), "real"));
        assertEquals(33, SmokeGuests.qemuExitStatus(SmokeGuests.SUCCESS));
    }

    @Test
    void longModeGuestSucceedsUnderTcg() throws Exception {
        assertEquals(SmokeGuests.qemuExitStatus(SmokeGuests.SUCCESS), boot(SmokeGuests.longMode(), "long"));
    }

    @Test
    void brokenLongModeGuestReportsItsFailureCode() throws Exception {
        assertEquals(SmokeGuests.qemuExitStatus(SmokeGuests.FAILURE_PATTERN_READBACK),
                boot(SmokeGuests.longModeBroken(), "broken"));
        assertEquals(77, SmokeGuests.qemuExitStatus(SmokeGuests.FAILURE_PATTERN_READBACK));
    }

    @Test
    void layoutFacts() {
        byte[] lm = SmokeGuests.longMode();
        assertTrue(lm.length <= 510, "fits a boot sector: " + lm.length);
        // The pattern the broken variant flips is where the constant says: 0x0123456789abcdef, little endian.
        assertArrayEquals(new byte[] {(byte) 0xef, (byte) 0xcd, (byte) 0xab, (byte) 0x89, 0x67, 0x45, 0x23, 0x01},
                java.util.Arrays.copyOfRange(lm, SmokeGuests.PATTERN_OFFSET, SmokeGuests.PATTERN_OFFSET + 8));
        byte[] sector = SmokeGuests.bootSector(SmokeGuests.realMode());
        assertEquals(512, sector.length);
        assertEquals(0x55, sector[510]);
        assertEquals((byte) 0xaa, sector[511]);
    }
}
