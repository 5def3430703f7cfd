package io.qvirt.qmp;

/**
 * {@code query-status}: QEMU's run state.
 *
 * @param status  QEMU's RunState, e.g. {@code prelaunch}, {@code running}, {@code paused},
 *                {@code shutdown}, {@code internal-error}
 * @param running whether guest CPUs are running
 */
public record StatusInfo(String status, boolean running) {
}
