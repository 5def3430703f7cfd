package io.qvirt.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.Pod;
import io.qvirt.api.FieldError;
import io.qvirt.api.VirtualMachine;
import io.qvirt.api.VirtualMachineInstance;
import io.qvirt.api.VmValidator;
import io.qvirt.api.model.Condition;
import io.qvirt.api.model.Disk;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * KubeVirt's admission rules applied by the controller, and the cluster configuration read from the
 * {@code KubeVirt} CR; against fabric8's CRUD mock API server (not a real kube-apiserver, so no webhook
 * refuses the invalid VM first: the controller is the one that must).
 */
class ValidationAndConfigTest extends WithController {
    @Test
    void invalidVmGetsAFailureConditionNamingEveryFieldAndNoVmi() throws Exception {
        VirtualMachine vm = MockApi.seedVm();
        vm.getSpec().setRunning(true);
        vm.getSpec().setRunStrategy("Always"); // mutually exclusive with running
        Disk orphan = new Disk();
        orphan.setName("nosuchvolume"); // a disk without a volume
        vm.getSpec().getTemplate().getSpec().getDomain().getDevices().getDisks().add(orphan);
        List<FieldError> expected = VmValidator.validate(vm);
        assertTrue(expected.size() >= 2, "the fixture must be invalid twice over: " + expected);

        h.create(vm);
        Condition failure = MockApi.awaitValue(ControllerHarness.WAIT, "Failure condition",
                () -> h.vm("testvm").getStatus() == null ? null
                        : Objects2.condition(h.vm("testvm").getStatus().getConditions(), "Failure"));
        assertEquals("True", failure.getStatus());
        assertEquals("FailedCreate", failure.getReason());
        for (FieldError e : expected) {
            assertTrue(failure.getMessage().contains(e.path()), e.path() + " missing from: " + failure.getMessage());
        }
        assertTrue(failure.getMessage().contains("spec.running"));
        assertTrue(failure.getMessage().contains("spec.template.spec.domain.devices.disks[2]"), failure.getMessage());
        Thread.sleep(500);
        assertNull(h.vmi("testvm"), "an invalid VM must not get a VMI");
        assertTrue(h.pods().isEmpty());
        assertEquals("Stopped", h.printable("testvm"));

        // Fixed: the condition goes, the VMI comes.
        // One unguarded JSON Patch: the controller writes status meanwhile, so a read-modify-write could conflict.
        h.client.resources(VirtualMachine.class).inNamespace("default").withName("testvm").patch(
                io.fabric8.kubernetes.client.dsl.base.PatchContext.of(io.fabric8.kubernetes.client.dsl.base.PatchType.JSON),
                "[{\"op\":\"remove\",\"path\":\"/spec/runStrategy\"},"
                        + "{\"op\":\"remove\",\"path\":\"/spec/template/spec/domain/devices/disks/2\"}]");
        VirtualMachineInstance vmi = h.awaitVmi("testvm", null);
        MockApi.await(ControllerHarness.WAIT, "Failure condition cleared", () ->
                Objects2.condition(h.vm("testvm").getStatus().getConditions(), "Failure") == null);
        assertEquals("testvm", vmi.getMetadata().getName());
    }

    /**
     * Volumes the launcher pod cannot provide: refused up front by field (a VM's Failure condition and no VMI; a
     * standalone VMI's Synchronized=False FailedCreate and no pod), not a launcher that fails and crash-loops.
     */
    @org.junit.jupiter.params.ParameterizedTest(name = "{0}")
    @org.junit.jupiter.params.provider.CsvSource(delimiter = '|', value = {
        "dataVolume            | {name: dv}   | DataVolumes need CDI",
        "configMap             | {name: cm}   | not supported by qvirt's launcher pod",
    })
    void volumesThePodCannotProvideAreRefusedByField(String kind, String source, String why) throws Exception {
        VirtualMachine vm = MockApi.seedVm();
        vm.getSpec().setRunning(true);
        var spec = vm.getSpec().getTemplate().getSpec();
        java.util.Map<?, ?> src = io.qvirt.api.KubevirtJson.yaml().readValue(source, java.util.Map.class);
        io.qvirt.api.model.Volume vol = io.qvirt.api.KubevirtJson.json().convertValue(
                java.util.Map.of("name", "extra", kind, src), io.qvirt.api.model.Volume.class);
        List<io.qvirt.api.model.Volume> vols = new java.util.ArrayList<>(spec.getVolumes());
        vols.add(vol);
        spec.setVolumes(vols);
        Disk disk = new Disk();
        disk.setName("extra");
        spec.getDomain().getDevices().getDisks().add(disk);
        String field = "spec.template.spec.volumes[" + (vols.size() - 1) + "]." + kind;

        h.create(vm);
        Condition failure = MockApi.awaitValue(ControllerHarness.WAIT, "Failure condition",
                () -> h.vm("testvm").getStatus() == null ? null
                        : Objects2.condition(h.vm("testvm").getStatus().getConditions(), "Failure"));
        assertTrue(failure.getMessage().contains(field + ": " + why), failure.getMessage());
        Thread.sleep(500);
        assertNull(h.vmi("testvm"), "no VMI that could only crash-loop");
        assertEquals("Stopped", h.printable("testvm"));

        // The same spec as a VMI of its own: no pod, Synchronized=False FailedCreate naming the field.
        VirtualMachineInstance vmi = io.qvirt.api.VmiDefaults.apply(io.qvirt.api.LoadedManifest.fromVm(vm));
        vmi.getMetadata().setName("standalone");
        vmi.getMetadata().setOwnerReferences(null);
        h.client.resource(vmi).create();
        Condition sync = MockApi.awaitValue(ControllerHarness.WAIT, "Synchronized FailedCreate", () -> {
            VirtualMachineInstance v = h.vmi("standalone");
            Condition c = v.getStatus() == null ? null : Objects2.condition(v.getStatus().getConditions(), "Synchronized");
            return c != null && "FailedCreate".equals(c.getReason()) ? c : null;
        });
        assertTrue(sync.getMessage().contains("spec.volumes[" + (vols.size() - 1) + "]." + kind), sync.getMessage());
        assertEquals("Pending", VmReconciler.phase(h.vmi("standalone")));
        assertTrue(h.pods().isEmpty());
    }

    @Test
    void kubevirtCrSetsEmulationAndImages() {
        KubeVirt cr = new KubeVirt();
        cr.setMetadata(new io.fabric8.kubernetes.api.model.ObjectMetaBuilder().withName("kubevirt")
                .withNamespace("kubevirt").build());
        KubeVirt.Spec spec = new KubeVirt.Spec();
        spec.setImageRegistry("registry.example:5000/qvirt");
        spec.setImageTag("v9");
        KubeVirt.Configuration conf = new KubeVirt.Configuration();
        KubeVirt.DeveloperConfiguration dev = new KubeVirt.DeveloperConfiguration();
        dev.setUseEmulation(true);
        conf.setDeveloperConfiguration(dev);
        spec.setConfiguration(conf);
        cr.setSpec(spec);
        h.client.resource(cr).create();
        MockApi.await(ControllerHarness.WAIT, "KubeVirt CR seen", () -> h.controller.clusterConfig().useEmulation());
        assertEquals("registry.example:5000/qvirt/virt-launcher:v9", h.controller.clusterConfig().launcherImage());

        VirtualMachine vm = MockApi.seedVm();
        vm.getSpec().setRunning(true);
        h.create(vm);
        Pod pod = h.awaitPod(h.awaitVmi("testvm", null));
        Container compute = pod.getSpec().getContainers().get(0);
        assertEquals("registry.example:5000/qvirt/virt-launcher:v9", compute.getImage());
        assertFalse(compute.getResources().getRequests().containsKey(LauncherPods.KVM_RESOURCE),
                "useEmulation: no /dev/kvm request");
        assertFalse(compute.getResources().getLimits().containsKey(LauncherPods.KVM_RESOURCE));
        int i = compute.getCommand().indexOf("--accel");
        assertEquals("auto", compute.getCommand().get(i + 1));
        assertEquals("registry.example:5000/qvirt/virt-launcher:v9", pod.getSpec().getInitContainers().get(0).getImage());
    }
}
