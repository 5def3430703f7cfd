package io.qvirt.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceQuotaBuilder;
import io.qvirt.api.VirtualMachine;
import io.qvirt.api.VirtualMachineInstance;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * KubeVirt's automatic limits through the controller's informers, on fabric8's CRUD mock API server (not a real
 * kube-apiserver): a ResourceQuota that sets {@code limits.memory} and {@code limits.cpu} in the VM's namespace
 * gives its launcher pod limits, with the ratio from the namespace's label; without the quota the pod has none.
 */
class AutoLimitsTest extends WithController {
    @Test
    void aQuotaWithLimitsGivesTheLauncherPodLimitsAtTheNamespacesRatio() throws Exception {
        h.client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(ControllerHarness.NS)
                .addToLabels(LauncherPods.AUTO_MEMORY_RATIO_LABEL, "1.5").endMetadata().build()).create();
        h.client.resourceQuotas().inNamespace(ControllerHarness.NS).resource(new ResourceQuotaBuilder()
                .withNewMetadata().withName("limits").endMetadata()
                .withNewSpec().addToHard(Map.of("limits.memory", new Quantity("8Gi"), "limits.cpu", new Quantity("8")))
                .endSpec().build()).create();
        MockApi.await(ControllerHarness.WAIT, "the quota and the namespace's label in the controller's caches",
                () -> h.controller.caches().quotaLimits(ControllerHarness.NS, "memory")
                        && "1.5".equals(h.controller.caches().namespaceLabels(ControllerHarness.NS)
                                .get(LauncherPods.AUTO_MEMORY_RATIO_LABEL)));
        Pod pod = startSeedVm();
        var c = pod.getSpec().getContainers().get(0).getResources();
        assertEquals("151Mi", c.getRequests().get("memory").toString());
        assertEquals("227Mi", c.getLimits().get("memory").toString(), "151Mi x 1.5, rounded up");
        assertEquals("1", c.getLimits().get("cpu").toString(), "one CPU per vCPU");
    }

    @Test
    void withoutAQuotaThePodHasNoLimitOfItsOwn() throws Exception {
        var c = startSeedVm().getSpec().getContainers().get(0).getResources();
        assertNull(c.getLimits().get("memory"));
        assertNull(c.getLimits().get("cpu"));
    }

    private Pod startSeedVm() throws Exception {
        VirtualMachine vm = MockApi.seedVm();
        vm.getSpec().setRunning(true);
        h.create(vm);
        VirtualMachineInstance vmi = h.awaitVmi("testvm", null);
        return h.awaitPod(vmi);
    }
}
