package io.qvirt.handler.migration;

import io.netty.handler.ssl.SslContext;
import io.qvirt.launcher.migrate.Migration;
import io.qvirt.launcher.migrate.MigrationTarget;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The source side of a cluster migration: connects to the target handler's {@link MigrationProxyServer} and
 * gives {@link Migration} what it needs, a {@link MigrationTarget} over the control connection and local Unix
 * sockets for the source QEMU, each accepted connection forwarded over its own TLS connection.
 */
public final class MigrationProxyClient {
    private MigrationProxyClient() {
    }

    /**
     * Opens the control connection (TLS, header answered {@code OK}) and listens on the local sockets.
     *
     * @param clientSsl      a client context presenting the handler's certificate ({@link MigrationTls#client})
     * @param host           the target handler's migration address (VMI migrationState.targetNodeAddress)
     * @param port           its port
     * @param migrationUid   the migration's uid, registered on the target
     * @param localDir       an existing directory of the source's (made if missing) for the Unix sockets, short
     *                       enough for a socket path of at most 107 bytes; the socket files are replaced
     * @param connectTimeout how long the connection and the target's answer may take
     * @throws IllegalArgumentException  naming the argument if the uid or the directory is unusable
     * @throws ProxyRemoteException      if the target refused (unknown migration, ...)
     * @throws ProxyTimeoutException     if it did not answer within {@code connectTimeout}
     * @throws ProxyDisconnectedException if the connection failed (refused, TLS rejected)
     */
    public static Session open(SslContext clientSsl, String host, int port, String migrationUid, Path localDir,
                               Duration connectTimeout) {
        return ClientSession.open(clientSsl, host, port, migrationUid, localDir, connectTimeout);
    }

    /** One migration's connections; close it in every case (it ends what finish did not). */
    public interface Session extends AutoCloseable {
        /**
         * The target over the control connection; its calls block (never call them on an event loop) and throw
         * {@link ProxyRemoteException} (the target failed the step), {@link ProxyTimeoutException},
         * {@link ProxyDisconnectedException}.
         */
        MigrationTarget target();

        /** The Unix sockets in localDir the source QEMU connects to, forwarded to the target's own. */
        Migration.Endpoints endpoints();

        /**
         * Tells the target how it ended ({@code true}: the target holds the VM) and waits for its answer
         * (30 s); then closes the control connection. Once per session.
         *
         * @throws MigrationProxyException if the target did not take it (it then sees the connection lost)
         */
        void finish(boolean succeeded);

        /** Bytes relayed so far over the stream and NBD connections, both ways. */
        long bytesForwarded();

        /** Closes every connection and the local sockets (removing their files); a session not finished is
         *  LOST for the target. Idempotent. */
        @Override
        void close();
    }
}
