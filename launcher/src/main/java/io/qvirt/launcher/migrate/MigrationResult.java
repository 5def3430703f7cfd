package io.qvirt.launcher.migrate;

import io.qvirt.qmp.MigrationInfo;

/**
 * A completed migration, in QEMU's own figures (the source's {@code query-migrate} after {@code completed}).
 *
 * @param totalMs     from {@code migrate} to completion (QEMU's total-time; the disk copy before it not included)
 * @param downtimeMs  how long the guest did not run (QEMU's downtime)
 * @param diskCopyMs  how long copying the non-shared disks took before RAM was sent (0 without any)
 * @param passes      passes over RAM (dirty-sync-count)
 * @param postcopy    whether it switched to postcopy
 * @param last        the whole final {@code query-migrate}
 */
public record MigrationResult(long totalMs, long downtimeMs, long diskCopyMs, long passes, boolean postcopy,
                              MigrationInfo last) {
}
