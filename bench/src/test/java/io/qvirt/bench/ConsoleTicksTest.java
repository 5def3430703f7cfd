package io.qvirt.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The migration scenario's guest-side measures on real files written as QEMU writes console logs: a source log
 * that stops, a target log that starts with a copy of it and goes on. Only lower bounds of times are checked
 * (the pause is made by a sleep), never how fast anything is.
 */
class ConsoleTicksTest {
    @TempDir
    Path tmp;

    private static void append(Path f, String s) throws Exception {
        Files.writeString(f, s, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    @Test
    void aPauseTheGuestClockDidNotSeeIsLostTimeAndTheTargetsCopyCountsNothingTwice() throws Exception {
        Path src = tmp.resolve("src.log");
        Path dst = tmp.resolve("dst.log");
        try (ConsoleTicks t = new ConsoleTicks()) {
            t.follow(src, "src");
            t.follow(dst, "dst");
            long t0 = System.nanoTime();
            // The echo of the typed command and a garbled line are no ticks.
            append(src, "qvirt-guest# (i=0; while :; do echo \"QT $i $u\"; done) &\r\nQT 2 2.8.6\r\n");
            for (int i = 0; i < 5; i++) {
                append(src, "QT " + i + " " + (1 + i / 100.0) + "\r\n");
                Thread.sleep(10);
            }
            t.awaitTicks(5, t0, Duration.ofSeconds(10));
            // Stopped 400 ms; the guest's clock moved 10 ms across it (its uptime: 1.04 -> 1.05).
            Thread.sleep(400);
            Files.copy(src, dst);
            for (int i = 5; i < 10; i++) {
                append(dst, "QT " + i + " " + (1.01 + i / 100.0) + "\r\n");
                Thread.sleep(10);
            }
            t.awaitTicks(10, t0, Duration.ofSeconds(10));
            append(dst, "QD-READY\r\n");
            assertTrue(t.awaitLine("QD-READY", Duration.ofSeconds(10)) > t0);
            ConsoleTicks.Gap g = t.gap(t0, System.nanoTime());
            assertEquals(10, g.ticks(), "ticks 0-9 once each, the copied ones not again");
            assertEquals(0, g.missing());
            assertTrue(g.gapMs() >= 400, "the pause is the largest gap: " + g);
            assertEquals(20, g.guestMs(), 0.5, "the guest's clock across it (1.04 -> 1.06)");
            assertTrue(g.lostMs() >= 380 && g.lostMs() <= g.gapMs() - 19.5, "lost = gap - guest clock: " + g);
        }
    }

    @Test
    void percentilesAreNearestRank() {
        List<Double> xs = List.of(5.0, 1.0, 4.0, 2.0, 3.0, Double.NaN);
        assertEquals(3.0, MigrationBench.percentile(xs, 50));
        assertEquals(5.0, MigrationBench.percentile(xs, 90));
        assertEquals(1.0, MigrationBench.percentile(xs, 10));
        assertTrue(Double.isNaN(MigrationBench.percentile(List.of(), 50)));
    }
}
