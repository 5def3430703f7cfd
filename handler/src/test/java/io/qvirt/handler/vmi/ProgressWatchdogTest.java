package io.qvirt.handler.vmi;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** KubeVirt's progressTimeout: stuck once the remaining data has made no new low for longer than the timeout. */
class ProgressWatchdogTest {
    private static final long S = 1_000_000_000L;

    @Test
    void newLowsAreProgressAStandstillIsStuckOnce() {
        ProgressWatchdog w = new ProgressWatchdog(150, 0);
        assertEquals(-1, w.observe("ram", 100, 1 * S));
        assertEquals(-1, w.observe("ram", 90, 100 * S), "a new low");
        assertEquals(-1, w.observe("ram", 95, 200 * S), "not lower, 100 s since the last low");
        assertEquals(-1, w.observe("ram", 95, 250 * S), "exactly 150 s: not over it");
        assertEquals(151, w.observe("ram", 95, 251 * S), "stuck for 151 s");
        assertEquals(-1, w.observe("ram", 95, 300 * S), "reported once");
    }

    @Test
    void theDiskCopyAndTheRamPassesAreWatchedApart() {
        ProgressWatchdog w = new ProgressWatchdog(10, 0);
        assertEquals(-1, w.observe("disk", 5, 0));
        assertEquals(-1, w.observe("disk", 1, 5 * S));
        assertEquals(-1, w.observe("ram", 1000, 14 * S), "RAM starts: its own watermark, progress");
        assertEquals(-1, w.observe("ram", 1000, 24 * S));
        assertEquals(11, w.observe("ram", 1000, 25 * S));
    }

    @Test
    void zeroNeverFires() {
        ProgressWatchdog w = new ProgressWatchdog(0, 0);
        w.observe("ram", 10, 0);
        assertEquals(-1, w.observe("ram", 10, 10_000 * S));
    }
}
