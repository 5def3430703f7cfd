package io.qvirt.testdata;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class ConsoleWatcherTest {
    @Test
    void awaitTimedStampsTheReadThatCompletedTheMatchEvenWhenAskedLate() throws Exception {
        PipedOutputStream out = new PipedOutputStream();
        try (ConsoleWatcher w = new ConsoleWatcher(new PipedInputStream(out, 1 << 16), "t")) {
            out.write("boot QVIRT-GUEST-BOO".getBytes(StandardCharsets.UTF_8));
            out.flush();
            w.await(java.util.regex.Pattern.compile("boot"), Duration.ofSeconds(5));
            Thread.sleep(30);
            long beforeTail = System.nanoTime();
            out.write("TED uptime=1.25\nmore\n".getBytes(StandardCharsets.UTF_8));
            out.flush();
            // Without moving the cursor: wait until the pump has read everything.
            long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            while (!w.text().contains("more") && System.nanoTime() < deadline) {
                Thread.sleep(1);
            }
            Thread.sleep(50);
            long asked = System.nanoTime();
            ConsoleWatcher.TimedMatch m = w.awaitTimed(GuestMarkers.BOOTED, Duration.ofSeconds(5));
            assertEquals("1.25", m.match().group(1));
            // The marker was complete only with the second write, and long before we asked.
            assertTrue(m.nanoTime() >= beforeTail, "stamped before its last part arrived");
            assertTrue(m.nanoTime() < asked, "stamped when asked, not when it arrived");
        }
    }
}
