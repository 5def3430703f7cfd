package io.qvirt.kvmprobe;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** --device on things that are not KVM: NONE with the right reason, never an exception. */
class DeviceProbeTest {
    private static ProbeReport probe(Path p) {
        return KvmProbe.probe(ProbeOptions.defaults().withDevice(p));
    }

    @Test
    void missingPath() {
        ProbeReport r = probe(Path.of("/nonexistent/kvm"));
        assertEquals(Verdict.NONE, r.verdict());
        assertEquals("missing", r.deviceStatus());
        assertTrue(r.reason().contains("/nonexistent/kvm does not exist"), r.reason());
        assertTrue(r.smoke().isEmpty());
    }

    @Test
    void regularFile(@TempDir Path dir) throws Exception {
        Path f = Files.writeString(dir.resolve("kvm"), "not a device");
        ProbeReport r = probe(f);
        assertEquals(Verdict.NONE, r.verdict());
        assertEquals("not-a-character-device", r.deviceStatus());
        assertTrue(r.reason().contains("is a regular file, not a character device"), r.reason());
    }

    @Test
    void directory(@TempDir Path dir) {
        ProbeReport r = probe(dir);
        assertEquals(Verdict.NONE, r.verdict());
        assertTrue(r.reason().contains("is a directory"), r.reason());
    }

    @Test
    void devNullIsNotKvm() {
        ProbeReport r = probe(Path.of("/dev/null"));
        assertEquals(Verdict.NONE, r.verdict());
        assertEquals("not-kvm", r.deviceStatus());
        assertTrue(r.reason().contains("/dev/null is not a KVM device"), r.reason());
        assertTrue(r.reason().contains("ENOTTY"), r.reason());
        assertEquals(-1, r.apiVersion());
    }

    @Test
    void hostInfoFromFakeSysfs(@TempDir Path dir) throws Exception {
        Files.createDirectories(dir.resolve("kvm_intel/parameters"));
        Files.writeString(dir.resolve("kvm_intel/parameters/nested"), "Y\n");
        Path cpuinfo = Files.writeString(dir.resolve("cpuinfo"), "processor\t: 0\nflags\t\t: fpu vmx lm\n");
        ProbeReport r = KvmProbe.probe(new ProbeOptions(Path.of("/nonexistent/kvm"), true,
                ProbeOptions.DEFAULT_SMOKE_TIMEOUT, dir, cpuinfo));
        assertEquals("kvm_intel", r.vendorModule());
        assertEquals("Y", r.nestedParameter());
        assertEquals(java.util.List.of("fpu", "vmx", "lm"), r.hostFlags());
        assertTrue(r.reason().contains("modprobe"), r.reason());
    }
}
