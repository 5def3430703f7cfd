package io.qvirt.launcher.control;

/**
 * What QEMU reports, never what was asked for.
 *
 * @param phase      KubeVirt's phase
 * @param qemuStatus QEMU's run state ({@code running}, {@code paused}, {@code shutdown}, {@code guest-panicked}, ...)
 * @param paused     the guest is paused (QEMU {@code paused}) while still RUNNING as a VMI
 * @param reason     why it stopped ({@code guest-shutdown}, {@code guest-panicked: ...}), or null
 */
public record VmState(VmPhase phase, String qemuStatus, boolean paused, String reason) {
    /**
     * Maps a QEMU run state. With {@code -no-shutdown} the only way QEMU stays in {@code shutdown} is a
     * guest power-off (a host quit ends the process), so {@code guest-shutdown} is the reason when no
     * SHUTDOWN event was seen; a seen event's reason wins.
     */
    public static VmState fromQemu(String status, String seenShutdownReason, String seenPanic) {
        switch (status) {
            case "prelaunch":
                return new VmState(VmPhase.SCHEDULED, status, false, null);
            case "running":
            case "debug":
            case "finish-migrate":
            case "inmigrate":
            case "postmigrate":
            case "save-vm":
            case "restore-vm":
            case "suspended":
            case "watchdog":
                return new VmState(VmPhase.RUNNING, status, false, null);
            case "paused":
                return new VmState(VmPhase.RUNNING, status, true, null);
            case "io-error":
                return new VmState(VmPhase.RUNNING, status, true, "io-error");
            case "shutdown":
                return new VmState(VmPhase.SUCCEEDED, status, false,
                        seenShutdownReason != null ? seenShutdownReason : "guest-shutdown");
            case "guest-panicked":
                return new VmState(VmPhase.FAILED, status, false,
                        seenPanic != null ? "guest-panicked: " + seenPanic : "guest-panicked");
            case "internal-error":
                return new VmState(VmPhase.FAILED, status, false, "qemu internal-error");
            default:
                return new VmState(VmPhase.RUNNING, status, false, null);
        }
    }

    /** One line, e.g. "Running (running)", "Succeeded (shutdown: guest-shutdown)". */
    public String describe() {
        String p = switch (phase) {
            case SCHEDULED -> "Scheduled";
            case RUNNING -> paused ? "Paused" : "Running";
            case SUCCEEDED -> "Succeeded";
            case FAILED -> "Failed";
        };
        return p + " (" + qemuStatus + (reason != null ? ": " + reason : "") + ")";
    }
}
