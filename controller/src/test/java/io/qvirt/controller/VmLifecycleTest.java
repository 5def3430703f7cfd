package io.qvirt.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.Pod;
import io.qvirt.api.KubevirtJson;
import io.qvirt.api.VirtualMachine;
import io.qvirt.api.VirtualMachineInstance;
import io.qvirt.api.model.Condition;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The seed VM's life under the controller, against fabric8's CRUD mock API server (not a real
 * kube-apiserver; the tests play scheduler, kubelet and handler by writing pod and VMI status).
 */
class VmLifecycleTest extends WithController {
    @Test
    void seedVmIsStoppedThenStartsWithVmiAndLauncherPod() throws Exception {
        h.create(MockApi.seedVm());
        h.awaitPrintable("testvm", "Stopped");
        VirtualMachine vm = h.vm("testvm");
        assertNull(h.vmi("testvm"), "running: false must not create a VMI");
        assertTrue(h.pods().isEmpty());
        assertEquals(List.of(VmReconciler.VM_FINALIZER), vm.getMetadata().getFinalizers());
        assertEquals(Boolean.FALSE, vm.getStatus().getReady());
        assertEquals(Boolean.FALSE, vm.getStatus().getCreated());
        // KubeVirt records runStrategy and the generations only once there was a VMI
        assertNull(vm.getStatus().getRunStrategy());
        assertNull(vm.getStatus().getObservedGeneration());
        assertEquals("VMINotExists", Objects2.condition(vm.getStatus().getConditions(), "Ready").getReason());

        h.patchVm("testvm", "{\"spec\":{\"running\":true}}");
        VirtualMachineInstance vmi = h.awaitVmi("testvm", null);
        OwnerReference owner = vmi.getMetadata().getOwnerReferences().get(0);
        assertEquals("VirtualMachine", owner.getKind());
        assertEquals("kubevirt.io/v1", owner.getApiVersion());
        assertEquals(vm.getMetadata().getUid(), owner.getUid());
        assertEquals(Boolean.TRUE, owner.getController());
        assertEquals(Boolean.TRUE, owner.getBlockOwnerDeletion());
        // the VMI's own finalizer (KubeVirt's webhook adds it) and the VM controller's
        assertEquals(List.of(VmiReconciler.VMI_FINALIZER, VmReconciler.VM_FINALIZER), vmi.getMetadata().getFinalizers());
        assertEquals(String.valueOf(h.vm("testvm").getMetadata().getGeneration()),
                vmi.getMetadata().getAnnotations().get("kubevirt.io/vm-generation"));
        assertEquals("testvm", vmi.getMetadata().getLabels().get("kubevirt.io/domain"), "template labels");
        assertEquals("64M", vmi.getSpec().getDomain().getResources().getRequests().get("memory").toString());
        assertNotNull(vmi.getSpec().getDomain().getFirmware().getUuid(), "KubeVirt's defaults applied");

        Pod pod = h.awaitPod(vmi);
        assertTrue(pod.getMetadata().getName().matches("virt-launcher-testvm-[bcdfghjklmnpqrstvwxz2456789]{5}"),
                pod.getMetadata().getName());
        assertEquals("virt-launcher", pod.getMetadata().getLabels().get("kubevirt.io"));
        assertEquals(vmi.getMetadata().getUid(), pod.getMetadata().getLabels().get("kubevirt.io/created-by"));
        OwnerReference podOwner = pod.getMetadata().getOwnerReferences().get(0);
        assertEquals("VirtualMachineInstance", podOwner.getKind());
        assertEquals(vmi.getMetadata().getUid(), podOwner.getUid());
        assertEquals("true", pod.getSpec().getNodeSelector().get("kubevirt.io/schedulable"));

        Container compute = pod.getSpec().getContainers().get(0);
        assertEquals("compute", compute.getName());
        // 64M guest = 64,000,000 B; overhead 80 MiB + 8 MiB x 1 vCPU + 64e6/512 B -> 89 MiB; total 151 MiB rounded up.
        assertEquals("151Mi", compute.getResources().getRequests().get("memory").toString());
        assertNull(compute.getResources().getLimits().get("memory"), "KubeVirt sets no memory limit by default");
        assertEquals("1", compute.getResources().getLimits().get("devices.kubevirt.io/kvm").toString());
        List<String> cmd = compute.getCommand();
        assertEquals(List.of("launcher", "exec", "--vmi-json"), cmd.subList(0, 3));
        VirtualMachineInstance passed = KubevirtJson.json().readValue(cmd.get(3), VirtualMachineInstance.class);
        assertEquals("testvm", passed.getMetadata().getName());
        assertEquals(vmi.getMetadata().getUid(), passed.getMetadata().getUid());
        assertEquals(List.of("--accel", "kvm", "--forward-address", "$(POD_IP)",
                "--container-disk-dir", "/var/run/qvirt/container-disks"), cmd.subList(4, cmd.size()),
                "the containerDisk comes from the disk container, not from a pull by the launcher");
        assertTrue(compute.getEnv().stream().anyMatch(e -> "POD_IP".equals(e.getName())
                && "status.podIP".equals(e.getValueFrom().getFieldRef().getFieldPath())));
        assertEquals(Boolean.FALSE, compute.getSecurityContext().getPrivileged());
        assertEquals(List.of("ALL"), compute.getSecurityContext().getCapabilities().getDrop());
        assertEquals(107L, compute.getSecurityContext().getRunAsUser());
        assertTrue(compute.getVolumeMounts().stream().anyMatch(m -> "/run/qvirt".equals(m.getMountPath())));
        assertEquals("/run/qvirt", pod.getSpec().getVolumes().stream().filter(v -> "runtime".equals(v.getName()))
                .findFirst().orElseThrow().getHostPath().getPath());
        Container disk = pod.getSpec().getContainers().get(1);
        assertEquals("volumecontainerdisk", disk.getName());
        assertEquals("quay.io/kubevirt/cirros-container-disk-demo", disk.getImage());
        assertEquals(60L, pod.getSpec().getTerminationGracePeriodSeconds(), "VMI grace 30 s + 2 x 15 s (KubeVirt)");

        MockApi.await(ControllerHarness.WAIT, "VMI Scheduling", () -> "Scheduling".equals(VmReconciler.phase(h.vmi("testvm"))));
        h.awaitPrintable("testvm", "Starting");
        assertEquals(Boolean.TRUE, h.vm("testvm").getStatus().getCreated());

        MockApi.await(ControllerHarness.WAIT, "readiness gate condition True", () -> {
            Pod p = h.client.pods().inNamespace("default").withName(pod.getMetadata().getName()).get();
            return p.getStatus() != null && p.getStatus().getConditions() != null && p.getStatus().getConditions().stream()
                    .anyMatch(c -> "kubevirt.io/virtual-machine-unpaused".equals(c.getType()) && "True".equals(c.getStatus()));
        });
        h.podRunning(pod, "node1");
        MockApi.await(ControllerHarness.WAIT, "VMI Scheduled on node1", () -> {
            VirtualMachineInstance v = h.vmi("testvm");
            return "Scheduled".equals(VmReconciler.phase(v)) && "node1".equals(v.getStatus().getNodeName());
        });
        // The handler's informer selects VMIs by this label (KubeVirt's kubevirt.io/nodeName).
        assertEquals("node1", h.vmi("testvm").getMetadata().getLabels().get("kubevirt.io/nodeName"));
        assertEquals("testvm", h.vmi("testvm").getMetadata().getLabels().get("kubevirt.io/domain"),
                "the template's labels are kept beside it");
        h.vmiPhase("testvm", "Running", null);
        h.awaitPrintable("testvm", "Running");
        MockApi.await(ControllerHarness.WAIT, "VM ready", () -> Boolean.TRUE.equals(h.vm("testvm").getStatus().getReady()));
        VirtualMachine running = h.vm("testvm");
        assertEquals("Always", running.getStatus().getRunStrategy());
        assertEquals(running.getMetadata().getGeneration(), running.getStatus().getDesiredGeneration());
        assertEquals(Long.valueOf(vmi.getMetadata().getAnnotations().get("kubevirt.io/vm-generation")),
                running.getStatus().getObservedGeneration(), "observedGeneration is the VMI's");
        Condition ready = Objects2.condition(h.vm("testvm").getStatus().getConditions(), "Ready");
        assertEquals("True", ready.getStatus(), () -> "VMI conditions are mirrored\n" + h.dump("testvm"));
        assertEquals(1, h.pods().size(), "exactly one launcher pod");
    }

    @Test
    void imagePullErrorsAndUnschedulableShowInPrintableStatus() {
        VirtualMachine vm = MockApi.seedVm();
        vm.getSpec().setRunning(true);
        h.create(vm);
        VirtualMachineInstance vmi = h.awaitVmi("testvm", null);
        Pod pod = h.awaitPod(vmi);
        h.podStatus(pod, "{\"phase\":\"Pending\",\"conditions\":[{\"type\":\"PodScheduled\",\"status\":\"False\","
                + "\"reason\":\"Unschedulable\",\"message\":\"0/3 nodes are available\"}]}");
        h.awaitPrintable("testvm", "ErrorUnschedulable");
        h.podStatus(pod, "{\"phase\":\"Pending\",\"conditions\":[{\"type\":\"PodScheduled\",\"status\":\"True\"}],"
                + "\"containerStatuses\":[{\"name\":\"volumecontainerdisk\",\"image\":\"quay.io/kubevirt/cirros-container-disk-demo\","
                + "\"state\":{\"waiting\":{\"reason\":\"ErrImagePull\",\"message\":\"manifest unknown\"}}}]}");
        h.awaitPrintable("testvm", "ErrImagePull");
        h.podStatus(pod, "{\"containerStatuses\":[{\"name\":\"volumecontainerdisk\",\"image\":\"x\","
                + "\"state\":{\"waiting\":{\"reason\":\"ImagePullBackOff\",\"message\":\"Back-off pulling image\"}}}]}");
        h.awaitPrintable("testvm", "ImagePullBackOff");
        h.podStatus(pod, "{\"containerStatuses\":[{\"name\":\"volumecontainerdisk\",\"image\":\"x\","
                + "\"state\":{\"running\":{}}}]}");
        h.awaitPrintable("testvm", "Starting");
    }

    @Test
    void podFailingBeforeStartFailsTheVmi() {
        VirtualMachine vm = MockApi.seedVm();
        vm.getSpec().setRunStrategy("Once");
        vm.getSpec().setRunning(null);
        h.create(vm);
        VirtualMachineInstance vmi = h.awaitVmi("testvm", null);
        Pod pod = h.awaitPod(vmi);
        h.podStatus(pod, "{\"phase\":\"Failed\",\"containerStatuses\":[{\"name\":\"compute\",\"image\":\"l\","
                + "\"state\":{\"terminated\":{\"exitCode\":2,\"message\":\"invalid VM\"}}}]}");
        MockApi.await(ControllerHarness.WAIT, "VMI Failed", () -> "Failed".equals(VmReconciler.phase(h.vmi("testvm"))));
        VirtualMachineInstance failed = h.vmi("testvm");
        assertEquals("PodTerminated", failed.getStatus().getReason());
        assertTrue(Objects2.condition(failed.getStatus().getConditions(), "Synchronized").getMessage()
                .contains("compute exited 2: invalid VM"));
        // Once: the failed VMI stays; it never ran, so KubeVirt counts it as a start failure: CrashLoopBackOff.
        // As in KubeVirt its completed pod is kept (its logs), and with it the VMI's finalizer, until the VMI is
        // deleted.
        h.awaitPrintable("testvm", "CrashLoopBackOff");
        assertEquals(1, h.podsOf(failed).size(), "the failed pod is kept for its logs");
        assertTrue(h.vmi("testvm").getMetadata().getFinalizers().contains(VmiReconciler.VMI_FINALIZER));
        // the VM controller lets go of a final VMI once its status is recorded (KubeVirt)
        MockApi.await(ControllerHarness.WAIT, "VM controller's finalizer off the final VMI",
                () -> !h.vmi("testvm").getMetadata().getFinalizers().contains(VmReconciler.VM_FINALIZER));
        h.client.resource(h.vmi("testvm")).delete();
        MockApi.await(ControllerHarness.WAIT, "pod deleted with the VMI", () -> h.podsOf(failed).isEmpty());
        // Once with no VMI runs again (KubeVirt keeps no record of the run)
        h.awaitVmi("testvm", failed.getMetadata().getUid());
        assertFalse(h.vm("testvm").getStatus().getReady());
    }
}
