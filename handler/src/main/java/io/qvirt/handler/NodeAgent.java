package io.qvirt.handler;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.qvirt.handler.deviceplugin.DevicePluginException;
import io.qvirt.handler.deviceplugin.DevicePluginServer;
import io.qvirt.handler.deviceplugin.KvmDevicePlugin;
import io.qvirt.handler.deviceplugin.TunDevicePlugin;
import io.qvirt.kvmprobe.ProbeReport;
import io.qvirt.kvmprobe.Verdict;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * What virt-handler does on its node so far: probe {@code /dev/kvm}, label the Node from the verdict, and
 * serve the {@code devices.kubevirt.io/kvm} device plugin, healthy only while the verdict is FULL; then
 * probe again every {@code reprobe} and update both; {@link #relabel()} labels again from the last report when
 * {@code useEmulation} may have changed. (The VMIs are driven by {@code VmiDriver}.)
 *
 * <p>Lifecycle: {@link #start()} once, then {@link #close()}. The Node is labelled by one thread at a time.
 */
public final class NodeAgent implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(NodeAgent.class.getName());

    /**
     * What to run; a null labeller or plugin directory leaves that part out.
     *
     * @param useEmulation KubeVirt's {@code useEmulation}, asked at every labelling (virt-handler: the KubeVirt CR's,
     *                     {@link KubeVirtConfig}); precondition: it answers without blocking for long
     */
    public record Settings(Supplier<ProbeReport> probe, NodeLabeller labeller, BooleanSupplier useEmulation,
                           Path devicePluginDir, String kvmDevice, int kvmDevices, Duration reprobe,
                           Duration kubeletPoll) {
        /** With a fixed {@code useEmulation}. */
        public Settings(Supplier<ProbeReport> probe, NodeLabeller labeller, boolean useEmulation, Path devicePluginDir,
                        String kvmDevice, int kvmDevices, Duration reprobe, Duration kubeletPoll) {
            this(probe, labeller, () -> useEmulation, devicePluginDir, kvmDevice, kvmDevices, reprobe, kubeletPoll);
        }
    }

    private final Settings s;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "qvirt-reprobe");
        t.setDaemon(true);
        return t;
    });
    private KvmDevicePlugin plugin;
    private DevicePluginServer server;
    private DevicePluginServer tunServer;
    private volatile ProbeReport last;

    public NodeAgent(Settings settings) {
        this.s = settings;
    }

    /**
     * Probes, labels the Node and registers the device plugin.
     *
     * @throws DevicePluginException if the kubelet's socket cannot be reached
     * @throws IllegalStateException if the Node is missing
     */
    public void start() throws DevicePluginException {
        ProbeReport r = s.probe().get();
        last = r;
        label(r);
        if (s.devicePluginDir() != null) {
            plugin = new KvmDevicePlugin(s.kvmDevice(), s.kvmDevices(), r.verdict() == Verdict.FULL, why(r));
            server = new DevicePluginServer(s.devicePluginDir(), "kvm.sock", plugin, s.kubeletPoll());
            server.start();
            // /dev/net/tun for launcher pods with a bridge interface, as KubeVirt's devices.kubevirt.io/tun.
            tunServer = new DevicePluginServer(s.devicePluginDir(), "tun.sock", new TunDevicePlugin(s.kvmDevices()),
                    s.kubeletPoll());
            tunServer.start();
        }
        long ms = s.reprobe().toMillis();
        timer.scheduleWithFixedDelay(this::reprobe, ms, ms, TimeUnit.MILLISECONDS);
    }

    /** The latest probe report. */
    public ProbeReport lastReport() {
        return last;
    }

    /** The device plugin, or null without one. */
    public KvmDevicePlugin plugin() {
        return plugin;
    }

    public DevicePluginServer devicePluginServer() {
        return server;
    }

    private void reprobe() {
        ProbeReport r;
        try {
            r = s.probe().get();
        } catch (Throwable e) { // NOPMD: an Error here would silently end the scheduled re-probes
            LOG.log(Level.WARNING, "re-probe failed; trying again in " + s.reprobe(), e);
            return;
        }
        if (last != null && r.verdict() != last.verdict()) {
            LOG.warning("kvm-probe verdict changed: " + last.verdict() + " -> " + r.verdict() + ": " + r.reason());
        }
        last = r;
        // Device health first: it must follow the verdict even while the API server is unreachable.
        if (plugin != null) {
            plugin.setHealth(r.verdict() == Verdict.FULL, why(r));
        }
        try {
            label(r);
        } catch (Throwable e) { // NOPMD: the next round tries again; the API server may be back by then
            LOG.log(Level.WARNING, "relabelling the node failed; trying again in " + s.reprobe(), e);
        }
    }

    /**
     * Labels the Node again from the last probe report, on the re-probe thread: for a change of
     * {@code useEmulation} (the KubeVirt CR's), which then needs no re-probe. Only enqueues, so it may be called from
     * an informer's thread; does nothing before {@link #start()} or after {@link #close()}.
     */
    public void relabel() {
        try {
            timer.execute(() -> {
                ProbeReport r = last;
                if (r == null) {
                    return; // start() labels with the setting of its time
                }
                try {
                    label(r);
                } catch (Throwable e) { // NOPMD: an Error here would end the re-probe thread's work too
                    LOG.log(Level.WARNING, "relabelling the node failed; trying again in " + s.reprobe(), e);
                }
            });
        } catch (RejectedExecutionException e) {
            LOG.fine("closed: not relabelling");
        }
    }

    /** Synchronized: start() labels on its caller's thread while relabel() may already label on the timer's. */
    private synchronized void label(ProbeReport r) {
        if (s.labeller() != null) {
            Map<String, String> changed = s.labeller().apply(r.nodeLabels(s.useEmulation().getAsBoolean()));
            if (!changed.isEmpty()) {
                LOG.info("node labels set: " + changed);
            }
        }
    }

    private static String why(ProbeReport r) {
        return "kvm-probe: " + r.verdict() + " (" + r.reason() + ")";
    }

    @Override
    public void close() {
        timer.shutdownNow();
        if (server != null) {
            server.close();
        }
        if (tunServer != null) {
            tunServer.close();
        }
    }
}
