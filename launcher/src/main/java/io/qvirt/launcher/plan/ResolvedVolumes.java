package io.qvirt.launcher.plan;

import io.qvirt.api.VirtualMachineInstance;
import io.qvirt.api.model.Firmware;
import io.qvirt.api.model.KernelBootContainer;
import io.qvirt.api.model.Volume;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What was fetched or found for a VM before planning, so the planner itself does no I/O: the local, read-only
 * base disk of each containerDisk volume (by volume name) with its format, the kernel and initrd of
 * {@code firmware.kernelBoot} (null when the spec has none), and on a cluster the disk of each
 * persistentVolumeClaim or ephemeral volume as the launcher pod mounts it (by volume name; empty on one machine,
 * where claims are refused).
 */
public record ResolvedVolumes(Map<String, BaseDisk> containerDisks, Path kernel, Path initrd,
                              Map<String, ClaimDisk> claims) {
    public static final ResolvedVolumes NONE = new ResolvedVolumes(Map.of(), null, null);

    /** Where {@link #placeholders} points: nothing is ever there; validate and render show it instead of pulling. */
    public static final Path PLACEHOLDER_ROOT = Path.of("/var/lib/qvirt/images/not-pulled");

    /** A containerDisk's base image: read-only, never written; each VM writes a qcow2 overlay of its own. */
    public record BaseDisk(Path path, ImageFormat format) {
    }

    /**
     * A claim's disk in the launcher pod.
     *
     * @param path       {@code disk.img} in the claim's mount (filesystem mode) or the device (block mode)
     * @param block      block mode: the path is a block device, used raw as it is
     * @param createSize bytes of the sparse {@code disk.img} to make when it does not exist yet; 0 when it exists
     *                   (or for a block device)
     */
    public record ClaimDisk(Path path, boolean block, long createSize) {
    }

    public ResolvedVolumes {
        containerDisks = Map.copyOf(containerDisks);
        claims = Map.copyOf(claims);
    }

    /** Without claims (one machine, or a VM that has none). */
    public ResolvedVolumes(Map<String, BaseDisk> containerDisks, Path kernel, Path initrd) {
        this(containerDisks, kernel, initrd, Map.of());
    }

    /** The same, with these claim disks. */
    public ResolvedVolumes withClaims(Map<String, ClaimDisk> found) {
        return new ResolvedVolumes(containerDisks, kernel, initrd, found);
    }

    /**
     * Stand-ins for every image the spec names, without pulling (for {@code validate} and {@code render}):
     * IMAGE/PATH under {@link #PLACEHOLDER_ROOT}, clearly not real files.
     */
    public static ResolvedVolumes placeholders(VirtualMachineInstance vmi) {
        Map<String, BaseDisk> disks = new LinkedHashMap<>();
        if (vmi.getSpec().getVolumes() != null) {
            for (Volume v : vmi.getSpec().getVolumes()) {
                if (v.getContainerDisk() != null && v.getName() != null) {
                    String inImage = v.getContainerDisk().getPath() != null ? v.getContainerDisk().getPath() : "/disk/(disk)";
                    disks.put(v.getName(), new BaseDisk(placeholder(v.getContainerDisk().getImage(), inImage), ImageFormat.QCOW2));
                }
            }
        }
        Path kernel = null;
        Path initrd = null;
        Firmware fw = vmi.getSpec().getDomain() == null ? null : vmi.getSpec().getDomain().getFirmware();
        KernelBootContainer c = fw == null || fw.getKernelBoot() == null ? null : fw.getKernelBoot().getContainer();
        if (c != null) {
            kernel = c.getKernelPath() == null ? null : placeholder(c.getImage(), c.getKernelPath());
            initrd = c.getInitrdPath() == null ? null : placeholder(c.getImage(), c.getInitrdPath());
        }
        return new ResolvedVolumes(disks, kernel, initrd);
    }

    private static Path placeholder(String image, String inImage) {
        String img = image == null ? "(no image)" : image.replace('/', '_');
        String rel = inImage.startsWith("/") ? inImage.substring(1) : inImage;
        return PLACEHOLDER_ROOT.resolve(img).resolve(rel);
    }
}
