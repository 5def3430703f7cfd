package io.qvirt.handler.deviceplugin;

import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.qvirt.handler.deviceplugin.v1beta1.AllocateRequest;
import io.qvirt.handler.deviceplugin.v1beta1.AllocateResponse;
import io.qvirt.handler.deviceplugin.v1beta1.ContainerAllocateRequest;
import io.qvirt.handler.deviceplugin.v1beta1.ContainerAllocateResponse;
import io.qvirt.handler.deviceplugin.v1beta1.Device;
import io.qvirt.handler.deviceplugin.v1beta1.DevicePluginGrpc;
import io.qvirt.handler.deviceplugin.v1beta1.DevicePluginOptions;
import io.qvirt.handler.deviceplugin.v1beta1.DeviceSpec;
import io.qvirt.handler.deviceplugin.v1beta1.Empty;
import io.qvirt.handler.deviceplugin.v1beta1.ListAndWatchResponse;
import io.qvirt.handler.deviceplugin.v1beta1.PreStartContainerRequest;
import io.qvirt.handler.deviceplugin.v1beta1.PreStartContainerResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Logger;

/**
 * A device plugin for one host character device handed to many pods: {@code count} interchangeable devices
 * ({@code <prefix>0}, {@code <prefix>1}, ...) that all stand for the same device node, as KubeVirt's generic device
 * plugin does, so that many launcher pods can each be given it. {@link KvmDevicePlugin} ({@code /dev/kvm}, healthy
 * only while kvm-probe says FULL) and {@link TunDevicePlugin} ({@code /dev/net/tun}, for bridge) are the two.
 *
 * <p>{@code Allocate} hands the container the device node with {@code rw} (QEMU opens it read-write; no
 * {@code m}: the container may not create device nodes). Health changes are pushed to every open
 * {@code ListAndWatch} stream. Thread-safe.
 */
public class CharDevicePlugin extends DevicePluginGrpc.DevicePluginImplBase {
    private static final Logger LOG = Logger.getLogger(CharDevicePlugin.class.getName());
    public static final String HEALTHY = "Healthy";
    public static final String UNHEALTHY = "Unhealthy";

    private final String resource;
    private final String prefix;
    private final String devicePath;
    private final Set<String> ids;
    private final List<String> orderedIds;
    private final List<Watcher> watchers = new CopyOnWriteArrayList<>();
    private volatile boolean healthy;
    private volatile String why;

    /**
     * @param resource   the extended resource, e.g. {@code devices.kubevirt.io/kvm}
     * @param prefix     the device ids' prefix, e.g. {@code kvm}
     * @param devicePath the host's device, also its path in the container (e.g. {@code /dev/kvm})
     * @param count      how many devices to advertise, at least 1 (the most launcher pods at once)
     * @param healthy    the initial health
     * @param why        why, for logs and allocation errors
     */
    protected CharDevicePlugin(String resource, String prefix, String devicePath, int count, boolean healthy, String why) {
        if (count < 1) {
            throw new IllegalArgumentException("count must be >= 1, not " + count);
        }
        this.resource = resource;
        this.prefix = prefix;
        this.devicePath = devicePath;
        List<String> l = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            l.add(prefix + i);
        }
        this.orderedIds = List.copyOf(l);
        this.ids = Set.copyOf(l);
        this.healthy = healthy;
        this.why = why;
    }

    /** The extended resource this plugin serves. */
    public String resource() {
        return resource;
    }

    /** Sets the health of every device; open ListAndWatch streams get the new list if it changed. */
    public void setHealth(boolean nowHealthy, String reason) {
        boolean changed;
        synchronized (this) {
            changed = nowHealthy != healthy;
            healthy = nowHealthy;
            why = reason;
        }
        if (changed) {
            LOG.info(resource + ": devices now " + (nowHealthy ? HEALTHY : UNHEALTHY) + " (" + reason + ")");
            for (Watcher w : watchers) {
                w.sendCurrent();
            }
        }
    }

    public boolean healthy() {
        return healthy;
    }

    /** Ends every open ListAndWatch stream (the server is going away). */
    void completeWatchers() {
        for (Watcher w : watchers) {
            watchers.remove(w);
            w.complete();
        }
    }

    ListAndWatchResponse list() {
        String h = healthy ? HEALTHY : UNHEALTHY;
        ListAndWatchResponse.Builder b = ListAndWatchResponse.newBuilder();
        for (String id : orderedIds) {
            b.addDevices(Device.newBuilder().setID(id).setHealth(h));
        }
        return b.build();
    }

    @Override
    public void getDevicePluginOptions(Empty request, StreamObserver<DevicePluginOptions> out) {
        out.onNext(DevicePluginOptions.getDefaultInstance());
        out.onCompleted();
    }

    @Override
    public void listAndWatch(Empty request, StreamObserver<ListAndWatchResponse> out) {
        Watcher w = new Watcher((ServerCallStreamObserver<ListAndWatchResponse>) out);
        w.stream.setOnCancelHandler(() -> watchers.remove(w));
        // Registered before the first send, and every send builds the list under the stream's lock: a health
        // change racing with this call can never leave a stale list as the last one the kubelet got.
        watchers.add(w);
        w.sendCurrent();
    }

    /** One open ListAndWatch stream. gRPC's observers are not thread-safe: one call at a time, none after the end. */
    private final class Watcher {
        final ServerCallStreamObserver<ListAndWatchResponse> stream;
        private boolean ended;

        Watcher(ServerCallStreamObserver<ListAndWatchResponse> stream) {
            this.stream = stream;
        }

        synchronized void sendCurrent() {
            if (ended || stream.isCancelled()) {
                return;
            }
            try {
                stream.onNext(list());
            } catch (RuntimeException e) {
                // the stream broke under us (the kubelet went away): drop it, the others still get the news
                ended = true;
                watchers.remove(this);
            }
        }

        synchronized void complete() {
            if (!ended) {
                ended = true;
                try {
                    stream.onCompleted();
                } catch (RuntimeException e) {
                    // already cancelled by the kubelet
                }
            }
        }
    }

    @Override
    public void allocate(AllocateRequest request, StreamObserver<AllocateResponse> out) {
        AllocateResponse.Builder b = AllocateResponse.newBuilder();
        for (ContainerAllocateRequest c : request.getContainerRequestsList()) {
            for (String id : c.getDevicesIdsList()) {
                if (!ids.contains(id)) {
                    out.onError(Status.INVALID_ARGUMENT.withDescription("unknown " + resource + " device '" + id
                            + "' (this plugin serves " + prefix + "0.." + prefix + (ids.size() - 1) + ")").asRuntimeException());
                    return;
                }
            }
            if (!healthy) {
                out.onError(Status.FAILED_PRECONDITION.withDescription(resource + " is unhealthy on this node: " + why)
                        .asRuntimeException());
                return;
            }
            ContainerAllocateResponse.Builder r = ContainerAllocateResponse.newBuilder();
            if (c.getDevicesIdsCount() > 0) {
                r.addDevices(DeviceSpec.newBuilder().setContainerPath(devicePath).setHostPath(devicePath)
                        .setPermissions("rw"));
            }
            b.addContainerResponses(r);
        }
        out.onNext(b.build());
        out.onCompleted();
    }

    @Override
    public void preStartContainer(PreStartContainerRequest request, StreamObserver<PreStartContainerResponse> out) {
        // Not asked for (pre_start_required is false), and nothing to prepare for a device node.
        out.onNext(PreStartContainerResponse.getDefaultInstance());
        out.onCompleted();
    }
}
