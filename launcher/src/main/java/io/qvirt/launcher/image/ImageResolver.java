package io.qvirt.launcher.image;

import io.qvirt.api.VirtualMachineInstance;
import io.qvirt.api.VmiDefaults;
import io.qvirt.api.model.Firmware;
import io.qvirt.api.model.KernelBootContainer;
import io.qvirt.api.model.Volume;
import io.qvirt.launcher.plan.ResolvedVolumes;
import io.qvirt.launcher.runtime.Log;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Fetches every image a VMI needs before it is planned: each containerDisk volume's disk and the kernel and
 * initrd of {@code firmware.kernelBoot.container}, into the shared {@link ImageStore}. Logs one line per image
 * (digest, size, time, cached or pulled).
 */
public final class ImageResolver {
    private final Supplier<ImageStore> storeFactory;
    private final Log log;
    private ImageStore store;

    /**
     * @param store opens the cache; called only when the VMI names an image, so a VM without images never
     *              needs the cache directory
     */
    public ImageResolver(Supplier<ImageStore> store, Log log) {
        this.storeFactory = store;
        this.log = log;
    }

    /**
     * @param vmi         defaulted and already planned once with {@link ResolvedVolumes#placeholders}, so its
     *                    images, paths and pull policies are valid
     * @param fieldPrefix how field paths are named for this document
     * @throws ImageException if an image cannot be had (the message names image and registry)
     * @throws IllegalArgumentException naming the field, for a pull policy that is not Always, IfNotPresent, Never
     */
    public ResolvedVolumes resolve(VirtualMachineInstance vmi, String fieldPrefix) {
        return resolve(vmi, fieldPrefix, null);
    }

    /**
     * As {@link #resolve(VirtualMachineInstance, String)}, with the containerDisks already found elsewhere
     * (on a cluster: published by the launcher pod's disk containers, see {@link ContainerDiskDir}).
     *
     * @param containerDisks the base disk of every containerDisk volume, or null to pull them here
     */
    public ResolvedVolumes resolve(VirtualMachineInstance vmi, String fieldPrefix,
                                   Map<String, ResolvedVolumes.BaseDisk> containerDisks) {
        Map<String, ImageStore.Image> seen = new HashMap<>();
        Map<String, ResolvedVolumes.BaseDisk> disks = new LinkedHashMap<>();
        List<Volume> volumes = vmi.getSpec().getVolumes() == null ? List.of() : vmi.getSpec().getVolumes();
        if (containerDisks != null) {
            disks.putAll(containerDisks);
            volumes = List.of();
        }
        Firmware fw = vmi.getSpec().getDomain() == null ? null : vmi.getSpec().getDomain().getFirmware();
        KernelBootContainer c = fw == null || fw.getKernelBoot() == null ? null : fw.getKernelBoot().getContainer();
        if (c == null && volumes.stream().noneMatch(v -> v.getContainerDisk() != null)) {
            return disks.isEmpty() ? ResolvedVolumes.NONE : new ResolvedVolumes(disks, null, null);
        }
        if (store == null) {
            store = storeFactory.get();
        }
        for (int i = 0; i < volumes.size(); i++) {
            Volume v = volumes.get(i);
            if (v.getContainerDisk() == null) {
                continue;
            }
            String f = fieldPrefix + "volumes[" + i + "].containerDisk";
            String image = v.getContainerDisk().getImage();
            PullPolicy policy = policy(v.getContainerDisk().getImagePullPolicy(), image, f + ".imagePullPolicy");
            long t0 = System.nanoTime();
            long before = store.downloadedBytes();
            ImageStore.Image img = resolveOnce(seen, image, policy);
            ImageStore.Disk d = store.disk(img, v.getContainerDisk().getPath());
            disks.put(v.getName(), new ResolvedVolumes.BaseDisk(d.path(), d.format()));
            report(img, t0, before, "disk " + d.path().getFileName() + " (" + d.format().qemuName() + ")");
        }
        Path kernel = null;
        Path initrd = null;
        if (c != null) {
            String f = fieldPrefix + "domain.firmware.kernelBoot.container";
            PullPolicy policy = policy(c.getImagePullPolicy(), c.getImage(), f + ".imagePullPolicy");
            long t0 = System.nanoTime();
            long before = store.downloadedBytes();
            ImageStore.Image img = resolveOnce(seen, c.getImage(), policy);
            List<String> paths = new ArrayList<>();
            if (c.getKernelPath() != null) {
                paths.add(c.getKernelPath());
            }
            if (c.getInitrdPath() != null) {
                paths.add(c.getInitrdPath());
            }
            Map<String, Path> files = store.files(img, paths);
            kernel = c.getKernelPath() == null ? null : files.get(c.getKernelPath());
            initrd = c.getInitrdPath() == null ? null : files.get(c.getInitrdPath());
            report(img, t0, before, "kernelBoot " + String.join(", ", paths));
        }
        return new ResolvedVolumes(disks, kernel, initrd);
    }

    /** KubeVirt's default when the spec has none: Always for {@code :latest} or no tag, else IfNotPresent. */
    static PullPolicy policy(String value, String image, String field) {
        String v = value == null || value.isBlank() ? VmiDefaults.pullPolicy(image) : value;
        return PullPolicy.parse(v, field);
    }

    private ImageStore.Image resolveOnce(Map<String, ImageStore.Image> seen, String image, PullPolicy policy) {
        String key = image + "\0" + policy;
        ImageStore.Image img = seen.get(key);
        if (img == null) {
            img = store.resolve(image, policy);
            seen.put(key, img);
        }
        return img;
    }

    private void report(ImageStore.Image img, long t0, long bytesBefore, String what) {
        double secs = (System.nanoTime() - t0) / 1e9;
        long fetched = store.downloadedBytes() - bytesBefore;
        String how;
        if (fetched > 0) {
            how = String.format("pulled %.1f MB from %s in %.2f s (%.1f MB/s)", fetched / 1e6, img.endpoint(), secs,
                    fetched / 1e6 / Math.max(secs, 1e-3));
        } else if (img.fromCache()) {
            how = String.format("cached (%.2f s)", secs);
        } else {
            how = String.format("manifest checked at %s, layers cached (%.2f s)", img.endpoint(), secs);
        }
        log.info(String.format("image %s: %s, %.1f MB, %s; %s", img.name(), img.manifest().digest(), img.size() / 1e6, how, what));
    }
}
