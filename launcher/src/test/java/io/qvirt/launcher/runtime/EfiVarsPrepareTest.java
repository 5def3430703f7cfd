package io.qvirt.launcher.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qvirt.api.LoadedManifest;
import io.qvirt.api.ManifestLoader;
import io.qvirt.api.VirtualMachineInstance;
import io.qvirt.api.VmiDefaults;
import io.qvirt.launcher.plan.Accelerator;
import io.qvirt.launcher.plan.PlanOptions;
import io.qvirt.launcher.plan.QemuConfigurator;
import io.qvirt.launcher.plan.ResolvedVolumes;
import io.qvirt.launcher.plan.VmPlan;
import io.qvirt.launcher.plan.VmPlanner;
import io.qvirt.launcher.plan.config.FirmwareConfigurator;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The EFI variable store is copied into the VM's directory by {@link VmPreparer} (real files, a real directory),
 * goes with the VM, and a copy that cannot be made leaves nothing behind.
 */
class EfiVarsPrepareTest {
    @TempDir
    Path tmp;

    private VmPlan plan(Path root, Path ovmf, VirtualMachineInstance vmi) {
        List<QemuConfigurator> cs = new ArrayList<>(VmPlanner.defaultConfigurators());
        cs.replaceAll(c -> c instanceof FirmwareConfigurator ? new FirmwareConfigurator(ovmf) : c);
        return new VmPlanner(Path.of("/usr/bin/qemu-system-x86_64"), cs).plan(vmi, new PlanOptions(
                RuntimeDir.paths(root, "default", "e"), new Accelerator(Accelerator.TCG, "t"), true, true, "spec.",
                "127.0.0.1", x -> x, PlanOptions.SPAWN_FIRST_FD, ResolvedVolumes.NONE));
    }

    private static VirtualMachineInstance vmi() throws Exception {
        LoadedManifest doc = ManifestLoader.loadString("""
                apiVersion: kubevirt.io/v1
                kind: VirtualMachineInstance
                metadata: {name: e}
                spec:
                  domain:
                    firmware: {bootloader: {efi: {secureBoot: false}}}
                    devices: {autoattachPodInterface: false}
                    resources: {requests: {memory: 64M}}
                """, "inline").get(0);
        return VmiDefaults.apply(doc.vmi());
    }

    private Path ovmf() throws Exception {
        Path d = Files.createDirectories(tmp.resolve("OVMF"));
        Files.write(d.resolve("OVMF_CODE_4M.fd"), new byte[] {1, 2, 3});
        Files.write(d.resolve("OVMF_VARS_4M.fd"), new byte[] {4, 5, 6, 7});
        return d;
    }

    @Test
    void theVmGetsItsOwnCopyWhichGoesWithIt() throws Exception {
        Path ovmf = ovmf();
        Path root = tmp.resolve("run");
        VirtualMachineInstance vmi = vmi();
        VmPlan plan = plan(root, ovmf, vmi);
        try (PreparedVm vm = VmPreparer.prepare(root, plan, vmi)) {
            Path vars = vm.paths().efiVars();
            assertArrayEquals(new byte[] {4, 5, 6, 7}, Files.readAllBytes(vars));
            Files.write(vars, new byte[] {9});
            assertArrayEquals(new byte[] {4, 5, 6, 7}, Files.readAllBytes(ovmf.resolve("OVMF_VARS_4M.fd")),
                    "writing the VM's copy leaves the template alone");
        }
        VmPreparer.cleanup(plan);
        assertFalse(Files.exists(plan.paths().dir()));
        assertTrue(Files.exists(ovmf.resolve("OVMF_VARS_4M.fd")));
    }

    @Test
    void aTemplateGoneAfterPlanningFailsThePrepareAndLeavesNothing() throws Exception {
        Path ovmf = ovmf();
        Path root = tmp.resolve("run");
        VirtualMachineInstance vmi = vmi();
        VmPlan plan = plan(root, ovmf, vmi);
        Files.delete(ovmf.resolve("OVMF_VARS_4M.fd"));
        LauncherException e = assertThrows(LauncherException.class, () -> VmPreparer.prepare(root, plan, vmi));
        assertTrue(e.getMessage().contains("OVMF_VARS_4M.fd"), e.getMessage());
        assertFalse(Files.exists(plan.paths().dir()), "nothing half-made: " + plan.paths().dir());
        assertEquals(List.of(), Files.list(root.resolve("default")).toList());
    }
}
