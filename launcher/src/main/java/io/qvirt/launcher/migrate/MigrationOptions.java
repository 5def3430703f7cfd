package io.qvirt.launcher.migrate;

import java.time.Duration;

/**
 * How a migration is run.
 *
 * @param multifdChannels RAM over this many parallel connections (QEMU's {@code multifd}); 0: one stream
 * @param postcopy        switch to postcopy ({@code postcopy-ram}) after the first full pass over RAM: the
 *                        target runs at once and fetches the pages it still misses; bounded time, but from
 *                        then on a failure loses the VM (neither side has all of it)
 * @param maxBandwidth    RAM throughput cap in bytes per second (QEMU's {@code max-bandwidth}); 0: none
 *                        (QEMU's own default, 128 MiB/s, is made for networks, not for a Unix socket)
 * @param timeout         the whole migration (disk copy included) is cancelled after this long
 * @param progressEvery   how often a progress line is reported while RAM is sent
 */
public record MigrationOptions(int multifdChannels, boolean postcopy, long maxBandwidth, Duration timeout,
                               Duration progressEvery) {
    public MigrationOptions {
        if (multifdChannels < 0 || multifdChannels > 255) {
            throw new IllegalArgumentException("multifd channels: must be 0 (off) or 1-255, got " + multifdChannels);
        }
        if (maxBandwidth < 0) {
            throw new IllegalArgumentException("max bandwidth: must be >= 0 bytes/s, got " + maxBandwidth);
        }
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("timeout: must be > 0");
        }
    }

    public static MigrationOptions defaults() {
        return new MigrationOptions(0, false, 0, Duration.ofMinutes(10), Duration.ofSeconds(2));
    }
}
