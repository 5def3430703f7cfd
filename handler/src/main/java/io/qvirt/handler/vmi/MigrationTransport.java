package io.qvirt.handler.vmi;

import io.qvirt.api.MigrationSettings;
import io.qvirt.handler.migration.MigrationProxyClient;
import io.qvirt.handler.migration.MigrationProxyServer;
import io.qvirt.launcher.migrate.MigrationTarget;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.function.Consumer;

/**
 * What the VMI driver's two migration roles need of the node: the migration proxy (target side), sessions to
 * other nodes' proxies (source side) and the cluster's migration settings. {@link ProxyMigrationTransport} is the
 * real one; without one the handler neither sends nor receives migrations (a VMI's migration then waits, and the
 * controller's timeouts end it).
 */
public interface MigrationTransport extends AutoCloseable {
    /**
     * Where a source reaches this node's proxy ({@code targetNodeAddress} and the port), or null while the proxy
     * cannot serve (its certificates are not there yet).
     */
    InetSocketAddress advertised();

    /**
     * Registers a target QEMU's sockets with this node's proxy; {@code onEnd} is called once, on a thread of the
     * proxy, with how the migration ended for the target. Precondition: {@link #advertised()} is not null.
     */
    MigrationProxyServer.Registration register(String migrationUid, Path streamSocket, Path nbdSocket,
                                               MigrationTarget target,
                                               Consumer<MigrationProxyServer.TargetOutcome> onEnd);

    /** Opens a source session to the proxy at {@code host:port}; its Unix sockets are made in {@code localDir}. */
    MigrationProxyClient.Session open(String host, int port, String migrationUid, Path localDir);

    /** The KubeVirt CR's {@code spec.configuration.migrations} now (KubeVirt's defaults where it says nothing). */
    MigrationSettings settings();

    @Override
    void close();
}
