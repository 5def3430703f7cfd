package io.qvirt.launcher;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qvirt.api.FeatureGates;
import io.qvirt.api.LoadedManifest;
import io.qvirt.api.ManifestLoader;
import io.qvirt.api.VirtualMachineInstance;
import io.qvirt.api.VmiDefaults;
import io.qvirt.launcher.migrate.ArgvMismatchException;
import io.qvirt.launcher.migrate.LocalMigration;
import io.qvirt.launcher.migrate.QemuCommandLine;
import io.qvirt.launcher.plan.Accelerator;
import io.qvirt.launcher.plan.PlanOptions;
import io.qvirt.launcher.plan.ResolvedVolumes;
import io.qvirt.launcher.plan.RuntimePaths;
import io.qvirt.launcher.plan.VmPlan;
import io.qvirt.launcher.plan.VmPlanner;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * What {@code launcher migrate} compares and takes apart in QEMU command lines, on argvs the real planner
 * renders for the golden specs: the source as {@code run} or {@code exec} starts it, the target as migrate does.
 */
class MigrateCommandLineTest {
    private static final Path GOLDEN = Path.of("src/test/resources/golden");
    private static final Path QEMU = Path.of("/usr/bin/qemu-system-x86_64");
    private static final Accelerator TCG = new Accelerator(Accelerator.TCG, "test");

    private static VirtualMachineInstance vmi(String name) throws Exception {
        return vmi(name, null, null);
    }

    /** The golden spec, with {@code from} replaced by {@code to} in its text if given. */
    private static VirtualMachineInstance vmi(String name, String from, String to) throws Exception {
        String text = Files.readString(GOLDEN.resolve(name + ".yaml"));
        Path f = Files.createTempFile("migrate-test", ".yaml");
        try {
            Files.writeString(f, from == null ? text : text.replace(from, to));
            return load(f);
        } finally {
            Files.delete(f);
        }
    }

    private static VirtualMachineInstance load(Path file) throws Exception {
        LoadedManifest doc = ManifestLoader.loadOne(file);
        assertEquals(List.of(), doc.validate(FeatureGates.kubevirtDefaults().with(FeatureGates.HOST_DISK)));
        return VmiDefaults.apply(doc.vmi());
    }

    /** As run (owner monitor, fds from 3), exec (no owner monitor, fds from 512) or migrate's target plans it. */
    private static VmPlan plan(VirtualMachineInstance vmi, String dir, boolean owner, int firstFd) {
        return new VmPlanner(QEMU).plan(vmi, new PlanOptions(new RuntimePaths(Path.of(dir)), TCG, owner, true, "spec.",
                "127.0.0.1", p -> p + 10000, firstFd, ResolvedVolumes.NONE));
    }

    @Test
    void aTargetPlannedElsewhereMatchesASourceStartedByRunOrExec() throws Exception {
        for (String name : List.of("hostdisk", "masquerade", "cloudinit")) {
            VirtualMachineInstance v = vmi(name);
            VmPlan target = plan(v, "/tmp/other-root/ns/" + name, false, 3);
            VmPlan run = plan(v, "/run/qvirt/ns/" + name, true, 3);
            VmPlan exec = plan(v, "/run/qvirt/ns/" + name, false, 512);
            assertDoesNotThrow(() -> QemuCommandLine.requireSameMachine(run.argv(), run.paths().dir(), target.argv(),
                    target.paths().dir()), name + " from run");
            assertDoesNotThrow(() -> QemuCommandLine.requireSameMachine(exec.argv(), exec.paths().dir(), target.argv(),
                    target.paths().dir()), name + " from exec");
            // A VM migrated in before: started with -incoming and without its forwards (added once bound).
            List<String> migratedIn = new java.util.ArrayList<>(QemuCommandLine.withoutHostForwards(target.argv()).argv());
            migratedIn.addAll(List.of("-incoming", "defer"));
            assertDoesNotThrow(() -> QemuCommandLine.requireSameMachine(migratedIn, target.paths().dir(), run.argv(),
                    run.paths().dir()), name + " from a migrated-in QEMU");
        }
    }

    @Test
    void aDifferentMachineIsRefusedNamingWhatDiffers() throws Exception {
        VmPlan source = plan(vmi("hostdisk"), "/run/qvirt/ns1/hostdisk", true, 3);
        VmPlan target = plan(vmi("hostdisk", "memory: 64M", "memory: 96M"), "/tmp/t/ns1/hostdisk", false, 3);
        ArgvMismatchException e = assertThrows(ArgvMismatchException.class, () -> QemuCommandLine.requireSameMachine(
                source.argv(), source.paths().dir(), target.argv(), target.paths().dir()));
        assertEquals(2, e.differences().size(), e.differences().toString());
        assertEquals("source has \"-m 62M\", target has not", e.differences().get(0));
        assertTrue(e.differences().get(1).matches("target has \"-m [0-9]+M\", source has not"), e.differences().toString());
        assertTrue(e.getMessage().contains("refused before anything is sent"), e.getMessage());
    }

    @Test
    void aDifferentQemuBinaryOrDeviceOrderIsRefused() throws Exception {
        VmPlan source = plan(vmi("hostdisk"), "/run/qvirt/ns1/hostdisk", true, 3);
        List<String> other = new java.util.ArrayList<>(source.argv());
        other.set(0, "/opt/qemu-8/bin/qemu-system-x86_64");
        ArgvMismatchException e = assertThrows(ArgvMismatchException.class, () -> QemuCommandLine.requireSameMachine(
                source.argv(), source.paths().dir(), other, source.paths().dir()));
        assertTrue(e.differences().get(0).startsWith("source runs \"/usr/bin/qemu-system-x86_64\""), e.differences().toString());

        List<String> swapped = new java.util.ArrayList<>(source.argv());
        int a = swapped.indexOf("virtio-blk-pci,drive=vol0,id=ua-root,bootindex=1,serial=d1");
        int b = swapped.indexOf("ide-hd,bus=ide.0,drive=vol1,id=ua-scratch");
        swapped.set(a, source.argv().get(b));
        swapped.set(b, source.argv().get(a));
        ArgvMismatchException e2 = assertThrows(ArgvMismatchException.class, () -> QemuCommandLine.requireSameMachine(
                source.argv(), source.paths().dir(), swapped, source.paths().dir()));
        assertTrue(e2.differences().get(0).contains("different order"), e2.differences().toString());
    }

    @Test
    void hostForwardsAreTakenOutOfTheNetdevAndKeptForLater() throws Exception {
        VmPlan p = plan(vmi("masquerade"), "/run/qvirt/default/web", false, 3);
        QemuCommandLine.WithoutForwards wf = QemuCommandLine.withoutHostForwards(p.argv());
        assertEquals(List.of(new QemuCommandLine.HostForwardRule("net0", "tcp:127.0.0.1:10080-:80"),
                new QemuCommandLine.HostForwardRule("net0", "udp:127.0.0.1:10053-:53")), wf.forwards());
        String netdev = wf.argv().get(wf.argv().indexOf("-netdev") + 1);
        assertTrue(netdev.startsWith("user,id=net0,") && !netdev.contains("hostfwd"), netdev);
        assertEquals(p.argv().size(), wf.argv().size(), "only the netdev's value changed");
    }

    @Test
    void onlyWritableDiskFilesInTheVmsOwnDirectoryAreCopied() throws Exception {
        VmPlan host = plan(vmi("hostdisk"), "/run/qvirt/ns1/hostdisk", false, 3);
        assertEquals(List.of("vol1"), LocalMigration.ownDiskNodes(host.argv(), host.paths().dir()),
                "the emptyDisk is copied, the hostDisk is shared");
        VmPlan ci = plan(vmi("cloudinit"), "/run/qvirt/ns/ci", false, 3);
        assertEquals(List.of(), LocalMigration.ownDiskNodes(ci.argv(), ci.paths().dir()),
                "a hostDisk root is shared; the cloud-init ISO (read-only) is made again, not copied");
    }
}
