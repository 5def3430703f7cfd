package io.qvirt.handler.vmi;

import io.netty.handler.ssl.SslContext;
import io.qvirt.api.MigrationSettings;
import io.qvirt.handler.migration.MigrationProxyClient;
import io.qvirt.handler.migration.MigrationProxyServer;
import io.qvirt.handler.migration.MigrationTls;
import io.qvirt.handler.nodeapi.TlsFiles;
import io.qvirt.launcher.migrate.MigrationException;
import io.qvirt.launcher.migrate.MigrationTarget;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.logging.Logger;

/**
 * The node's migration transport over {@code io.qvirt.handler.migration}: one {@link MigrationProxyServer} on
 * {@code --migration-listen}, started on first use once the node API's certificate files are readable (they may
 * come after the handler starts, as for the node API), and client sessions with the same certificate.
 *
 * <p>The address written to {@code targetNodeAddress} is the listen host, unless that is a wildcard
 * ({@code 0.0.0.0}, {@code ::}): then {@code $MY_POD_IP} (KubeVirt's virt-handler's own variable, the pod's IP from
 * the downward API), else this host's name's address.
 */
public final class ProxyMigrationTransport implements MigrationTransport {
    private static final Logger LOG = Logger.getLogger(ProxyMigrationTransport.class.getName());
    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);

    private final InetSocketAddress listen;
    private final TlsFiles tls;
    private final Supplier<MigrationSettings> settings;
    private MigrationProxyServer server;
    private InetSocketAddress advertised;
    private SslContext client;
    private boolean closed;
    private String lastProblem;

    /**
     * @param listen   where the proxy listens (port 0: an ephemeral port)
     * @param tls      the node API's certificate, key and CA
     * @param settings the KubeVirt CR's migration settings, read live
     */
    public ProxyMigrationTransport(InetSocketAddress listen, TlsFiles tls, Supplier<MigrationSettings> settings) {
        this.listen = listen;
        this.tls = tls;
        this.settings = settings;
    }

    @Override
    public synchronized InetSocketAddress advertised() {
        if (server == null && !closed) {
            tryStart();
        }
        return advertised;
    }

    private void tryStart() {
        for (Path f : new Path[] {tls.certChain(), tls.key(), tls.clientCa()}) {
            if (!Files.isReadable(f)) {
                problem("the migration proxy waits for its certificates (" + f + " is not there yet)");
                return;
            }
        }
        MigrationProxyServer s = null;
        try {
            s = new MigrationProxyServer(MigrationTls.server(tls), listen);
            InetSocketAddress bound = s.start();
            advertised = new InetSocketAddress(advertisedHost(listen), bound.getPort());
            server = s;
            LOG.info("migration proxy listening on " + bound + ", advertised to sources as "
                    + advertised.getHostString() + ":" + advertised.getPort());
        } catch (RuntimeException e) {
            if (s != null) {
                s.close();
            }
            problem("the migration proxy cannot start on " + listen + ": " + e.getMessage());
        }
    }

    private void problem(String p) {
        if (!p.equals(lastProblem)) {
            LOG.warning(p);
            lastProblem = p;
        }
    }

    /** The listen host, or for a wildcard $MY_POD_IP, else this host name's address. */
    static String advertisedHost(InetSocketAddress listen) {
        InetAddress a = listen.getAddress();
        if (a != null && !a.isAnyLocalAddress()) {
            return a.getHostAddress();
        }
        if (a == null) {
            return listen.getHostString();
        }
        String pod = System.getenv("MY_POD_IP");
        if (pod != null && !pod.isBlank()) {
            return pod.strip();
        }
        try {
            return InetAddress.getLocalHost().getHostAddress();
        } catch (UnknownHostException e) {
            return "127.0.0.1";
        }
    }

    @Override
    public synchronized MigrationProxyServer.Registration register(String migrationUid, Path streamSocket, Path nbdSocket,
                                                                   MigrationTarget target,
                                                                   Consumer<MigrationProxyServer.TargetOutcome> onEnd) {
        if (server == null) {
            throw new IllegalStateException("the migration proxy is not serving");
        }
        return server.register(migrationUid, streamSocket, nbdSocket, target, onEnd);
    }

    @Override
    public MigrationProxyClient.Session open(String host, int port, String migrationUid, Path localDir) {
        SslContext ssl;
        synchronized (this) {
            if (client == null) {
                try {
                    client = MigrationTls.client(tls);
                } catch (IllegalArgumentException e) {
                    throw new MigrationException("the handler's certificate cannot be read for the migration: "
                            + e.getMessage(), e);
                }
            }
            ssl = client;
        }
        return MigrationProxyClient.open(ssl, host, port, migrationUid, localDir, CONNECT_TIMEOUT);
    }

    @Override
    public MigrationSettings settings() {
        return settings.get();
    }

    @Override
    public synchronized void close() {
        closed = true;
        if (server != null) {
            server.close();
        }
    }
}
