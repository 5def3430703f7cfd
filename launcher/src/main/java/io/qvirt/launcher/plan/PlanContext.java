package io.qvirt.launcher.plan;

import io.qvirt.api.FieldError;
import io.qvirt.api.VirtualMachineInstance;
import io.qvirt.api.model.VirtualMachineInstanceSpec;
import java.util.ArrayList;
import java.util.List;

/**
 * What configurators read and write while a {@link VmPlan} is built. Configurators append arguments,
 * inherited fds, prepared files and host forwards, and report every spec field they cannot honour as a
 * {@link FieldError}; the planner refuses the spec if any were reported.
 */
public final class PlanContext {
    private final VirtualMachineInstance vmi;
    private final PlanOptions options;
    private final List<String> args = new ArrayList<>();
    private final List<InheritedFd> fds = new ArrayList<>();
    private final List<PreparedFile> files = new ArrayList<>();
    private final List<HostForward> forwards = new ArrayList<>();
    private final List<FieldError> errors = new ArrayList<>();
    private String podAddress;

    PlanContext(VirtualMachineInstance vmi, PlanOptions options) {
        this.vmi = vmi;
        this.options = options;
    }

    public VirtualMachineInstance vmi() {
        return vmi;
    }

    public VirtualMachineInstanceSpec spec() {
        return vmi.getSpec();
    }

    public PlanOptions options() {
        return options;
    }

    public RuntimePaths paths() {
        return options.paths();
    }

    /** A field path as the user wrote it: {@code spec.template.spec.} + rest for a VM, {@code spec.} + rest for a VMI. */
    public String field(String rest) {
        return options.fieldPrefix() + rest;
    }

    /** Appends an option and its value, e.g. {@code -m}, {@code 128M}. */
    public PlanContext arg(String option, Object value) {
        args.add(option);
        args.add(value.toString());
        return this;
    }

    /** Appends a flag without value, e.g. {@code -S}. */
    public PlanContext flag(String option) {
        args.add(option);
        return this;
    }

    /** Registers an inherited fd and returns the number QEMU will see it as. */
    public int inherit(InheritedFd role) {
        fds.add(role);
        return options.firstFd() + fds.size() - 1;
    }

    public void prepare(PreparedFile f) {
        files.add(f);
    }

    public void forward(HostForward f) {
        forwards.add(f);
    }

    /** Records that the VM has a pod network interface, reachable at {@code addr} (as KubeVirt's status.interfaces). */
    public void podAddress(String addr) {
        podAddress = addr;
    }

    String podAddress() {
        return podAddress;
    }

    /** Reports a field qvirt cannot honour; the plan will be refused. */
    public void refuse(String fieldRest, String message) {
        errors.add(new FieldError(field(fieldRest), message));
    }

    List<String> args() {
        return args;
    }

    List<InheritedFd> fds() {
        return fds;
    }

    List<PreparedFile> files() {
        return files;
    }

    List<HostForward> forwards() {
        return forwards;
    }

    List<FieldError> errors() {
        return errors;
    }
}
