package io.qvirt.handler.deviceplugin;

import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.StatusRuntimeException;
import io.netty.channel.EventLoopGroup;
import io.qvirt.handler.deviceplugin.v1beta1.DevicePluginOptions;
import io.qvirt.handler.deviceplugin.v1beta1.RegisterRequest;
import io.qvirt.handler.deviceplugin.v1beta1.RegistrationGrpc;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Serves a {@link CharDevicePlugin} on {@code <dir>/<endpoint>} (a Unix socket, gRPC on Netty's epoll
 * transport) and registers it with the kubelet on {@code <dir>/kubelet.sock}, as the device-plugin API
 * v1beta1 asks: serve first, then {@code Register}, since the kubelet dials the endpoint at once.
 *
 * <p>A kubelet restart removes every socket in {@code dir} and makes a new {@code kubelet.sock}; the
 * plugin must then serve and register again. A watcher checks every {@code poll} whether the endpoint is
 * gone or {@code kubelet.sock} is a new file (its inode changed) and does both, retrying at each poll
 * until the kubelet answers.
 *
 * <p>Lifecycle: {@link #start()} once, then {@link #close()}.
 */
public final class DevicePluginServer implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(DevicePluginServer.class.getName());
    public static final String API_VERSION = "v1beta1";
    public static final String KUBELET_SOCKET = "kubelet.sock";
    /** Short enough that a stop waiting behind a Register still removes the socket within the handler's 10 s. */
    private static final Duration REGISTER_DEADLINE = Duration.ofSeconds(5);

    private final Path dir;
    private final String endpoint;
    private final CharDevicePlugin plugin;
    private final Duration poll;
    private final EventLoopGroup group;
    private final ScheduledExecutorService watcher;
    private final AtomicInteger registrations = new AtomicInteger();
    private Server server;
    private Object kubeletInode;

    /**
     * @param dir      the kubelet's device-plugin directory (normally {@code /var/lib/kubelet/device-plugins})
     * @param endpoint the plugin's socket name in {@code dir}, e.g. {@code kvm.sock}
     * @param poll     how often to check for a kubelet restart
     */
    public DevicePluginServer(Path dir, String endpoint, CharDevicePlugin plugin, Duration poll) {
        if (endpoint.contains("/") || endpoint.equals(KUBELET_SOCKET)) {
            throw new IllegalArgumentException("endpoint must be a plain file name other than kubelet.sock: " + endpoint);
        }
        this.dir = dir;
        this.endpoint = endpoint;
        this.plugin = plugin;
        this.poll = poll;
        this.group = UnixGrpc.newGroup("device-plugin");
        this.watcher = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "device-plugin-watch");
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Serves the endpoint and registers with the kubelet, then starts watching for kubelet restarts.
     *
     * @throws DevicePluginException if the socket cannot be served or the kubelet refuses or does not answer
     */
    public synchronized void start() throws DevicePluginException {
        serveAndRegister();
        long ms = poll.toMillis();
        watcher.scheduleWithFixedDelay(this::check, ms, ms, TimeUnit.MILLISECONDS);
    }

    /** How many times registration succeeded (1 after start, one more per kubelet restart). */
    public int registrations() {
        return registrations.get();
    }

    public Path socket() {
        return dir.resolve(endpoint);
    }

    private synchronized void check() {
        try {
            Object inode = inode(dir.resolve(KUBELET_SOCKET));
            boolean gone = !Files.exists(socket());
            boolean newKubelet = inode != null && !inode.equals(kubeletInode);
            if (gone || newKubelet) {
                LOG.info(plugin.resource() + ": " + (gone ? socket() + " was removed" : "kubelet.sock is new")
                        + " (kubelet restarted): serving and registering again");
                serveAndRegister();
            }
        } catch (DevicePluginException e) {
            LOG.warning(e.getMessage() + "; trying again in " + poll.toMillis() + " ms");
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "device-plugin watcher", e);
        }
    }

    private void serveAndRegister() throws DevicePluginException {
        stopServer();
        Path sock = socket();
        try {
            server = UnixGrpc.serve(sock, group, plugin);
        } catch (IOException e) {
            throw new DevicePluginException("cannot serve " + sock + ": " + e.getMessage(), e);
        }
        Path kubelet = dir.resolve(KUBELET_SOCKET);
        Object inode = inode(kubelet);
        if (inode == null) {
            throw new DevicePluginException("no kubelet socket at " + kubelet + " (is this the kubelet's "
                    + "device-plugins directory, mounted from the host?)", null);
        }
        ManagedChannel ch = UnixGrpc.channel(kubelet, group);
        try {
            RegistrationGrpc.newBlockingStub(ch)
                    .withDeadlineAfter(REGISTER_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)
                    .register(RegisterRequest.newBuilder().setVersion(API_VERSION).setEndpoint(endpoint)
                            .setResourceName(plugin.resource())
                            .setOptions(DevicePluginOptions.getDefaultInstance()).build());
        } catch (StatusRuntimeException e) {
            throw new DevicePluginException("the kubelet at " + kubelet + " did not register "
                    + plugin.resource() + ": " + e.getStatus(), e);
        } finally {
            ch.shutdownNow();
        }
        kubeletInode = inode;
        registrations.incrementAndGet();
        LOG.info(plugin.resource() + ": registered with the kubelet, serving " + sock);
    }

    private static Object inode(Path p) {
        try {
            return Files.getAttribute(p, "unix:ino");
        } catch (IOException | UnsupportedOperationException e) {
            return null;
        }
    }

    private void stopServer() {
        if (server != null) {
            plugin.completeWatchers();
            server.shutdownNow();
            try {
                server.awaitTermination(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            server = null;
        }
    }

    @Override
    public void close() {
        // Outside the lock: interrupts a check() in flight (a blocking Register gives up on interrupt).
        watcher.shutdownNow();
        synchronized (this) {
            stopServer();
            removeSocket();
        }
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }

    private void removeSocket() {
        try {
            Files.deleteIfExists(socket());
        } catch (IOException e) {
            LOG.warning("cannot remove " + socket() + ": " + e.getMessage());
        }
    }
}
