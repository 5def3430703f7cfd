package io.qvirt.launcher.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qvirt.api.FeatureGates;
import io.qvirt.api.FieldError;
import io.qvirt.api.LoadedManifest;
import io.qvirt.api.ManifestLoader;
import io.qvirt.api.ValidationException;
import io.qvirt.api.VirtualMachineInstance;
import io.qvirt.api.VmiDefaults;
import io.qvirt.kvmprobe.ProbeReport;
import io.qvirt.kvmprobe.Timings;
import io.qvirt.kvmprobe.Verdict;
import io.qvirt.launcher.plan.Accelerator;
import io.qvirt.launcher.plan.PlanOptions;
import io.qvirt.launcher.plan.ResolvedVolumes;
import io.qvirt.launcher.plan.RuntimePaths;
import io.qvirt.launcher.plan.VmPlan;
import io.qvirt.launcher.plan.VmPlanner;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link HostFitCheck} on numbers fed through {@link HostFacts}, and once on this host. */
class HostFitCheckTest {
    private static final long MIB = 1L << 20;
    private static final long GIB = 1L << 30;
    private static final Accelerator TCG = new Accelerator(Accelerator.TCG, "test");
    private static final Accelerator KVM = new Accelerator(Accelerator.KVM, "test");

    @TempDir
    Path tmp;

    /** Fixed facts; every new file lands on one file system named "fs0" unless under "/other". */
    record Facts(long mem, int kvmMax, long usable) implements HostFacts {
        @Override
        public long memAvailableBytes() {
            return mem;
        }

        @Override
        public int kvmMaxVcpus() {
            return kvmMax;
        }

        @Override
        public DiskSpace diskSpace(Path file) {
            return new DiskSpace(file.startsWith("/other") ? "fs1" : "fs0", usable);
        }
    }

    private record Planned(VirtualMachineInstance vmi, VmPlan plan, String prefix) {
    }

    /** A VM (kind VirtualMachine) or VMI with {@code domain} and {@code volumes} YAML under its spec. */
    private Planned plan(boolean vm, String domain, String volumes, Accelerator accel) throws Exception {
        return plan(vm, domain, "", volumes, accel);
    }

    /** {@code moreDisks}: disks after the first (root), as YAML list items. */
    private Planned plan(boolean vm, String domain, String moreDisks, String volumes, Accelerator accel) throws Exception {
        String spec = """
                domain:
                %s
                  devices:
                    autoattachPodInterface: false
                    disks:
                    - name: root
                      disk: {bus: virtio}
                %s
                volumes:
                %s
                """.formatted(domain.indent(2).stripTrailing(), moreDisks.indent(4).stripTrailing(),
                volumes.indent(0).stripTrailing());
        String yaml = vm
                ? "apiVersion: kubevirt.io/v1\nkind: VirtualMachine\nmetadata: {name: fit, namespace: default}\n"
                + "spec:\n  running: true\n  template:\n    spec:\n" + spec.indent(6)
                : "apiVersion: kubevirt.io/v1\nkind: VirtualMachineInstance\nmetadata: {name: fit, namespace: default}\n"
                + "spec:\n" + spec.indent(2);
        Path f = tmp.resolve("fit.yaml");
        Files.writeString(f, yaml);
        LoadedManifest doc = ManifestLoader.loadOne(f);
        assertEquals(List.of(), doc.validate(FeatureGates.kubevirtDefaults().with(FeatureGates.HOST_DISK)), yaml);
        VirtualMachineInstance vmi = VmiDefaults.apply(doc.vmi());
        String prefix = vm ? "spec.template.spec." : "spec.";
        VmPlan plan = new VmPlanner(Path.of("/usr/bin/qemu-system-x86_64")).plan(vmi, new PlanOptions(
                new RuntimePaths(tmp.resolve("run")), accel, true, true, prefix, "127.0.0.1", p -> p,
                PlanOptions.SPAWN_FIRST_FD, ResolvedVolumes.placeholders(vmi)));
        return new Planned(vmi, plan, prefix);
    }

    private static final String EXISTING_DISK = "- name: root\n  emptyDisk: {capacity: 1Gi}";

    private Planned memory(String quantity) throws Exception {
        return plan(false, "resources:\n  requests:\n    memory: " + quantity, EXISTING_DISK, TCG);
    }

    private static List<FieldError> problems(HostFacts facts, int overcommit, Planned p) {
        return new HostFitCheck(facts, overcommit).problems(p.vmi(), p.plan(), p.prefix());
    }

    @Test
    void memoryAboveMemAvailableIsRefusedByFieldWithTheNumbers() throws Exception {
        HostFacts host = new Facts(4 * GIB, -1, Long.MAX_VALUE);
        assertEquals(List.of(), problems(host, 0, memory("4Gi")), "exactly MemAvailable fits");
        List<FieldError> e = problems(host, 0, memory("4097Mi"));
        assertEquals(1, e.size(), e.toString());
        assertEquals("spec.domain.resources.requests.memory", e.get(0).path());
        assertEquals("4.0 GiB (4296015872 bytes) of guest memory is more than this host can give: MemAvailable is "
                + "4.0 GiB (4294967296 bytes) and --overcommit is 0 (give --overcommit PERCENT to allow more)",
                e.get(0).message());

        ValidationException ex = assertThrows(ValidationException.class,
                () -> new HostFitCheck(host, 0).check(memory("8Gi").vmi(), memory("8Gi").plan(), "spec."));
        assertTrue(ex.getMessage().startsWith("VirtualMachineInstance default/fit (what this host can hold) is invalid"),
                ex.getMessage());
        assertTrue(ex.getMessage().contains("spec.domain.resources.requests.memory: 8.0 GiB (8589934592 bytes)"),
                ex.getMessage());
    }

    @Test
    void overcommitAllowsThatPercentOfMemAvailableMore() throws Exception {
        HostFacts host = new Facts(4 * GIB, -1, Long.MAX_VALUE);
        assertEquals(List.of(), problems(host, 50, memory("6Gi")), "4 GiB + 50% = 6 GiB");
        List<FieldError> e = problems(host, 50, memory("6145Mi"));
        assertEquals(1, e.size(), e.toString());
        assertEquals("6.0 GiB (6443499520 bytes) of guest memory is more than this host can give: MemAvailable "
                + "4.0 GiB (4294967296 bytes) + 50% (--overcommit) = 6.0 GiB (6442450944 bytes)", e.get(0).message());
        // A huge percentage saturates instead of overflowing into a negative limit.
        assertEquals(List.of(), problems(new Facts(Long.MAX_VALUE / 2, -1, 0), Integer.MAX_VALUE, memory("100Ti")));
        assertThrows(IllegalArgumentException.class, () -> new HostFitCheck(host, -1));
    }

    @Test
    void memoryGuestIsNamedWhenItIsWhatTheSpecAsksFor() throws Exception {
        Planned p = plan(true, "memory:\n  guest: 3Gi\nresources:\n  requests:\n    memory: 1Gi", EXISTING_DISK, TCG);
        List<FieldError> e = problems(new Facts(2 * GIB, -1, Long.MAX_VALUE), 0, p);
        assertEquals(List.of("spec.template.spec.domain.memory.guest"), e.stream().map(FieldError::path).toList());
        assertTrue(e.get(0).message().startsWith("3.0 GiB (3221225472 bytes) of guest memory"), e.toString());
    }

    @Test
    void guestMemoryBelowTheRequestIsWhatIsChecked() throws Exception {
        Planned p = plan(false, "memory:\n  guest: 1Gi\nresources:\n  requests:\n    memory: 3Gi", EXISTING_DISK, TCG);
        assertEquals(List.of(), problems(new Facts(2 * GIB, -1, Long.MAX_VALUE), 0, p));
    }

    @Test
    void unknownMemAvailableIsNotChecked() throws Exception {
        assertEquals(List.of(), problems(new Facts(-1, -1, -1), 0, memory("1Ti")));
    }

    private Planned cpus(String cpu, String machine, Accelerator accel) throws Exception {
        return plan(false, "cpu: " + cpu + (machine == null ? "" : "\nmachine: {type: " + machine + "}")
                + "\nresources:\n  requests:\n    memory: 64Mi", EXISTING_DISK, accel);
    }

    @Test
    void vcpusAboveQemusMachineLimitAreRefusedUnderTcg() throws Exception {
        HostFacts host = new Facts(64 * GIB, 8, Long.MAX_VALUE);
        assertEquals(List.of(), problems(host, 0, cpus("{cores: 288}", null, TCG)), "q35 takes 288; KVM's 8 is not TCG's");
        List<FieldError> e = problems(host, 0, cpus("{sockets: 1, cores: 289, threads: 1}", null, TCG));
        assertEquals(1, e.size(), e.toString());
        assertEquals("spec.domain.cpu.cores", e.get(0).path());
        assertEquals("1 sockets x 289 cores x 1 threads = 289 vCPUs; at most 288 can run here (QEMU's limit for "
                + "machine type q35, accelerator tcg)", e.get(0).message());

        e = problems(host, 0, cpus("{sockets: 17, cores: 4, threads: 5}", "pc-q35-7.2", TCG));
        assertEquals("spec.domain.cpu.sockets", e.get(0).path(), "the largest factor is named");
        assertTrue(e.get(0).message().contains("= 340 vCPUs; at most 288 can run here (QEMU's limit for machine type "
                + "pc-q35-7.2"), e.toString());
        e = problems(host, 0, cpus("{sockets: 1, cores: 2, threads: 145}", null, TCG));
        assertEquals("spec.domain.cpu.threads", e.get(0).path(), e.toString());
        e = problems(host, 0, cpus("{sockets: 2000000000, cores: 2000000000, threads: 2000000000}", null, TCG));
        assertTrue(e.get(0).message().contains("= more than " + Long.MAX_VALUE + " vCPUs"), "no overflow: " + e);
    }

    @Test
    void vcpusAboveKvmsLimitAreRefusedUnderKvm() throws Exception {
        HostFacts host = new Facts(64 * GIB, 8, Long.MAX_VALUE);
        assertEquals(List.of(), problems(host, 0, cpus("{cores: 4, threads: 2}", null, KVM)));
        List<FieldError> e = problems(host, 0, cpus("{cores: 3, threads: 3}", null, KVM));
        assertEquals("spec.domain.cpu.cores", e.get(0).path(), "a tie names cores");
        assertEquals("1 sockets x 3 cores x 3 threads = 9 vCPUs; at most 8 can run here (KVM_CAP_MAX_VCPUS of this "
                + "host's /dev/kvm, accelerator kvm)", e.get(0).message());
        // KVM allowing more than the machine type: QEMU's limit still holds.
        e = problems(new Facts(64 * GIB, 1024, Long.MAX_VALUE), 0, cpus("{cores: 300}", null, KVM));
        assertTrue(e.get(0).message().contains("at most 288 can run here (QEMU's limit for machine type q35"), e.toString());
    }

    @Test
    void kvmsLimitComesFromTheProbeReport() {
        assertEquals(-1, AcceleratorChooser.maxVcpus(null));
        assertEquals(-1, AcceleratorChooser.maxVcpus(report(Map.of())), "API not reached");
        assertEquals(1024, AcceleratorChooser.maxVcpus(report(Map.of("MAX_VCPUS", 1024, "NR_VCPUS", 2))));
        assertEquals(2, AcceleratorChooser.maxVcpus(report(Map.of("MAX_VCPUS", 0, "NR_VCPUS", 2))));
        assertEquals(4, AcceleratorChooser.maxVcpus(report(Map.of("MAX_VCPUS", -1, "NR_VCPUS", 0))));
        AcceleratorChooser chooser = new AcceleratorChooser(() -> report(Map.of("MAX_VCPUS", 710)));
        assertEquals(-1, chooser.kvmMaxVcpus(), "nothing probed yet");
        chooser.choose(AccelMode.AUTO, true);
        assertEquals(710, chooser.kvmMaxVcpus());
    }

    private static ProbeReport report(Map<String, Integer> caps) {
        return new ProbeReport(Verdict.FULL, "test", "/dev/kvm", "ok", 12, 12288, new LinkedHashMap<>(caps),
                "kvm_intel", null, false, List.of(), List.of(), List.of(), true, new Timings(0, 0, 0, 0, 0));
    }

    private static String hostDisk(String path, String capacity) {
        return "- name: root\n  hostDisk: {path: " + path + ", type: DiskOrCreate, capacity: " + capacity + "}";
    }

    @Test
    void diskOrCreateLargerThanItsFileSystemIsRefusedByField() throws Exception {
        String mem = "resources:\n  requests:\n    memory: 64Mi";
        Path img = tmp.resolve("images/root.img");
        Planned fits = plan(false, mem, hostDisk(img.toString(), "10Gi"), TCG);
        assertEquals(List.of(), problems(new Facts(64 * GIB, -1, 10 * GIB), 0, fits));
        Planned big = plan(false, mem, hostDisk(img.toString(), "11Gi"), TCG);
        List<FieldError> e = problems(new Facts(64 * GIB, -1, 10 * GIB), 0, big);
        assertEquals(1, e.size(), e.toString());
        assertEquals("spec.volumes[0].hostDisk.capacity", e.get(0).path());
        assertEquals("11.0 GiB (11811160064 bytes) for new image " + img + " does not fit: its file system fs0 has "
                + "10.0 GiB (10737418240 bytes) usable", e.get(0).message());

        // An image that exists already is used as it is: nothing to create, nothing to check.
        Files.createDirectories(img.getParent());
        Files.write(img, new byte[512]);
        assertEquals(List.of(), problems(new Facts(64 * GIB, -1, 0), 0, plan(false, mem, hostDisk(img.toString(), "11Gi"), TCG)));
    }

    @Test
    void newImagesOnOneFileSystemAreAddedUp() throws Exception {
        String domain = "resources:\n  requests:\n    memory: 64Mi";
        String second = "- name: second\n  disk: {bus: virtio}";
        String volumes = hostDisk(tmp.resolve("a.img").toString(), "6Gi") + "\n"
                + hostDisk(tmp.resolve("b.img").toString(), "6Gi").replace("name: root", "name: second");
        Planned p = plan(false, domain, second, volumes, TCG);
        List<FieldError> e = problems(new Facts(64 * GIB, -1, 10 * GIB), 0, p);
        assertEquals(List.of("spec.volumes[1].hostDisk.capacity"), e.stream().map(FieldError::path).toList());
        assertTrue(e.get(0).message().endsWith("has 10.0 GiB (10737418240 bytes) usable, 6.0 GiB (6442450944 bytes) "
                + "of it for the VM's other new hostDisk images"), e.toString());
        // On two file systems each fits.
        String apart = hostDisk(tmp.resolve("a.img").toString(), "6Gi") + "\n"
                + hostDisk("/other/b.img", "6Gi").replace("name: root", "name: second");
        assertEquals(List.of(), problems(new Facts(64 * GIB, -1, 10 * GIB), 0, plan(false, domain, second, apart, TCG)));
    }

    @Test
    void everyProblemIsReportedAtOnce() throws Exception {
        Planned p = plan(true, "cpu: {cores: 500}\nresources:\n  requests:\n    memory: 2Gi",
                hostDisk(tmp.resolve("x.img").toString(), "2Gi"), TCG);
        List<FieldError> e = problems(new Facts(GIB, -1, GIB), 0, p);
        assertEquals(List.of("spec.template.spec.domain.resources.requests.memory", "spec.template.spec.domain.cpu.cores",
                "spec.template.spec.volumes[0].hostDisk.capacity"), e.stream().map(FieldError::path).toList());
    }

    /** The real host: /proc/meminfo and statvfs, read the way the launcher reads them. */
    @Test
    void realHostFactsAndRefusals() throws Exception {
        HostFacts host = HostFacts.host(() -> -1);
        long mem = host.memAvailableBytes();
        String line = Files.readAllLines(Path.of("/proc/meminfo")).stream().filter(l -> l.startsWith("MemAvailable:"))
                .findFirst().orElseThrow();
        long kb = Long.parseLong(line.replaceAll("[^0-9]", ""));
        assertTrue(Math.abs(mem - kb * 1024) < 512 * MIB, mem + " vs " + line);

        Path img = tmp.resolve("not/yet/made/disk.img");
        HostFacts.DiskSpace space = host.diskSpace(img);
        FileStore fs = Files.getFileStore(tmp);
        assertEquals(fs.toString(), space.store(), "the nearest existing ancestor's file system");
        assertTrue(Math.abs(space.usableBytes() - fs.getUsableSpace()) < 256 * MIB, space + " vs " + fs.getUsableSpace());
        assertTrue(!Files.exists(tmp.resolve("not")), "reading facts makes nothing");

        Planned ok = plan(false, "resources:\n  requests:\n    memory: 64Mi", hostDisk(img.toString(), "1Mi"), TCG);
        assertEquals(List.of(), problems(host, 0, ok));
        long tooMuchMem = (mem / MIB + 1024) * MIB;
        long tooBig = (fs.getUsableSpace() / MIB + 1024 * 1024) * MIB;
        Planned bad = plan(false, "resources:\n  requests:\n    memory: " + (tooMuchMem / MIB) + "Mi",
                hostDisk(img.toString(), (tooBig / MIB) + "Mi"), TCG);
        assertEquals(List.of("spec.domain.resources.requests.memory", "spec.volumes[0].hostDisk.capacity"),
                problems(host, 0, bad).stream().map(FieldError::path).toList());
    }

    @Test
    void memAvailableIsReadInBytes() throws Exception {
        Path f = tmp.resolve("meminfo");
        Files.writeString(f, "MemTotal:       24683652 kB\nMemFree:        21772904 kB\nMemAvailable:   22529004 kB\n");
        assertEquals(22529004L * 1024, HostFacts.memAvailable(f));
        Files.writeString(f, "MemTotal:       24683652 kB\n");
        assertEquals(-1, HostFacts.memAvailable(f));
        assertEquals(-1, HostFacts.memAvailable(tmp.resolve("absent")));
    }
}
