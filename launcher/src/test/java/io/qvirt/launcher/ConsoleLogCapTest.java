package io.qvirt.launcher;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qvirt.launcher.runtime.ConsoleLogCap;
import java.io.FileOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The console log cap, with a writer holding the file open in append mode as QEMU's logappend=on does. */
class ConsoleLogCapTest {
    @TempDir
    Path tmp;

    @Test
    void overTheCapTheTailMovesAsideAndTheAppenderContinuesAtTheNewEndWithoutAHole() throws Exception {
        Path log = tmp.resolve("console.log");
        try (FileOutputStream qemu = new FileOutputStream(log.toFile(), true);
             ConsoleLogCap cap = ConsoleLogCap.every(log, 8192, 3_600_000)) {
            byte[] first = new byte[6000];
            Arrays.fill(first, (byte) 'a');
            qemu.write(first);
            assertFalse(cap.check(), "under the cap nothing moves");
            byte[] second = new byte[4000];
            Arrays.fill(second, (byte) 'b');
            qemu.write(second);
            assertTrue(cap.check(), "10000 bytes > 8192");
            byte[] kept = Files.readAllBytes(tmp.resolve("console.log.1"));
            assertEquals(4096, kept.length, "the last half of the cap is kept");
            byte[] expectedTail = new byte[4096];
            Arrays.fill(expectedTail, 0, 96, (byte) 'a');
            Arrays.fill(expectedTail, 96, 4096, (byte) 'b');
            assertArrayEquals(expectedTail, kept);
            assertEquals(0, Files.size(log));
            qemu.write("after\n".getBytes(StandardCharsets.US_ASCII));
            assertEquals("after\n", Files.readString(log), "append mode writes at the new end: no hole of NULs");
        }
    }
}
