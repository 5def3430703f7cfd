package io.qvirt.launcher.migrate;

import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The target end of a migration as the source's driver ({@link Migration}) sees it: local (a QMP monitor,
 * {@link QmpMigrationTarget}) or remote (over a cluster handler's migration proxy). Every method blocks until
 * the target has done it (bounded by a timeout of the implementation) and throws {@link MigrationException}
 * naming the step that failed.
 */
public interface MigrationTarget {
    /**
     * Readies the target: capabilities (the source's, without {@code pause-before-switchover}),
     * {@code multifd-channels} if {@code multifdChannels > 0}, {@code migrate-incoming} on its stream socket, and,
     * if {@code copyNodes} is not empty, an NBD server on its NBD socket with one writable export per node
     * (export name = node name).
     *
     * <p>Precondition: the target QEMU is {@code inmigrate} (started with {@code -incoming defer}).
     */
    void prepare(Map<String, Boolean> capabilities, int multifdChannels, List<String> copyNodes);

    /** At switchover (the mirrors ended in sync): {@code nbd-server-stop}, so its devices can take the disks. */
    void stopExports();

    /** QEMU's run status on the target ({@code query-status}: inmigrate, paused, running, ...). */
    String status();

    /** Starts the target's CPUs ({@code cont}). */
    void cont();

    /**
     * Calls {@code status} with the status of each {@code MIGRATION} event of the target, on a thread of the
     * implementation (it must not block), until the returned handle is closed.
     */
    AutoCloseable onMigrationStatus(Consumer<String> status);
}
