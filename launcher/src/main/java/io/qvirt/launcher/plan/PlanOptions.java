package io.qvirt.launcher.plan;

import java.util.function.IntUnaryOperator;

/**
 * How a plan is built.
 *
 * @param paths        the VM's private directory
 * @param accelerator  the accelerator already chosen (see {@code AcceleratorChooser})
 * @param ownerMonitor whether QEMU gets a private QMP monitor for its owner (run, handler) besides qmp.sock
 * @param startPaused  {@code -S}: the guest's CPUs start only on {@code cont}
 * @param fieldPrefix  {@code "spec."} for a VMI, {@code "spec.template.spec."} for a VM's template
 * @param forwardAddr  host address forwards bind ({@code 127.0.0.1} on one machine, the pod's otherwise)
 * @param hostPorts    chooses the host port for a guest port (same port if free, else a free one)
 * @param firstFd      the number QEMU sees the first inherited fd as (3 when spawned; above the JVM's
 *                     own fds when the JVM execs into QEMU)
 * @param volumes      images fetched before planning (containerDisk bases, kernelBoot files)
 * @param podNetwork   the pod network plumbed by the node agent ({@code launcher exec} on a cluster), which
 *                     {@code bridge} needs; null on one machine, where {@code bridge} is refused by name
 * @param admission    planned for virt-api's admission, away from any node: what only a node can tell (firmware
 *                     files, a hostDisk's image) is not checked there, the launcher checks it when it runs
 */
public record PlanOptions(RuntimePaths paths, Accelerator accelerator, boolean ownerMonitor, boolean startPaused,
                          String fieldPrefix, String forwardAddr, IntUnaryOperator hostPorts, int firstFd,
                          ResolvedVolumes volumes, PlumbedPodNetwork podNetwork, boolean admission) {
    /** Spawned QEMUs see their inherited fds from 3 up. */
    public static final int SPAWN_FIRST_FD = 3;

    /** On one machine: no pod network plumbed by a node agent. */
    public PlanOptions(RuntimePaths paths, Accelerator accelerator, boolean ownerMonitor, boolean startPaused,
                       String fieldPrefix, String forwardAddr, IntUnaryOperator hostPorts, int firstFd,
                       ResolvedVolumes volumes) {
        this(paths, accelerator, ownerMonitor, startPaused, fieldPrefix, forwardAddr, hostPorts, firstFd, volumes, null);
    }

    /** Planned on a node (not for admission). */
    public PlanOptions(RuntimePaths paths, Accelerator accelerator, boolean ownerMonitor, boolean startPaused,
                       String fieldPrefix, String forwardAddr, IntUnaryOperator hostPorts, int firstFd,
                       ResolvedVolumes volumes, PlumbedPodNetwork podNetwork) {
        this(paths, accelerator, ownerMonitor, startPaused, fieldPrefix, forwardAddr, hostPorts, firstFd, volumes,
                podNetwork, false);
    }

    /** The same options with the node agent's pod network. */
    public PlanOptions withPodNetwork(PlumbedPodNetwork network) {
        return new PlanOptions(paths, accelerator, ownerMonitor, startPaused, fieldPrefix, forwardAddr, hostPorts,
                firstFd, volumes, network, admission);
    }
}
