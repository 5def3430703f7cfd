package io.qvirt.launcher.control;

/** KubeVirt's VMI phases that a manager can read off QEMU itself. */
public enum VmPhase {
    /** QEMU is up but the guest's CPUs have not started yet ({@code prelaunch}). */
    SCHEDULED,
    /** The guest runs, or is paused by a user ({@link VmState#paused()}). */
    RUNNING,
    /** The guest powered itself off. */
    SUCCEEDED,
    /** The guest panicked, QEMU hit an internal error, or QEMU died. */
    FAILED
}
