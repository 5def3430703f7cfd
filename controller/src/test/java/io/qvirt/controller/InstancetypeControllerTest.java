package io.qvirt.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.apps.ControllerRevision;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.qvirt.api.VirtualMachine;
import io.qvirt.api.VirtualMachineInstance;
import io.qvirt.api.instancetype.VirtualMachineInstancetype;
import io.qvirt.api.instancetype.VirtualMachinePreference;
import io.qvirt.api.model.Condition;
import io.qvirt.api.model.InstancetypeMatcher;
import org.junit.jupiter.api.Test;

/**
 * A VM naming an instancetype and a preference, as KubeVirt's VM controller treats it: the VMI is made with them
 * applied, each is stored in a ControllerRevision owned by the VM and named in the VM's status; one that does not
 * exist keeps the VM from starting (Failure condition, no VMI). Against fabric8's CRUD mock API server (not a
 * kube-apiserver).
 */
class InstancetypeControllerTest extends WithController {
    private static final String INSTANCETYPE = """
            apiVersion: instancetype.kubevirt.io/v1beta1
            kind: VirtualMachineInstancetype
            metadata:
              name: small
              namespace: default
            spec:
              cpu:
                guest: 2
              memory:
                guest: 256Mi
            """;
    private static final String PREFERENCE = """
            apiVersion: instancetype.kubevirt.io/v1beta1
            kind: VirtualMachinePreference
            metadata:
              name: virtio
              namespace: default
            spec:
              devices:
                preferredDiskBus: virtio
            """;

    /** The seed VM, running, with no memory or CPU of its own (an instancetype's would conflict) and disks without a bus. */
    private static VirtualMachine vmNaming(String instancetype) {
        VirtualMachine vm = MockApi.seedVm();
        vm.getSpec().setRunning(true);
        var domain = vm.getSpec().getTemplate().getSpec().getDomain();
        domain.setResources(null);
        domain.getDevices().getDisks().forEach(d -> d.setDisk(null));
        InstancetypeMatcher it = new InstancetypeMatcher();
        it.setKind("VirtualMachineInstancetype");
        it.setName(instancetype);
        vm.getSpec().setInstancetype(it);
        InstancetypeMatcher pref = new InstancetypeMatcher();
        pref.setKind("VirtualMachinePreference");
        pref.setName("virtio");
        vm.getSpec().setPreference(pref);
        return vm;
    }

    @Test
    void theVmiIsMadeWithTheInstancetypeAndPreferenceStoredAsRevisions() throws Exception {
        VirtualMachineInstancetype it = h.client.resources(VirtualMachineInstancetype.class).inNamespace("default")
                .resource(Serialization.unmarshal(INSTANCETYPE, VirtualMachineInstancetype.class)).create();
        h.client.resources(VirtualMachinePreference.class).inNamespace("default")
                .resource(Serialization.unmarshal(PREFERENCE, VirtualMachinePreference.class)).create();
        h.create(vmNaming("small"));

        VirtualMachineInstance vmi = h.awaitVmi("testvm", null);
        var domain = vmi.getSpec().getDomain();
        assertEquals("256Mi", domain.getMemory().getGuest().toString(), "memory from the instancetype");
        assertEquals(2, domain.getCpu().getSockets(), "cpu.guest 2 as sockets (KubeVirt's default topology)");
        domain.getDevices().getDisks().forEach(d -> assertEquals("virtio", d.getDisk().getBus(), d.getName()
                + ": the preference's disk bus"));
        assertEquals("small", vmi.getMetadata().getAnnotations().get("kubevirt.io/instancetype-name"));
        assertEquals("virtio", vmi.getMetadata().getAnnotations().get("kubevirt.io/preference-name"));

        VirtualMachine vm = MockApi.awaitValue(ControllerHarness.WAIT, "status.instancetypeRef", () -> {
            VirtualMachine v = h.vm("testvm");
            return v.getStatus() != null && v.getStatus().getInstancetypeRef() != null
                    && v.getStatus().getPreferenceRef() != null ? v : null;
        });
        String revision = vm.getStatus().getInstancetypeRef().getControllerRevisionRef().getName();
        assertEquals("testvm-small-v1beta1-" + it.getMetadata().getUid() + "-"
                + java.util.Objects.requireNonNullElse(it.getMetadata().getGeneration(), 0L), revision);
        assertEquals("small", vm.getStatus().getInstancetypeRef().getName());
        assertEquals("VirtualMachineInstancetype", vm.getStatus().getInstancetypeRef().getKind());
        ControllerRevision cr = h.client.apps().controllerRevisions().inNamespace("default").withName(revision).get();
        assertNotNull(cr, revision);
        assertEquals(vm.getMetadata().getUid(), cr.getMetadata().getOwnerReferences().get(0).getUid());
        assertEquals("VirtualMachineInstancetype", cr.getMetadata().getLabels().get("instancetype.kubevirt.io/object-kind"));
        assertEquals("small", cr.getMetadata().getLabels().get("instancetype.kubevirt.io/object-name"));
        com.fasterxml.jackson.databind.JsonNode data = io.qvirt.api.KubevirtJson.toTree(cr.getData());
        assertEquals("instancetype.kubevirt.io/v1beta1", data.path("apiVersion").asText(), data.toString());
        assertEquals("256Mi", data.path("spec").path("memory").path("guest").asText(), data.toString());
        assertNotNull(h.client.apps().controllerRevisions().inNamespace("default")
                .withName(vm.getStatus().getPreferenceRef().getControllerRevisionRef().getName()).get());
    }

    @Test
    void anInstancetypeThatDoesNotExistKeepsTheVmFromStarting() throws Exception {
        h.client.resources(VirtualMachinePreference.class).inNamespace("default")
                .resource(Serialization.unmarshal(PREFERENCE, VirtualMachinePreference.class)).create();
        h.create(vmNaming("nosuch"));
        Condition failure = MockApi.awaitValue(ControllerHarness.WAIT, "Failure condition",
                () -> h.vm("testvm").getStatus() == null ? null
                        : Objects2.condition(h.vm("testvm").getStatus().getConditions(), "Failure"));
        assertEquals("True", failure.getStatus());
        assertTrue(failure.getMessage().contains("spec.instancetype.name")
                && failure.getMessage().contains("\"nosuch\" not found"), failure.getMessage());
        Thread.sleep(500);
        assertNull(h.vmi("testvm"), "no VMI without its instancetype");
    }
}
