package io.qvirt.handler.nodeapi;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.channel.group.ChannelGroup;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshaker;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshakerFactory;
import java.net.InetSocketAddress;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Turns a port-forward request into a session: asks where the VMI's guest port is reached
 * ({@link VmiOperations#portForwardTarget}: the pod address and the port its launcher forwards to the guest),
 * connects to it over TCP, and only then answers the WebSocket upgrade, so every refusal (the VMI not here or not
 * running, the port not forwarded, the connection refused or timed out) is a plain HTTP answer with a Status
 * a client can read, never an upgraded session that hangs. Then {@link WebSocketRelay} passes the bytes, untouched,
 * both ways, with the same backpressure and close-on-close as the console.
 *
 * <p>Only TCP: a request for {@code udp} is refused with 400 naming what is allowed.
 *
 * <p>Threads: the VMI check runs on the blocking executor; the TCP connect, the handshake and the relay on the
 * client connection's event loop, where the TCP channel is registered too.
 */
final class PortForwardBridge {
    private static final Logger LOG = Logger.getLogger(PortForwardBridge.class.getName());
    /** The guest's end closing is the normal end of a forwarded connection. */
    private static final WebSocketCloseStatus GUEST_CLOSED = new WebSocketCloseStatus(1000, "the connection to the guest closed");

    private final VmiOperations operations;
    private final ExecutorService blocking;
    private final Transport transport;
    private final ChannelGroup channels;

    /**
     * @param channels where the TCP channels to guests are registered, so the server's close closes them
     */
    PortForwardBridge(VmiOperations operations, ExecutorService blocking, Transport transport, ChannelGroup channels) {
        this.operations = operations;
        this.blocking = blocking;
        this.transport = transport;
        this.channels = channels;
    }

    /**
     * Connects {@code ctx}'s connection to {@code port}/{@code protocol} of VMI {@code ns/name}. Called on the
     * connection's event loop; returns at once.
     *
     * @param req      the upgrade request; released by this bridge on success, by {@code refuse} otherwise
     * @param refuse   writes an HTTP answer instead of the upgrade (called on the event loop)
     * @param upgraded called on the event loop once the router has been replaced by the relay
     */
    void attach(ChannelHandlerContext ctx, FullHttpRequest req, String ns, String name, int port, String protocol,
                Consumer<FullHttpResponse> refuse, Runnable upgraded) {
        if (!req.headers().containsValue(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET, true)
                || !req.headers().contains(HttpHeaderNames.SEC_WEBSOCKET_KEY)) {
            refuse.accept(Replies.failure(400, "port-forward is a WebSocket: GET it with Upgrade: websocket"));
            return;
        }
        if (!"tcp".equals(protocol)) {
            refuse.accept(Replies.failure(400, "port-forward over " + protocol + " is not supported by qvirt: tcp only"));
            return;
        }
        WebSocketServerHandshaker handshaker = new WebSocketServerHandshakerFactory(
                "wss://" + req.headers().get(HttpHeaderNames.HOST, "localhost") + req.uri(), ConsoleBridge.SUBPROTOCOL,
                ConsoleBridge.DECODER).newHandshaker(req);
        if (handshaker == null) {
            FullHttpResponse r = Replies.failure(426, "unsupported WebSocket version: this server speaks version 13");
            r.headers().set(HttpHeaderNames.SEC_WEBSOCKET_VERSION, "13");
            refuse.accept(r);
            return;
        }
        Channel ws = ctx.channel();
        // Nothing to read until the relay is in place (a client sends no frame before the 101 anyway).
        ws.config().setAutoRead(false);
        String what = ns + "/" + name + " port " + port + "/" + protocol;
        try {
            blocking.execute(() -> {
                Object outcome = target(ns, name, port, protocol, what);
                try {
                    ws.eventLoop().execute(() -> {
                        if (outcome instanceof FullHttpResponse refusal) {
                            refuse.accept(refusal);
                        } else {
                            connect(ws, req, handshaker, (InetSocketAddress) outcome, what, refuse, upgraded);
                        }
                    });
                } catch (RejectedExecutionException e) {
                    // Server stopping: the connection is gone with its loop.
                    if (outcome instanceof FullHttpResponse r) {
                        r.release();
                    }
                    req.release();
                }
            });
        } catch (RejectedExecutionException e) {
            refuse.accept(Replies.failure(503, "the node API is busy or stopping; retry"));
        }
    }

    /** On the blocking executor: the address to connect to, or the HTTP refusal to answer. */
    private Object target(String ns, String name, int port, String protocol, String what) {
        try {
            InetSocketAddress a = operations.portForwardTarget(ns, name, port, protocol);
            if (a == null) {
                return Replies.failure(500, "no address for " + what);
            }
            return a;
        } catch (NodeApiException e) {
            return Replies.failure(e.status(), e.getMessage());
        } catch (Throwable t) {
            LOG.log(Level.WARNING, "port-forward to " + what + ": cannot find it", t);
            return Replies.failure(500, "cannot port-forward to " + what + ": " + Replies.oneLine(t));
        }
    }

    /** On the event loop: connect to the guest's forwarded port, then upgrade. */
    private void connect(Channel ws, FullHttpRequest req, WebSocketServerHandshaker handshaker, InetSocketAddress target,
                         String what, Consumer<FullHttpResponse> refuse, Runnable upgraded) {
        if (!ws.isActive()) {
            req.release();
            return;
        }
        ChannelFuture connected = new Bootstrap()
                .group(ws.eventLoop())
                .channel(transport.tcpClient())
                .option(ChannelOption.AUTO_READ, false)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, ConsoleBridge.CONNECT_TIMEOUT_MS)
                .option(ChannelOption.RECVBUF_ALLOCATOR,
                        new AdaptiveRecvByteBufAllocator(64, 1024, ConsoleBridge.SOCKET_READ_MAX))
                .option(ChannelOption.WRITE_BUFFER_WATER_MARK, ConsoleBridge.WATER)
                .handler(new WebSocketRelay.SocketSide(ws, GUEST_CLOSED, "port-forward connection to " + what))
                .connect(target);
        Channel socket = connected.channel();
        channels.add(socket);
        ws.closeFuture().addListener(f -> socket.close());
        connected.addListener(f -> {
            if (!f.isSuccess()) {
                // KubeVirt's virt-api answers a failed dial "dialing VM: ..." as an internal error.
                refuse.accept(Replies.failure(500, "dialing VM: " + what + " at " + target.getHostString() + ":"
                        + target.getPort() + ": " + Replies.oneLine(f.cause())));
                return;
            }
            if (!ws.isActive()) {
                socket.close();
                req.release();
                return;
            }
            WebSocketRelay.upgrade(ws, socket, req, handshaker, refuse, upgraded, "port-forward-relay");
        });
    }
}
