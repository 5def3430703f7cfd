package io.qvirt.launcher.plan.config;

import io.qvirt.api.model.DomainSpec;
import io.qvirt.launcher.plan.PlanContext;
import io.qvirt.launcher.plan.QemuConfigurator;
import io.qvirt.launcher.plan.QemuOpts;
import java.util.regex.Pattern;

/**
 * Machine type and accelerator: {@code -machine q35,...} and {@code -accel kvm|tcg}. On the machine: the SMM feature
 * ({@code smm=on}, or {@code smm=off} when {@code enabled: false}; unset leaves QEMU's default),
 * {@code bios.useSerial} ({@code graphics=off}, which makes SeaBIOS print to the serial port, as libvirt does), and
 * for {@code bootloader.efi} the pflash0/pflash1 block nodes {@link FirmwareConfigurator} defines.
 */
public final class MachineConfigurator implements QemuConfigurator {
    /** q35 and pc, with or without a version (pc-q35-7.2, pc-i440fx-7.2), as QEMU names them. */
    private static final Pattern MACHINE = Pattern.compile("q35|pc|pc-q35-[0-9.]+|pc-i440fx-[0-9.]+");

    @Override
    public void configure(PlanContext ctx) {
        DomainSpec d = ctx.spec().getDomain();
        String type = d.getMachine() != null && d.getMachine().getType() != null ? d.getMachine().getType() : "q35";
        if (!MACHINE.matcher(type).matches()) {
            ctx.refuse("domain.machine.type", "'" + type + "' is not supported by qvirt: allowed are q35, pc, "
                    + "pc-q35-<version>, pc-i440fx-<version>");
            return;
        }
        QemuOpts m = QemuOpts.of(type).put("usb", "off").put("dump-guest-core", "off");
        if (d.getFeatures() != null && d.getFeatures().getAcpi() != null
                && Boolean.FALSE.equals(d.getFeatures().getAcpi().getEnabled())) {
            m.put("acpi", "off");
        }
        if (d.getFeatures() != null && d.getFeatures().getSmm() != null) {
            Boolean on = d.getFeatures().getSmm().getEnabled();
            m.put("smm", on == null || on ? "on" : "off");
        }
        if (d.getFirmware() != null && d.getFirmware().getBootloader() != null
                && d.getFirmware().getBootloader().getBios() != null
                && Boolean.TRUE.equals(d.getFirmware().getBootloader().getBios().getUseSerial())) {
            m.put("graphics", "off");
        }
        if (EfiFirmware.efi(d) != null) {
            m.put("pflash0", EfiFirmware.CODE_NODE).put("pflash1", EfiFirmware.VARS_NODE);
        }
        ctx.arg("-machine", m);
        ctx.arg("-accel", ctx.options().accelerator().name());
    }
}
