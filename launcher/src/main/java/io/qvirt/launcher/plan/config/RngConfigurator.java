package io.qvirt.launcher.plan.config;

import io.qvirt.launcher.plan.PlanContext;
import io.qvirt.launcher.plan.QemuConfigurator;

/** {@code devices.rng}: a virtio RNG fed from the host's /dev/urandom, as KubeVirt does. */
public final class RngConfigurator implements QemuConfigurator {
    @Override
    public void configure(PlanContext ctx) {
        var dev = ctx.spec().getDomain().getDevices();
        if (dev != null && dev.getRng() != null) {
            ctx.arg("-object", "rng-random,id=rng0,filename=/dev/urandom");
            ctx.arg("-device", "virtio-rng-pci,rng=rng0,id=rng0-dev");
        }
    }
}
