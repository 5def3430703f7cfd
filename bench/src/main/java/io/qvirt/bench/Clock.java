package io.qvirt.bench;

import java.io.IOException;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;

/**
 * One contender's time origin, on both clocks: {@link System#nanoTime()} for what the bench sees itself,
 * and the wall clock for what others stamp (the QEMU wrapper, qvirt's JSON log, the raw supervisor).
 * The two are read back to back, so they agree to a few microseconds.
 */
record Clock(long nanos, long epochMicros) {
    static Clock now() {
        long n = System.nanoTime();
        Instant i = Instant.now();
        return new Clock(n, i.getEpochSecond() * 1_000_000L + i.getNano() / 1000);
    }

    double msAtNanos(long t) {
        return (t - nanos) / 1e6;
    }

    double msAtEpochMicros(long us) {
        return (us - epochMicros) / 1000.0;
    }

    static long epochMicros(String secondsDotFraction) {
        return new BigDecimal(secondsDotFraction.trim()).movePointRight(6).longValue();
    }

    static long epochMicros(Instant i) {
        return i.getEpochSecond() * 1_000_000L + i.getNano() / 1000;
    }

    /**
     * What the wrapper wrote when QEMU was exec'd.
     *
     * @param epochMicros when
     * @param cpuTicks    utime+stime of that pid so far (the JVM's CPU, for `launcher exec`)
     */
    record Stamp(long epochMicros, double cpuTicks) {
        static Stamp await(Path f, Duration timeout) throws IOException, InterruptedException {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (true) {
                if (Files.exists(f)) {
                    String s = Files.readString(f).strip();
                    // The wrapper writes the line in one printf; a shorter read is one in progress.
                    if (s.split(" ").length == 3) {
                        String[] p = s.split(" ");
                        return new Stamp(Clock.epochMicros(p[0]), Double.parseDouble(p[1]) + Double.parseDouble(p[2]));
                    }
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("QEMU spawn stamp " + f + " not written within " + timeout);
                }
                Thread.sleep(2);
            }
        }
    }
}
