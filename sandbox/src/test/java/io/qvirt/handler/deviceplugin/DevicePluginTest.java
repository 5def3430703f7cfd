package io.qvirt.handler.deviceplugin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.qvirt.handler.Wait;
import io.qvirt.handler.deviceplugin.v1beta1.AllocateRequest;
import io.qvirt.handler.deviceplugin.v1beta1.AllocateResponse;
import io.qvirt.handler.deviceplugin.v1beta1.ContainerAllocateRequest;
import io.qvirt.handler.deviceplugin.v1beta1.DeviceSpec;
import io.qvirt.handler.deviceplugin.v1beta1.Empty;
import io.qvirt.handler.deviceplugin.v1beta1.ListAndWatchResponse;
import io.qvirt.handler.deviceplugin.v1beta1.RegisterRequest;
import io.qvirt.sandbox.FakeKubelet;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The KVM device plugin over real gRPC on real Unix sockets, against {@link FakeKubelet} (a FAKE kubelet:
 * only its device-plugin side; no kubelet runs here).
 */
class DevicePluginTest {
    @TempDir
    Path dir;
    private FakeKubelet kubelet;
    private KvmDevicePlugin plugin;
    private DevicePluginServer server;

    @BeforeEach
    void start() throws Exception {
        kubelet = new FakeKubelet(dir);
        plugin = new KvmDevicePlugin("/dev/kvm", 4, true, "kvm-probe: FULL");
        server = new DevicePluginServer(dir, "kvm.sock", plugin, Duration.ofMillis(100));
    }

    @AfterEach
    void stop() throws Exception {
        server.close();
        kubelet.close();
    }

    @Test
    void registersServesListsAndAllocatesTheKvmDevice() throws Exception {
        server.start();
        RegisterRequest r = kubelet.registrations.poll(5, TimeUnit.SECONDS);
        assertNotNull(r, "registered with the kubelet");
        assertEquals("v1beta1", r.getVersion());
        assertEquals("kvm.sock", r.getEndpoint());
        assertEquals("devices.kubevirt.io/kvm", r.getResourceName());
        assertFalse(r.getOptions().getPreStartRequired());
        assertFalse(kubelet.dial(r.getEndpoint()).getDevicePluginOptions(Empty.getDefaultInstance())
                .getGetPreferredAllocationAvailable());

        FakeKubelet.Watch w = kubelet.watch(r.getEndpoint());
        ListAndWatchResponse first = w.next();
        assertNotNull(first, "ListAndWatch sends the list at once");
        assertEquals(4, first.getDevicesCount());
        assertEquals("kvm0", first.getDevices(0).getID());
        assertTrue(first.getDevicesList().stream().allMatch(d -> d.getHealth().equals("Healthy")), first.toString());

        // Two containers, one asking for a device: the device node, read-write, only where asked.
        AllocateResponse a = kubelet.dial(r.getEndpoint()).allocate(AllocateRequest.newBuilder()
                .addContainerRequests(ContainerAllocateRequest.newBuilder().addDevicesIds("kvm2"))
                .addContainerRequests(ContainerAllocateRequest.newBuilder()).build());
        assertEquals(2, a.getContainerResponsesCount());
        DeviceSpec spec = a.getContainerResponses(0).getDevices(0);
        assertEquals("/dev/kvm", spec.getContainerPath());
        assertEquals("/dev/kvm", spec.getHostPath());
        assertEquals("rw", spec.getPermissions());
        assertEquals(0, a.getContainerResponses(1).getDevicesCount());

        StatusRuntimeException unknown = assertThrows(StatusRuntimeException.class, () -> kubelet.dial("kvm.sock")
                .allocate(AllocateRequest.newBuilder()
                        .addContainerRequests(ContainerAllocateRequest.newBuilder().addDevicesIds("gpu0")).build()));
        assertEquals(Status.Code.INVALID_ARGUMENT, unknown.getStatus().getCode());
        assertTrue(unknown.getStatus().getDescription().contains("gpu0"), unknown.getStatus().toString());
        assertNull(w.ended(), "the ListAndWatch stream stays open across the other calls");
    }

    @Test
    void healthChangesReachTheOpenStreamAndUnhealthyRefusesAllocation() throws Exception {
        server.start();
        kubelet.registrations.poll(5, TimeUnit.SECONDS);
        FakeKubelet.Watch w = kubelet.watch("kvm.sock");
        assertNotNull(w.next());

        plugin.setHealth(false, "kvm-probe: LIMITED (kvm_pvm)");
        ListAndWatchResponse second = w.next();
        assertNotNull(second, "the kubelet hears of the change on the stream it holds");
        assertTrue(second.getDevicesList().stream().allMatch(d -> d.getHealth().equals("Unhealthy")), second.toString());
        plugin.setHealth(false, "still LIMITED");
        assertNull(w.next(300), "no change, nothing sent");
        assertNull(w.ended(), "and the stream is still open");

        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> kubelet.dial("kvm.sock")
                .allocate(AllocateRequest.newBuilder()
                        .addContainerRequests(ContainerAllocateRequest.newBuilder().addDevicesIds("kvm0")).build()));
        assertEquals(Status.Code.FAILED_PRECONDITION, e.getStatus().getCode());
        assertTrue(e.getStatus().getDescription().contains("LIMITED"), e.getStatus().toString());

        plugin.setHealth(true, "kvm-probe: FULL");
        assertEquals("Healthy", w.next().getDevices(0).getHealth());
    }

    @Test
    void aKubeletRestartIsFollowedByANewRegistrationOnAFreshSocket() throws Exception {
        server.start();
        assertNotNull(kubelet.registrations.poll(5, TimeUnit.SECONDS));
        assertEquals(1, server.registrations());
        FakeKubelet.Watch before = kubelet.watch("kvm.sock");
        assertNotNull(before.next());
        assertTrue(kubelet.restart().contains("kvm.sock"), "the restart removed the plugin's socket");
        RegisterRequest again = kubelet.registrations.poll(10, TimeUnit.SECONDS);
        assertNotNull(again, "registered again after the kubelet restart");
        // The kubelet has the request before the plugin has its answer.
        Wait.until(Duration.ofSeconds(5), () -> server.registrations() >= 2);
        assertEquals(2, server.registrations());
        assertTrue(Files.exists(dir.resolve("kvm.sock")), "served again");
        FakeKubelet.Watch after = kubelet.watch(again.getEndpoint());
        assertNotNull(after.next(), "ListAndWatch answers on the new socket");
        assertNotNull(before.ended(), "the old stream ended with the old server");
    }

    @Test
    void noKubeletSocketIsAClearError() throws Exception {
        kubelet.close();
        Files.deleteIfExists(dir.resolve("kubelet.sock"));
        DevicePluginException e = assertThrows(DevicePluginException.class, server::start);
        assertTrue(e.getMessage().contains("no kubelet socket at " + dir.resolve("kubelet.sock")), e.getMessage());
        kubelet = new FakeKubelet(dir); // for stop()
    }
}
