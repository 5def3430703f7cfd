package io.qvirt.handler.nodeapi;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.util.ReferenceCountUtil;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The two halves of a session once the WebSocket is up: {@link WebSocketSide} in the client's pipeline,
 * {@link SocketSide} in the pipeline of the connection to what the client reaches (the VM's {@code console.sock}
 * for the console, a TCP connection to the guest's forwarded port for port-forward). Both
 * channels run on the same event loop (the socket's is registered on the WebSocket's loop), so neither
 * half needs a lock, and a write to the other channel is a plain call.
 *
 * <p>Bytes pass untouched: a data frame's payload is written to the socket as is, and what the socket
 * gives is one binary frame per read, at most the socket's receive buffer cap in size. Backpressure:
 * when one side's outbound buffer passes its high water mark, the other side stops reading until it
 * drains, so a slow client never makes the handler buffer the guest's output without bound.
 *
 * <p>Closing either side closes the other: a client's close (or a dropped connection) closes the
 * socket, which ends the session (and releases a console's lock); the socket closing (QEMU gone, the
 * guest hung up) sends a WebSocket close, after every byte read before it, and then closes the connection.
 */
final class WebSocketRelay {

    /**
     * Answers the WebSocket upgrade on {@code ws} and relays it to {@code socket}, the guest side already
     * connected with autoRead off; both start reading once the handshake is written. Runs on {@code ws}'s event
     * loop; releases {@code req}. A handshake the request cannot have is refused with a 400 and the socket closed.
     *
     * @param relayName the relay's name in {@code ws}'s pipeline, in place of the router
     * @param upgraded  run once the relay is in place (before the handshake completes)
     */
    static void upgrade(Channel ws, Channel socket, io.netty.handler.codec.http.FullHttpRequest req,
                        io.netty.handler.codec.http.websocketx.WebSocketServerHandshaker handshaker,
                        java.util.function.Consumer<io.netty.handler.codec.http.FullHttpResponse> refuse, Runnable upgraded,
                        String relayName) {
        io.netty.channel.ChannelFuture handshake;
        try {
            handshake = handshaker.handshake(ws, req);
        } catch (RuntimeException e) {
            socket.close();
            refuse.accept(Replies.failure(400, "WebSocket handshake refused: " + Replies.oneLine(e)));
            return;
        }
        // A console or forwarded session (an ssh login) may be idle for hours; the idle timeout is for requests only.
        if (ws.pipeline().get(io.netty.handler.timeout.IdleStateHandler.class) != null) {
            ws.pipeline().remove(io.netty.handler.timeout.IdleStateHandler.class);
        }
        ws.pipeline().replace(NodeApiRouter.class, relayName, new WebSocketSide(socket));
        upgraded.run();
        req.release();
        handshake.addListener(f -> {
            if (!f.isSuccess()) {
                ws.close();
                socket.close();
                return;
            }
            socket.config().setAutoRead(true);
            ws.config().setAutoRead(true);
        });
    }
    private static final Logger LOG = Logger.getLogger(WebSocketRelay.class.getName());

    private WebSocketRelay() {
    }

    /** In the WebSocket's pipeline (after the frame decoder): client frames to the socket. */
    static final class WebSocketSide extends ChannelInboundHandlerAdapter {
        private final Channel socket;

        WebSocketSide(Channel socket) {
            this.socket = socket;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (!(msg instanceof WebSocketFrame frame)) {
                ReferenceCountUtil.release(msg);
                return;
            }
            if (frame instanceof BinaryWebSocketFrame || frame instanceof ContinuationWebSocketFrame
                    || frame instanceof TextWebSocketFrame) {
                // Text frames too: their payload is bytes as well, and a tool like websocat sends text by default.
                ByteBuf data = frame.content();
                if (data.isReadable()) {
                    socket.writeAndFlush(data.retain());
                    if (!socket.isWritable()) {
                        ctx.channel().config().setAutoRead(false);
                    }
                }
                frame.release();
            } else if (frame instanceof PingWebSocketFrame) {
                ctx.writeAndFlush(new PongWebSocketFrame(frame.content().retain()));
                frame.release();
            } else if (frame instanceof CloseWebSocketFrame close) {
                // Answer the close with the client's status, then hang up; channelInactive closes the socket.
                int code = close.statusCode();
                frame.release();
                ctx.writeAndFlush(code < 0 ? new CloseWebSocketFrame() : new CloseWebSocketFrame(code, ""))
                        .addListener(ChannelFutureListener.CLOSE);
            } else {
                frame.release(); // Pong: nothing to do.
            }
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            socket.config().setAutoRead(ctx.channel().isWritable());
            ctx.fireChannelWritabilityChanged();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            socket.close();
            ctx.fireChannelInactive();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            // A protocol violation (oversized frame, unmasked frame) or a reset connection: end the session.
            LOG.log(Level.FINE, "WebSocket from " + ctx.channel().remoteAddress() + " failed", cause);
            ctx.close();
        }
    }

    /** In the socket's pipeline: the guest's bytes to the client as binary frames. */
    static final class SocketSide extends ChannelInboundHandlerAdapter {
        private final Channel webSocket;
        private final WebSocketCloseStatus closeStatus;
        private final String what;

        /**
         * @param closeStatus the WebSocket close sent when the socket closes (its reason says what ended)
         * @param what        the socket, for the log ("console socket", "port-forward connection to ...")
         */
        SocketSide(Channel webSocket, WebSocketCloseStatus closeStatus, String what) {
            this.webSocket = webSocket;
            this.closeStatus = closeStatus;
            this.what = what;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (!(msg instanceof ByteBuf data)) {
                ReferenceCountUtil.release(msg);
                return;
            }
            webSocket.writeAndFlush(new BinaryWebSocketFrame(data));
            if (!webSocket.isWritable()) {
                ctx.channel().config().setAutoRead(false);
            }
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            webSocket.config().setAutoRead(ctx.channel().isWritable());
            ctx.fireChannelWritabilityChanged();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (webSocket.isActive()) {
                webSocket.writeAndFlush(new CloseWebSocketFrame(closeStatus))
                        .addListener(ChannelFutureListener.CLOSE);
            }
            ctx.fireChannelInactive();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            LOG.log(Level.FINE, what + " failed", cause);
            ctx.close();
        }
    }
}
