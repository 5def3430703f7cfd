package io.qvirt.launcher.plan.config;

import io.qvirt.api.model.Devices;
import io.qvirt.api.model.DomainSpec;
import io.qvirt.launcher.plan.PlanContext;
import io.qvirt.launcher.plan.QemuConfigurator;

/**
 * Refuses, by field, what qvirt cannot honour rather than ignoring it: devices and domain settings the
 * api keeps only as unmodelled fields (gpus, hostDevices, filesystems, tpm, ...) and input devices.
 * {@code autoattachGraphicsDevice} (KubeVirt's default is true) attaches nothing: qvirt has no VNC, and
 * the serial console is the VM's console. Also refused: vsock, exec probes and {@code accessCredentials}, which
 * KubeVirt serves through a vsock device or its guest agent (qvirt talks to no guest agent yet).
 */
public final class UnsupportedConfigurator implements QemuConfigurator {
    @Override
    public void configure(PlanContext ctx) {
        java.util.Map<String, Object> spec = ctx.spec().getAdditionalProperties();
        if (spec.get("accessCredentials") instanceof java.util.List<?> creds && !creds.isEmpty()) {
            ctx.refuse("accessCredentials[0]", "not supported by qvirt: KubeVirt injects these keys through its guest"
                    + " agent or cloud-init from a Secret; put the key in the cloudInitNoCloud userData instead");
        }
        for (String probe : new String[] {"readinessProbe", "livenessProbe"}) {
            if (spec.get(probe) instanceof java.util.Map<?, ?> p && p.get("exec") != null) {
                ctx.refuse(probe + ".exec", "exec probes run a command through the guest agent, which qvirt does"
                        + " not talk to; httpGet and tcpSocket probes are allowed");
            }
        }
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
        if (Boolean.TRUE.equals(dev.getAutoattachVSOCK())) {
            ctx.refuse("domain.devices.autoattachVSOCK", "vsock is not supported by qvirt (KubeVirt too refuses it"
                    + " unless its Alpha VSOCK feature gate is on)");
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
