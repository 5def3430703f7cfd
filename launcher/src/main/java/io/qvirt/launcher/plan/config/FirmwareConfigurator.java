package io.qvirt.launcher.plan.config;

import io.qvirt.api.model.Firmware;
import io.qvirt.launcher.plan.PlanContext;
import io.qvirt.launcher.plan.QemuConfigurator;
import io.qvirt.launcher.plan.QemuOpts;
import java.util.regex.Pattern;

/**
 * Firmware and identity: BIOS (SeaBIOS, QEMU's default), boot order strictly by the disks'
 * {@code bootindex}, and SMBIOS type 1 as KubeVirt fills it (manufacturer and family KubeVirt,
 * product None, the spec's uuid and serial).
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
        }
        ctx.arg("-smbios", smbios);
        ctx.arg("-boot", "strict=on");
    }
}
