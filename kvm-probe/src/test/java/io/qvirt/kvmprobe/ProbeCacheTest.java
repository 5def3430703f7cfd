package io.qvirt.kvmprobe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The per-boot report cache: kept while its key holds, probed again when any part of the key changes. */
class ProbeCacheTest {
    @TempDir
    Path dir;

    private final AtomicInteger probes = new AtomicInteger();

    /** The real probe (on a device path of the test's), counting its runs. */
    private final Function<ProbeOptions, ProbeReport> probe = o -> {
        probes.incrementAndGet();
        return KvmProbe.probe(o);
    };

    private ProbeCache cache(String bootId) throws Exception {
        Path proc = dir.resolve("proc");
        Files.createDirectories(proc.resolve("sys/kernel/random"));
        Files.writeString(proc.resolve("sys/kernel/random/boot_id"), bootId + "\n");
        Files.writeString(proc.resolve("sys/kernel/osrelease"), "6.1.0-test\n");
        return new ProbeCache(dir.resolve("cache.json"), proc);
    }

    private ProbeOptions options(Path device) {
        return ProbeOptions.defaults().withDevice(device);
    }

    @Test
    void aKeptReportIsReturnedWithoutProbingUntilTheBootChanges() throws Exception {
        ProbeOptions o = options(dir.resolve("no-such-kvm"));
        ProbeReport first = cache("boot-a").report(o, probe);
        assertEquals("missing", first.deviceStatus());
        assertEquals(1, probes.get());
        ProbeReport again = cache("boot-a").report(o, probe);
        assertEquals(1, probes.get(), "kept for this boot");
        assertEquals(first.verdict(), again.verdict());
        assertEquals(first.reason(), again.reason());
        assertEquals(first.hostFlags(), again.hostFlags());
        cache("boot-b").report(o, probe);
        assertEquals(2, probes.get(), "another boot probes again");
        String mode = PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("cache.json")));
        assertEquals("rw-------", mode);
    }

    @Test
    void aChangedDeviceNodeIsProbedAgain() throws Exception {
        Path dev = dir.resolve("kvm");
        ProbeOptions o = options(dev);
        assertEquals("missing", cache("b").report(o, probe).deviceStatus());
        Files.writeString(dev, "");
        assertEquals("not-a-character-device", cache("b").report(o, probe).deviceStatus(), "it appeared");
        assertEquals(2, probes.get());
        cache("b").report(o, probe);
        assertEquals(2, probes.get());
        Thread.sleep(20); // ctime has nanoseconds here, but the change must not fall in the same tick
        Files.setPosixFilePermissions(dev, PosixFilePermissions.fromString("rw-rw----"));
        cache("b").report(o, probe);
        assertEquals(3, probes.get(), "chmod changes ctime and mode: probed again");
        cache("b").report(o.withRunSmoke(false), probe);
        assertEquals(4, probes.get(), "other options: probed again");
    }

    @Test
    void transientReportsAreNotKept() {
        ProbeReport openFailed = new ProbeReport(Verdict.NONE, "r", "/dev/kvm", "open-failed", -1, -1,
                java.util.Map.of(), null, null, false, List.of(), List.of(), List.of(), false,
                new Timings(0, 0, 0, 0, 0));
        assertTrue(!ProbeCache.keepable(openFailed));
        ProbeReport timedOut = new ProbeReport(Verdict.LIMITED, "r", "/dev/kvm", "ok", 12, 1, java.util.Map.of(),
                "kvm_intel", "Y", false, List.of(), List.of(),
                List.of(new SmokeResult("real-mode", false, "timeout", "d", 1, "s", -1, 0, 3, 2000)), false,
                new Timings(0, 0, 0, 0, 0));
        assertTrue(!ProbeCache.keepable(timedOut));
        assertTrue(ProbeCache.keepable(ProbeReportTest.report(Verdict.LIMITED, List.of())));
    }

    @Test
    void aFileOthersMayWriteIsNotTrusted() throws Exception {
        ProbeOptions o = options(dir.resolve("no-such-kvm"));
        cache("b").report(o, probe);
        Files.setPosixFilePermissions(dir.resolve("cache.json"), PosixFilePermissions.fromString("rw-rw-rw-"));
        cache("b").report(o, probe);
        assertEquals(2, probes.get());
    }

    @Test
    void whereTheFileIs() {
        assertNull(ProbeCache.standardFile("off", "/run/user/1000", 1000));
        assertEquals(Path.of("/x/c.json"), ProbeCache.standardFile("/x/c.json", null, 0));
        assertEquals(Path.of("/run/qvirt-kvm-probe.json"), ProbeCache.standardFile(null, null, 0));
        assertEquals(Path.of("/run/user/1000/qvirt-kvm-probe.json"), ProbeCache.standardFile(null, "/run/user/1000", 1000));
        assertNull(ProbeCache.standardFile(null, null, 1000));
        assertNull(new ProbeCache(null, Path.of("/proc")).file());
    }
}
