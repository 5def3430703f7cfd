package io.qvirt.kvmprobe;

import io.qvirt.kvmprobe.guest.SmokeGuests;
import jnr.ffi.Pointer;
import org.junit.jupiter.api.Test;

import java.util.HexFormat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A guest that never exits must end as a {@code timeout} result, not a hang. Needs a KVM device that can
 * at least run real mode (this machine's kvm_pvm can); skipped where there is none.
 */
class SmokeTimeoutTest {
    @Test
    void endlessGuestTimesOut() throws Exception {
        ProbeReport r = KvmProbe.probe(ProbeOptions.defaults().withRunSmoke(true));
        assumeTrue(!r.smoke().isEmpty() && r.smoke().get(0).passed(), "no KVM that runs real mode: " + r.reason());
        Native n = Native.get();
        int fd = n.open("/dev/kvm", Native.O_RDWR | Native.O_CLOEXEC);
        try {
            int mmap = n.ioctl(fd, Kvm.GET_VCPU_MMAP_SIZE, 0, "KVM_GET_VCPU_MMAP_SIZE");
            SmokeRunner runner = new SmokeRunner(n, fd, mmap, (Pointer) null);
            byte[] spin = HexFormat.of().parseHex("b001e680ebfe"); // out 1 to port 0x80; jmp $
            long t0 = System.nanoTime();
            SmokeResult s = runner.run("spin", spin, 300);
            double ms = (System.nanoTime() - t0) / 1e6;
            assertFalse(s.passed());
            assertEquals("timeout", s.outcome(), s.detail());
            assertTrue(s.detail().contains("did not finish within 300 ms"), s.detail());
            assertEquals(1, s.lastStage());
            assertTrue(ms >= 290 && ms < 3000, "took " + ms + " ms");
            assertEquals(SmokeGuests.LOAD_ADDRESS + 4, s.rip(), "stopped on the jmp");
            // The vCPU thread is usable afterwards: a real guest still passes.
            SmokeResult ok = runner.run("real-mode", SmokeGuests.realMode(), 2000);
            assertTrue(ok.passed(), ok.detail());
        } finally {
            n.close(fd);
        }
    }
}
