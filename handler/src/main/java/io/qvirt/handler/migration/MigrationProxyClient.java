package io.qvirt.handler.migration;

import io.netty.handler.ssl.SslContext;
import io.qvirt.launcher.migrate.Migration;
import io.qvirt.launcher.migrate.MigrationTarget;
import java.nio.file.Path;
import java.time.Duration;

/** Source side of the migration proxy (skeleton: real code follows). */
public final class MigrationProxyClient {
    private MigrationProxyClient() {
    }

    public static Session open(SslContext clientSsl, String host, int port, String migrationUid, Path localDir,
                               Duration connectTimeout) {
        throw new UnsupportedOperationException("not yet");
    }

    public interface Session extends AutoCloseable {
        MigrationTarget target();

        Migration.Endpoints endpoints();

        void finish(boolean succeeded);

        long bytesForwarded();

        @Override
        void close();
    }
}
