package io.qvirt.handler.migration;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.TextNode;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import io.qvirt.launcher.migrate.MigrationTarget;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The target side of cluster migrations, one per handler: a mutual-TLS listener whose connections each name a
 * registered migration in their header. {@code stream} and {@code nbd} connections become byte relays to the
 * target QEMU's Unix sockets; the {@code control} connection (one at a time per migration) carries the source's
 * calls of the target's {@link MigrationTarget}, run on a worker thread (they block on QMP), never on an event
 * loop, and pushes the target's MIGRATION events back. A control connection silent for {@link #CONTROL_IDLE}
 * (the source pings every few seconds) is taken as lost.
 *
 * <p>Each registration ends once, reported to its {@code onEnd}: {@code finish(true)} from the source is
 * {@link TargetOutcome.Kind#SUCCEEDED}, {@code finish(false)} {@link TargetOutcome.Kind#FAILED}, the control
 * connection closing before a finish {@link TargetOutcome.Kind#LOST}. Thread-safe.
 */
public final class MigrationProxyServer implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(MigrationProxyServer.class.getName());
    /** A connection that sends no header line within this is closed. */
    static final long HEADER_TIMEOUT_MS = 10_000;
    /** No control message (a ping at least) for this long: the source is taken as gone. */
    static final long CONTROL_IDLE_MS = 30_000;
    static final String CONTROL_IDLE = CONTROL_IDLE_MS / 1000 + " s";

    private final SslContext serverSsl;
    private final InetSocketAddress listen;
    private final ProxyTransport transport = ProxyTransport.best();
    private final Map<String, Reg> registrations = new ConcurrentHashMap<>();
    private final ChannelGroup channels = new DefaultChannelGroup("migration-proxy", GlobalEventExecutor.INSTANCE);
    private final ExecutorService workers = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "migration-proxy-target");
        t.setDaemon(true);
        return t;
    });
    private EventLoopGroup group;
    private Channel listener;

    /**
     * @param serverSsl a server context that requires a client certificate from qvirt's CA
     *                  ({@link MigrationTls#server})
     * @param listen    where to listen (port 0: an ephemeral port, see {@link #start})
     */
    public MigrationProxyServer(SslContext serverSsl, InetSocketAddress listen) {
        this.serverSsl = Objects.requireNonNull(serverSsl, "serverSsl");
        this.listen = Objects.requireNonNull(listen, "listen");
        if (!serverSsl.isServer()) {
            throw new IllegalArgumentException("serverSsl: a client context; the migration proxy needs a server one");
        }
    }

    /**
     * Binds the listener.
     *
     * @return the bound address (with the port chosen for port 0)
     * @throws MigrationProxyException naming the address if it cannot be bound
     */
    public synchronized InetSocketAddress start() {
        if (listener != null) {
            throw new IllegalStateException("the migration proxy is already started");
        }
        group = new MultiThreadIoEventLoopGroup(2, transport.ioHandlers());
        ChannelFuture bound = new ServerBootstrap().group(group).channel(transport.tcpServer())
                .childHandler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        channels.add(ch);
                        ch.pipeline().addLast("tls", serverSsl.newHandler(ch.alloc()));
                        ch.pipeline().addLast("header", new LineDecoder(ProxyHeader.MAX_LINE, "header line", true));
                        ch.pipeline().addLast("route", new HeaderRouter());
                    }
                }).bind(listen).awaitUninterruptibly();
        if (!bound.isSuccess()) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            group = null;
            throw new MigrationProxyException("cannot listen for migrations on " + listen + ": "
                    + bound.cause().getMessage(), bound.cause());
        }
        listener = bound.channel();
        return (InetSocketAddress) listener.localAddress();
    }

    /**
     * Accepts connections for one migration.
     *
     * @param migrationUid the VirtualMachineInstanceMigration's uid (1 to 64 of [A-Za-z0-9-]), named in every header
     * @param streamSocket the target QEMU's migration stream socket (its migrate-incoming URI), where {@code stream}
     *                     connections go
     * @param nbdSocket    its NBD server's socket, where {@code nbd} connections go
     * @param target       runs the control calls (blocking; on a worker thread)
     * @param onEnd        called once, on a worker thread, when the migration ends for the target; not after
     *                     {@link Registration#close}
     * @throws IllegalArgumentException if the uid is not one or is registered already
     */
    public Registration register(String migrationUid, Path streamSocket, Path nbdSocket, MigrationTarget target,
                                 Consumer<TargetOutcome> onEnd) {
        ProxyHeader.requireUid(migrationUid, "migrationUid");
        Reg r = new Reg(migrationUid, Objects.requireNonNull(streamSocket, "streamSocket"),
                Objects.requireNonNull(nbdSocket, "nbdSocket"), Objects.requireNonNull(target, "target"),
                Objects.requireNonNull(onEnd, "onEnd"));
        if (registrations.putIfAbsent(migrationUid, r) != null) {
            throw new IllegalArgumentException("migrationUid: migration " + migrationUid + " is registered already");
        }
        return r;
    }

    /** A registered migration; closing it refuses new connections for it and closes the open ones. */
    public interface Registration extends AutoCloseable {
        @Override
        void close();
    }

    /**
     * How a migration ended for the target.
     *
     * @param kind what happened
     * @param why  a sentence for a LOST one (and who finished, for the others)
     */
    public record TargetOutcome(Kind kind, String why) {
        public enum Kind {
            /** The source sent finish(true): the target holds the VM. */
            SUCCEEDED,
            /** The source sent finish(false): the VM stays on the source. */
            FAILED,
            /** The control connection closed (or went silent) before a finish. */
            LOST
        }
    }

    /** Stops listening, closes every connection and ends every registration without calling its onEnd. */
    @Override
    public void close() {
        List<Reg> all = new ArrayList<>(registrations.values());
        all.forEach(Reg::close);
        Channel l;
        EventLoopGroup g;
        synchronized (this) {
            l = listener;
            g = group;
            listener = null;
            group = null;
        }
        if (l != null) {
            l.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        }
        channels.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        if (g != null) {
            g.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(10, TimeUnit.SECONDS);
        }
        workers.shutdownNow();
    }

    private final class Reg implements Registration {
        final String uid;
        final Path stream;
        final Path nbd;
        final MigrationTarget target;
        final Consumer<TargetOutcome> onEnd;
        final AtomicBoolean ended = new AtomicBoolean();
        final ChannelGroup own;
        final AtomicBoolean controlOpen = new AtomicBoolean();

        Reg(String uid, Path stream, Path nbd, MigrationTarget target, Consumer<TargetOutcome> onEnd) {
            this.uid = uid;
            this.stream = stream;
            this.nbd = nbd;
            this.target = target;
            this.onEnd = onEnd;
            this.own = new DefaultChannelGroup("migration-" + uid, GlobalEventExecutor.INSTANCE);
        }

        /** Records the end once; onEnd runs on a worker thread. */
        void end(TargetOutcome.Kind kind, String why) {
            if (ended.compareAndSet(false, true)) {
                TargetOutcome o = new TargetOutcome(kind, why);
                LOG.info("migration " + uid + " ended for the target: " + kind + " (" + why + ")");
                try {
                    workers.execute(() -> {
                        try {
                            onEnd.accept(o);
                        } catch (RuntimeException e) {
                            LOG.log(Level.WARNING, "migration " + uid + ": onEnd failed", e);
                        }
                    });
                } catch (java.util.concurrent.RejectedExecutionException e) {
                    LOG.fine("migration " + uid + " ended while the proxy closes: onEnd not called");
                }
            }
        }

        @Override
        public void close() {
            ended.set(true);
            registrations.remove(uid, this);
            own.close();
        }
    }

    private static void refuse(Channel ch, String why) {
        ch.writeAndFlush(Unpooled.copiedBuffer("ERR " + why.replace('\n', ' ') + "\n", StandardCharsets.UTF_8))
                .addListener(ChannelFutureListener.CLOSE);
    }

    /** Reads the header line and turns the connection into a relay or a control connection. */
    private final class HeaderRouter extends SimpleChannelInboundHandler<String> {
        private ScheduledFuture<?> deadline;

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            deadline = ctx.executor().schedule(() -> {
                LOG.fine("migration proxy: no header from " + ctx.channel().remoteAddress() + " within "
                        + HEADER_TIMEOUT_MS + " ms");
                ctx.close();
            }, HEADER_TIMEOUT_MS, TimeUnit.MILLISECONDS);
        }

        @Override
        public void handlerRemoved(ChannelHandlerContext ctx) {
            deadline.cancel(false);
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, String line) {
            deadline.cancel(false);
            ProxyHeader h;
            try {
                h = ProxyHeader.parse(line);
            } catch (ProxyProtocolException e) {
                refuse(ctx.channel(), e.getMessage());
                return;
            }
            Reg r = registrations.get(h.migrationUid());
            if (r == null) {
                refuse(ctx.channel(), "unknown migration " + h.migrationUid());
                return;
            }
            if (r.ended.get()) {
                refuse(ctx.channel(), "migration " + h.migrationUid() + " has ended");
                return;
            }
            r.own.add(ctx.channel());
            switch (h.kind()) {
                case STREAM -> relay(ctx, r, r.stream, "stream");
                case NBD -> relay(ctx, r, r.nbd, "nbd");
                case CONTROL -> control(ctx, r);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            Throwable c = cause.getCause() instanceof ProxyProtocolException p ? p : cause;
            if (c instanceof ProxyProtocolException) {
                refuse(ctx.channel(), c.getMessage());
            } else {
                // TLS refused (no or a foreign client certificate), reset, ...: nothing to answer.
                LOG.fine("migration proxy connection from " + ctx.channel().remoteAddress() + " failed: " + cause);
                ctx.close();
            }
        }

        private void relay(ChannelHandlerContext ctx, Reg r, Path socket, String kind) {
            Channel tls = ctx.channel();
            tls.config().setAutoRead(false);
            AtomicLong unused = new AtomicLong();
            RelayHandler fromTls = new RelayHandler(unused);
            RelayHandler fromUnix = new RelayHandler(unused);
            // What followed the header in the same read reaches fromTls (held until linked).
            ctx.pipeline().replace(this, "relay", fromTls);
            new Bootstrap().group(tls.eventLoop()).channel(transport.unixClient())
                    .option(ChannelOption.AUTO_READ, false)
                    .handler(fromUnix)
                    .connect(transport.unixAddress().apply(socket))
                    .addListener((ChannelFuture f) -> {
                        if (!f.isSuccess()) {
                            refuse(tls, "cannot reach the target's " + kind + " socket: " + f.cause().getClass().getSimpleName()
                                    + (f.cause().getMessage() != null ? ": " + f.cause().getMessage() : ""));
                            return;
                        }
                        Channel unix = f.channel();
                        r.own.add(unix);
                        if (!tls.isActive()) {
                            unix.close();
                            return;
                        }
                        tls.writeAndFlush(Unpooled.copiedBuffer(ProxyHeader.OK + "\n", StandardCharsets.US_ASCII));
                        fromUnix.link(tls);
                        fromTls.link(unix);
                        tls.config().setAutoRead(true);
                        unix.config().setAutoRead(true);
                    });
        }

        private void control(ChannelHandlerContext ctx, Reg r) {
            if (!r.controlOpen.compareAndSet(false, true)) {
                refuse(ctx.channel(), "a control connection for migration " + r.uid + " is open already");
                return;
            }
            ctx.writeAndFlush(Unpooled.copiedBuffer(ProxyHeader.OK + "\n", StandardCharsets.US_ASCII));
            ctx.pipeline().addAfter(ctx.name(), "idle", new IdleStateHandler(CONTROL_IDLE_MS, 0, 0,
                    TimeUnit.MILLISECONDS));
            ctx.pipeline().addAfter("idle", "lines", new LineDecoder(ControlMessage.MAX_LINE, "control message", false));
            ctx.pipeline().addAfter("lines", "decode", new ControlMessageDecoder());
            ctx.pipeline().addAfter("decode", "encode", new ControlMessageEncoder());
            ctx.pipeline().addAfter("encode", "control", new ControlServer(r));
            ctx.pipeline().remove(this);
        }
    }

    /** The target's end of a control connection: each request runs on its own serial worker. */
    private final class ControlServer extends SimpleChannelInboundHandler<ControlMessage> {
        private final Reg r;
        private final ExecutorService serial = Executors.newSingleThreadExecutor(t -> {
            Thread th = new Thread(t, "migration-proxy-control");
            th.setDaemon(true);
            return th;
        });
        private volatile String why;
        private AutoCloseable events;

        ControlServer(Reg r) {
            this.r = r;
        }

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            Channel ch = ctx.channel();
            serial.execute(() -> {
                try {
                    events = r.target.onMigrationStatus(s -> ch.writeAndFlush(new ControlMessage.Event("MIGRATION", s)));
                } catch (RuntimeException e) {
                    why = "cannot follow the target's migration events: " + e.getMessage();
                    ch.close();
                }
            });
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, ControlMessage msg) {
            if (!(msg instanceof ControlMessage.Request req)) {
                why = "the source sent a " + msg.getClass().getSimpleName().toLowerCase() + ", not a request";
                ctx.close();
                return;
            }
            Channel ch = ctx.channel();
            serial.execute(() -> {
                ControlMessage.Reply reply;
                boolean finish = false;
                Boolean succeeded = null;
                try {
                    JsonNode result = null;
                    switch (req.op()) {
                        case "prepare" -> prepare(req);
                        case "stopExports" -> r.target.stopExports();
                        case "status" -> result = TextNode.valueOf(r.target.status());
                        case "cont" -> r.target.cont();
                        case "ping" -> {
                        }
                        case "finish" -> {
                            JsonNode s = req.body().get("succeeded");
                            if (s == null || !s.isBoolean()) {
                                throw new IllegalArgumentException("finish: succeeded must be true or false");
                            }
                            finish = true;
                            succeeded = s.asBoolean();
                        }
                        default -> throw new IllegalArgumentException("unknown op \"" + req.op() + "\" (prepare, "
                                + "stopExports, status, cont, ping, finish)");
                    }
                    reply = ControlMessage.Reply.ok(req.id(), result);
                } catch (RuntimeException e) {
                    reply = ControlMessage.Reply.failed(req.id(), e.getMessage());
                }
                if (finish) {
                    // Recorded before the answer: once the source has it, a closing connection is no loss.
                    r.end(succeeded ? TargetOutcome.Kind.SUCCEEDED : TargetOutcome.Kind.FAILED,
                            "the source finished the migration (" + (succeeded ? "succeeded" : "failed") + ")");
                }
                ch.writeAndFlush(reply);
            });
        }

        private void prepare(ControlMessage.Request req) {
            JsonNode caps = req.body().path("capabilities");
            if (!caps.isObject()) {
                throw new IllegalArgumentException("prepare: capabilities must be an object of booleans");
            }
            Map<String, Boolean> capabilities = new LinkedHashMap<>();
            for (Map.Entry<String, JsonNode> e : caps.properties()) {
                if (!e.getValue().isBoolean()) {
                    throw new IllegalArgumentException("prepare: capabilities." + e.getKey() + " must be a boolean");
                }
                capabilities.put(e.getKey(), e.getValue().asBoolean());
            }
            JsonNode multifd = req.body().path("multifdChannels");
            if (!multifd.isMissingNode() && (!multifd.canConvertToExactIntegral() || multifd.asInt() < 0
                    || multifd.asInt() > 255)) {
                throw new IllegalArgumentException("prepare: multifdChannels must be an integer 0 to 255");
            }
            List<String> nodes = new ArrayList<>();
            JsonNode copy = req.body().path("copyNodes");
            if (!copy.isMissingNode()) {
                if (!copy.isArray()) {
                    throw new IllegalArgumentException("prepare: copyNodes must be an array of node names");
                }
                for (JsonNode n : copy) {
                    if (!n.isTextual() || !n.asText().matches("[A-Za-z][A-Za-z0-9_.-]{0,30}")) {
                        throw new IllegalArgumentException("prepare: copyNodes: " + n + " is not a block node name");
                    }
                    nodes.add(n.asText());
                }
            }
            r.target.prepare(capabilities, multifd.asInt(0), nodes);
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
            if (evt instanceof IdleStateEvent) {
                why = "no message from the source for " + CONTROL_IDLE;
                ctx.close();
                return;
            }
            super.userEventTriggered(ctx, evt);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            Throwable c = cause.getCause() instanceof ProxyProtocolException p ? p : cause;
            why = c instanceof ProxyProtocolException ? "protocol error: " + c.getMessage()
                    : "the control connection failed: " + c;
            ctx.close();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            r.controlOpen.set(false);
            serial.execute(() -> {
                if (events != null) {
                    try {
                        events.close();
                    } catch (Exception e) {
                        LOG.log(Level.FINE, "closing the target's event subscription", e);
                    }
                }
            });
            // After the requests already taken: a finish that arrived just before the close counts.
            String lost = why != null ? why
                    : "the control connection from the source closed before it finished the migration";
            serial.execute(() -> r.end(TargetOutcome.Kind.LOST, lost));
            serial.shutdown();
        }
    }
}
