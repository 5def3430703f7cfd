package io.qvirt.qmp;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A listening Unix socket to which QMP servers connect out ({@code -chardev socket,id=m,path=P}
 * without {@code server=on}). Each connection is negotiated as soon as it arrives; {@link #accept()}
 * hands them out in arrival order. Connections not accepted when the listener closes are closed.
 */
public final class QmpListener implements AutoCloseable {
    private final Path path;
    private final QmpOptions options;
    private volatile Channel server;
    /** Connections that arrived and were not yet handed out; guarded by this. */
    private final ArrayDeque<CompletableFuture<QmpClient>> arrived = new ArrayDeque<>();
    /** accept() calls waiting for a connection; guarded by this. */
    private final ArrayDeque<CompletableFuture<QmpClient>> waiting = new ArrayDeque<>();
    private boolean closed;

    private QmpListener(Path path, QmpOptions options) {
        this.path = path;
        this.options = options;
    }

    static QmpListener bind(Path socket, QmpOptions options) {
        // Exists before the bind, so a connection arriving right after it has somewhere to go.
        QmpListener listener = new QmpListener(socket, options);
        ServerBootstrap b = new ServerBootstrap()
                .group(Transport.group())
                .channel(EpollServerDomainSocketChannel.class)
                .childHandler(new ChannelInitializer<EpollDomainSocketChannel>() {
                    @Override
                    protected void initChannel(EpollDomainSocketChannel ch) {
                        listener.arrived(ch);
                    }
                });
        ChannelFuture f = b.bind(new DomainSocketAddress(socket.toString()));
        if (!f.awaitUninterruptibly(options.connectTimeout().toMillis(), TimeUnit.MILLISECONDS)) {
            f.channel().close();
            throw new QmpTimeoutException("binding QMP listener socket " + socket + " took over "
                    + options.connectTimeout());
        }
        if (!f.isSuccess()) {
            throw new QmpException("cannot listen on " + socket + ": " + f.cause().getMessage(), f.cause());
        }
        listener.server = f.channel();
        return listener;
    }

    /** Where the listener is bound. */
    public Path path() {
        return path;
    }

    private void arrived(Channel ch) {
        CompletableFuture<QmpClient> ready = new OffLoopFuture<>();
        QmpClient.forAccepted(ch, options, ready);
        CompletableFuture<QmpClient> taker;
        synchronized (this) {
            if (closed) {
                ch.close();
                return;
            }
            taker = waiting.poll();
            if (taker == null) {
                arrived.add(ready);
                return;
            }
        }
        relay(ready, taker);
    }

    private static void relay(CompletableFuture<QmpClient> from, CompletableFuture<QmpClient> to) {
        from.whenComplete((c, err) -> {
            if (err != null) {
                to.completeExceptionally(err);
            } else if (!to.complete(c)) {
                // The accept timed out or was cancelled meanwhile: nobody owns this connection.
                c.close();
            }
        });
    }

    /** {@code accept(options.connectTimeout())}. */
    public CompletableFuture<QmpClient> accept() {
        return accept(options.connectTimeout());
    }

    /**
     * The next connection, negotiated. Fails with {@link QmpTimeoutException} if none arrives (and
     * negotiates) within {@code timeout}, or {@link QmpDisconnectedException} if the listener closes.
     */
    public CompletableFuture<QmpClient> accept(Duration timeout) {
        OffLoopFuture<QmpClient> result = new OffLoopFuture<>();
        CompletableFuture<QmpClient> ready;
        synchronized (this) {
            if (closed) {
                result.completeExceptionally(new QmpDisconnectedException("QMP listener on " + path + " is closed"));
                return result;
            }
            ready = arrived.poll();
            if (ready == null) {
                waiting.add(result);
            }
        }
        if (ready != null) {
            relay(ready, result);
        }
        Transport.group().schedule(() -> {
            synchronized (this) {
                waiting.remove(result);
            }
            result.completeExceptionally(new QmpTimeoutException("no QMP connection on " + path
                    + " within " + timeout));
        }, timeout.toNanos(), TimeUnit.NANOSECONDS);
        return result;
    }

    /**
     * Stops listening and deletes the socket file; pending accepts fail, connections not yet accepted
     * are closed. Accepted clients stay open. Idempotent.
     */
    @Override
    public void close() {
        ArrayDeque<CompletableFuture<QmpClient>> pendingAccepts;
        ArrayDeque<CompletableFuture<QmpClient>> unclaimed;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            pendingAccepts = new ArrayDeque<>(waiting);
            unclaimed = new ArrayDeque<>(arrived);
            waiting.clear();
            arrived.clear();
        }
        server.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        for (CompletableFuture<QmpClient> a : pendingAccepts) {
            a.completeExceptionally(new QmpDisconnectedException("QMP listener on " + path + " closed"));
        }
        for (CompletableFuture<QmpClient> u : unclaimed) {
            u.thenAccept(QmpClient::close);
        }
        try {
            Files.deleteIfExists(path);
        } catch (IOException e) {
            // The socket file is ours but removing it is best effort; the next bind reports a clash.
        }
    }
}
