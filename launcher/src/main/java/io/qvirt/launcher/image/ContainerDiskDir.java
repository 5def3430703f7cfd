package io.qvirt.launcher.image;

import io.qvirt.api.VirtualMachineInstance;
import io.qvirt.api.model.Volume;
import io.qvirt.launcher.plan.ImageFormat;
import io.qvirt.launcher.plan.ResolvedVolumes;
import io.qvirt.launcher.process.Fd;
import java.util.ArrayList;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.nio.file.LinkOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * containerDisks on a cluster, KubeVirt's way: each containerDisk image runs as a container of the launcher
 * pod (so the kubelet pulls it, with the pod's imagePullSecrets), and publishes its {@code /disk} directory as
 * the link {@code DIR/<volume>} (see the controller's {@code LauncherPods}). {@code launcher exec
 * --container-disk-dir DIR} waits for each link and boots from the disk behind it, read-only under a
 * per-VM overlay, exactly as from the local cache.
 *
 * <p>Each disk container also makes the FIFO {@code DIR/<volume>.alive} (before its link) and reads it until EOF,
 * then exits: {@link #openAliveFifos} opens them for writing, and {@code launcher exec} hands those fds to QEMU,
 * so the disk containers end when QEMU does and the pod can end (KubeVirt's container-disk binary exits when
 * its socket in the shared directory goes).
 */
public final class ContainerDiskDir {
    /** {@code DIR/<volume>} + this: the disk container's FIFO (the controller's {@code LauncherPods.ALIVE_SUFFIX}). */
    public static final String ALIVE_SUFFIX = ".alive";

    private ContainerDiskDir() {
    }

    /**
     * The {@code <volume>.alive} FIFOs opened, and what was skipped.
     *
     * @param fds     one per containerDisk volume whose FIFO opened, close-on-exec, owned by the caller
     * @param skipped why a volume's FIFO was not opened (none there: a disk container of before the FIFO)
     */
    public record AliveFifos(List<Fd> fds, List<String> skipped) {
    }

    /**
     * Opens {@code DIR/<volume>.alive} of every containerDisk volume for writing (never blocks). Call it after
     * {@link #find}: a disk container makes its FIFO before its link. A FIFO that is missing or cannot be opened is
     * skipped and said in {@link AliveFifos#skipped()}: the VM runs the same, only its disk container does not end
     * with QEMU.
     */
    public static AliveFifos openAliveFifos(VirtualMachineInstance vmi, Path dir) {
        List<Fd> fds = new ArrayList<>();
        List<String> skipped = new ArrayList<>();
        List<Volume> volumes = vmi.getSpec().getVolumes() == null ? List.of() : vmi.getSpec().getVolumes();
        for (Volume v : volumes) {
            if (v.getContainerDisk() == null) {
                continue;
            }
            Path fifo = dir.resolve(v.getName() + ALIVE_SUFFIX);
            if (!Files.exists(fifo, LinkOption.NOFOLLOW_LINKS)) {
                skipped.add(v.getName() + ": no " + fifo);
                continue;
            }
            try {
                fds.add(Fd.openFifo(fifo));
            } catch (RuntimeException e) {
                skipped.add(v.getName() + ": " + e.getMessage());
            }
        }
        return new AliveFifos(List.copyOf(fds), List.copyOf(skipped));
    }

    /**
     * @param dir  where the disk containers publish their links
     * @param wait how long to wait for a link (the kubelet may still be pulling the image)
     * @return the base disk of every containerDisk volume, by volume name
     * @throws ImageException.MissingContent naming the volume and image if a link never appears, or it holds
     *                                       no disk, or more than one file and no {@code path}
     */
    public static Map<String, ResolvedVolumes.BaseDisk> find(VirtualMachineInstance vmi, Path dir, Duration wait) {
        Map<String, ResolvedVolumes.BaseDisk> out = new LinkedHashMap<>();
        List<Volume> volumes = vmi.getSpec().getVolumes() == null ? List.of() : vmi.getSpec().getVolumes();
        long deadline = System.nanoTime() + wait.toNanos();
        for (Volume v : volumes) {
            if (v.getContainerDisk() == null) {
                continue;
            }
            String image = v.getContainerDisk().getImage();
            Path link = dir.resolve(v.getName());
            while (!Files.isDirectory(link)) {
                if (System.nanoTime() > deadline) {
                    throw new ImageException.MissingContent(image, "kubelet", "containerDisk volume '" + v.getName()
                            + "': its container did not publish " + link + " within " + wait.toSeconds() + " s");
                }
                sleep(100);
            }
            Path disk = disk(link, v.getContainerDisk().getPath(), image, v.getName());
            out.put(v.getName(), new ResolvedVolumes.BaseDisk(disk, ImageFormat.detect(disk)));
        }
        return out;
    }

    /** The disk under {@code link} (the image's /disk): {@code path} if given, else the one regular file. */
    static Path disk(Path link, String path, String image, String volume) {
        if (path != null && !path.isBlank()) {
            String rel = path.startsWith("/disk/") ? path.substring("/disk/".length()) : null;
            if (rel == null || rel.isEmpty() || rel.contains("..")) {
                throw new ImageException.MissingContent(image, "kubelet", "containerDisk volume '" + volume
                        + "': path '" + path + "' must name a file under /disk/ on a cluster");
            }
            Path p = link.resolve(rel);
            if (!Files.isRegularFile(p)) {
                throw new ImageException.MissingContent(image, "kubelet", "containerDisk volume '" + volume
                        + "': no file " + path + " in the image");
            }
            return p;
        }
        try (Stream<Path> s = Files.list(link)) {
            List<Path> files = s.filter(Files::isRegularFile).toList();
            if (files.size() != 1) {
                throw new ImageException.MissingContent(image, "kubelet", "containerDisk volume '" + volume + "': "
                        + (files.isEmpty() ? "no disk under /disk/" : files.size() + " files under /disk/ and no path to choose one"));
            }
            return files.get(0);
        } catch (IOException e) {
            throw new ImageException.MissingContent(image, "kubelet", "containerDisk volume '" + volume
                    + "': cannot list " + link + ": " + e.getMessage());
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for a containerDisk", e);
        }
    }
}
