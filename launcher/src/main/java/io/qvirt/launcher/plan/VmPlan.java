package io.qvirt.launcher.plan;

import java.nio.file.Path;
import java.util.List;

/**
 * Everything QEMU needs for one VM, computed without side effects: its argv (never a shell string),
 * the fds it inherits by role (they become 3, 4, ... in this order), the files to make before it
 * starts, and the host ports forwarded to the guest.
 *
 * @param podAddress the address KubeVirt would report for the pod network interface (the forwards' bind
 *                   address), or null when the VM has no pod network interface
 */
public record VmPlan(String namespace, String name, Path qemu, List<String> argv, List<InheritedFd> fds,
                     List<PreparedFile> files, List<HostForward> forwards, Accelerator accelerator,
                     RuntimePaths paths, String podAddress) {
    public VmPlan {
        argv = List.copyOf(argv);
        fds = List.copyOf(fds);
        files = List.copyOf(files);
        forwards = List.copyOf(forwards);
    }
}
