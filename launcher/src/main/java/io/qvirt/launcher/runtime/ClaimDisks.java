package io.qvirt.launcher.runtime;

import io.qvirt.api.FieldError;
import io.qvirt.api.Quantities;
import io.qvirt.api.ValidationException;
import io.qvirt.api.VirtualMachineInstance;
import io.qvirt.api.model.PersistentVolumeClaimSource;
import io.qvirt.api.model.Volume;
import io.qvirt.launcher.plan.ResolvedVolumes.ClaimDisk;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * persistentVolumeClaim and ephemeral volumes on a cluster, KubeVirt's way. The launcher pod mounts each claim
 * at {@code DIR/<volume>}: in filesystem mode the disk is {@code DIR/<volume>/disk.img}, made sparse when it is
 * missing at the claim's size (KubeVirt's: its request, or its capacity when that is smaller) less the file
 * system's overhead; in block mode {@code DIR/<volume>}, or else {@code /dev/<volume>} (the pod's
 * {@code volumeDevices}, KubeVirt's device path), is the device itself. Capacity, mode and overhead come from the VMI's
 * {@code status.volumeStatus[].persistentVolumeClaimInfo}, which the controller writes before it makes the pod,
 * as KubeVirt's does. An ephemeral volume's {@code disk.img} is never written: the VM writes an overlay of its
 * own, so the image must exist.
 */
public final class ClaimDisks {
    /** The image file in a filesystem-mode claim (KubeVirt's name). */
    public static final String DISK_IMG = "disk.img";
    /** CDI's default file system overhead, used when the claim's info does not give one. */
    static final BigDecimal DEFAULT_OVERHEAD = new BigDecimal("0.055");
    /** KubeVirt's {@code lessPVCSpaceToleration} default: a disk may be this much smaller than asked when space is short. */
    static final int TOLERATION_PERCENT = 10;
    private static final long MIB = 1024 * 1024;
    /** Where a block-mode claim's device is when it is not at {@code DIR/<volume>} (KubeVirt's devicePath). */
    static final Path DEV = Path.of("/dev");

    private ClaimDisks() {
    }

    /**
     * @param dir         where the launcher pod mounts the claims ({@code --pvc-dir})
     * @param fieldPrefix {@code spec.} for a VMI
     * @return the disk of every claim volume, by volume name (empty when the VMI has none)
     * @throws ValidationException naming each claim volume whose disk is not there or cannot be made
     */
    public static Map<String, ClaimDisk> find(VirtualMachineInstance vmi, Path dir, String fieldPrefix) {
        Map<String, ClaimDisk> out = new LinkedHashMap<>();
        List<FieldError> errors = new ArrayList<>();
        List<Volume> volumes = vmi.getSpec().getVolumes() == null ? List.of() : vmi.getSpec().getVolumes();
        for (int i = 0; i < volumes.size(); i++) {
            Volume v = volumes.get(i);
            boolean ephemeral = v.getEphemeral() != null;
            PersistentVolumeClaimSource pvc = ephemeral ? v.getEphemeral().getPersistentVolumeClaim()
                    : v.getPersistentVolumeClaim();
            if (pvc == null || v.getName() == null) {
                continue;
            }
            String f = fieldPrefix + "volumes[" + i + "]." + (ephemeral ? "ephemeral.persistentVolumeClaim"
                    : "persistentVolumeClaim");
            try {
                ClaimInfo info = claimInfo(vmi, v.getName());
                Path mount = dir.resolve(v.getName());
                if (info.block() && !Files.exists(mount, LinkOption.NOFOLLOW_LINKS)) {
                    // the controller passes a block-mode claim as KubeVirt does: volumeDevices at /dev/<volume>
                    mount = DEV.resolve(v.getName());
                }
                out.put(v.getName(), disk(mount, info, ephemeral, pvc.getClaimName()));
            } catch (IllegalStateException e) {
                errors.add(new FieldError(f + ".claimName", e.getMessage()));
            }
        }
        if (!errors.isEmpty()) {
            throw new ValidationException("VirtualMachineInstance " + vmi.getMetadata().getNamespace() + "/"
                    + vmi.getMetadata().getName() + " (its claims in the launcher pod)", errors);
        }
        return out;
    }

    /** What the controller recorded of a claim: capacity in bytes (-1 if unknown), block mode, overhead. */
    record ClaimInfo(long capacity, boolean block, BigDecimal overhead) {
        static final ClaimInfo UNKNOWN = new ClaimInfo(-1, false, DEFAULT_OVERHEAD);
    }

    static ClaimDisk disk(Path mount, ClaimInfo info, boolean ephemeral, String claim) {
        BasicFileAttributes a;
        try {
            a = Files.readAttributes(mount, BasicFileAttributes.class);
        } catch (IOException e) {
            throw new IllegalStateException("claim '" + claim + "' is not mounted in the launcher pod at " + mount);
        }
        if (a.isOther()) {
            if (!isBlockDevice(mount)) {
                throw new IllegalStateException("claim '" + claim + "': " + mount + " is not a block device");
            }
            // Block mode (volumeDevices): the device is the disk, used raw; QEMU opens it.
            return new ClaimDisk(mount, true, 0);
        }
        if (!a.isDirectory()) {
            throw new IllegalStateException("claim '" + claim + "': " + mount + " is neither the claim's directory "
                    + "(filesystem mode) nor a block device (block mode)");
        }
        if (info.block()) {
            throw new IllegalStateException("claim '" + claim + "' is in volumeMode Block, but " + mount
                    + " is a directory, not the device");
        }
        Path img = mount.resolve(DISK_IMG);
        if (Files.exists(img, LinkOption.NOFOLLOW_LINKS)) {
            if (!Files.isRegularFile(img, LinkOption.NOFOLLOW_LINKS)) {
                throw new IllegalStateException("claim '" + claim + "': " + img + " is not a regular file");
            }
            return new ClaimDisk(img, false, 0);
        }
        if (ephemeral) {
            throw new IllegalStateException("claim '" + claim + "' holds no " + DISK_IMG + " (an ephemeral volume "
                    + "boots from the claim's image and never writes it, so it must exist)");
        }
        if (info.capacity() <= 0) {
            throw new IllegalStateException("claim '" + claim + "' holds no " + DISK_IMG + " and its capacity is not "
                    + "known (status.volumeStatus[].persistentVolumeClaimInfo.capacity or requests), so none can be made");
        }
        long usable;
        try {
            usable = Files.getFileStore(mount).getUsableSpace();
        } catch (IOException e) {
            throw new IllegalStateException("claim '" + claim + "': free space of " + mount + " unknown: "
                    + e.getMessage());
        }
        long size = newDiskSize(info.capacity(), info.overhead(), usable, claim);
        return new ClaimDisk(img, false, size);
    }

    /**
     * KubeVirt's size for a new {@code disk.img}: the claim's capacity less the file system overhead, aligned down
     * to 1 MiB; when less is free, what is free, if that is within the toleration of what was asked.
     *
     * @param capacity bytes, > 0
     * @param overhead in [0, 1)
     * @param usable   bytes free for the launcher on the claim's file system
     */
    static long newDiskSize(long capacity, BigDecimal overhead, long usable, String claim) {
        long want = alignDown(new BigDecimal(capacity).multiply(BigDecimal.ONE.subtract(overhead)).longValue());
        if (want <= 0) {
            throw new IllegalStateException("claim '" + claim + "': capacity " + capacity + " bytes leaves no room "
                    + "for a disk after the file system overhead");
        }
        if (usable >= want) {
            return want;
        }
        long floor = want - want / 100 * TOLERATION_PERCENT;
        long size = alignDown(usable);
        if (size < floor) {
            throw new IllegalStateException("claim '" + claim + "' has " + HostFitCheck.size(usable) + " free, "
                    + "less than the " + HostFitCheck.size(want) + " " + DISK_IMG + " it should hold (capacity "
                    + HostFitCheck.size(capacity) + " less " + overhead.movePointRight(2).stripTrailingZeros()
                    .toPlainString() + "% file system overhead) minus the " + TOLERATION_PERCENT + "% toleration");
        }
        return size;
    }

    private static long alignDown(long bytes) {
        return bytes / MIB * MIB;
    }

    private static boolean isBlockDevice(Path p) {
        try {
            // S_IFMT / S_IFBLK: Java's file attributes tell devices only as "other".
            return (((Integer) Files.getAttribute(p, "unix:mode")) & 0170000) == 0060000;
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }

    private static long storage(Map<?, ?> info, String field, String volume) {
        if (info.get(field) instanceof Map<?, ?> m && m.get("storage") != null) {
            String q = String.valueOf(m.get("storage"));
            if (!Quantities.isValid(q)) {
                throw new IllegalStateException("status.volumeStatus: " + field + ".storage '" + q
                        + "' of volume '" + volume + "' is not a quantity");
            }
            return Quantities.value(q);
        }
        return -1;
    }

    /** The claim's info from the VMI's status.volumeStatus (KubeVirt's field names), or unknown. */
    @SuppressWarnings("unchecked")
    static ClaimInfo claimInfo(VirtualMachineInstance vmi, String volume) {
        if (vmi.getStatus() == null || !(vmi.getStatus().getAdditionalProperties().get("volumeStatus")
                instanceof List<?> statuses)) {
            return ClaimInfo.UNKNOWN;
        }
        for (Object o : statuses) {
            if (!(o instanceof Map<?, ?> s) || !volume.equals(s.get("name"))
                    || !(s.get("persistentVolumeClaimInfo") instanceof Map<?, ?> info)) {
                continue;
            }
            // KubeVirt's size: the request when it is below the capacity (or the claim is not bound yet), else the
            // capacity
            long capacity = storage(info, "capacity", volume);
            long requests = storage(info, "requests", volume);
            if (requests > 0 && (capacity <= 0 || requests < capacity)) {
                capacity = requests;
            }
            BigDecimal overhead = DEFAULT_OVERHEAD;
            if (info.get("filesystemOverhead") != null) {
                try {
                    overhead = new BigDecimal(String.valueOf(info.get("filesystemOverhead")));
                } catch (NumberFormatException e) {
                    overhead = BigDecimal.valueOf(-1);
                }
                if (overhead.signum() < 0 || overhead.compareTo(BigDecimal.ONE) >= 0) {
                    throw new IllegalStateException("status.volumeStatus: filesystemOverhead '"
                            + info.get("filesystemOverhead") + "' of volume '" + volume + "' is not in [0, 1)");
                }
            }
            return new ClaimInfo(capacity, "Block".equals(info.get("volumeMode")), overhead);
        }
        return ClaimInfo.UNKNOWN;
    }
}
