package io.qvirt.launcher.migrate;

import java.time.Duration;
import java.util.Objects;

/**
 * How a migration is run.
 *
 * @param multifdChannels RAM over this many parallel connections (QEMU's {@code multifd}); 0: one stream
 * @param postcopy        switch to postcopy ({@code postcopy-ram}) after the first full pass over RAM: the
 *                        target runs at once and fetches the pages it still misses; bounded time, but from
 *                        then on a failure loses the VM (neither side has all of it)
 * @param maxBandwidth    RAM throughput cap in bytes per second (QEMU's {@code max-bandwidth}); 0: none
 *                        (QEMU's own default, 128 MiB/s, is made for networks, not for a Unix socket)
 * @param timeout         when the migration (disk copy included) has run this long, {@code onTimeout} decides
 * @param progressEvery   how often a progress line is reported while RAM is sent
 * @param autoConverge    QEMU's {@code auto-converge}: the source throttles the guest's vCPUs while it dirties
 *                        memory faster than it is sent (KubeVirt's {@code allowAutoConverge})
 * @param onTimeout       what the timeout does (KubeVirt: cancel; with {@code allowWorkloadDisruption} postcopy if
 *                        {@code allowPostCopy}, else pause the guest)
 */
public record MigrationOptions(int multifdChannels, boolean postcopy, long maxBandwidth, Duration timeout,
                               Duration progressEvery, boolean autoConverge, OnTimeout onTimeout) {
    /** What a migration does when it reaches its timeout while RAM is sent; during the disk copy before, it cancels. */
    public enum OnTimeout {
        /** cancel it: the source runs on */
        CANCEL,
        /**
         * switch to postcopy (the guest runs on the target from then on); KubeVirt's migration mode {@code PostCopy}.
         * No cancel is sent after that (it could lose the VM), unless QEMU has not left {@code active} 30 s later.
         */
        POSTCOPY,
        /**
         * pause the guest so that the rest is sent without new dirty pages, and cancel only at twice the timeout;
         * the guest runs again on whichever side holds it at the end. KubeVirt's migration mode {@code Paused}.
         */
        PAUSE
    }

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
        Objects.requireNonNull(onTimeout, "onTimeout");
    }

    /** Without auto-converge, cancelled at the timeout. */
    public MigrationOptions(int multifdChannels, boolean postcopy, long maxBandwidth, Duration timeout,
                            Duration progressEvery) {
        this(multifdChannels, postcopy, maxBandwidth, timeout, progressEvery, false, OnTimeout.CANCEL);
    }

    public static MigrationOptions defaults() {
        return new MigrationOptions(0, false, 0, Duration.ofMinutes(10), Duration.ofSeconds(2));
    }

    /** Whether QEMU's {@code postcopy-ram} capability is set (on both ends, before the migration starts). */
    public boolean postcopyCapable() {
        return postcopy || onTimeout == OnTimeout.POSTCOPY;
    }
}
