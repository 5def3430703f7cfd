package io.qvirt.launcher.plan.config;

import io.qvirt.api.model.Devices;
import io.qvirt.api.model.DomainSpec;
import io.qvirt.launcher.plan.PlanContext;
import io.qvirt.launcher.plan.QemuConfigurator;

/**
 * Refuses, by field, what qvirt cannot honour rather than ignoring it: devices and domain settings the
 * api keeps only as unmodelled fields (gpus, hostDevices, filesystems, tpm, ...) and input devices.
 * {@code autoattachGraphicsDevice} (KubeVirt's default is true) attaches nothing: qvirt has no VNC, and
 * the serial console is the VM's console.
 */
public final class UnsupportedConfigurator implements QemuConfigurator {
    @Override
    public void configure(PlanContext ctx) {
        DomainSpec d = ctx.spec().getDomain();
        for (String key : d.getAdditionalProperties().keySet()) {
            ctx.refuse("domain." + key, "not supported by qvirt");
        }
        Devices dev = d.getDevices();
        if (dev == null) {
            return;
        }
        for (String key : dev.getAdditionalProperties().keySet()) {
            ctx.refuse("domain.devices." + key, "not supported by qvirt");
        }
        if (dev.getInputs() != null && !dev.getInputs().isEmpty()) {
            ctx.refuse("domain.devices.inputs", "not supported by qvirt (no graphics console)");
        }
        if (d.getFeatures() != null) {
            for (String key : d.getFeatures().getAdditionalProperties().keySet()) {
                ctx.refuse("domain.features." + key, "not supported by qvirt");
            }
        }
    }
}
