package io.qvirt.sandbox;

import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.stub.StreamObserver;
import io.netty.channel.EventLoopGroup;
import io.qvirt.handler.deviceplugin.DevicePluginServer;
import io.qvirt.handler.deviceplugin.UnixGrpc;
import io.qvirt.handler.deviceplugin.v1beta1.DevicePluginGrpc;
import io.qvirt.handler.deviceplugin.v1beta1.Empty;
import io.qvirt.handler.deviceplugin.v1beta1.ListAndWatchResponse;
import io.qvirt.handler.deviceplugin.v1beta1.RegisterRequest;
import io.qvirt.handler.deviceplugin.v1beta1.RegistrationGrpc;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A FAKE kubelet, for what no real one can do here (no kubelet runs on these machines): the device-plugin
 * side of the kubelet only, over real gRPC on a real Unix socket. It serves {@code Registration} on
 * {@code <dir>/kubelet.sock}, records every {@code RegisterRequest}, and dials a plugin's endpoint as the
 * kubelet's device manager does. {@link #restart()} does what a kubelet restart does to the directory:
 * every socket in it removed, a new {@code kubelet.sock}. Used by the rig's FAKE node agents
 * ({@link FakeNodeAgent}) and by the handler's device-plugin tests, which live in this module for it.
 */
public final class FakeKubelet implements AutoCloseable {
    public final Path dir;
    public final BlockingQueue<RegisterRequest> registrations = new LinkedBlockingQueue<>();
    private final EventLoopGroup group = UnixGrpc.newGroup("fake-kubelet");
    private Server server;
    private final Map<String, ManagedChannel> channels = new HashMap<>();

    public FakeKubelet(Path dir) throws IOException {
        this.dir = dir;
        serve();
    }

    private void serve() throws IOException {
        server = UnixGrpc.serve(dir.resolve(DevicePluginServer.KUBELET_SOCKET), group,
                new RegistrationGrpc.RegistrationImplBase() {
                    @Override
                    public void register(RegisterRequest request, StreamObserver<Empty> out) {
                        registrations.add(request);
                        out.onNext(Empty.getDefaultInstance());
                        out.onCompleted();
                    }
                });
    }

    /** The plugin's endpoint over one channel per endpoint, as the kubelet's device manager keeps it. */
    public DevicePluginGrpc.DevicePluginBlockingStub dial(String endpoint) {
        return DevicePluginGrpc.newBlockingStub(channel(endpoint)).withDeadlineAfter(5, TimeUnit.SECONDS);
    }

    /** Opens ListAndWatch on the endpoint, as the kubelet does right after a registration. */
    public Watch watch(String endpoint) {
        Watch w = new Watch();
        DevicePluginGrpc.newStub(channel(endpoint)).listAndWatch(Empty.getDefaultInstance(), w);
        return w;
    }

    private synchronized ManagedChannel channel(String endpoint) {
        return channels.computeIfAbsent(endpoint, e -> UnixGrpc.channel(dir.resolve(e), group));
    }

    /** One ListAndWatch stream: every list it was sent, and whether (and how) it ended. */
    public static final class Watch implements StreamObserver<ListAndWatchResponse> {
        private final BlockingQueue<ListAndWatchResponse> lists = new LinkedBlockingQueue<>();
        private volatile String ended;

        /** The next list within 5 s, or null. */
        public ListAndWatchResponse next() throws InterruptedException {
            return lists.poll(5, TimeUnit.SECONDS);
        }

        /** The next list within {@code ms}, or null. */
        public ListAndWatchResponse next(long ms) throws InterruptedException {
            return lists.poll(ms, TimeUnit.MILLISECONDS);
        }

        /** Null while the stream is open, else how it ended. */
        public String ended() {
            return ended;
        }

        @Override
        public void onNext(ListAndWatchResponse v) {
            lists.add(v);
        }

        @Override
        public void onError(Throwable t) {
            ended = "error: " + t;
        }

        @Override
        public void onCompleted() {
            ended = "completed by the plugin";
        }
    }

    /**
     * As a kubelet restart: its server stops, every socket in the directory goes, a new kubelet.sock comes.
     *
     * @return the sockets it removed (file names)
     */
    public java.util.List<String> restart() throws Exception {
        java.util.List<String> removed = new java.util.ArrayList<>();
        stop();
        try (var s = Files.list(dir)) {
            for (Path p : s.toList()) {
                if (p.getFileName().toString().endsWith(".sock")) {
                    Files.delete(p);
                    removed.add(p.getFileName().toString());
                }
            }
        }
        serve();
        return removed;
    }

    private synchronized void stop() {
        channels.values().forEach(ManagedChannel::shutdownNow); // a restarted kubelet has no connections
        channels.clear();
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
