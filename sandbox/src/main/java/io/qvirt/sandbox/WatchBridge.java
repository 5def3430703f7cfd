package io.qvirt.sandbox;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketClientHandshaker;
import io.netty.handler.codec.http.websocketx.WebSocketClientHandshakerFactory;
import io.netty.handler.codec.http.websocketx.WebSocketClientProtocolHandler;
import io.netty.handler.codec.http.websocketx.WebSocketVersion;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;

/**
 * A watch as kube-apiserver streams it to client-go (chunked HTTP, one JSON event a line), read from fabric8's mock,
 * which serves watches only as WebSockets. The bridge is the mock connection's last handler: after the handshake it
 * answers the client 200 with a chunked body, writes each event the filter keeps (transformed, e.g. into a Table
 * row), and ends the body when the mock closes the watch. {@link #end()} closes it from the front door's side (client
 * gone, or the request's timeoutSeconds).
 */
final class WatchBridge extends ChannelInboundHandlerAdapter {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** What the client asked: which events reach it and in what shape. */
    record Request(String fieldName, String fieldNamespace, UnaryOperator<JsonNode> transform) {
        boolean keeps(JsonNode object) {
            JsonNode meta = object.path("metadata");
            return (fieldName == null || fieldName.equals(meta.path("name").asText()))
                    && (fieldNamespace == null || fieldNamespace.equals(meta.path("namespace").asText()));
        }
    }

    private final Channel client;
    private final Request request;
    private final Consumer<WatchBridge> onStart;
    private final Consumer<Boolean> onEnd;
    private Channel mock;
    private boolean started;
    private boolean ended;
    private boolean sawEvent;

    /**
     * @param client the front door's client connection (its HttpServerCodec encodes what is written)
     * @param onStart called on the client's event loop once the client has its 200 (events may follow)
     * @param onEnd called once on the client's event loop when the watch ends: true if it had started (the body is
     *     then complete), false if the mock never accepted it (the client has no answer yet)
     */
    WatchBridge(Channel client, Request request, Consumer<WatchBridge> onStart, Consumer<Boolean> onEnd) {
        this.client = client;
        this.request = request;
        this.onStart = onStart;
        this.onEnd = onEnd;
    }

    /** The handshaker for {@code uri} (path and query) on the mock at {@code backend}. */
    static WebSocketClientHandshaker handshaker(InetSocketAddress backend, String uri) {
        URI ws = URI.create("ws://" + backend.getHostString() + ":" + backend.getPort() + uri);
        return WebSocketClientHandshakerFactory.newHandshaker(ws, WebSocketVersion.V13, null, false, new DefaultHttpHeaders(),
                16 << 20);
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        mock = ctx.channel();
        ctx.fireChannelActive();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt == WebSocketClientProtocolHandler.ClientHandshakeStateEvent.HANDSHAKE_COMPLETE) {
            started = true;
            DefaultHttpResponse r = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
            r.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/json")
                    .set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
            client.writeAndFlush(r);
            client.eventLoop().execute(() -> onStart.accept(this));
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
            if (msg instanceof TextWebSocketFrame f && started && !ended) {
                JsonNode event = JSON.readTree(f.text());
                if (event != null && event.path("object").isObject() && request.keeps(event.get("object"))) {
                    sawEvent = true;
                    send((ObjectNode) event);
                }
            }
        } catch (java.io.IOException e) {
            // A frame that is not an event: nothing a client could use.
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    /**
     * An event the front door adds (the catch-up of a single-object watch), unless the mock already sent one for the
     * object. Call on the client's event loop.
     */
    void catchUp(ObjectNode event) {
        if (started && !ended && !sawEvent) {
            send(event);
        }
    }

    private void send(ObjectNode event) {
        event.set("object", request.transform().apply(event.get("object")));
        byte[] line = (event.toString() + "\n").getBytes(StandardCharsets.UTF_8);
        client.writeAndFlush(new DefaultHttpContent(Unpooled.wrappedBuffer(line)));
    }

    /** Ends the watch from the front door's side (the client left or its timeout passed). */
    void end() {
        if (mock != null) {
            mock.close();
        } else {
            finish(false);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        finish(started);
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
    }

    private void finish(boolean complete) {
        if (ended) {
            return;
        }
        ended = true;
        client.eventLoop().execute(() -> {
            if (complete && client.isActive()) {
                client.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
            }
            onEnd.accept(complete);
        });
    }
}
