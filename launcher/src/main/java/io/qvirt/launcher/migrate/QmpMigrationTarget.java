package io.qvirt.launcher.migrate;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.qvirt.launcher.control.VmControl;
import io.qvirt.qmp.QmpCommands;
import io.qvirt.qmp.QmpException;
import io.qvirt.qmp.QmpSubscription;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * A target QEMU reached over its own QMP monitor: {@code launcher migrate} on one machine, and the target
 * handler of a cluster migration (which serves it to the source over its migration proxy). Does not own
 * {@code target}. Thread-safe as {@link VmControl} is.
 */
public final class QmpMigrationTarget implements MigrationTarget {
    private final VmControl target;
    private final Path streamSocket;
    private final Path nbdSocket;

    /**
     * @param target       the target QEMU's control, started with {@code -incoming defer}
     * @param streamSocket the Unix socket it listens on for the migration stream (made by migrate-incoming)
     * @param nbdSocket    the Unix socket its NBD server listens on for disk copies (made only if disks are copied)
     */
    public QmpMigrationTarget(VmControl target, Path streamSocket, Path nbdSocket) {
        this.target = Objects.requireNonNull(target, "target");
        this.streamSocket = Objects.requireNonNull(streamSocket, "streamSocket");
        this.nbdSocket = Objects.requireNonNull(nbdSocket, "nbdSocket");
    }

    @Override
    public void prepare(Map<String, Boolean> capabilities, int multifdChannels, List<String> copyNodes) {
        QmpCommands dst = target.qmp().commands();
        Migration.await(dst.migrateSetCapabilities(capabilities), "migrate-set-capabilities on the target");
        if (multifdChannels > 0) {
            ObjectNode p = JsonNodeFactory.instance.objectNode().put("multifd-channels", multifdChannels);
            Migration.await(dst.migrateSetParameters(p), "migrate-set-parameters on the target");
        }
        Migration.await(dst.migrateIncoming("unix:" + streamSocket), "migrate-incoming on the target");
        if (!copyNodes.isEmpty()) {
            Migration.await(dst.nbdServerStart(nbdSocket), "nbd-server-start on the target");
            for (String node : copyNodes) {
                Migration.await(dst.blockExportAddNbd(Migration.job(node), node, true),
                        "block-export-add " + node + " on the target");
            }
        }
    }

    @Override
    public void stopExports() {
        Migration.await(target.qmp().commands().nbdServerStop(), "nbd-server-stop on the target");
    }

    @Override
    public String status() {
        try {
            return target.state().qemuStatus();
        } catch (QmpException | io.qvirt.launcher.control.VmControlException e) {
            throw new MigrationException("query-status on the target: " + e.getMessage(), e);
        }
    }

    @Override
    public void cont() {
        Migration.await(target.qmp().commands().cont(), "cont on the target");
    }

    @Override
    public AutoCloseable onMigrationStatus(Consumer<String> status) {
        QmpSubscription sub = target.qmp().subscribe(e -> e.name().equals("MIGRATION"),
                e -> status.accept(e.data().path("status").asText()));
        return sub::close;
    }
}
