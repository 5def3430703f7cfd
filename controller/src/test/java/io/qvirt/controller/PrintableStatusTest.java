package io.qvirt.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.qvirt.api.LoadedManifest;
import io.qvirt.api.VirtualMachine;
import io.qvirt.api.VirtualMachineInstance;
import io.qvirt.api.model.Condition;
import io.qvirt.api.model.StartFailure;
import io.qvirt.api.model.VirtualMachineInstanceStatus;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The VM's printableStatus, row by row as KubeVirt's setPrintableStatus (first match of Terminating, Stopping,
 * Paused, Running, ErrorPvcNotFound, ErrorUnschedulable, WaitingForVolumeBinding, ErrImagePull, ImagePullBackOff,
 * Starting, CrashLoopBackOff, Stopped; else Unknown); no API server. WaitingForVolumeBinding (a claim in the
 * controller's cache) is VolumeClaimsTest's.
 */
class PrintableStatusTest {
    /**
     * Columns: strategy; VM deleting; VMI phase ("none": no VMI); VMI deleting; this pass's action; a VMI
     * condition (type:status:reason, or empty); the crash-loop count; expected printableStatus.
     */
    @ParameterizedTest(name = "{0}, vm deleting {1}, VMI {2} deleting {3}, {4}, {5}, fails {6} -> {7}")
    @CsvSource({
        "Always,         true,  Running,    false, NONE,    ,                                 0, Terminating",
        "Always,         false, Running,    true,  NONE,    ,                                 0, Stopping",
        "Halted,         false, Running,    false, DELETED, ,                                 0, Stopping",
        "Always,         false, Running,    false, NONE,    Paused:True:PausedByUser,         0, Paused",
        "Always,         false, Running,    false, NONE,    Paused:False:,                    0, Running",
        "Always,         false, Running,    false, NONE,    ,                                 2, Running",
        "Always,         false, Pending,    false, NONE,    Synchronized:False:FailedPvcNotFound, 0, ErrorPvcNotFound",
        "Always,         false, Scheduling, false, NONE,    PodScheduled:False:Unschedulable, 0, ErrorUnschedulable",
        "Always,         false, Scheduling, false, NONE,    Synchronized:False:ErrImagePull,  0, ErrImagePull",
        "Always,         false, Scheduling, false, NONE,    Synchronized:False:ImagePullBackOff, 0, ImagePullBackOff",
        "Always,         false, Pending,    false, NONE,    Synchronized:False:FailedCreate,  0, Starting",
        "Always,         false, Scheduled,  false, NONE,    ,                                 0, Starting",
        "Always,         false, none,       false, CREATED, ,                                 0, Starting",
        "Always,         false, none,       false, CREATED, ,                                 3, Starting",
        "Always,         false, none,       false, NONE,    ,                                 1, CrashLoopBackOff",
        "RerunOnFailure, false, Failed,     false, NONE,    ,                                 1, CrashLoopBackOff",
        "Once,           false, Failed,     false, NONE,    ,                                 1, CrashLoopBackOff",
        "Manual,         false, Failed,     false, NONE,    ,                                 1, Stopped",
        "Halted,         false, none,       false, NONE,    ,                                 1, Stopped",
        "Always,         false, Succeeded,  false, NONE,    ,                                 0, Stopped",
        "Halted,         false, none,       false, NONE,    ,                                 0, Stopped",
        "Always,         false, Unknown,    false, NONE,    ,                                 0, Unknown",
    })
    void printableStatus(String strategy, boolean vmDeleting, String phase, boolean vmiDeleting, String action,
                         String condition, int failures, String expected) {
        VirtualMachine vm = MockApi.seedVm();
        vm.getSpec().setRunning(null);
        vm.getSpec().setRunStrategy(strategy);
        if (vmDeleting) {
            vm.getMetadata().setDeletionTimestamp("2026-12-01T00:00:00Z");
        }
        VirtualMachineInstance vmi = null;
        if (!"none".equals(phase)) {
            vmi = LoadedManifest.fromVm(vm);
            VirtualMachineInstanceStatus st = new VirtualMachineInstanceStatus();
            st.setPhase(phase);
            List<Condition> conds = new ArrayList<>();
            if (condition != null) {
                String[] p = condition.split(":", -1);
                Condition c = new Condition();
                c.setType(p[0]);
                c.setStatus(p[1]);
                c.setReason(p[2].isEmpty() ? null : p[2]);
                conds.add(c);
            }
            st.setConditions(conds);
            vmi.setStatus(st);
            if (vmiDeleting) {
                vmi.getMetadata().setDeletionTimestamp("2026-12-01T00:00:00Z");
            }
        }
        StartFailure f = null;
        if (failures > 0) {
            f = new StartFailure();
            f.setConsecutiveFailCount(failures);
        }
        assertEquals(expected, VmReconciler.printable(vm, vmi, VmReconciler.Action.valueOf(action), f));
    }
}
