package io.qvirt.handler.nodeapi;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.group.ChannelGroup;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.netty.handler.codec.http.websocketx.WebSocketDecoderConfig;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshaker;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshakerFactory;
import io.qvirt.launcher.plan.RuntimePaths;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.file.Files;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Turns a console request into a session: checks the VMI ({@link VmiOperations#consolePaths}), takes the
 * VM's console lock, connects to its {@code console.sock}, and only then answers the WebSocket upgrade,
 * so a refusal (404, 409 naming the holder, 500) is a plain HTTP answer a client can read.
 *
 * <p>Threads: the VMI check and the lock (file I/O) run on the blocking executor; the socket connect,
 * the handshake and the relay run on the client connection's event loop, where the socket's channel is
 * registered too. The lock is released when the socket's channel closes, whichever side ended it.
 */
final class ConsoleBridge {
    private static final Logger LOG = Logger.getLogger(ConsoleBridge.class.getName());
    /** The WebSocket subprotocol KubeVirt's virt-api and virt-handler agree on. */
    static final String SUBPROTOCOL = "plain.kubevirt.io";
    /** Largest frame accepted from a client, and largest read from the console (one frame per read). */
    static final int MAX_FRAME = 64 * 1024;
    static final int SOCKET_READ_MAX = 16 * 1024;
    static final int CONNECT_TIMEOUT_MS = 5_000;
    /** What the client is told when QEMU's end of the console goes. */
    private static final WebSocketCloseStatus CONSOLE_CLOSED =
            new WebSocketCloseStatus(WebSocketCloseStatus.ENDPOINT_UNAVAILABLE.code(), "the console closed");
    /** Per-direction buffering before the other side stops reading. */
    static final WriteBufferWaterMark WATER = new WriteBufferWaterMark(32 * 1024, 128 * 1024);
    static final WebSocketDecoderConfig DECODER = WebSocketDecoderConfig.newBuilder()
            .maxFramePayloadLength(MAX_FRAME)
            .allowExtensions(false)
            .expectMaskedFrames(true)
            .closeOnProtocolViolation(true)
            .build();

    private final VmiOperations operations;
    private final ExecutorService blocking;
    private final ConsoleLocks locks;
    private final Transport transport;
    private final ChannelGroup channels;

    /**
     * @param channels where the consoles' socket channels are registered, so the server's close closes them
     */
    ConsoleBridge(VmiOperations operations, ExecutorService blocking, ConsoleLocks locks, Transport transport,
                  ChannelGroup channels) {
        this.operations = operations;
        this.blocking = blocking;
        this.locks = locks;
        this.transport = transport;
        this.channels = channels;
    }

    /**
     * Attaches {@code ctx}'s connection to the console of VMI {@code ns/name}. Called on the connection's
     * event loop; returns at once.
     *
     * @param req      the upgrade request; released by this bridge on success, by {@code refuse} otherwise
     * @param refuse   writes an HTTP answer instead of the upgrade (called on the event loop)
     * @param upgraded called on the event loop once the router has been replaced by the relay
     */
    void attach(ChannelHandlerContext ctx, FullHttpRequest req, String ns, String name,
                Consumer<FullHttpResponse> refuse, Runnable upgraded) {
        if (!req.headers().containsValue(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET, true)
                || !req.headers().contains(HttpHeaderNames.SEC_WEBSOCKET_KEY)) {
            refuse.accept(Replies.failure(400, "the console is a WebSocket: GET it with Upgrade: websocket"));
            return;
        }
        WebSocketServerHandshaker handshaker = new WebSocketServerHandshakerFactory(
                "wss://" + req.headers().get(HttpHeaderNames.HOST, "localhost") + req.uri(), SUBPROTOCOL, DECODER)
                .newHandshaker(req);
        if (handshaker == null) {
            FullHttpResponse r = Replies.failure(426, "unsupported WebSocket version: this server speaks version 13");
            r.headers().set(HttpHeaderNames.SEC_WEBSOCKET_VERSION, "13");
            refuse.accept(r);
            return;
        }
        Channel ws = ctx.channel();
        // Nothing to read until the relay is in place (a client sends no frame before the 101 anyway).
        ws.config().setAutoRead(false);
        String vmi = ns + "/" + name;
        String who = "virt-handler node API for " + ws.attr(ClientCertificateGate.CLIENT).get() + " from " + describe(ws.remoteAddress());
        try {
            blocking.execute(() -> {
                Object outcome = prepare(ns, name, vmi, who);
                try {
                    ws.eventLoop().execute(() -> {
                        if (outcome instanceof FullHttpResponse refusal) {
                            refuse.accept(refusal);
                        } else {
                            Prepared p = (Prepared) outcome;
                            connect(ws, req, handshaker, p, vmi, refuse, upgraded);
                        }
                    });
                } catch (RejectedExecutionException e) {
                    // Server stopping: the connection is gone with its loop.
                    if (outcome instanceof Prepared p) {
                        p.lease().close();
                    } else {
                        ((FullHttpResponse) outcome).release();
                    }
                    req.release();
                }
            });
        } catch (RejectedExecutionException e) {
            refuse.accept(Replies.failure(503, "the node API is busy or stopping; retry"));
        }
    }

    /** A console ready to connect: its paths, and the lock held for this client. */
    private record Prepared(RuntimePaths paths, ConsoleLocks.Lease lease) {
    }

    /** On the blocking executor: a {@link Prepared}, or the HTTP refusal to answer. */
    private Object prepare(String ns, String name, String vmi, String who) {
        try {
            RuntimePaths paths = operations.consolePaths(ns, name);
            if (!Files.exists(paths.consoleSocket())) {
                return Replies.failure(404, "VMI " + vmi + " has no serial console");
            }
            ConsoleLocks.Attempt attempt = locks.acquire(paths, who);
            if (attempt instanceof ConsoleLocks.InUse inUse) {
                return Replies.failure(409, "the console of VMI " + vmi + " is in use by " + inUse.holder()
                        + "; one client at a time");
            }
            return new Prepared(paths, ((ConsoleLocks.Acquired) attempt).lease());
        } catch (NodeApiException e) {
            return Replies.failure(e.status(), e.getMessage());
        } catch (Throwable t) {
            LOG.log(Level.WARNING, "console of VMI " + vmi + ": cannot attach", t);
            return Replies.failure(500, "cannot attach to the console of VMI " + vmi + ": " + Replies.oneLine(t));
        }
    }

    /** On the event loop: connect to console.sock, then upgrade. */
    private void connect(Channel ws, FullHttpRequest req, WebSocketServerHandshaker handshaker, Prepared p, String vmi,
                         Consumer<FullHttpResponse> refuse, Runnable upgraded) {
        if (!ws.isActive()) {
            release(p.lease());
            req.release();
            return;
        }
        ChannelFuture connected = new Bootstrap()
                .group(ws.eventLoop())
                .channel(transport.unixClient())
                .option(ChannelOption.AUTO_READ, false)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, CONNECT_TIMEOUT_MS)
                .option(ChannelOption.RECVBUF_ALLOCATOR, new AdaptiveRecvByteBufAllocator(64, 1024, SOCKET_READ_MAX))
                .option(ChannelOption.WRITE_BUFFER_WATER_MARK, WATER)
                .handler(new WebSocketRelay.SocketSide(ws, CONSOLE_CLOSED, "console socket of " + vmi))
                .connect(transport.unixAddress().apply(p.paths().consoleSocket()));
        Channel socket = connected.channel();
        channels.add(socket);
        // The lock lives exactly as long as the socket connection, however it ends.
        socket.closeFuture().addListener(f -> release(p.lease()));
        ws.closeFuture().addListener(f -> socket.close());
        connected.addListener(f -> {
            if (!f.isSuccess()) {
                refuse.accept(Replies.failure(500, "cannot connect to the console of VMI " + vmi + ": " + Replies.oneLine(f.cause())));
                return;
            }
            if (!ws.isActive()) {
                socket.close();
                req.release();
                return;
            }
            WebSocketRelay.upgrade(ws, socket, req, handshaker, refuse, upgraded, "console-relay");
        });
    }

    private void release(ConsoleLocks.Lease lease) {
        try {
            blocking.execute(lease::close);
        } catch (RejectedExecutionException e) {
            // Shutting down (or every blocking thread busy and the queue full): release here, a few
            // syscalls on the loop, rather than leave the console locked.
            lease.close();
        }
    }

    private static String describe(SocketAddress a) {
        return a instanceof InetSocketAddress i ? i.getHostString() + ":" + i.getPort() : String.valueOf(a);
    }
}
