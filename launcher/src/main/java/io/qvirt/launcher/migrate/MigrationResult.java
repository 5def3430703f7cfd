package io.qvirt.launcher.migrate;

import io.qvirt.qmp.MigrationInfo;

/**
 * A completed migration, in QEMU's own figures (the source's {@code query-migrate} after {@code completed}).
 *
 * @param totalMs     from {@code migrate} to completion (QEMU's total-time; the disk copy before it not included)
 * @param downtimeMs  QEMU's downtime: from the source's stop to its completion (the switchover hook included)
 * @param startMs     from then until the target's CPUs ran (the target loading the last state, and {@code cont}):
 *                    the guest's pause is {@code downtimeMs + startMs}; 0 in postcopy, where the target started
 *                    before the source completed
 * @param diskCopyMs  how long copying the non-shared disks took before RAM was sent (0 without any)
 * @param passes      passes over RAM (dirty-sync-count)
 * @param postcopy    whether it switched to postcopy
 * @param last        the whole final {@code query-migrate}
 */
public record MigrationResult(long totalMs, long downtimeMs, long startMs, long diskCopyMs, long passes, boolean postcopy,
                              MigrationInfo last) {
}
