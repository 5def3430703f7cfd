package io.qvirt.api.model;

/** Values of a VM's {@code status.printableStatus} (KubeVirt's {@code VirtualMachinePrintableStatus}). */
public final class PrintableStatus {
    public static final String STOPPED = "Stopped";
    public static final String PROVISIONING = "Provisioning";
    public static final String STARTING = "Starting";
    public static final String RUNNING = "Running";
    public static final String PAUSED = "Paused";
    public static final String STOPPING = "Stopping";
    public static final String TERMINATING = "Terminating";
    public static final String CRASH_LOOP_BACK_OFF = "CrashLoopBackOff";
    public static final String MIGRATING = "Migrating";
    public static final String UNKNOWN = "Unknown";
    public static final String UNSCHEDULABLE = "ErrorUnschedulable";
    public static final String ERR_IMAGE_PULL = "ErrImagePull";
    public static final String IMAGE_PULL_BACK_OFF = "ImagePullBackOff";
    public static final String ERROR_PVC_NOT_FOUND = "ErrorPvcNotFound";
    public static final String DATA_VOLUME_ERROR = "DataVolumeError";
    public static final String WAITING_FOR_VOLUME_BINDING = "WaitingForVolumeBinding";
    public static final String WAITING_FOR_RECEIVER = "WaitingForReceiver";

    private PrintableStatus() {
    }
}
