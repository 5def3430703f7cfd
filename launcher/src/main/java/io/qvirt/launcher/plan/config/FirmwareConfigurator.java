package io.qvirt.launcher.plan.config;

import io.qvirt.api.model.Firmware;
import io.qvirt.api.model.KernelBoot;
import io.qvirt.api.model.KernelBootContainer;
import io.qvirt.launcher.plan.PlanContext;
import io.qvirt.launcher.plan.QemuConfigurator;
import io.qvirt.launcher.plan.QemuOpts;
import io.qvirt.launcher.plan.ResolvedVolumes;
import java.util.regex.Pattern;

/**
 * Firmware and identity: BIOS (SeaBIOS, QEMU's default), boot order strictly by the disks'
 * {@code bootindex}, and SMBIOS type 1 as KubeVirt fills it (manufacturer and family KubeVirt,
 * product None, the spec's uuid and serial); {@code kernelBoot.container} as {@code -kernel}, {@code -initrd},
 * {@code -append}.
 */
public final class FirmwareConfigurator implements QemuConfigurator {
    private static final Pattern UUID = Pattern.compile("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");

    @Override
    public void configure(PlanContext ctx) {
        Firmware fw = ctx.spec().getDomain().getFirmware();
        QemuOpts smbios = QemuOpts.keys().put("type", "1")
                .put("manufacturer", "KubeVirt").put("product", "None").put("family", "KubeVirt");
        if (fw != null) {
            if (fw.getBootloader() != null && fw.getBootloader().getEfi() != null) {
                ctx.refuse("domain.firmware.bootloader.efi", "not supported by qvirt yet: use bios (the default)");
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
