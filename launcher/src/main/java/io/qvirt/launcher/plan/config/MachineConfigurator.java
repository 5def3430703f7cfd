package io.qvirt.launcher.plan.config;

import io.qvirt.api.model.DomainSpec;
import io.qvirt.launcher.plan.PlanContext;
import io.qvirt.launcher.plan.QemuConfigurator;
import io.qvirt.launcher.plan.QemuOpts;
import java.util.regex.Pattern;

/** Machine type and accelerator: {@code -machine q35,...} and {@code -accel kvm|tcg}. */
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
        ctx.arg("-machine", m);
        ctx.arg("-accel", ctx.options().accelerator().name());
    }
}
