package io.qvirt.handler.migration;

import io.netty.handler.ssl.SslContext;
import io.qvirt.launcher.migrate.MigrationTarget;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.function.Consumer;

/** Target side of the migration proxy (skeleton: real code follows). */
public final class MigrationProxyServer implements AutoCloseable {
    public MigrationProxyServer(SslContext serverSsl, InetSocketAddress listen) {
    }

    public InetSocketAddress start() {
        throw new UnsupportedOperationException("not yet");
    }

    public Registration register(String migrationUid, Path streamSocket, Path nbdSocket, MigrationTarget target,
                                 Consumer<TargetOutcome> onEnd) {
        throw new UnsupportedOperationException("not yet");
    }

    public interface Registration extends AutoCloseable {
        @Override
        void close();
    }

    public record TargetOutcome(Kind kind, String why) {
        public enum Kind { SUCCEEDED, FAILED, LOST }
    }

    @Override
    public void close() {
    }
}
