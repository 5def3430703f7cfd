package io.qvirt.handler.vmi;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** {@link QemuProcess} against a real QEMU process (no guest: {@code -machine none -S}). */
class QemuProcessTest {
    @Test
    void findsTheQemuNamedForTheVmAndNothingElse() throws Exception {
        Process q = new ProcessBuilder("qemu-system-x86_64", "-name", "guest=ns1_vm-a,debug-threads=on", "-machine", "none",
                "-nodefaults", "-S", "-display", "none", "-monitor", "none", "-serial", "none").start();
        try {
            long pid = q.pid();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (QemuProcess.find("ns1", "vm-a", -1) != pid && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertEquals(pid, QemuProcess.find("ns1", "vm-a", -1), "found by scanning /proc");
            assertEquals(pid, QemuProcess.find("ns1", "vm-a", pid), "the hint, checked");
            assertEquals(pid, QemuProcess.find("ns1", "vm-a", ProcessHandle.current().pid()),
                    "a hint that is not this QEMU (a pid from another pid namespace) is not trusted");
            assertEquals(-1, QemuProcess.find("ns1", "vm", -1), "a name that is only a prefix is another VM");
            assertEquals(-1, QemuProcess.find("ns", "1_vm-a", pid), "namespace and name are not mixed up");
        } finally {
            q.destroyForcibly();
            q.waitFor(10, TimeUnit.SECONDS);
        }
        assertEquals(-1, QemuProcess.find("ns1", "vm-a", -1), "gone with its process");
    }
}
