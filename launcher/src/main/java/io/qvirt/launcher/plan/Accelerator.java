package io.qvirt.launcher.plan;

/**
 * The accelerator a VM runs under and why it was chosen.
 *
 * @param name   {@code kvm} or {@code tcg}
 * @param reason one line, e.g. "kvm-probe: FULL" or "emulation allowed; kvm-probe: LIMITED (...)"
 */
public record Accelerator(String name, String reason) {
    public static final String KVM = "kvm";
    public static final String TCG = "tcg";

    public Accelerator {
        if (!KVM.equals(name) && !TCG.equals(name)) {
            throw new IllegalArgumentException("accelerator must be kvm or tcg, got " + name);
        }
    }

    public boolean isKvm() {
        return KVM.equals(name);
    }
}
