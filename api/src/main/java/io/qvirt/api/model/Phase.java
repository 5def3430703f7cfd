package io.qvirt.api.model;

/** Values of a VMI's {@code status.phase} (KubeVirt's {@code VirtualMachineInstancePhase}). */
public final class Phase {
    public static final String PENDING = "Pending";
    public static final String SCHEDULING = "Scheduling";
    public static final String SCHEDULED = "Scheduled";
    public static final String RUNNING = "Running";
    public static final String SUCCEEDED = "Succeeded";
    public static final String FAILED = "Failed";
    public static final String UNKNOWN = "Unknown";

    private Phase() {
    }

    /** True for Succeeded and Failed: the VMI will not run again. */
    public static boolean isFinal(String phase) {
        return SUCCEEDED.equals(phase) || FAILED.equals(phase);
    }
}
