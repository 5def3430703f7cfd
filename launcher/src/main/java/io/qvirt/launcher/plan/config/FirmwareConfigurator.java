package io.qvirt.launcher.plan.config;

import io.qvirt.api.model.EFI;
import io.qvirt.api.model.Firmware;
import io.qvirt.api.model.KernelBoot;
import io.qvirt.api.model.KernelBootContainer;
import io.qvirt.launcher.plan.PlanContext;
import io.qvirt.launcher.plan.PreparedFile;
import io.qvirt.launcher.plan.QemuConfigurator;
import io.qvirt.launcher.plan.QemuOpts;
import io.qvirt.launcher.plan.ResolvedVolumes;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Firmware and identity: BIOS (SeaBIOS, QEMU's default) or {@code bootloader.efi} (OVMF, see {@link EfiFirmware}),
 * boot order strictly by the disks' {@code bootindex}, and SMBIOS type 1 as KubeVirt fills it (manufacturer and
 * family KubeVirt, product None, the spec's uuid and serial); {@code kernelBoot.container} as {@code -kernel},
 * {@code -initrd}, {@code -append}.
 *
 * <p>EFI as libvirt runs it for KubeVirt: the code on pflash0 read-only, the variables on pflash1 from a copy of
 * the template made in the VM's directory before QEMU starts (so every start begins from the template, as
 * KubeVirt's non-persistent NVRAM does), and with Secure Boot the flash writable only from SMM
 * ({@code -global driver=cfi.pflash01,property=secure,value=on}; {@code smm=on} is the SMM feature's, which
 * KubeVirt's admission requires with Secure Boot). Missing firmware files are refused here, before anything is
 * made or spawned.
 */
public final class FirmwareConfigurator implements QemuConfigurator {
    private static final Pattern UUID = Pattern.compile("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");
    /** The machine types OVMF's SMM build runs on (it refuses i440fx). */
    private static final Pattern Q35 = Pattern.compile("q35|pc-q35-[0-9.]+");

    private final Path ovmfDir;

    /** OVMF from Debian's {@code ovmf} package ({@link EfiFirmware#DEBIAN_OVMF_DIR}). */
    public FirmwareConfigurator() {
        this(EfiFirmware.DEBIAN_OVMF_DIR);
    }

    /** OVMF's {@code OVMF_CODE_4M*.fd} and {@code OVMF_VARS_4M*.fd} from {@code ovmfDir}. */
    public FirmwareConfigurator(Path ovmfDir) {
        this.ovmfDir = ovmfDir;
    }

    @Override
    public void configure(PlanContext ctx) {
        Firmware fw = ctx.spec().getDomain().getFirmware();
        QemuOpts smbios = QemuOpts.keys().put("type", "1")
                .put("manufacturer", "KubeVirt").put("product", "None").put("family", "KubeVirt");
        if (fw != null) {
            if (fw.getBootloader() != null && fw.getBootloader().getEfi() != null) {
                efi(ctx, fw.getBootloader().getEfi());
            }
            if (fw.getUuid() != null) {
                if (!UUID.matcher(fw.getUuid()).matches()) {
                    ctx.refuse("domain.firmware.uuid", "'" + fw.getUuid() + "' is not a UUID (8-4-4-4-12 hex digits)");
                } else {
                    ctx.arg("-uuid", fw.getUuid());
                    smbios.put("uuid", fw.getUuid());
                }
            }
            if (fw.getSerial() != null) {
                smbios.put("serial", fw.getSerial());
            }
            if (fw.getKernelBoot() != null) {
                kernelBoot(ctx, fw.getKernelBoot());
            }
        }
        ctx.arg("-smbios", smbios);
        ctx.arg("-boot", "strict=on");
    }

    /** pflash0 (code, read-only) and pflash1 (this VM's copy of the variable store); the machine names them. */
    private void efi(PlanContext ctx, EFI efi) {
        String f = "domain.firmware.bootloader.efi";
        EfiFirmware fw = EfiFirmware.select(efi, ovmfDir);
        boolean ok = true;
        if (Boolean.TRUE.equals(efi.getPersistent())) {
            ctx.refuse(f + ".persistent", "persisting the EFI NVRAM across restarts needs KubeVirt's backend storage "
                    + "(a per-VM PersistentVolumeClaim), which qvirt does not have: leave it unset or false (the "
                    + "variables then start from the firmware's template on every start)");
            ok = false;
        }
        var machine = ctx.spec().getDomain().getMachine();
        String type = machine != null && machine.getType() != null ? machine.getType() : "q35";
        if (fw.secureBoot() && !Q35.matcher(type).matches()) {
            ctx.refuse(f + ".secureBoot", "SecureBoot needs OVMF's SMM build, which runs on q35 machines only (domain."
                    + "machine.type is '" + type + "'): use q35 or pc-q35-<version>, or secureBoot: false");
            ok = false;
        }
        List<String> missing = new ArrayList<>();
        for (Path p : ctx.options().admission() ? List.<Path>of() : List.of(fw.code(), fw.varsTemplate())) {
            if (!Files.isRegularFile(p) || !Files.isReadable(p)) {
                missing.add(p.toString());
            }
        }
        if (!missing.isEmpty()) {
            // KubeVirt's virt-launcher words, then what is missing and where it comes from.
            ctx.refuse(f, "EFI OVMF roms missing for booting in EFI mode with SecureBoot=" + fw.secureBoot() + ": "
                    + String.join(", ", missing) + " not found on this host (install Debian's ovmf package: "
                    + "apt-get install ovmf)");
            ok = false;
        }
        if (!ok) {
            return;
        }
        Path vars = ctx.paths().efiVars();
        ctx.prepare(new PreparedFile.Copy(vars, fw.varsTemplate(), ctx.field(f)));
        ctx.arg("-blockdev", QemuOpts.keys().put("driver", "file").put("filename", fw.code().toString())
                .put("node-name", EfiFirmware.CODE_NODE + "-file").put("read-only", "on"));
        ctx.arg("-blockdev", QemuOpts.keys().put("driver", "raw").put("file", EfiFirmware.CODE_NODE + "-file")
                .put("node-name", EfiFirmware.CODE_NODE).put("read-only", "on"));
        ctx.arg("-blockdev", QemuOpts.keys().put("driver", "file").put("filename", vars.toString())
                .put("node-name", EfiFirmware.VARS_NODE + "-file").put("read-only", "off"));
        ctx.arg("-blockdev", QemuOpts.keys().put("driver", "raw").put("file", EfiFirmware.VARS_NODE + "-file")
                .put("node-name", EfiFirmware.VARS_NODE).put("read-only", "off"));
        if (fw.secureBoot()) {
            // Only SMM code may write the variable store, so the OS cannot rewrite the Secure Boot keys.
            ctx.arg("-global", "driver=cfi.pflash01,property=secure,value=on");
        }
    }

    /**
     * Direct kernel boot from the files of {@code kernelBoot.container} (fetched before planning):
     * {@code -kernel}, {@code -initrd}, {@code -append kernelArgs}. QEMU boots it ahead of every disk.
     */
    private static void kernelBoot(PlanContext ctx, KernelBoot kb) {
        KernelBootContainer c = kb.getContainer();
        String f = "domain.firmware.kernelBoot";
        if (c == null) {
            return;
        }
        boolean ok = true;
        for (String[] p : new String[][] {{"kernelPath", c.getKernelPath()}, {"initrdPath", c.getInitrdPath()}}) {
            if (p[1] != null && (!p[1].startsWith("/") || p[1].endsWith("/") || p[1].contains("/../") || p[1].endsWith("/.."))) {
                ctx.refuse(f + ".container." + p[0], "'" + p[1] + "' must be an absolute path of a file in the image");
                ok = false;
            }
        }
        if (c.getKernelPath() == null) {
            ctx.refuse(f + ".container.kernelPath", "required by qvirt: QEMU boots an initrd only together with a kernel");
            ok = false;
        }
        String policy = c.getImagePullPolicy();
        if (policy != null && !policy.equals("Always") && !policy.equals("IfNotPresent") && !policy.equals("Never")) {
            ctx.refuse(f + ".container.imagePullPolicy", "'" + policy + "' is not allowed: Always, IfNotPresent, Never");
            ok = false;
        }
        if (!ok) {
            return;
        }
        ResolvedVolumes rv = ctx.options().volumes();
        if (rv.kernel() == null || (c.getInitrdPath() != null && rv.initrd() == null)) {
            ctx.refuse(f + ".container.image", "image " + c.getImage() + " was not fetched before planning");
            return;
        }
        ctx.arg("-kernel", rv.kernel());
        if (rv.initrd() != null) {
            ctx.arg("-initrd", rv.initrd());
        }
        if (kb.getKernelArgs() != null && !kb.getKernelArgs().isEmpty()) {
            ctx.arg("-append", kb.getKernelArgs());
        }
    }
}
