package io.qvirt.api.model;

import java.util.List;

/** Values of {@code spec.runStrategy} (KubeVirt's {@code VirtualMachineRunStrategy}). */
public final class RunStrategy {
    public static final String ALWAYS = "Always";
    public static final String RERUN_ON_FAILURE = "RerunOnFailure";
    public static final String MANUAL = "Manual";
    public static final String HALTED = "Halted";
    public static final String ONCE = "Once";
    /** Needs KubeVirt's DecentralizedLiveMigration feature gate. */
    public static final String WAIT_AS_RECEIVER = "WaitAsReceiver";

    /** The strategies KubeVirt's VM admitter accepts without a feature gate, in its order. */
    public static final List<String> VALID = List.of(HALTED, MANUAL, ALWAYS, RERUN_ON_FAILURE, ONCE);

    private RunStrategy() {
    }
}
