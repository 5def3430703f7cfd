package io.qvirt.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.qvirt.api.LoadedManifest;
import io.qvirt.api.VirtualMachine;
import io.qvirt.api.VirtualMachineInstance;
import io.qvirt.api.VmiDefaults;
import io.qvirt.api.model.Condition;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Who owns a VMI, as KubeVirt's VM controller sees it: an orphan VMI of the VM's name is adopted, another
 * VM's VMI is reported and left alone, and {@code kubectl delete vm --cascade=orphan} leaves the VMI running.
 * On fabric8's CRUD mock API server (not a real kube-apiserver).
 */
class OwnershipTest extends WithController {
    private static final Duration QUIET = Duration.ofMillis(800);

    /** A VMI named testvm made from the seed VM's template, owned by {@code ownerUid} (null: no owner). */
    private VirtualMachineInstance standaloneVmi(String ownerUid) {
        VirtualMachine template = MockApi.seedVm();
        VirtualMachineInstance vmi = VmiDefaults.apply(LoadedManifest.fromVm(template));
        if (ownerUid != null) {
            OwnerReference r = new OwnerReference(VirtualMachine.API_VERSION, true, true, VirtualMachine.KIND,
                    "testvm", ownerUid);
            vmi.getMetadata().setOwnerReferences(List.of(r));
        }
        return h.client.resource(vmi).create();
    }

    /**
     * owner of the VMI found beside a new VM with running: true -> adopted (same VMI, now the VM's) or reported
     * (Failure condition VMIExists, the VMI untouched).
     */
    @ParameterizedTest(name = "VMI owner {0} -> adopted={1}")
    @CsvSource({"none, true", "another-vm, false"})
    void vmiOfTheSameName(String owner, boolean adopted) throws Exception {
        VirtualMachineInstance orphan = standaloneVmi("none".equals(owner) ? null : "uid-of-another-vm");
        VirtualMachine vm = MockApi.seedVm();
        vm.getSpec().setRunning(true);
        VirtualMachine created = h.create(vm);
        if (adopted) {
            MockApi.await(ControllerHarness.WAIT, "VMI adopted", () -> {
                OwnerReference r = Objects2.controllerOf(h.vmi("testvm"), VirtualMachine.KIND);
                return r != null && created.getMetadata().getUid().equals(r.getUid());
            });
            assertEquals(orphan.getMetadata().getUid(), h.vmi("testvm").getMetadata().getUid(), "the same VMI");
            h.awaitPrintable("testvm", "Starting");
        } else {
            MockApi.await(ControllerHarness.WAIT, "Failure VMIExists", () -> {
                VirtualMachine v = h.vm("testvm");
                Condition f = v.getStatus() == null ? null : Objects2.condition(v.getStatus().getConditions(), "Failure");
                return f != null && "VMIExists".equals(f.getReason());
            });
            long end = System.nanoTime() + QUIET.toNanos();
            while (System.nanoTime() < end) {
                VirtualMachineInstance v = h.vmi("testvm");
                assertEquals("uid-of-another-vm", Objects2.controllerOf(v, VirtualMachine.KIND).getUid());
                assertFalse(Objects2.deleting(v), "another VM's VMI is never touched");
                Thread.sleep(50);
            }
        }
    }

    /** {@code --cascade=orphan} (the API server puts the "orphan" finalizer on the VM): the VMI keeps running. */
    @Test
    void deleteWithCascadeOrphanLeavesTheVmiRunning() throws Exception {
        VirtualMachine vm = MockApi.seedVm();
        vm.getSpec().setRunning(true);
        h.create(vm);
        VirtualMachineInstance vmi = h.runToRunning("testvm", null);
        h.client.resources(VirtualMachine.class).inNamespace("default").withName("testvm")
                .patch(PatchContext.of(PatchType.JSON), "[{\"op\":\"add\",\"path\":\"/metadata/finalizers/-\","
                        + "\"value\":\"orphan\"}]");
        h.client.resources(VirtualMachine.class).inNamespace("default").withName("testvm").delete();
        MockApi.await(ControllerHarness.WAIT, "the VM controller's finalizer released", () -> {
            VirtualMachine v = h.vm("testvm");
            return v == null || !v.getMetadata().getFinalizers().contains(VmReconciler.VM_FINALIZER);
        });
        long end = System.nanoTime() + QUIET.toNanos();
        while (System.nanoTime() < end) {
            VirtualMachineInstance v = h.vmi("testvm");
            assertNotNull(v);
            assertEquals(vmi.getMetadata().getUid(), v.getMetadata().getUid());
            assertFalse(Objects2.deleting(v), "--cascade=orphan must not stop the VMI");
            Thread.sleep(50);
        }
        assertEquals(1, h.podsOf(vmi).size());
    }
}
