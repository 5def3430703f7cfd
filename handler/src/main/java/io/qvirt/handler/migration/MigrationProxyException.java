package io.qvirt.handler.migration;

import io.qvirt.launcher.migrate.MigrationException;

/**
 * The migration proxy failed: a {@link MigrationException}, so {@link io.qvirt.launcher.migrate.Migration} treats it
 * as any failed step (the source runs on). Subtypes tell the cases apart: {@link ProxyDisconnectedException},
 * {@link ProxyRemoteException}, {@link ProxyTimeoutException}, {@link ProxyProtocolException}.
 */
public class MigrationProxyException extends MigrationException {
    public MigrationProxyException(String message) {
        super(message);
    }

    public MigrationProxyException(String message, Throwable cause) {
        super(message, cause);
    }
}
