package io.qvirt.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.qvirt.api.VirtualMachine;
import io.qvirt.api.VirtualMachineInstance;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The controller's requests for one VM start, read from the request log of fabric8's CRUD mock API server (not a
 * real kube-apiserver): one write of each kind, none that changes nothing, no re-read of what the informers hold.
 */
class WritesPerStartTest extends WithController {
    @Test
    void oneVmStartIsNineWritesAndNoReads() throws Exception {
        VirtualMachine vm = MockApi.seedVm();
        vm.getSpec().setRunning(true);
        h.create(vm);
        VirtualMachineInstance vmi = h.awaitVmi("testvm", null);
        Pod pod = h.awaitPod(vmi);
        MockApi.await(ControllerHarness.WAIT, "VMI Scheduling, pod unpaused, VM Starting with the VMI's Ready", () -> {
            VirtualMachineInstance i = h.vmi("testvm");
            Pod p = h.client.pods().inNamespace(ControllerHarness.NS).withName(pod.getMetadata().getName()).get();
            VirtualMachine v = h.vm("testvm");
            return i != null && i.getStatus() != null && "Scheduling".equals(i.getStatus().getPhase())
                    && p != null && p.getStatus() != null && p.getStatus().getConditions() != null
                    && p.getStatus().getConditions().stream()
                            .anyMatch(c -> LauncherPods.UNPAUSED_CONDITION.equals(c.getType()))
                    && v.getStatus() != null && "Starting".equals(v.getStatus().getPrintableStatus())
                    && Boolean.TRUE.equals(v.getStatus().getCreated())
                    && "GuestNotRunning".equals(Objects2.condition(v.getStatus().getConditions(), "Ready").getReason());
        });
        // Every event of these writes has reached the controller's informers and been reconciled by now; a write
        // that changes nothing would show up here.
        Thread.sleep(1000);

        Map<String, Integer> writes = new TreeMap<>();
        RecordedRequest r;
        while ((r = h.api.server.takeRequest(1, TimeUnit.MILLISECONDS)) != null) {
            if (!"qvirt-controller".equals(r.getHeader("User-Agent"))) {
                continue;
            }
            String path = r.getPath().replaceAll("\\?.*", "");
            String[] seg = path.split("/");
            boolean status = seg[seg.length - 1].equals("status");
            boolean named = status || path.matches(".*/namespaces/[^/]+/[^/]+/[^/]+$");
            if ("GET".equals(r.getMethod()) && !named) {
                continue; // the informers' LIST and WATCH
            }
            String kind = status ? seg[seg.length - 3] + "/status" : named ? seg[seg.length - 2] : seg[seg.length - 1];
            writes.merge(r.getMethod() + " " + kind, 1, Integer::sum);
        }
        assertEquals(new TreeMap<>(Map.of(
                "PATCH virtualmachines", 1, // the VM's finalizer
                "POST controllerrevisions", 1, // the start revision
                "POST virtualmachineinstances", 1, // with its finalizers and first Ready condition
                "POST events", 2, // SuccessfulCreate on the VM and on the VMI
                "PATCH virtualmachines/status", 1, // Starting, created, the VMI's Ready copied
                "POST pods", 1,
                "PATCH virtualmachineinstances", 1, // Scheduling, activePods, Ready from the pod
                "PATCH pods/status", 1)), // the readiness gate's condition
                writes, h.dump("testvm"));
    }
}
