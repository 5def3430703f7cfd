package io.qvirt.kvmprobe;

/** What KVM on this host can do. */
public enum Verdict {
    /** The KVM API works and every smoke guest passed: a stock Linux guest can run with {@code -accel kvm}. */
    FULL,
    /** The KVM API answers but a smoke guest failed (or could not be vouched for): use TCG. */
    LIMITED,
    /** No usable KVM: no device, no permission, not a KVM device, or a wrong API version. */
    NONE
}
