package io.qvirt.launcher.cli;

import io.qvirt.api.VirtualMachineInstance;
import io.qvirt.launcher.plan.ResolvedVolumes;
import io.qvirt.launcher.runtime.ClaimDisks;
import java.nio.file.Path;
import java.util.Map;
import picocli.CommandLine.Option;

/**
 * persistentVolumeClaim and ephemeral volumes on one machine (a picocli mixin of {@code run}, {@code validate} and
 * {@code render}): with no cluster to mount claims, the user points at a directory laid out as the launcher pod's
 * mounts are ({@code DIR/<volume>/disk.img}, or {@code DIR/<volume>} a block device), the same rules as
 * {@code exec --pvc-dir}. Without it such volumes are refused by field.
 */
final class ClaimOptions {
    @Option(names = "--pvc-dir", paramLabel = "DIR",
            description = "persistentVolumeClaim and ephemeral volumes are found as DIR/<volume name>: a directory "
                    + "holding the claim's disk.img (used raw, as KubeVirt; it must exist: one machine knows no "
                    + "claim capacity to make it) or a block device. Default: such volumes are refused")
    Path dir;

    /**
     * The claims' disks of {@code vmi}; empty without {@code --pvc-dir}.
     *
     * @throws io.qvirt.api.ValidationException naming each claim volume whose disk is not under DIR
     */
    Map<String, ResolvedVolumes.ClaimDisk> find(VirtualMachineInstance vmi, String fieldPrefix) {
        return dir == null ? Map.of() : ClaimDisks.find(vmi, dir, fieldPrefix);
    }
}
