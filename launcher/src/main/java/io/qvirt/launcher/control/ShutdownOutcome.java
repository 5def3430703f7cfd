package io.qvirt.launcher.control;

/**
 * How a graceful shutdown ended.
 *
 * @param how    which way
 * @param detail the SHUTDOWN reason or what happened
 */
public record ShutdownOutcome(How how, String detail) {
    public enum How {
        /** The guest powered off within the grace period; then QEMU was told to quit. */
        GUEST_POWERED_OFF,
        /** The guest did not power off in time; QEMU was quit (or killed). */
        FORCED_AFTER_GRACE,
        /** The guest was not running (never started or paused); QEMU was quit. */
        QUIT,
        /** The guest had already stopped; QEMU was quit. */
        ALREADY_STOPPED,
        /** QEMU went away during the shutdown. */
        QEMU_GONE
    }
}
