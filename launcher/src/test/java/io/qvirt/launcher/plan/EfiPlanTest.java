package io.qvirt.launcher.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qvirt.api.FeatureGates;
import io.qvirt.api.LoadedManifest;
import io.qvirt.api.ManifestLoader;
import io.qvirt.api.ValidationException;
import io.qvirt.api.VirtualMachineInstance;
import io.qvirt.api.VmiDefaults;
import io.qvirt.launcher.cli.LauncherCommand;
import io.qvirt.launcher.plan.config.FirmwareConfigurator;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How {@code domain.firmware.bootloader.efi}, the SMM feature and {@code bios.useSerial} become QEMU arguments,
 * and what is refused (by field, before anything is made). The OVMF directory is a temporary one holding empty
 * files named as Debian's {@code ovmf} package names them, so the test does not depend on the host's.
 */
class EfiPlanTest {
    private static final Path QEMU = Path.of("/usr/bin/qemu-system-x86_64");

    @TempDir
    Path tmp;

    private Path ovmf(String... names) throws Exception {
        Path d = Files.createDirectories(tmp.resolve("OVMF"));
        for (String n : names) {
            Files.writeString(d.resolve(n), n);
        }
        return d;
    }

    private Path allOvmf() throws Exception {
        return ovmf("OVMF_CODE_4M.fd", "OVMF_VARS_4M.fd", "OVMF_CODE_4M.secboot.fd", "OVMF_VARS_4M.ms.fd");
    }

    private static VirtualMachineInstance vmi(String domainExtra, String machine) throws Exception {
        String y = """
                apiVersion: kubevirt.io/v1
                kind: VirtualMachineInstance
                metadata: {name: e, namespace: ns}
                spec:
                  domain:
                %s
                    devices:
                      autoattachPodInterface: false
                    resources: {requests: {memory: 64M}}
                """.formatted(domainExtra.indent(4).stripTrailing() + (machine == null ? "" : "\n    machine: {type: " + machine + "}"));
        LoadedManifest doc = ManifestLoader.loadString(y, "inline").get(0);
        if (machine == null || machine.contains("q35")) {
            assertEquals(List.of(), doc.validate(FeatureGates.kubevirtDefaults()), "admission accepts:\n" + y);
        } // else KubeVirt's default emulatedMachines (q35*, pc-q35*) refuse it; the planner must still not run it.

        return VmiDefaults.apply(doc.vmi());
    }

    private static VmPlan plan(VirtualMachineInstance vmi, Path ovmfDir) {
        List<QemuConfigurator> cs = new ArrayList<>(VmPlanner.defaultConfigurators());
        cs.replaceAll(c -> c instanceof FirmwareConfigurator ? new FirmwareConfigurator(ovmfDir) : c);
        return new VmPlanner(QEMU, cs).plan(vmi, new PlanOptions(new RuntimePaths(Path.of("/r/ns/e")),
                new Accelerator(Accelerator.TCG, "t"), true, true, "spec.", "127.0.0.1", x -> x, 3, ResolvedVolumes.NONE));
    }

    private static String arg(VmPlan p, String option) {
        return p.argv().get(p.argv().indexOf(option) + 1);
    }

    @Test
    void withoutSecureBootThePlainBuildAndAnEmptyStoreAndNoSmmOnlyFlash() throws Exception {
        Path dir = allOvmf();
        VmPlan p = plan(vmi("firmware: {bootloader: {efi: {secureBoot: false}}}", null), dir);
        assertEquals("q35,usb=off,dump-guest-core=off,pflash0=efi-code,pflash1=efi-vars", arg(p, "-machine"));
        String joined = String.join(" ", p.argv());
        assertTrue(joined.contains("driver=file,filename=" + dir.resolve("OVMF_CODE_4M.fd") + ",node-name=efi-code-file,read-only=on"), joined);
        assertTrue(joined.contains("driver=file,filename=/r/ns/e/efi-vars.fd,node-name=efi-vars-file,read-only=off"), joined);
        assertFalse(p.argv().contains("-global"), "the flash is SMM-only with Secure Boot alone: " + joined);
        assertEquals(List.of(new PreparedFile.Copy(Path.of("/r/ns/e/efi-vars.fd"), dir.resolve("OVMF_VARS_4M.fd"),
                "spec.domain.firmware.bootloader.efi")), p.files());
    }

    @Test
    void secureBootIsTheDefaultOfAnEmptyEfiAndMakesTheFlashSmmOnly() throws Exception {
        Path dir = allOvmf();
        VmPlan p = plan(vmi("features: {smm: {}}\nfirmware: {bootloader: {efi: {}}}", "pc-q35-7.2"), dir);
        assertEquals("pc-q35-7.2,usb=off,dump-guest-core=off,smm=on,pflash0=efi-code,pflash1=efi-vars", arg(p, "-machine"));
        assertEquals("driver=cfi.pflash01,property=secure,value=on", arg(p, "-global"));
        assertTrue(String.join(" ", p.argv()).contains("filename=" + dir.resolve("OVMF_CODE_4M.secboot.fd") + ","), p.argv().toString());
        assertEquals(dir.resolve("OVMF_VARS_4M.ms.fd"), ((PreparedFile.Copy) p.files().get(0)).source());
    }

    @Test
    void missingFirmwareIsRefusedNamingTheFilesAndThePackage() throws Exception {
        Path dir = ovmf("OVMF_CODE_4M.fd", "OVMF_VARS_4M.fd");
        ValidationException e = assertThrows(ValidationException.class,
                () -> plan(vmi("features: {smm: {}}\nfirmware: {bootloader: {efi: {secureBoot: true}}}", null), dir));
        assertEquals(1, e.errors().size(), e.getMessage());
        assertEquals("spec.domain.firmware.bootloader.efi", e.errors().get(0).path());
        assertEquals("EFI OVMF roms missing for booting in EFI mode with SecureBoot=true: "
                + dir.resolve("OVMF_CODE_4M.secboot.fd") + ", " + dir.resolve("OVMF_VARS_4M.ms.fd")
                + " not found on this host (install Debian's ovmf package: apt-get install ovmf)", e.errors().get(0).message());
    }

    @Test
    void persistentNvramAndSecureBootOnI440fxAreRefusedByField() throws Exception {
        Path dir = allOvmf();
        ValidationException e = assertThrows(ValidationException.class,
                () -> plan(vmi("features: {smm: {}}\nfirmware: {bootloader: {efi: {persistent: true}}}", "pc"), dir));
        String errors = e.errors().stream().map(Object::toString).collect(Collectors.joining("\n"));
        assertTrue(errors.contains("spec.domain.firmware.bootloader.efi.persistent: persisting the EFI NVRAM across "
                + "restarts needs KubeVirt's backend storage"), errors);
        assertTrue(errors.contains("spec.domain.firmware.bootloader.efi.secureBoot: SecureBoot needs OVMF's SMM build, "
                + "which runs on q35 machines only (domain.machine.type is 'pc')"), errors);
        assertEquals(2, e.errors().size(), errors);
        // Without Secure Boot OVMF runs on i440fx too (for a cluster whose emulatedMachines allow it).
        VmPlan p = plan(vmi("firmware: {bootloader: {efi: {secureBoot: false, persistent: false}}}", "pc"), dir);
        assertTrue(arg(p, "-machine").startsWith("pc,"), p.argv().toString());
    }

    @Test
    void smmOffAndBiosUseSerialReachTheMachine() throws Exception {
        VmPlan p = plan(vmi("features: {smm: {enabled: false}}\nfirmware: {bootloader: {bios: {useSerial: true}}}", null), allOvmf());
        assertEquals("q35,usb=off,dump-guest-core=off,smm=off,graphics=off", arg(p, "-machine"));
        assertEquals(List.of(), p.files(), "BIOS needs no variable store");
    }

    /** KubeVirt's admission rule, through {@code launcher validate} as a user runs it (in process). */
    @Test
    void validateRefusesSecureBootWithoutSmmInKubevirtsWords() throws Exception {
        Path f = tmp.resolve("sb.yaml");
        Files.writeString(f, """
                apiVersion: kubevirt.io/v1
                kind: VirtualMachineInstance
                metadata: {name: sb}
                spec:
                  domain:
                    firmware: {bootloader: {efi: {}}}
                    devices: {autoattachPodInterface: false}
                    resources: {requests: {memory: 64M}}
                """);
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = LauncherCommand.create(new PrintWriter(out, true), new PrintWriter(err, true))
                .execute("validate", f.toString(), "--runtime-root", tmp.resolve("run").toString());
        assertEquals(2, code, out + "\n" + err);
        assertTrue(err.toString().contains("spec.domain: spec.domain has EFI SecureBoot enabled. SecureBoot requires SMM, "
                + "which is currently disabled."), err.toString());
        Files.writeString(f, Files.readString(f).replace("firmware:", "features: {smm: {enabled: false}}\n    firmware:"));
        err.getBuffer().setLength(0);
        code = LauncherCommand.create(new PrintWriter(out, true), new PrintWriter(err, true))
                .execute("validate", f.toString(), "--runtime-root", tmp.resolve("run").toString());
        assertEquals(2, code, "smm explicitly disabled: " + err);
        assertTrue(err.toString().contains("SecureBoot requires SMM"), err.toString());
    }
}
