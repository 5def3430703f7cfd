package io.qvirt.launcher.plan;

/**
 * One concern of QEMU's command line (machine, CPU, disks, ...). Configurators run in a fixed order,
 * read the spec from the context and append to it; they never spawn anything.
 */
public interface QemuConfigurator {
    /**
     * Appends this concern's arguments.
     *
     * @param ctx the plan being built; its VMI is defaulted and validated
     */
    void configure(PlanContext ctx);
}
