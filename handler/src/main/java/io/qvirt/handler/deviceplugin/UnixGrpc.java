package io.qvirt.handler.deviceplugin;

import io.grpc.BindableService;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.NettyServerBuilder;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * gRPC over Unix domain sockets on Netty's epoll transport, the way the kubelet's device-plugin API runs:
 * plaintext, one event loop. Both ends (the plugin, and the tests' fake kubelet) are built here, so the
 * transport wiring exists once.
 */
public final class UnixGrpc {
    private UnixGrpc() {
    }

    /** One daemon epoll event loop named {@code name}; the caller shuts it down. */
    public static EventLoopGroup newGroup(String name) {
        return new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory(name, true), EpollIoHandler.newFactory());
    }

    /**
     * Serves {@code service} on {@code socket}, first removing a stale socket file there (bind fails on one).
     *
     * @throws IOException if the socket cannot be bound
     */
    public static Server serve(Path socket, EventLoopGroup group, BindableService service) throws IOException {
        Files.deleteIfExists(socket);
        return NettyServerBuilder.forAddress(new DomainSocketAddress(socket.toString()))
                .channelType(EpollServerDomainSocketChannel.class)
                .bossEventLoopGroup(group).workerEventLoopGroup(group)
                .addService(service).build().start();
    }

    /** A plaintext channel to {@code socket}; the caller shuts it down. */
    public static ManagedChannel channel(Path socket, EventLoopGroup group) {
        return NettyChannelBuilder.forAddress(new DomainSocketAddress(socket.toString()))
                .channelType(EpollDomainSocketChannel.class).eventLoopGroup(group).usePlaintext().build();
    }
}
