package io.qvirt.handler.migration;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.handler.ssl.SslContext;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import io.qvirt.launcher.migrate.Migration;
import io.qvirt.launcher.migrate.MigrationTarget;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;

/** {@link MigrationProxyClient.Session}: the control connection, its correlator, and the local relay sockets. */
final class ClientSession implements MigrationProxyClient.Session {
    private static final Logger LOG = Logger.getLogger(ClientSession.class.getName());
    /** The longest Unix socket path (sun_path less its NUL). */
    static final int MAX_SOCKET_PATH = 107;
    static final String STREAM_SOCKET = "mig-s.sock";
    static final String NBD_SOCKET = "mig-n.sock";
    /** prepare runs several QMP commands on the target (30 s each at most there). */
    static final Duration PREPARE_TIMEOUT = Duration.ofSeconds(120);
    static final Duration CALL_TIMEOUT = Duration.ofSeconds(40);
    static final Duration PING_EVERY = Duration.ofSeconds(5);
    static final Duration PING_TIMEOUT = Duration.ofSeconds(20);

    private record Pending(String op, CompletableFuture<JsonNode> reply) {
    }

    private final SslContext ssl;
    private final String host;
    private final int port;
    private final String uid;
    private final Duration connectTimeout;
    private final ProxyTransport transport = ProxyTransport.best();
    private final EventLoopGroup group;
    private final ChannelGroup channels = new DefaultChannelGroup("migration-proxy-client", GlobalEventExecutor.INSTANCE);
    private final Map<Long, Pending> pending = new ConcurrentHashMap<>();
    private final AtomicLong ids = new AtomicLong();
    private final AtomicLong bytes = new AtomicLong();
    private final List<Consumer<String>> listeners = new CopyOnWriteArrayList<>();
    private final AtomicBoolean finished = new AtomicBoolean();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final RemoteMigrationTarget target = new RemoteMigrationTarget(this);
    private final Migration.Endpoints endpoints;
    private volatile Channel control;
    private volatile String controlGone;
    private ScheduledFuture<?> pinger;

    private ClientSession(SslContext ssl, String host, int port, String uid, Path localDir, Duration connectTimeout) {
        this.ssl = ssl;
        this.host = host;
        this.port = port;
        this.uid = uid;
        this.connectTimeout = connectTimeout;
        Path dir = localDir.toAbsolutePath().normalize();
        this.endpoints = new Migration.Endpoints(dir.resolve(STREAM_SOCKET), dir.resolve(NBD_SOCKET));
        this.group = new MultiThreadIoEventLoopGroup(1, transport.ioHandlers());
    }

    static ClientSession open(SslContext ssl, String host, int port, String uid, Path localDir, Duration connectTimeout) {
        if (ssl == null || ssl.isServer()) {
            throw new IllegalArgumentException("clientSsl: a client context is needed");
        }
        ProxyHeader.requireUid(uid, "migrationUid");
        if (host == null || host.isBlank()) {
            throw new IllegalArgumentException("host: the target handler's migration address is empty");
        }
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port: " + port + " is not 1 to 65535");
        }
        if (connectTimeout == null || connectTimeout.isNegative() || connectTimeout.isZero()) {
            throw new IllegalArgumentException("connectTimeout: must be > 0");
        }
        Path dir = localDir.toAbsolutePath().normalize();
        int longest = dir.resolve(STREAM_SOCKET).toString().getBytes(StandardCharsets.UTF_8).length;
        if (longest > MAX_SOCKET_PATH) {
            throw new IllegalArgumentException("localDir: " + dir + " is too long for a Unix socket in it (" + longest
                    + " bytes with " + STREAM_SOCKET + ", at most " + MAX_SOCKET_PATH + ")");
        }
        try {
            Files.createDirectories(dir);
            Files.deleteIfExists(dir.resolve(STREAM_SOCKET));
            Files.deleteIfExists(dir.resolve(NBD_SOCKET));
        } catch (IOException e) {
            throw new IllegalArgumentException("localDir: " + dir + ": " + e.getMessage(), e);
        }
        ClientSession s = new ClientSession(ssl, host, port, uid, dir, connectTimeout);
        try {
            s.connectControl();
            s.listen(s.endpoints.stream(), ProxyHeader.Kind.STREAM);
            s.listen(s.endpoints.nbd(), ProxyHeader.Kind.NBD);
            return s;
        } catch (RuntimeException e) {
            s.close();
            throw e;
        }
    }

    @Override
    public MigrationTarget target() {
        return target;
    }

    @Override
    public Migration.Endpoints endpoints() {
        return endpoints;
    }

    @Override
    public long bytesForwarded() {
        return bytes.get();
    }

    @Override
    public void finish(boolean succeeded) {
        if (!finished.compareAndSet(false, true)) {
            throw new IllegalStateException("finish was sent already for migration " + uid);
        }
        ObjectNode body = ControlMessage.JSON.createObjectNode().put("succeeded", succeeded);
        try {
            call("finish", body, CALL_TIMEOUT);
        } finally {
            Channel c = control;
            if (c != null) {
                c.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
            }
        }
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        if (pinger != null) {
            pinger.cancel(false);
        }
        channels.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(10, TimeUnit.SECONDS);
        failPending("the session was closed");
        for (Path p : List.of(endpoints.stream(), endpoints.nbd())) {
            try {
                Files.deleteIfExists(p);
            } catch (IOException e) {
                LOG.log(Level.FINE, "cannot remove " + p, e);
            }
        }
    }

    void addListener(Consumer<String> l) {
        listeners.add(l);
    }

    void removeListener(Consumer<String> l) {
        listeners.remove(l);
    }

    /**
     * One control call, waited for.
     *
     * @throws IllegalStateException on an event loop thread (it would wait for itself)
     */
    JsonNode call(String op, ObjectNode body, Duration timeout) {
        if (group.next().inEventLoop()) {
            throw new IllegalStateException(op + ": a blocking control call on an event loop");
        }
        CompletableFuture<JsonNode> f = callAsync(op, body);
        try {
            return f.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new ProxyTimeoutException(op + " on the target: no answer within " + timeout.toSeconds() + " s", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ProxyDisconnectedException(op + " on the target: interrupted", e);
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof MigrationProxyException m) {
                // A new exception of the same kind: the caller's stack, the reason kept.
                throw rethrowable(m);
            }
            throw new ProxyDisconnectedException(op + " on the target: " + c, c);
        }
    }

    private static MigrationProxyException rethrowable(MigrationProxyException m) {
        if (m instanceof ProxyRemoteException) {
            return new ProxyRemoteException(m.getMessage(), m);
        }
        if (m instanceof ProxyTimeoutException) {
            return new ProxyTimeoutException(m.getMessage(), m);
        }
        if (m instanceof ProxyProtocolException) {
            return new ProxyProtocolException(m.getMessage(), m);
        }
        return new ProxyDisconnectedException(m.getMessage(), m);
    }

    private CompletableFuture<JsonNode> callAsync(String op, ObjectNode body) {
        Channel c = control;
        String gone = controlGone;
        if (c == null || gone != null) {
            return CompletableFuture.failedFuture(new ProxyDisconnectedException(op + " on the target: the control "
                    + "connection is closed (" + (gone != null ? gone : "not open") + ")"));
        }
        long id = ids.incrementAndGet();
        CompletableFuture<JsonNode> f = new CompletableFuture<>();
        pending.put(id, new Pending(op, f));
        f.whenComplete((r, e) -> pending.remove(id));
        c.writeAndFlush(new ControlMessage.Request(id, op, body)).addListener((ChannelFuture w) -> {
            if (!w.isSuccess()) {
                Throwable cause = w.cause();
                f.completeExceptionally(cause instanceof MigrationProxyException m ? m
                        : cause != null && cause.getCause() instanceof ProxyProtocolException p ? p
                        : new ProxyDisconnectedException(op + " on the target: cannot send: " + cause, cause));
            }
        });
        // A connection closed between the check and the put: fail what it will never answer.
        if (controlGone != null) {
            failPending(controlGone);
        }
        return f;
    }

    private void failPending(String why) {
        for (Map.Entry<Long, Pending> e : pending.entrySet()) {
            Pending p = e.getValue();
            p.reply().completeExceptionally(new ProxyDisconnectedException(p.op() + " on the target: the control "
                    + "connection closed (" + why + ")"));
        }
    }

    /** The TLS connection with its header sent; the future completes when the target answered OK. */
    private CompletableFuture<Channel> connect(ProxyHeader.Kind kind, EventLoop loop, Consumer<Channel> onOk) {
        CompletableFuture<Channel> ready = new CompletableFuture<>();
        ProxyHeader header = new ProxyHeader(uid, kind);
        Bootstrap b = new Bootstrap().group(loop != null ? loop : group).channel(transport.tcpClient())
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, connectTimeout.toMillis()))
                .option(ChannelOption.TCP_NODELAY, true)
                .handler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        channels.add(ch);
                        ch.pipeline().addLast("tls", ssl.newHandler(ch.alloc(), host, port));
                        ch.pipeline().addLast("answer", new LineDecoder(ProxyHeader.MAX_LINE, "answer line", true));
                        ch.pipeline().addLast("await", new AnswerHandler(kind, ready, onOk));
                    }
                });
        b.connect(host, port).addListener((ChannelFuture f) -> {
            if (!f.isSuccess()) {
                ready.completeExceptionally(new ProxyDisconnectedException("cannot connect to the target handler "
                        + host + ":" + port + " (" + kind.wire() + "): " + describe(f.cause()), f.cause()));
                return;
            }
            // Sent at once; the TLS handler holds it until the handshake is done.
            f.channel().writeAndFlush(Unpooled.wrappedBuffer(header.encode()));
        });
        return ready;
    }

    /** Waits for {@code OK} / {@code ERR why}; on OK hands the channel to {@code onOk} (on its event loop). */
    private final class AnswerHandler extends SimpleChannelInboundHandler<String> {
        private final ProxyHeader.Kind kind;
        private final CompletableFuture<Channel> ready;
        private final Consumer<Channel> onOk;

        AnswerHandler(ProxyHeader.Kind kind, CompletableFuture<Channel> ready, Consumer<Channel> onOk) {
            this.kind = kind;
            this.ready = ready;
            this.onOk = onOk;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, String line) {
            if (line.equals(ProxyHeader.OK)) {
                onOk.accept(ctx.channel());
                ctx.pipeline().remove(this);
                ready.complete(ctx.channel());
            } else if (line.startsWith("ERR ")) {
                ready.completeExceptionally(new ProxyRemoteException("the target handler refused the " + kind.wire()
                        + " connection for migration " + uid + ": " + line.substring(4)));
                ctx.close();
            } else {
                ready.completeExceptionally(new ProxyProtocolException("the target handler answered the " + kind.wire()
                        + " header with neither OK nor ERR"));
                ctx.close();
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            ready.completeExceptionally(new ProxyDisconnectedException("the target handler " + host + ":" + port
                    + " closed the " + kind.wire() + " connection before answering (a TLS refusal shows so)"));
            ctx.fireChannelInactive();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            Throwable c = cause.getCause() instanceof ProxyProtocolException p ? p : cause;
            ready.completeExceptionally(c instanceof ProxyProtocolException p
                    ? new ProxyProtocolException("the target handler's answer: " + p.getMessage(), p)
                    : new ProxyDisconnectedException("the " + kind.wire() + " connection to the target handler "
                    + host + ":" + port + " failed: " + describe(c), c));
            ctx.close();
        }
    }

    private static String describe(Throwable t) {
        String m = t.getMessage();
        return t.getClass().getSimpleName() + (m != null ? ": " + m : "");
    }

    private void connectControl() {
        CompletableFuture<Channel> ready = connect(ProxyHeader.Kind.CONTROL, null, ch -> {
            ch.pipeline().addLast("lines", new LineDecoder(ControlMessage.MAX_LINE, "control message", false));
            ch.pipeline().addLast("decode", new ControlMessageDecoder());
            ch.pipeline().addLast("encode", new ControlMessageEncoder());
            ch.pipeline().addLast("control", new ControlClient());
        });
        Channel ch = await(ready, "the control connection");
        control = ch;
        if (!ch.isActive()) {
            controlGone = "closed right after it opened";
        }
        pinger = group.next().scheduleAtFixedRate(this::ping, PING_EVERY.toMillis(), PING_EVERY.toMillis(),
                TimeUnit.MILLISECONDS);
    }

    private void ping() {
        if (controlGone != null || finished.get()) {
            return;
        }
        callAsync("ping", ControlMessage.JSON.createObjectNode())
                .orTimeout(PING_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
                .whenComplete((r, e) -> {
                    if (e instanceof TimeoutException && controlGone == null) {
                        controlGone = "the target did not answer a ping within " + PING_TIMEOUT.toSeconds() + " s";
                        Channel c = control;
                        if (c != null) {
                            c.close();
                        }
                    }
                });
    }

    private <T> T await(CompletableFuture<T> f, String what) {
        try {
            return f.get(connectTimeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new ProxyTimeoutException(what + " to the target handler " + host + ":" + port
                    + " did not open within " + connectTimeout.toMillis() + " ms", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ProxyDisconnectedException(what + ": interrupted", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof MigrationProxyException m) {
                throw rethrowable(m);
            }
            throw new ProxyDisconnectedException(what + ": " + e.getCause(), e.getCause());
        }
    }

    /** The source's end of the control connection: replies to their calls, events to the listeners. */
    private final class ControlClient extends SimpleChannelInboundHandler<ControlMessage> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, ControlMessage msg) {
            if (msg instanceof ControlMessage.Reply r) {
                Pending p = pending.get(r.id());
                if (p == null) {
                    LOG.fine("migration " + uid + ": a reply to " + r.id() + ", which nothing waits for (timed out)");
                } else if (r.error() != null) {
                    p.reply().completeExceptionally(new ProxyRemoteException(p.op() + " on the target: " + r.error()));
                } else {
                    p.reply().complete(r.result());
                }
            } else if (msg instanceof ControlMessage.Event e) {
                if (e.name().equals("MIGRATION")) {
                    for (Consumer<String> l : listeners) {
                        try {
                            l.accept(e.status());
                        } catch (RuntimeException x) {
                            LOG.log(Level.WARNING, "migration " + uid + ": an event listener failed", x);
                        }
                    }
                }
            } else {
                controlGone = "the target sent a request";
                ctx.close();
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            Throwable c = cause.getCause() instanceof ProxyProtocolException p ? p : cause;
            if (controlGone == null) {
                controlGone = c instanceof ProxyProtocolException ? "protocol error: " + c.getMessage() : describe(c);
            }
            ctx.close();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (controlGone == null) {
                controlGone = finished.get() ? "finished" : "closed by the target or the network";
            }
            failPending(controlGone);
        }
    }

    /** Listens on {@code socket}; each connection the source QEMU makes is forwarded over a new TLS connection. */
    private void listen(Path socket, ProxyHeader.Kind kind) {
        ChannelFuture bound = new ServerBootstrap().group(group).channel(transport.unixServer())
                .childOption(ChannelOption.AUTO_READ, false)
                .childHandler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel unix) {
                        channels.add(unix);
                        RelayHandler fromUnix = new RelayHandler(bytes);
                        unix.pipeline().addLast("relay", fromUnix);
                        RelayHandler fromTls = new RelayHandler(bytes);
                        connect(kind, unix.eventLoop(), tls -> {
                            // The answer decoder leaves once OK is read; what follows it is the target's bytes.
                            tls.pipeline().addLast("relay", fromTls);
                        }).whenComplete((tls, e) -> unix.eventLoop().execute(() -> {
                            if (e != null) {
                                LOG.warning("migration " + uid + ": a " + kind.wire() + " connection of the source "
                                        + "QEMU could not be forwarded: " + e.getMessage());
                                unix.close();
                                return;
                            }
                            fromUnix.link(tls);
                            fromTls.link(unix);
                            unix.config().setAutoRead(true);
                        }));
                    }
                }).bind(transport.unixAddress().apply(socket)).awaitUninterruptibly();
        if (!bound.isSuccess()) {
            throw new IllegalArgumentException("localDir: cannot listen on " + socket + ": " + bound.cause().getMessage(),
                    bound.cause());
        }
        channels.add(bound.channel());
        giveToDirOwner(socket);
    }

    /**
     * The socket made by this (root) handler goes to the owner of the VM's directory: on a cluster the source QEMU runs
     * as the launcher pod's user (KubeVirt's 107) and must be able to connect to it.
     */
    private static void giveToDirOwner(Path socket) {
        try {
            Object uid = java.nio.file.Files.getAttribute(socket.getParent(), "unix:uid");
            Object gid = java.nio.file.Files.getAttribute(socket.getParent(), "unix:gid");
            if (!uid.equals(java.nio.file.Files.getAttribute(socket, "unix:uid"))) {
                java.nio.file.Files.setAttribute(socket, "unix:uid", uid);
                java.nio.file.Files.setAttribute(socket, "unix:gid", gid);
            }
        } catch (java.io.IOException | UnsupportedOperationException e) {
            LOG.warning("migration socket " + socket + " left owned by this process (" + e.getMessage() + "): a QEMU "
                    + "running as another user cannot connect to it");
        }
    }
}
