package io.qvirt.handler.nodeapi;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.ImmediateEventExecutor;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * virt-handler's node API, the server virt-api calls on each node (KubeVirt's handler listens on
 * {@value #DEFAULT_PORT}): HTTPS with mutual TLS, and
 * <ul>
 *   <li>{@code PUT /v1/namespaces/{ns}/virtualmachineinstances/{name}/pause}, {@code unpause},
 *       {@code reset}: {@link VmiOperations}; 200 with no body when done, a {@link NodeApiException}
 *       as its status with a Kubernetes {@code Status} body, anything else 500 with a one-line message;</li>
 *   <li>{@code GET .../console}: a WebSocket (subprotocol {@code plain.kubevirt.io} if asked for)
 *       whose binary frames are the serial console's bytes both ways. One client at a time per VM, the
 *       launcher's {@code console.lock} protocol: a second is refused with 409 naming the holder, before
 *       the upgrade;</li>
 *   <li>{@code GET .../portforward/{port}[/{protocol}]}: a WebSocket whose binary frames are the bytes of a TCP
 *       connection to that guest port, made before the upgrade to the address the VM's launcher forwards it from
 *       ({@link PortForwardBridge}); a port not forwarded, refused or unreachable is a plain HTTP refusal;</li>
 *   <li>{@code GET /healthz}: 200 {@code ok}.</li>
 * </ul>
 * Unknown paths are 404, a known path with another method 405, a request body over
 * {@value #MAX_BODY} bytes 413.
 *
 * <p>Only a client presenting a certificate signed by the client CA gets past the TLS handshake
 * ({@code ClientAuth.REQUIRE}, TLS 1.2 and 1.3). The certificate, key and CA are PEM files (a mounted
 * Secret), re-read every {@code reloadEvery}: when they change, new connections get the new ones.
 *
 * <p>Threads: Netty's event loops (epoll where available, {@value #LOOP_THREADS} threads named
 * {@code qvirt-node-api-*}) never block; {@link VmiOperations} calls and console-lock file I/O run on up
 * to {@value #BLOCKING_THREADS} {@code qvirt-node-api-blocking-*} threads, the TLS files' re-read on
 * {@code qvirt-node-api-tls}. All are gone when {@link #close()} returns.
 *
 * <p>Lifecycle: construct (reads and checks the TLS files), {@link #start()} once, {@link #close()}.
 */
public final class NodeApiServer implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(NodeApiServer.class.getName());
    /** KubeVirt's virt-handler console/lifecycle server port. */
    public static final int DEFAULT_PORT = 8186;
    /** How often the TLS files are checked for a change unless told otherwise. */
    public static final Duration DEFAULT_RELOAD = Duration.ofSeconds(5);
    /** Largest request body: the lifecycle calls carry at most a small JSON options object. */
    static final int MAX_BODY = 8 * 1024;
    static final int LOOP_THREADS = 2;
    static final int BLOCKING_THREADS = 8;
    /** Requests waiting for a blocking thread before new ones are refused with 503. */
    private static final int BLOCKING_QUEUE = 64;
    /** KubeVirt's handler server closes idle connections after 60 s too. */
    private static final int IDLE_SECONDS = 60;
    private static final int HANDSHAKE_TIMEOUT_SECONDS = 10;
    private static final Duration STOP_WAIT = Duration.ofSeconds(5);

    private final InetSocketAddress bind;
    private final VmiOperations operations;
    private final Duration reloadEvery;
    private final ReloadingSslContext tls;
    private final ConsoleLocks locks = new ConsoleLocks();
    private final Transport transport = Transport.best();
    /** Every open connection, console socket and port-forward connection, so close() ends them all. */
    private final ChannelGroup channels = new DefaultChannelGroup("node-api", ImmediateEventExecutor.INSTANCE);
    private EventLoopGroup loops;
    private ThreadPoolExecutor blocking;
    private ScheduledExecutorService reloader;
    private Channel server;
    private boolean started;
    private boolean closed;

    /** As {@link #NodeApiServer(InetSocketAddress, TlsFiles, VmiOperations, Duration)} with {@link #DEFAULT_RELOAD}. */
    public NodeApiServer(InetSocketAddress bind, TlsFiles tlsFiles, VmiOperations operations) {
        this(bind, tlsFiles, operations, DEFAULT_RELOAD);
    }

    /**
     * Reads the TLS files now, so a bad Secret fails the handler at startup rather than the first client.
     *
     * @param bind        address and port to listen on (port 0: any free port, see {@link #port()})
     * @param tlsFiles    the server's certificate chain and key, and the CA client certificates must chain to
     * @param operations  what the routes do; called from the server's blocking threads, concurrently
     * @param reloadEvery how often the TLS files are re-read (positive)
     * @throws IllegalArgumentException if the TLS files cannot be read or do not make a server context
     */
    public NodeApiServer(InetSocketAddress bind, TlsFiles tlsFiles, VmiOperations operations, Duration reloadEvery) {
        this.bind = Objects.requireNonNull(bind, "bind");
        this.operations = Objects.requireNonNull(operations, "operations");
        if (reloadEvery.isNegative() || reloadEvery.isZero()) {
            throw new IllegalArgumentException("reloadEvery must be positive: " + reloadEvery);
        }
        this.reloadEvery = reloadEvery;
        this.tls = new ReloadingSslContext(Objects.requireNonNull(tlsFiles, "tlsFiles"));
    }

    /**
     * Binds and serves. Once only.
     *
     * @throws IOException if the address cannot be bound (everything started is stopped again)
     */
    public synchronized void start() throws IOException {
        if (started || closed) {
            throw new IllegalStateException(closed ? "node API server closed" : "node API server already started");
        }
        started = true;
        loops = new MultiThreadIoEventLoopGroup(LOOP_THREADS, new DefaultThreadFactory("qvirt-node-api", true), transport.ioHandlers());
        blocking = new ThreadPoolExecutor(BLOCKING_THREADS, BLOCKING_THREADS, 30, TimeUnit.SECONDS,
                new ArrayBlockingQueue<>(BLOCKING_QUEUE), named("qvirt-node-api-blocking-"));
        blocking.allowCoreThreadTimeOut(true);
        reloader = Executors.newSingleThreadScheduledExecutor(named("qvirt-node-api-tls"));
        NodeApiServices services = new NodeApiServices(operations, blocking,
                new ConsoleBridge(operations, blocking, locks, transport, channels),
                new PortForwardBridge(operations, blocking, transport, channels));
        ServerBootstrap b = new ServerBootstrap()
                .group(loops)
                .channel(transport.tcpServer())
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, ConsoleBridge.WATER)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        channels.add(ch);
                        SslHandler ssl = tls.current().newHandler(ch.alloc());
                        ssl.setHandshakeTimeout(HANDSHAKE_TIMEOUT_SECONDS, TimeUnit.SECONDS);
                        ChannelPipeline p = ch.pipeline();
                        p.addLast("tls", ssl);
                        p.addLast("client-cert", new ClientCertificateGate());
                        p.addLast("idle", new IdleStateHandler(0, 0, IDLE_SECONDS));
                        p.addLast("http", new HttpServerCodec(new HttpDecoderConfig()
                                .setMaxInitialLineLength(4096).setMaxHeaderSize(8192).setMaxChunkSize(8192)));
                        p.addLast("aggregate", new HttpObjectAggregator(MAX_BODY));
                        p.addLast("router", new NodeApiRouter(services));
                    }
                });
        try {
            server = b.bind(bind).syncUninterruptibly().channel();
        } catch (Exception e) {
            close();
            throw new IOException("node API cannot listen on " + bind + ": " + e.getMessage(), e);
        }
        long ms = reloadEvery.toMillis();
        reloader.scheduleWithFixedDelay(this::reloadTls, ms, ms, TimeUnit.MILLISECONDS);
        LOG.info("node API listening on " + server.localAddress() + " (" + transport.name() + ", mutual TLS)");
    }

    /** The port listened on (the bound one when 0 was asked for). Only after {@link #start()}. */
    public synchronized int port() {
        if (server == null) {
            throw new IllegalStateException("node API server not started");
        }
        return ((InetSocketAddress) server.localAddress()).getPort();
    }

    private void reloadTls() {
        try {
            tls.refresh();
        } catch (RuntimeException e) {
            // The schedule must survive anything: a later tick may find good files.
            LOG.log(Level.WARNING, "node API TLS reload failed", e);
        }
    }

    /** Consoles attached now (locks held by this server), for diagnostics and tests. */
    int consolesAttached() {
        return locks.heldCount();
    }

    /**
     * Stops listening, closes every connection and console session (their locks released), and waits
     * (bounded, a few seconds per stage) until the server's threads are gone. Idempotent.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (server != null) {
            server.close().awaitUninterruptibly(STOP_WAIT.toMillis());
        }
        channels.close().awaitUninterruptibly(STOP_WAIT.toMillis());
        if (reloader != null) {
            reloader.shutdownNow();
            await(reloader, "TLS reloader");
        }
        if (loops != null && !loops.shutdownGracefully(0, STOP_WAIT.toMillis(), TimeUnit.MILLISECONDS)
                .awaitUninterruptibly(2 * STOP_WAIT.toMillis())) {
            LOG.warning("node API event loops did not stop in time");
        }
        if (blocking != null) {
            // Let queued lock releases run; a VMI operation stuck past the wait is interrupted.
            blocking.shutdown();
            if (!awaitQuietly(blocking)) {
                blocking.shutdownNow();
                await(blocking, "blocking threads");
            }
        }
        // Whatever a stopped executor did not get to: no console stays locked by a dead server.
        locks.releaseAll();
    }

    private static void await(ExecutorService e, String what) {
        if (!awaitQuietly(e)) {
            LOG.warning("node API " + what + " did not stop in time");
        }
    }

    private static boolean awaitQuietly(ExecutorService e) {
        try {
            return e.awaitTermination(STOP_WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private static ThreadFactory named(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix.endsWith("-") ? prefix + n.incrementAndGet() : prefix);
            t.setDaemon(true);
            return t;
        };
    }
}
