package io.qvirt.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.qvirt.launcher.control.VmPhase;
import io.qvirt.launcher.control.VmState;
import io.qvirt.launcher.plan.QemuOpts;
import io.qvirt.launcher.process.ExitStatus;
import org.junit.jupiter.api.Test;

class VmStateTest {
    @Test
    void qemuRunStatesMapToKubevirtPhases() {
        assertEquals("Scheduled (prelaunch)", VmState.fromQemu("prelaunch", null, null).describe());
        assertEquals("Running (running)", VmState.fromQemu("running", null, null).describe());
        assertEquals("Paused (paused)", VmState.fromQemu("paused", null, null).describe());
        assertEquals(VmPhase.SUCCEEDED, VmState.fromQemu("shutdown", null, null).phase());
        assertEquals("guest-shutdown", VmState.fromQemu("shutdown", null, null).reason(), "inferred with -no-shutdown");
        assertEquals("host-qmp-system-reset", VmState.fromQemu("shutdown", "host-qmp-system-reset", null).reason(), "a seen event wins");
        assertEquals("Failed (guest-panicked: guest-panicked: pvpanic)", VmState.fromQemu("guest-panicked", null, "pvpanic").describe());
        assertEquals(VmPhase.FAILED, VmState.fromQemu("internal-error", null, null).phase());
    }

    @Test
    void waitStatusesAreDecoded() {
        assertEquals("exit code 3", ExitStatus.fromWaitStatusForTest(3 << 8).describe());
        assertEquals("killed by signal 9 (SIGKILL)", ExitStatus.fromWaitStatusForTest(9).describe());
    }

    @Test
    void qemuOptionValuesEscapeCommas() {
        assertEquals("virtio-blk-pci,serial=a,,b,,drive=x", QemuOpts.of("virtio-blk-pci").put("serial", "a,b,drive=x").toString());
    }
}
