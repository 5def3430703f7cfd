package io.qvirt.handler.deviceplugin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.stub.StreamObserver;
import io.qvirt.handler.deviceplugin.v1beta1.AllocateRequest;
import io.qvirt.handler.deviceplugin.v1beta1.AllocateResponse;
import io.qvirt.handler.deviceplugin.v1beta1.ContainerAllocateRequest;
import io.qvirt.handler.deviceplugin.v1beta1.DeviceSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** devices.kubevirt.io/tun: /dev/net/tun handed to the container read-write, healthy only where the node has it. */
class TunDevicePluginTest {
    private static final class Recorder<T> implements StreamObserver<T> {
        final List<T> values = new ArrayList<>();
        Throwable error;

        @Override
        public void onNext(T v) {
            values.add(v);
        }

        @Override
        public void onError(Throwable t) {
            error = t;
        }

        @Override
        public void onCompleted() {
        }
    }

    @Test
    void allocateHandsOutDevNetTun() {
        TunDevicePlugin p = new TunDevicePlugin(3);
        assertEquals("devices.kubevirt.io/tun", p.resource());
        assertEquals(List.of("tun0", "tun1", "tun2"), p.list().getDevicesList().stream().map(d -> d.getID()).toList());
        assertEquals(Files.exists(Path.of("/dev/net/tun")), p.healthy(), "healthy where the node has /dev/net/tun");
        Recorder<AllocateResponse> r = new Recorder<>();
        p.allocate(AllocateRequest.newBuilder().addContainerRequests(ContainerAllocateRequest.newBuilder().addDevicesIds("tun1"))
                .build(), r);
        if (p.healthy()) {
            assertNull(r.error);
            DeviceSpec d = r.values.get(0).getContainerResponses(0).getDevices(0);
            assertEquals("/dev/net/tun", d.getHostPath());
            assertEquals("/dev/net/tun", d.getContainerPath());
            assertEquals("rw", d.getPermissions());
        }
        Recorder<AllocateResponse> bad = new Recorder<>();
        p.allocate(AllocateRequest.newBuilder().addContainerRequests(ContainerAllocateRequest.newBuilder().addDevicesIds("kvm0"))
                .build(), bad);
        assertTrue(bad.error.getMessage().contains("unknown devices.kubevirt.io/tun device 'kvm0' (this plugin serves tun0..tun2)"),
                bad.error.getMessage());
    }

    @Test
    void aNodeWithoutTheDeviceOffersNone() {
        TunDevicePlugin p = new TunDevicePlugin("/nonexistent/net/tun", 2);
        assertFalse(p.healthy());
        assertTrue(p.list().getDevicesList().stream().allMatch(d -> d.getHealth().equals("Unhealthy")));
        Recorder<AllocateResponse> r = new Recorder<>();
        p.allocate(AllocateRequest.newBuilder().addContainerRequests(ContainerAllocateRequest.newBuilder().addDevicesIds("tun0"))
                .build(), r);
        assertTrue(r.error.getMessage().contains("devices.kubevirt.io/tun is unhealthy on this node: no /nonexistent/net/tun"),
                r.error.getMessage());
    }
}
