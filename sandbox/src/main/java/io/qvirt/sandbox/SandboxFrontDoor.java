package io.qvirt.sandbox;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The rig's API front door: the one address every client of the sandbox uses (kubeconfig, controller,
 * handlers, FAKE node agents). For now a transparent TCP relay to fabric8's mock API server; later issues
 * route {@code /apis/subresources.kubevirt.io} to virt-api and put admission here, as a kube-apiserver's
 * aggregation layer and webhooks would.
 */
public final class SandboxFrontDoor implements AutoCloseable {
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
    private final Channel server;
    private final InetSocketAddress backend;
    private final ComponentLog log;
    private final AtomicLong connections = new AtomicLong();

    /**
     * Listens on {@code listen} (port 0: a free one) and relays every connection to {@code backend}.
     */
    public SandboxFrontDoor(InetSocketAddress listen, InetSocketAddress backend, ComponentLog log) throws InterruptedException {
        this.backend = backend;
        this.log = log;
        ServerBootstrap b = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childOption(ChannelOption.AUTO_READ, false)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new Frontend());
                    }
                });
        server = b.bind(listen).sync().channel();
        log.info("front door on " + address() + " -> fabric8 mock API server " + backend.getHostString() + ":"
                + backend.getPort() + " (transparent TCP relay)");
    }

    public InetSocketAddress address() {
        return (InetSocketAddress) server.localAddress();
    }

    /** Connections accepted so far. */
    public long connections() {
        return connections.get();
    }

    private final class Frontend extends ChannelInboundHandlerAdapter {
        private Channel outbound;

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            Channel inbound = ctx.channel();
            long n = connections.incrementAndGet();
            Bootstrap b = new Bootstrap().group(inbound.eventLoop()).channel(NioSocketChannel.class)
                    .option(ChannelOption.AUTO_READ, false).option(ChannelOption.TCP_NODELAY, true)
                    .handler(new Backend(inbound));
            outbound = b.connect(backend).addListener((ChannelFutureListener) f -> {
                if (f.isSuccess()) {
                    inbound.read();
                } else {
                    log.warn("connection " + n + " from " + inbound.remoteAddress() + ": cannot reach the API server: "
                            + f.cause());
                    inbound.close();
                }
            }).channel();
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (outbound.isActive()) {
                outbound.writeAndFlush(msg).addListener((ChannelFutureListener) f -> {
                    if (f.isSuccess()) {
                        ctx.channel().read();
                    } else {
                        f.channel().close();
                    }
                });
            } else {
                io.netty.util.ReferenceCountUtil.release(msg);
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (outbound != null) {
                closeOnFlush(outbound);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            closeOnFlush(ctx.channel());
        }
    }

    private static final class Backend extends ChannelInboundHandlerAdapter {
        private final Channel inbound;

        Backend(Channel inbound) {
            this.inbound = inbound;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            ctx.read();
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            inbound.writeAndFlush(msg).addListener((ChannelFutureListener) f -> {
                if (f.isSuccess()) {
                    ctx.channel().read();
                } else {
                    f.channel().close();
                }
            });
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            closeOnFlush(inbound);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            closeOnFlush(ctx.channel());
        }
    }

    private static void closeOnFlush(Channel ch) {
        if (ch.isActive()) {
            ch.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        }
    }

    @Override
    public void close() {
        server.close().syncUninterruptibly();
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        log.info("front door closed after " + connections.get() + " connections");
    }
}
