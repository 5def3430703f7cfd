package io.qvirt.apiserver;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshakerFactory;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * A FAKE handler node API for tests: mutual TLS as the real one (its server certificate, clients of the CA only),
 * records each PUT path, answers 200 (or a 409 Status for a VMI named {@code refused}), and a console WebSocket
 * that echoes every binary frame back, so a relay's bytes can be compared. Port-forward
 * ({@code .../portforward/PORT/PROTOCOL}) is recorded and echoes the same way, except port 22 (400: not forwarded)
 * and port 81 (500: the dial refused), as the real handler answers those.
 */
final class FakeHandler implements AutoCloseable {
    final List<String> puts = new CopyOnWriteArrayList<>();
    final List<String> consoles = new CopyOnWriteArrayList<>();
    final List<String> portForwards = new CopyOnWriteArrayList<>();
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final Channel server;
    volatile Channel lastConsole;
    volatile Channel lastPortForward;

    FakeHandler(Path cert, Path key, Path ca) throws Exception {
        SslContext ssl = SslContextBuilder.forServer(cert.toFile(), key.toFile()).trustManager(ca.toFile())
                .clientAuth(ClientAuth.REQUIRE).sslProvider(SslProvider.JDK).build();
        server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(ssl.newHandler(ch.alloc()), new HttpServerCodec(),
                                new HttpObjectAggregator(1 << 16), new Http());
                    }
                }).bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
    }

    int port() {
        return ((InetSocketAddress) server.localAddress()).getPort();
    }

    private final class Http extends SimpleChannelInboundHandler<Object> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof FullHttpRequest req) {
                String uri = req.uri();
                if (uri.contains("/portforward/")) {
                    portForwards.add(uri);
                    if (uri.contains("/portforward/22/")) {
                        reply(ctx, 400, "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\","
                                + "\"message\":\"port 22/tcp of VMI default/pf is not forwarded\",\"reason\":\"BadRequest\",\"code\":400}");
                        return;
                    }
                    if (uri.contains("/portforward/81/")) {
                        reply(ctx, 500, "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\","
                                + "\"message\":\"dialing VM: default/pf port 81/tcp at 127.0.0.1:81: Connection refused\","
                                + "\"reason\":\"InternalError\",\"code\":500}");
                        return;
                    }
                    new WebSocketServerHandshakerFactory("wss://x" + uri, null, true, 1 << 20).newHandshaker(req)
                            .handshake(ctx.channel(), req);
                    lastPortForward = ctx.channel();
                    return;
                }
                if (uri.endsWith("/console")) {
                    consoles.add(uri);
                    if (uri.contains("/held/")) {
                        reply(ctx, 409, "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\","
                                + "\"message\":\"the console of default/held is in use by launcher console\",\"reason\":\"Conflict\",\"code\":409}");
                        return;
                    }
                    new WebSocketServerHandshakerFactory("wss://x" + uri, null, true, 1 << 20).newHandshaker(req)
                            .handshake(ctx.channel(), req);
                    lastConsole = ctx.channel();
                    return;
                }
                puts.add(req.method() + " " + uri);
                if (uri.contains("/refused/")) {
                    reply(ctx, 409, "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\","
                            + "\"message\":\"VMI is paused already (QEMU says paused)\",\"reason\":\"Conflict\",\"code\":409}");
                } else {
                    reply(ctx, 200, "");
                }
            } else if (msg instanceof CloseWebSocketFrame c) {
                ctx.writeAndFlush(new CloseWebSocketFrame(1000, "bye")).addListener(ChannelFutureListener.CLOSE);
            } else if (msg instanceof WebSocketFrame f) {
                ctx.writeAndFlush(new BinaryWebSocketFrame(f.content().retain()));
            }
        }

        private void reply(ChannelHandlerContext ctx, int code, String body) {
            var r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(code),
                    Unpooled.copiedBuffer(body, StandardCharsets.UTF_8));
            r.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/json").setInt(HttpHeaderNames.CONTENT_LENGTH, body.length());
            ctx.writeAndFlush(r);
        }
    }

    @Override
    public void close() {
        server.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
