package io.qvirt.handler.deviceplugin;

import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.qvirt.handler.deviceplugin.v1beta1.DevicePluginGrpc;
import io.qvirt.handler.deviceplugin.v1beta1.Empty;
import io.qvirt.handler.deviceplugin.v1beta1.ListAndWatchResponse;
import io.qvirt.handler.deviceplugin.v1beta1.RegisterRequest;
import io.qvirt.handler.deviceplugin.v1beta1.RegistrationGrpc;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A FAKE kubelet, for what no real one can do here (no kubelet runs on these machines): the device-plugin
 * side of the kubelet only, over real gRPC on a real Unix socket. It serves {@code Registration} on
 * {@code <dir>/kubelet.sock}, records every {@code RegisterRequest}, and dials a plugin's endpoint as the
 * kubelet's device manager does. {@link #restart()} does what a kubelet restart does to the directory:
 * every socket in it removed, a new {@code kubelet.sock}.
 */
public final class FakeKubelet implements AutoCloseable {
    public final Path dir;
    public final BlockingQueue<RegisterRequest> registrations = new LinkedBlockingQueue<>();
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
    private Server server;
    private ManagedChannel plugin;

    public FakeKubelet(Path dir) throws IOException {
        this.dir = dir;
        serve();
    }

    private void serve() throws IOException {
        Path sock = dir.resolve(DevicePluginServer.KUBELET_SOCKET);
        Files.deleteIfExists(sock);
        server = NettyServerBuilder.forAddress(new DomainSocketAddress(sock.toString()))
                .channelType(EpollServerDomainSocketChannel.class).bossEventLoopGroup(group).workerEventLoopGroup(group)
                .addService(new RegistrationGrpc.RegistrationImplBase() {
                    @Override
                    public void register(RegisterRequest request, StreamObserver<Empty> out) {
                        registrations.add(request);
                        out.onNext(Empty.getDefaultInstance());
                        out.onCompleted();
                    }
                }).build().start();
    }

    /** A channel to the plugin's endpoint, as the kubelet dials it after a registration. */
    public DevicePluginGrpc.DevicePluginBlockingStub dial(String endpoint) {
        return DevicePluginGrpc.newBlockingStub(channel(endpoint));
    }

    public DevicePluginGrpc.DevicePluginStub dialAsync(String endpoint) {
        return DevicePluginGrpc.newStub(channel(endpoint));
    }

    private synchronized ManagedChannel channel(String endpoint) {
        if (plugin != null) {
            plugin.shutdownNow();
        }
        plugin = NettyChannelBuilder.forAddress(new DomainSocketAddress(dir.resolve(endpoint).toString()))
                .channelType(EpollDomainSocketChannel.class).eventLoopGroup(group).usePlaintext().build();
        return plugin;
    }

    /** A ListAndWatch observer that queues every list it is sent, as the kubelet's device manager reads them. */
    public static StreamObserver<ListAndWatchResponse> collect(BlockingQueue<ListAndWatchResponse> q) {
        return new StreamObserver<>() {
            @Override
            public void onNext(ListAndWatchResponse v) {
                q.add(v);
            }

            @Override
            public void onError(Throwable t) {
                // the plugin went away: the test sees no further list
            }

            @Override
            public void onCompleted() {
                // the plugin ended the stream: likewise
            }
        };
    }

    /** As a kubelet restart: its server stops, every socket in the directory goes, a new kubelet.sock comes. */
    public void restart() throws Exception {
        stop();
        try (var s = Files.list(dir)) {
            for (Path p : s.toList()) {
                if (p.getFileName().toString().endsWith(".sock")) {
                    Files.delete(p);
                }
            }
        }
        serve();
    }

    private synchronized void stop() {
        if (plugin != null) {
            plugin.shutdownNow();
            plugin = null;
        }
        try {
            server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        stop();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
