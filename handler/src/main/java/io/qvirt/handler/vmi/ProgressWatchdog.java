package io.qvirt.handler.vmi;

/**
 * KubeVirt's migration progress check (its migration monitor's {@code progressTimeout}): a migration makes progress
 * while the data it still has to send reaches a new low; one that has not for longer than the timeout is stuck. The
 * disk copy and the RAM passes are watched separately (their remaining bytes are not comparable). Not thread-safe:
 * fed from the migration's own thread.
 */
final class ProgressWatchdog {
    private final long timeoutNanos;
    private String phase;
    private long watermark;
    private long lastProgress;
    private boolean fired;

    /** @param timeoutSeconds KubeVirt's {@code progressTimeout}; 0 never fires */
    ProgressWatchdog(long timeoutSeconds, long nowNanos) {
        this.timeoutNanos = timeoutSeconds * 1_000_000_000L;
        this.lastProgress = nowNanos;
    }

    /**
     * One report of what is left to send in {@code phase} ("disk", "ram").
     *
     * @return seconds without progress when this report finds the migration stuck (once), else -1
     */
    long observe(String phase, long remaining, long nowNanos) {
        if (!phase.equals(this.phase) || remaining < watermark) {
            this.phase = phase;
            watermark = remaining;
            lastProgress = nowNanos;
            return -1;
        }
        long stuck = nowNanos - lastProgress;
        if (timeoutNanos > 0 && stuck > timeoutNanos && !fired) {
            fired = true;
            return stuck / 1_000_000_000L;
        }
        return -1;
    }
}
