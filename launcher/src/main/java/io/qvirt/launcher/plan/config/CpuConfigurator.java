package io.qvirt.launcher.plan.config;

import io.qvirt.api.model.CPU;
import io.qvirt.launcher.plan.PlanContext;
import io.qvirt.launcher.plan.QemuConfigurator;
import io.qvirt.launcher.plan.QemuOpts;
import java.util.regex.Pattern;

/**
 * vCPU topology ({@code -smp}) and model ({@code -cpu}). KubeVirt's {@code host-model} (its default)
 * and {@code host-passthrough} become {@code host} under KVM; TCG cannot pass the host CPU through, so
 * both become {@code max} (every feature TCG emulates). A named model is passed to QEMU as written.
 */
public final class CpuConfigurator implements QemuConfigurator {
    private static final Pattern MODEL = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*");

    @Override
    public void configure(PlanContext ctx) {
        CPU cpu = ctx.spec().getDomain().getCpu();
        int sockets = 1;
        int cores = 1;
        int threads = 1;
        String model = null;
        if (cpu != null) {
            sockets = cpu.getSockets() != null ? cpu.getSockets() : 1;
            cores = cpu.getCores() != null ? cpu.getCores() : 1;
            threads = cpu.getThreads() != null ? cpu.getThreads() : 1;
            model = cpu.getModel();
            if (Boolean.TRUE.equals(cpu.getDedicatedCpuPlacement())) {
                ctx.refuse("domain.cpu.dedicatedCpuPlacement", "not supported by qvirt");
            }
        }
        ctx.arg("-smp", QemuOpts.of(Integer.toString(sockets * cores * threads))
                .put("sockets", sockets).put("cores", cores).put("threads", threads));
        boolean kvm = ctx.options().accelerator().isKvm();
        String qemuModel;
        if (model == null || model.equals("host-model") || model.equals("host-passthrough")) {
            qemuModel = kvm ? "host" : "max";
        } else if (MODEL.matcher(model).matches()) {
            qemuModel = model;
        } else {
            ctx.refuse("domain.cpu.model", "'" + model + "' is not a CPU model name: letters, digits, '.', '_', '-'");
            return;
        }
        ctx.arg("-cpu", qemuModel);
    }
}
