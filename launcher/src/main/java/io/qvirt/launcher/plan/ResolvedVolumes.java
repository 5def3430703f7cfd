package io.qvirt.launcher.plan;

import java.nio.file.Path;
import java.util.Map;

/**
 * What was fetched for a VM before planning, so the planner itself does no I/O: the local, read-only
 * base disk of each containerDisk volume (by volume name), and the kernel and initrd of
 * {@code firmware.kernelBoot} (null when the spec has none).
 */
public record ResolvedVolumes(Map<String, Path> containerDisks, Path kernel, Path initrd) {
    public static final ResolvedVolumes NONE = new ResolvedVolumes(Map.of(), null, null);

    public ResolvedVolumes {
        containerDisks = Map.copyOf(containerDisks);
    }
}
