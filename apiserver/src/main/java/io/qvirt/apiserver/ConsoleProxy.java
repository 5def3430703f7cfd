package io.qvirt.apiserver;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Logger;

/**
 * The relay of the console and port-forward: the client's WebSocket (upgraded by virt-api, Netty) and the handler's
 * WebSocket (the JDK client, mutual TLS), bytes passed untouched both ways; a close on either side closes the other.
 * One message in flight each way: the client's channel reads the next frame only once the handler's side took the
 * last one, and the handler's side is asked for the next message only once the client's channel wrote the last one,
 * so a slow reader slows the writer instead of filling memory. Text frames stay text, binary stay binary.
 */
final class ConsoleProxy {
    private static final Logger LOG = Logger.getLogger(ConsoleProxy.class.getName());

    private final String what;
    private final AtomicBoolean closed = new AtomicBoolean();
    private volatile Channel client;
    private volatile WebSocket handler;
    private final CompletableFuture<Void> done = new CompletableFuture<>();

    /** @param what the session, for the log ({@code console default/x via 10.0.0.1}) */
    ConsoleProxy(String what) {
        this.what = what;
    }

    /** The JDK listener on the handler's WebSocket; nothing is requested until {@link #attach}. */
    WebSocket.Listener handlerListener() {
        return new WebSocket.Listener() {
            private boolean midMessage;

            @Override
            public void onOpen(WebSocket ws) {
                // No request(1) yet: the client's side is not upgraded.
            }

            @Override
            public CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
                ByteBuf b = Unpooled.copiedBuffer(data);
                WebSocketFrame f = midMessage ? new ContinuationWebSocketFrame(last, 0, b) : new BinaryWebSocketFrame(last, 0, b);
                midMessage = !last;
                toClient(ws, f);
                return null;
            }

            @Override
            public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
                ByteBuf b = Unpooled.copiedBuffer(data, java.nio.charset.StandardCharsets.UTF_8);
                WebSocketFrame f = midMessage ? new ContinuationWebSocketFrame(last, 0, b) : new TextWebSocketFrame(last, 0, b);
                midMessage = !last;
                toClient(ws, f);
                return null;
            }

            @Override
            public CompletionStage<?> onClose(WebSocket ws, int code, String reason) {
                Channel c = client;
                if (c != null && c.isActive()) {
                    c.writeAndFlush(new CloseWebSocketFrame(code, reason)).addListener(ChannelFutureListener.CLOSE);
                }
                close("the handler closed (" + code + ")");
                return null;
            }

            @Override
            public void onError(WebSocket ws, Throwable error) {
                close("the handler's side failed: " + error);
            }
        };
    }

    private void toClient(WebSocket ws, WebSocketFrame f) {
        Channel c = client;
        if (c == null || !c.isActive()) {
            f.release();
            close("the client is gone");
            return;
        }
        c.writeAndFlush(f).addListener((ChannelFutureListener) w -> {
            if (w.isSuccess()) {
                ws.request(1);
            } else {
                close("writing to the client failed: " + w.cause());
            }
        });
    }

    /** Both sides are open: start relaying. Called on the client channel's event loop. */
    void attach(Channel clientChannel, WebSocket handlerSocket) {
        this.client = clientChannel;
        this.handler = handlerSocket;
        clientChannel.config().setAutoRead(false);
        clientChannel.closeFuture().addListener(f -> close("the client's connection closed"));
        handlerSocket.request(1);
        clientChannel.read();
        LOG.info(what + ": relaying");
    }

    /** The client channel's frame handler. */
    SimpleChannelInboundHandler<WebSocketFrame> clientHandler() {
        return new SimpleChannelInboundHandler<>() {
            private boolean text;

            @Override
            protected void channelRead0(ChannelHandlerContext ctx, WebSocketFrame f) {
                WebSocket ws = handler;
                if (f instanceof CloseWebSocketFrame c) {
                    ctx.writeAndFlush(new CloseWebSocketFrame(c.statusCode() < 0 ? 1000 : c.statusCode(), c.reasonText()))
                            .addListener(ChannelFutureListener.CLOSE);
                    if (ws != null) {
                        ws.sendClose(c.statusCode() < 0 ? WebSocket.NORMAL_CLOSURE : c.statusCode(), "");
                    }
                    close("the client closed");
                    return;
                }
                if (f instanceof PingWebSocketFrame p) {
                    ctx.writeAndFlush(new PongWebSocketFrame(p.content().retain()));
                    ctx.read();
                    return;
                }
                if (f instanceof PongWebSocketFrame) {
                    ctx.read();
                    return;
                }
                if (f instanceof TextWebSocketFrame) {
                    text = true;
                } else if (f instanceof BinaryWebSocketFrame) {
                    text = false;
                }
                CompletableFuture<WebSocket> sent;
                if (text) {
                    sent = ws.sendText(f.content().toString(java.nio.charset.StandardCharsets.UTF_8), f.isFinalFragment());
                } else {
                    ByteBuffer copy = ByteBuffer.allocate(f.content().readableBytes());
                    f.content().getBytes(f.content().readerIndex(), copy);
                    copy.flip();
                    sent = ws.sendBinary(copy, f.isFinalFragment());
                }
                sent.whenComplete((w, e) -> {
                    if (e != null) {
                        close("writing to the handler failed: " + e);
                    } else {
                        ctx.read();
                    }
                });
            }

            @Override
            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                close("client channel error: " + cause);
            }
        };
    }

    /** Closes both sides once. */
    void close(String why) {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        LOG.info(what + ": closed (" + why + ")");
        Channel c = client;
        if (c != null && c.isActive()) {
            c.writeAndFlush(new CloseWebSocketFrame(1000, "")).addListener(ChannelFutureListener.CLOSE);
        }
        WebSocket ws = handler;
        if (ws != null && !ws.isOutputClosed()) {
            ws.sendClose(WebSocket.NORMAL_CLOSURE, "").whenComplete((w, e) -> ws.abort());
        } else if (ws != null) {
            ws.abort();
        }
        done.complete(null);
    }
}
