package io.qvirt.qmp;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.qvirt.qmp.codec.QmpFrameDecoder;
import io.qvirt.qmp.codec.QmpMessageDecoder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * A QMP connection to one QEMU monitor, on Netty's epoll transport over a Unix stream socket.
 *
 * <p>Obtain one with {@link #connect}, {@link #connectFd} or {@link #listen}; the returned future
 * completes once the greeting was read and {@code qmp_capabilities} accepted. Every method is
 * thread-safe and non-blocking except {@link #close()} (bounded) and {@link EventWaiter#await}.
 *
 * <p>Returned futures are completed on the connection's event loop, but their dependent stages
 * ({@code thenApply}, {@code whenComplete}, ...) always run on a shared daemon pool, so a callback
 * that blocks cannot stall the connection. Event listeners run on {@link QmpOptions#listenerExecutor()},
 * one at a time per client, in the order QEMU sent the events.
 *
 * <p>Nothing here assumes it is QEMU's only client: each monitor socket is its own QMP session.
 */
public final class QmpClient implements AutoCloseable {
    private static final Duration CLOSE_WAIT = Duration.ofSeconds(5);

    private final QmpOptions options;
    private final QmpCorrelator correlator;
    private final AtomicLong ids = new AtomicLong();
    private final CopyOnWriteArrayList<QmpSubscription> subscriptions = new CopyOnWriteArrayList<>();
    private final CopyOnWriteArrayList<EventWaiter> waiters = new CopyOnWriteArrayList<>();
    private final SerialExecutor events;
    private final OffLoopFuture<Throwable> disconnected = new OffLoopFuture<>();
    private final QmpCommands commands = new QmpCommands(this);
    private volatile Channel channel;
    private volatile QmpGreeting greeting;
    private volatile boolean oob;
    private volatile boolean closed;

    private QmpClient(QmpOptions options) {
        this.options = Objects.requireNonNull(options, "options");
        this.correlator = new QmpCorrelator(options.maxInFlight());
        Executor base = options.listenerExecutor() != null ? options.listenerExecutor() : Transport.userPool();
        this.events = new SerialExecutor(base);
    }

    /**
     * Connects to a QMP server socket (QEMU's {@code -chardev socket,...,server=on}).
     *
     * @param socket path of a listening AF_UNIX stream socket
     * @return completes with the negotiated client, or fails with {@link QmpDisconnectedException}
     *         (cannot connect, peer closed), {@link QmpTimeoutException} (no greeting or negotiation
     *         within {@link QmpOptions#connectTimeout()}) or {@link QmpProtocolException}
     */
    public static CompletableFuture<QmpClient> connect(Path socket, QmpOptions options) {
        Objects.requireNonNull(socket, "socket");
        QmpClient client = new QmpClient(options);
        OffLoopFuture<QmpClient> ready = new OffLoopFuture<>();
        Bootstrap b = new Bootstrap()
                .group(Transport.group())
                .channel(EpollDomainSocketChannel.class)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE,
                        options.connectTimeout().toMillis()))
                .handler(client.initializer(ready));
        ChannelFuture cf = b.connect(new DomainSocketAddress(socket.toString()));
        client.channel = cf.channel();
        cf.addListener((ChannelFutureListener) f -> {
            if (!f.isSuccess()) {
                ready.completeExceptionally(new QmpDisconnectedException("cannot connect to QMP socket "
                        + socket + ": " + f.cause().getMessage(), f.cause()));
            }
        });
        return ready;
    }

    /**
     * Runs QMP over an already-connected stream socket, for example one end of a socketpair whose
     * other end QEMU inherited ({@code -chardev socket,id=m,fd=N}). Nothing waits for a socket file.
     *
     * @param fd an open, connected AF_UNIX stream socket; ownership passes to the client, which sets
     *           it non-blocking and close-on-exec and closes it when the connection ends (also when
     *           this call fails)
     */
    public static CompletableFuture<QmpClient> connectFd(int fd, QmpOptions options) {
        Objects.requireNonNull(options, "options");
        OffLoopFuture<QmpClient> ready = new OffLoopFuture<>();
        if (fd < 0) {
            ready.completeExceptionally(new IllegalArgumentException("fd must be >= 0: " + fd));
            return ready;
        }
        EpollDomainSocketChannel ch;
        try {
            // Loads epoll's native library first: the channel's constructor calls into it.
            Transport.group();
            Native.setNonBlocking(fd);
            Native.setCloseOnExec(fd);
            ch = new EpollDomainSocketChannel(fd);
        } catch (RuntimeException e) {
            try {
                Native.close(fd);
            } catch (QmpException ignored) {
                // Already reported through the first failure.
            }
            ready.completeExceptionally(e instanceof QmpException ? e
                    : new QmpException("cannot use fd " + fd + " as a QMP socket: " + e.getMessage(), e));
            return ready;
        }
        QmpClient client = new QmpClient(options);
        client.channel = ch;
        client.install(ch.pipeline(), ready);
        Transport.group().register(ch).addListener((ChannelFutureListener) f -> {
            if (!f.isSuccess()) {
                ch.unsafe().closeForcibly();
                ready.completeExceptionally(new QmpDisconnectedException("cannot register fd " + fd + ": "
                        + f.cause(), f.cause()));
            }
        });
        return ready;
    }

    /**
     * Listens on {@code socket} for QMP servers that connect out (QEMU's {@code -chardev socket,path=P}
     * without {@code server}); each accepted connection becomes a client via {@link QmpListener#accept()}.
     * Blocks at most {@link QmpOptions#connectTimeout()} for the bind.
     *
     * @param socket a path that does not exist yet (it is created here and deleted by close)
     * @throws QmpException if the socket cannot be bound
     */
    public static QmpListener listen(Path socket, QmpOptions options) {
        return QmpListener.bind(socket, options);
    }

    /** Builds the pipeline for a channel this client will own. */
    ChannelInitializer<Channel> initializer(CompletableFuture<QmpClient> ready) {
        return new ChannelInitializer<>() {
            @Override
            protected void initChannel(Channel ch) {
                install(ch.pipeline(), ready);
            }
        };
    }

    void install(ChannelPipeline p, CompletableFuture<QmpClient> ready) {
        p.addLast("fd", new FdWriter());
        p.addLast("frame", new QmpFrameDecoder(options.maxFrameBytes()));
        p.addLast("decode", new QmpMessageDecoder());
        p.addLast("encode", QmpRequestEncoder.INSTANCE);
        p.addLast("correlate", correlator);
        p.addLast("session", new QmpSession(this, correlator, options, ready));
    }

    /** Creates a client for a channel accepted by a listener. */
    static QmpClient forAccepted(Channel ch, QmpOptions options, CompletableFuture<QmpClient> ready) {
        QmpClient c = new QmpClient(options);
        c.channel = ch;
        c.install(ch.pipeline(), ready);
        return c;
    }

    QmpRequest request(String command, JsonNode args, boolean oob, int fd) {
        return new QmpRequest(ids.incrementAndGet(), command, args, oob, fd);
    }

    void negotiated(QmpGreeting g, boolean oobEnabled) {
        this.greeting = g;
        this.oob = oobEnabled;
    }

    /** The server's greeting (QEMU version, offered capabilities). */
    public QmpGreeting greeting() {
        return greeting;
    }

    /** Whether out-of-band execution was negotiated (offered by QEMU and enabled in the options). */
    public boolean oobEnabled() {
        return oob;
    }

    public QmpOptions options() {
        return options;
    }

    /** {@code execute(command, null)}. */
    public CompletableFuture<JsonNode> execute(String command) {
        return execute(command, null);
    }

    /**
     * Sends {@code {"execute": command, "arguments": args}} with a fresh id once fewer than
     * {@link QmpOptions#maxInFlight()} commands are in flight.
     *
     * @param args null, or a JSON object
     * @return the reply's {@code return} value, or a {@link QmpRemoteException},
     *         {@link QmpTimeoutException} (after {@link QmpOptions#commandTimeout()}),
     *         {@link QmpDisconnectedException} or {@link QmpProtocolException}
     */
    public CompletableFuture<JsonNode> execute(String command, JsonNode args) {
        return submit(command, args, false, -1, options.commandTimeout());
    }

    /** As {@link #execute(String, JsonNode)} with this command's own timeout. */
    public CompletableFuture<JsonNode> execute(String command, JsonNode args, Duration timeout) {
        return submit(command, args, false, -1, timeout);
    }

    /** {@code executeOob(command, null)}. */
    public CompletableFuture<JsonNode> executeOob(String command) {
        return executeOob(command, null);
    }

    /**
     * Sends {@code {"exec-oob": command, ...}}: QEMU runs it at once on its monitor thread, ahead of
     * queued commands. It is sent at once, not subject to {@link QmpOptions#maxInFlight()}. Only for
     * commands QEMU marks {@code allow-oob} (e.g. {@code yank}, {@code migrate-recover}).
     *
     * @return fails with {@link QmpException} if OOB was not negotiated ({@link #oobEnabled()})
     */
    public CompletableFuture<JsonNode> executeOob(String command, JsonNode args) {
        if (!oob) {
            OffLoopFuture<JsonNode> f = new OffLoopFuture<>();
            f.completeExceptionally(new QmpException("cannot exec-oob '" + command
                    + "': out-of-band execution was not negotiated (offered by server: "
                    + (greeting != null && greeting.offers("oob")) + ", enabled in options: "
                    + options.enableOob() + ")"));
            return f;
        }
        return submit(command, args, true, -1, options.commandTimeout());
    }

    /**
     * Sends the command with {@code fd} attached (SCM_RIGHTS, in the same sendmsg as the command's
     * bytes), in order with other commands: for {@code getfd} and {@code add-fd}. Commands carrying a
     * descriptor are sent one at a time (the next waits for the previous reply, and so does whatever
     * was queued after it), because QEMU drops an unclaimed descriptor when the next one arrives.
     *
     * @param fd an open descriptor; the caller keeps ownership and must keep it open until the returned
     *           future completes (QEMU receives its own copy)
     */
    public CompletableFuture<JsonNode> executeWithFd(String command, ObjectNode args, int fd) {
        if (fd < 0) {
            OffLoopFuture<JsonNode> f = new OffLoopFuture<>();
            f.completeExceptionally(new IllegalArgumentException("fd must be >= 0: " + fd));
            return f;
        }
        return submit(command, args, false, fd, options.commandTimeout());
    }

    private CompletableFuture<JsonNode> submit(String command, JsonNode args, boolean oobCmd, int fd,
                                               Duration timeout) {
        Objects.requireNonNull(command, "command");
        Objects.requireNonNull(timeout, "timeout");
        OffLoopFuture<JsonNode> f = new OffLoopFuture<>();
        if (args != null && args.isNull()) {
            args = null;
        }
        if (args != null && !args.isObject()) {
            f.completeExceptionally(new IllegalArgumentException("QMP arguments must be a JSON object, got "
                    + args.getNodeType()));
            return f;
        }
        if (closed || greeting == null) {
            Throwable cause = correlator.terminalCause();
            f.completeExceptionally(new QmpDisconnectedException("QMP command '" + command
                    + "' not sent: connection " + (closed ? "closed" : "not established"), cause));
            return f;
        }
        correlator.submit(request(command, args, oobCmd, fd), f, timeout);
        return f;
    }

    /** Calls {@code listener} for every event named {@code eventName}, in arrival order. */
    public QmpSubscription subscribe(String eventName, Consumer<QmpEvent> listener) {
        Objects.requireNonNull(eventName, "eventName");
        return subscribe(e -> eventName.equals(e.name()), listener);
    }

    /**
     * Calls {@code listener} for every event {@code filter} accepts, in arrival order. Both run on the
     * listener executor, never on the event loop unless that executor is direct. Events that arrived
     * before this call are not replayed.
     */
    public QmpSubscription subscribe(Predicate<QmpEvent> filter, Consumer<QmpEvent> listener) {
        QmpSubscription s = new QmpSubscription(this, Objects.requireNonNull(filter, "filter"),
                Objects.requireNonNull(listener, "listener"));
        subscriptions.add(s);
        return s;
    }

    void unsubscribe(QmpSubscription s) {
        subscriptions.remove(s);
    }

    /**
     * Registers interest in the next event named {@code name} that {@code filter} accepts. Call this
     * before sending the command that causes the event, then {@link EventWaiter#await}: an event that
     * arrives in between is kept, so none can be missed.
     *
     * @param name   event name, or null for any
     * @param filter null for any; runs on the listener executor
     */
    public EventWaiter expectEvent(String name, Predicate<QmpEvent> filter) {
        EventWaiter w = new EventWaiter(this, name, filter);
        waiters.add(w);
        if (closed) {
            // closed() may have drained the list before our add; fail it ourselves.
            failWaiter(w);
        }
        return w;
    }

    void removeWaiter(EventWaiter w) {
        waiters.remove(w);
    }

    /** Called on the event loop for each event; delivery happens on the serial listener executor. */
    void dispatch(QmpEvent e) {
        events.execute(() -> {
            for (EventWaiter w : waiters) {
                if (w.matches(e) && waiters.remove(w)) {
                    w.complete(e);
                }
            }
            for (QmpSubscription s : subscriptions) {
                try {
                    if (s.isOpen() && s.filter().test(e)) {
                        s.listener().accept(e);
                    }
                } catch (RuntimeException ex) {
                    System.getLogger(QmpClient.class.getName()).log(System.Logger.Level.WARNING,
                            "QMP event listener failed on " + e.name(), ex);
                }
            }
        });
    }

    /** Called on the event loop once the connection has ended. */
    void closed(Throwable cause) {
        closed = true;
        // After any events still queued for delivery, so an event that arrived first still counts.
        events.execute(() -> {
            for (EventWaiter w : List.copyOf(waiters)) {
                failWaiter(w);
            }
            disconnected.complete(cause);
        });
    }

    private void failWaiter(EventWaiter w) {
        if (waiters.remove(w)) {
            Throwable cause = correlator.terminalCause();
            w.fail(new QmpDisconnectedException("QMP connection ended while waiting for event "
                    + (w.name() == null ? "(any)" : w.name())
                    + (cause == null ? "" : ": " + cause.getMessage()), cause));
        }
    }

    /** Typed helpers for common commands. */
    public QmpCommands commands() {
        return commands;
    }

    /**
     * Completes when the connection has ended, with the reason: a {@link QmpDisconnectedException}
     * (peer closed, I/O error, {@link #close()}), {@link QmpProtocolException} or
     * {@link QmpTimeoutException} (negotiation). Never completes exceptionally.
     */
    public CompletableFuture<Throwable> disconnected() {
        return disconnected;
    }

    /** Replies that arrived after their command had timed out; they were dropped. */
    public long lateReplies() {
        return correlator.lateReplies();
    }

    /** Whether the connection is still up. */
    public boolean isOpen() {
        Channel ch = channel;
        return !closed && ch != null && ch.isOpen();
    }

    /**
     * Closes the connection; pending commands fail with {@link QmpDisconnectedException}. Idempotent.
     * Waits up to 5 s for the socket to close unless called on an event loop thread.
     */
    @Override
    public void close() {
        Channel ch = channel;
        if (ch == null) {
            return;
        }
        ch.eventLoop().execute(() -> {
            correlator.setCauseIfAbsent(new QmpDisconnectedException("QMP client closed locally"));
            ch.close();
        });
        if (!ch.eventLoop().inEventLoop()) {
            ch.closeFuture().awaitUninterruptibly(CLOSE_WAIT.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    @Override
    public String toString() {
        Channel ch = channel;
        return "QmpClient[" + (ch == null ? "?" : ch.remoteAddress()) + (isOpen() ? "" : ", closed") + "]";
    }
}
