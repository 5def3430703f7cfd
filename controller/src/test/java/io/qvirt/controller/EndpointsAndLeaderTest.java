package io.qvirt.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.qvirt.api.VirtualMachine;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * /metrics and /healthz, and leader election between two controllers; against fabric8's CRUD mock API
 * server (not a real kube-apiserver). Writers are told apart by their User-Agent in the mock's request log.
 */
class EndpointsAndLeaderTest {
    @Test
    void metricsAndHealth() throws Exception {
        try (ControllerHarness h = new ControllerHarness(ControllerHarness.options());
             HttpEndpoints http = new HttpEndpoints(0, h.metrics, h.controller::isHealthy)) {
            VirtualMachine vm = MockApi.seedVm();
            vm.getSpec().setRunning(true);
            h.create(vm);
            h.awaitPod(h.awaitVmi("testvm", null));
            MockApi.await(ControllerHarness.WAIT, "VMI reconciles counted", () -> h.metrics.count("vmi", "success") > 0);
            HttpClient c = HttpClient.newHttpClient();
            HttpResponse<String> m = c.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + http.port()
                    + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, m.statusCode());
            assertTrue(m.body().contains("qvirt_controller_reconcile_total{kind=\"vm\",outcome=\"success\"}"), m.body());
            assertTrue(m.body().contains("qvirt_controller_reconcile_duration_seconds_count{kind=\"vmi\"}"), m.body());
            assertTrue(m.body().contains("qvirt_controller_workqueue_depth{queue=\"vm\"}"), m.body());
            HttpResponse<String> hz = c.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + http.port()
                    + "/healthz")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, hz.statusCode());
            h.controller.close();
            HttpResponse<String> down = c.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + http.port()
                    + "/healthz")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(503, down.statusCode());
        }
    }

    @Test
    void onlyTheLeaderWritesAndAStandbyTakesOver() throws Exception {
        try (MockApi api = new MockApi()) {
            KubernetesClient ca = api.newClient("controller-a");
            KubernetesClient cb = api.newClient("controller-b");
            ControllerOptions o = ControllerHarness.options();
            Controller a = new Controller(ca, o, new Metrics());
            Controller b = new Controller(cb, o, new Metrics());
            try {
                a.start(ControllerHarness.WAIT, false);
                b.start(ControllerHarness.WAIT, false);
                a.startLeaderElection("a", Duration.ofSeconds(3), () -> { });
                MockApi.await(ControllerHarness.WAIT, "a leads", a::isActive);
                b.startLeaderElection("b", Duration.ofSeconds(3), () -> { });

                for (int i = 0; i < 5; i++) {
                    VirtualMachine vm = MockApi.seedVm();
                    vm.getMetadata().setName("vm" + i);
                    vm.getSpec().setRunning(true);
                    api.client.resource(vm).create();
                }
                MockApi.await(ControllerHarness.WAIT, "5 launcher pods", () -> api.client.pods().inNamespace("default")
                        .list().getItems().size() == 5);
                Thread.sleep(500);
                assertFalse(b.isActive(), "b must stand by while a holds the Lease");
                List<String> writers = writers(api);
                assertTrue(writers.contains("qvirt-controller-a"), writers.toString());
                assertFalse(writers.contains("qvirt-controller-b"), "the standby wrote to VMs/VMIs/pods: " + writers);
                Lease lease = api.client.leases().inNamespace("kubevirt").withName("virt-controller").get();
                assertEquals("a", lease.getSpec().getHolderIdentity());

                // a stops (releasing the Lease): b takes over and does the work.
                a.close();
                MockApi.await(Duration.ofSeconds(15), "b leads", b::isActive);
                VirtualMachine vm = MockApi.seedVm();
                vm.getMetadata().setName("after");
                vm.getSpec().setRunning(true);
                api.client.resource(vm).create();
                MockApi.await(ControllerHarness.WAIT, "b creates the VMI", () -> api.client.resources(
                        io.qvirt.api.VirtualMachineInstance.class).inNamespace("default").withName("after").get() != null);
                assertTrue(writers(api).contains("qvirt-controller-b"));
            } finally {
                a.close();
                b.close();
                ca.close();
                cb.close();
            }
        }
    }

    /** User-Agents of every write (POST/PUT/PATCH/DELETE) to VMs, VMIs and pods in the mock's request log. */
    private static List<String> writers(MockApi api) throws InterruptedException {
        List<String> agents = new ArrayList<>();
        RecordedRequest r;
        while ((r = api.server.takeRequest(10, TimeUnit.MILLISECONDS)) != null) {
            boolean write = !"GET".equals(r.getMethod());
            String path = r.getPath();
            if (write && (path.contains("/virtualmachines") || path.contains("/virtualmachineinstances")
                    || path.contains("/pods"))) {
                agents.add(r.getHeader("User-Agent"));
            }
        }
        return agents;
    }
}
