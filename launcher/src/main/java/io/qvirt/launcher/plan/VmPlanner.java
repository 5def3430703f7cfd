package io.qvirt.launcher.plan;

import io.qvirt.api.ValidationException;
import io.qvirt.api.VirtualMachineInstance;
import io.qvirt.launcher.plan.config.CpuConfigurator;
import io.qvirt.launcher.plan.config.DiskConfigurator;
import io.qvirt.launcher.plan.config.FirmwareConfigurator;
import io.qvirt.launcher.plan.config.HardeningConfigurator;
import io.qvirt.launcher.plan.config.MachineConfigurator;
import io.qvirt.launcher.plan.config.MemoryConfigurator;
import io.qvirt.launcher.plan.config.MonitorConfigurator;
import io.qvirt.launcher.plan.config.NamesConfigurator;
import io.qvirt.launcher.plan.config.NetworkConfigurator;
import io.qvirt.launcher.plan.config.PvpanicConfigurator;
import io.qvirt.launcher.plan.config.RngConfigurator;
import io.qvirt.launcher.plan.config.SerialConsoleConfigurator;
import io.qvirt.launcher.plan.config.UnsupportedConfigurator;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Turns a defaulted, validated VMI into a {@link VmPlan} through the configurators, in order. */
public final class VmPlanner {
    /** The order is part of the contract: golden files pin the argv it produces. */
    public static List<QemuConfigurator> defaultConfigurators() {
        return List.of(
                new NamesConfigurator(),
                new HardeningConfigurator(),
                new MachineConfigurator(),
                new CpuConfigurator(),
                new MemoryConfigurator(),
                new FirmwareConfigurator(),
                new MonitorConfigurator(),
                new SerialConsoleConfigurator(),
                new DiskConfigurator(),
                new NetworkConfigurator(),
                new RngConfigurator(),
                new PvpanicConfigurator(),
                new UnsupportedConfigurator());
    }

    private final Path qemu;
    private final List<QemuConfigurator> configurators;

    public VmPlanner(Path qemu) {
        this(qemu, defaultConfigurators());
    }

    public VmPlanner(Path qemu, List<QemuConfigurator> configurators) {
        this.qemu = qemu;
        this.configurators = List.copyOf(configurators);
    }

    /**
     * Builds the plan.
     *
     * @param vmi a VMI already defaulted and validated by the api module
     * @throws ValidationException listing every field qvirt cannot honour, if any
     */
    public VmPlan plan(VirtualMachineInstance vmi, PlanOptions options) {
        PlanContext ctx = new PlanContext(vmi, options);
        for (QemuConfigurator c : configurators) {
            c.configure(ctx);
        }
        if (!ctx.errors().isEmpty()) {
            throw new ValidationException("VirtualMachineInstance " + vmi.getMetadata().getNamespace() + "/"
                    + vmi.getMetadata().getName() + " (what qvirt can run)", ctx.errors());
        }
        List<String> argv = new ArrayList<>();
        argv.add(qemu.toString());
        argv.addAll(ctx.args());
        return new VmPlan(vmi.getMetadata().getNamespace(), vmi.getMetadata().getName(), qemu, argv, ctx.fds(),
                ctx.files(), ctx.forwards(), options.accelerator(), options.paths(), ctx.podAddress());
    }
}
