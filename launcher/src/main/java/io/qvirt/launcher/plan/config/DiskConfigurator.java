package io.qvirt.launcher.plan.config;

import io.qvirt.api.Quantities;
import io.qvirt.api.model.Disk;
import io.qvirt.api.model.HostDisk;
import io.qvirt.api.model.Volume;
import io.qvirt.launcher.plan.ImageFormat;
import io.qvirt.launcher.plan.PlanContext;
import io.qvirt.launcher.plan.PreparedFile;
import io.qvirt.launcher.plan.QemuConfigurator;
import io.qvirt.launcher.plan.QemuOpts;
import io.qvirt.launcher.plan.ResolvedVolumes;
import io.qvirt.api.model.CloudInitSource;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Disks and their volumes, in spec order: a {@code -blockdev} file node, a format node, and a device
 * on the disk's bus with the disk's {@code bootOrder} as {@code bootindex}. Volumes qvirt runs:
 * {@code hostDisk} (an existing image, or for DiskOrCreate a sparse raw image of {@code capacity}) and
 * {@code emptyDisk} (a fresh qcow2 in the VM's directory, removed with it), {@code cloudInitNoCloud} (a
 * {@code cidata} ISO in the VM's directory), {@code containerDisk} (a qcow2 overlay in the VM's directory over
 * the image's disk, fetched before planning). Every other source is refused by field.
 */
public final class DiskConfigurator implements QemuConfigurator {
    @Override
    public void configure(PlanContext ctx) {
        var dev = ctx.spec().getDomain().getDevices();
        List<Disk> disks = dev == null || dev.getDisks() == null ? List.of() : dev.getDisks();
        List<Volume> volumes = ctx.spec().getVolumes() == null ? List.of() : ctx.spec().getVolumes();
        boolean scsi = false;
        int sata = 0;
        for (int i = 0; i < disks.size(); i++) {
            Disk disk = disks.get(i);
            String df = "domain.devices.disks[" + i + "]";
            int vi = indexOf(volumes, disk.getName());
            if (vi < 0) {
                ctx.refuse(df + ".name", "no volume named '" + disk.getName() + "' in spec.volumes");
                continue;
            }
            Volume v = volumes.get(vi);
            String vf = "volumes[" + vi + "]";
            Source src = source(ctx, v, vf);
            if (src == null) {
                continue;
            }
            String node = "vol" + i;
            boolean readOnly = src.readOnly;
            String bus;
            String device;
            if (disk.getCdrom() != null) {
                readOnly = true;
                bus = disk.getCdrom().getBus() != null ? disk.getCdrom().getBus() : "sata";
                device = "cdrom";
            } else if (disk.getLun() != null) {
                ctx.refuse(df + ".lun", "not supported by qvirt: use disk or cdrom");
                continue;
            } else {
                bus = disk.getDisk() != null && disk.getDisk().getBus() != null ? disk.getDisk().getBus() : "virtio";
                device = "disk";
                readOnly |= disk.getDisk() != null && Boolean.TRUE.equals(disk.getDisk().getReadonly());
            }
            QemuOpts file = QemuOpts.keys().put("driver", "file").put("filename", src.path.toString())
                    .put("node-name", node + "-file").put("read-only", readOnly ? "on" : "off");
            String cache = disk.getCache();
            if ("none".equals(cache)) {
                file.put("cache.direct", "on");
            } else if (cache != null && !"writethrough".equals(cache) && !"writeback".equals(cache)) {
                ctx.refuse(df + ".cache", "'" + cache + "' is not allowed: none, writethrough, writeback");
                continue;
            }
            ctx.arg("-blockdev", file);
            ctx.arg("-blockdev", QemuOpts.keys().put("driver", src.format.qemuName()).put("file", node + "-file")
                    .put("node-name", node).put("read-only", readOnly ? "on" : "off")
                    .putIf("writethrough".equals(cache), "cache.writeback", "off"));
            QemuOpts d;
            switch (bus) {
                case "virtio":
                    if (device.equals("cdrom")) {
                        ctx.refuse(df + ".cdrom.bus", "virtio is not allowed for a cdrom: sata or scsi");
                        continue;
                    }
                    d = QemuOpts.of("virtio-blk-pci");
                    break;
                case "sata":
                    // q35's built-in AHCI controller has six ports: ide.0 .. ide.5.
                    if (sata >= 6) {
                        ctx.refuse(df + "." + device + ".bus", "at most 6 sata disks (q35's AHCI ports)");
                        continue;
                    }
                    d = QemuOpts.of(device.equals("cdrom") ? "ide-cd" : "ide-hd").put("bus", "ide." + sata++);
                    break;
                case "scsi":
                    if (!scsi) {
                        ctx.arg("-device", "virtio-scsi-pci,id=scsi0");
                        scsi = true;
                    }
                    d = QemuOpts.of(device.equals("cdrom") ? "scsi-cd" : "scsi-hd").put("bus", "scsi0.0");
                    break;
                default:
                    ctx.refuse(df + "." + device + ".bus", "'" + bus + "' is not supported by qvirt: virtio, sata, scsi");
                    continue;
            }
            d.put("drive", node).put("id", "ua-" + disk.getName());
            if (disk.getBootOrder() != null) {
                d.put("bootindex", disk.getBootOrder());
            }
            if (disk.getSerial() != null) {
                d.put("serial", disk.getSerial());
            }
            ctx.arg("-device", d);
        }
    }

    private record Source(Path path, ImageFormat format, boolean readOnly) {
    }

    private static Source source(PlanContext ctx, Volume v, String vf) {
        if (v.getHostDisk() != null) {
            return hostDisk(ctx, v.getHostDisk(), vf + ".hostDisk");
        }
        if (v.getEmptyDisk() != null) {
            if (v.getEmptyDisk().getCapacity() == null) {
                ctx.refuse(vf + ".emptyDisk.capacity", "required");
                return null;
            }
            long size = Quantities.value(Quantities.text(v.getEmptyDisk().getCapacity()));
            Path p = ctx.paths().disksDir().resolve(v.getName() + ".qcow2");
            ctx.prepare(new PreparedFile.NewQcow2(p, size, ctx.field(vf + ".emptyDisk")));
            return new Source(p, ImageFormat.QCOW2, false);
        }
        if (v.getCloudInitNoCloud() != null) {
            return noCloud(ctx, v, vf + ".cloudInitNoCloud");
        }
        ResolvedVolumes.ClaimDisk claim = ctx.options().volumes().claims().get(v.getName());
        if (claim != null && (v.getPersistentVolumeClaim() != null || v.getEphemeral() != null)) {
            return claim(ctx, v, claim, vf);
        }
        String kind = v.getContainerDisk() != null ? "containerDisk"
                : v.getCloudInitNoCloud() != null ? "cloudInitNoCloud"
                : v.getCloudInitConfigDrive() != null ? "cloudInitConfigDrive"
                : v.getPersistentVolumeClaim() != null ? "persistentVolumeClaim"
                : v.getDataVolume() != null ? "dataVolume"
                : v.getEphemeral() != null ? "ephemeral"
                : v.getConfigMap() != null ? "configMap"
                : v.getSecret() != null ? "secret"
                : v.getServiceAccount() != null ? "serviceAccount"
                : v.getDownwardAPI() != null ? "downwardAPI" : null;
        if (kind == null) {
            ctx.refuse(vf, "volume '" + v.getName() + "' has no source qvirt knows");
        } else if (kind.equals("containerDisk")) {
            return containerDisk(ctx, v, vf + ".containerDisk");
        } else if (kind.equals("cloudInitConfigDrive")) {
            ctx.refuse(vf + "." + kind, "not supported by qvirt: use cloudInitNoCloud");
        } else {
            ctx.refuse(vf + "." + kind, kind.equals("persistentVolumeClaim") || kind.equals("ephemeral")
                    ? "not supported by qvirt on one machine without --pvc-dir DIR (the claim's disk.img at "
                    + "DIR/" + v.getName() + "/disk.img); or use hostDisk or emptyDisk (on a cluster the launcher pod "
                    + "mounts the claim)"
                    : "not supported by qvirt on one machine: use hostDisk or emptyDisk");
        }
        return null;
    }

    /**
     * cloudInitNoCloud as KubeVirt builds it: an ISO with volume id {@code cidata} holding {@code meta-data}
     * (instance-id {@code <name>.<namespace>}, local-hostname), {@code user-data} and {@code network-config}
     * with the spec's exact bytes. Secret references need the API server, so they are refused here.
     */
    private static Source noCloud(PlanContext ctx, Volume v, String f) {
        CloudInitSource ci = v.getCloudInitNoCloud();
        boolean refused = false;
        if (ci.getUserDataSecretRef() != null) {
            ctx.refuse(f + ".secretRef", "needs the Kubernetes API; on one machine use userData or userDataBase64");
            refused = true;
        }
        if (ci.getNetworkDataSecretRef() != null) {
            ctx.refuse(f + ".networkDataSecretRef", "needs the Kubernetes API; on one machine use networkData or networkDataBase64");
            refused = true;
        }
        if (refused) {
            return null;
        }
        var meta = ctx.vmi().getMetadata();
        String host = ctx.spec().getHostname() != null ? ctx.spec().getHostname() : meta.getName();
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put("meta-data", ("{\n  \"instance-id\": \"" + meta.getName() + "." + meta.getNamespace() + "\",\n"
                + "  \"local-hostname\": \"" + host + "\"\n}\n").getBytes(StandardCharsets.UTF_8));
        byte[] user = bytes(ci.getUserData(), ci.getUserDataBase64());
        if (user != null) {
            files.put("user-data", user);
        }
        byte[] net = bytes(ci.getNetworkData(), ci.getNetworkDataBase64());
        if (net != null) {
            files.put("network-config", net);
        }
        Path iso = ctx.paths().disksDir().resolve(v.getName() + ".iso");
        ctx.prepare(new PreparedFile.Iso(iso, "cidata", files, ctx.field(f)));
        return new Source(iso, ImageFormat.RAW, true);
    }

    /** Plain text as UTF-8, or base64 decoded (validated by the api module already); null if neither. */
    private static byte[] bytes(String text, String base64) {
        if (text != null && !text.isEmpty()) {
            return text.getBytes(StandardCharsets.UTF_8);
        }
        if (base64 != null && !base64.isEmpty()) {
            return Base64.getDecoder().decode(base64);
        }
        return null;
    }

    /**
     * containerDisk as KubeVirt runs it: the image's disk (fetched before planning, read-only in the shared
     * cache) is the backing file of a qcow2 overlay in the VM's directory, which the guest writes and which
     * goes with the VM.
     */
    private static Source containerDisk(PlanContext ctx, Volume v, String f) {
        String policy = v.getContainerDisk().getImagePullPolicy();
        if (policy != null && !policy.equals("Always") && !policy.equals("IfNotPresent") && !policy.equals("Never")) {
            ctx.refuse(f + ".imagePullPolicy", "'" + policy + "' is not allowed: Always, IfNotPresent, Never");
            return null;
        }
        ResolvedVolumes.BaseDisk base = ctx.options().volumes().containerDisks().get(v.getName());
        if (base == null) {
            ctx.refuse(f + ".image", "image " + v.getContainerDisk().getImage() + " was not fetched before planning");
            return null;
        }
        Path p = ctx.paths().disksDir().resolve(v.getName() + ".qcow2");
        ctx.prepare(new PreparedFile.Overlay(p, base.path(), base.format(), ctx.field(f)));
        return new Source(p, ImageFormat.QCOW2, false);
    }

    /**
     * A claim as the launcher pod mounts it (see {@code ClaimDisks}): a persistentVolumeClaim is the VM's own
     * disk, written in place ({@code disk.img}, made sparse first when it is new, or the block device); an
     * ephemeral volume's image is only read, under a per-VM overlay, as a containerDisk's. Both are raw.
     */
    private static Source claim(PlanContext ctx, Volume v, ResolvedVolumes.ClaimDisk c, String vf) {
        if (v.getEphemeral() != null) {
            Path p = ctx.paths().disksDir().resolve(v.getName() + ".qcow2");
            ctx.prepare(new PreparedFile.Overlay(p, c.path(), ImageFormat.RAW, ctx.field(vf + ".ephemeral")));
            return new Source(p, ImageFormat.QCOW2, false);
        }
        boolean readOnly = Boolean.TRUE.equals(v.getPersistentVolumeClaim().getReadOnly());
        if (c.createSize() > 0) {
            ctx.prepare(new PreparedFile.SparseRaw(c.path(), c.createSize(), ctx.field(vf + ".persistentVolumeClaim")));
        }
        // Always raw, as KubeVirt: the guest writes this image, so a probed format would let it plant a qcow2
        // header whose backing file opens a host file on the next boot.
        return new Source(c.path(), ImageFormat.RAW, readOnly);
    }

    private static Source hostDisk(PlanContext ctx, HostDisk h, String f) {
        if (h.getPath() == null || !h.getPath().startsWith("/")) {
            ctx.refuse(f + ".path", "must be an absolute path");
            return null;
        }
        Path p = Path.of(h.getPath());
        String type = h.getType() == null ? "Disk" : h.getType();
        if (ctx.options().admission() && (type.equals("Disk") || type.equals("DiskOrCreate"))) {
            // The image is on a node: its launcher checks it (and its format) when it runs.
            return new Source(p, ImageFormat.RAW, false);
        }
        switch (type) {
            case "Disk":
                if (!Files.isRegularFile(p)) {
                    ctx.refuse(f + ".path", h.getPath() + " does not exist or is not a regular file (type Disk needs an existing image)");
                    return null;
                }
                return new Source(p, ImageFormat.detect(p), false);
            case "DiskOrCreate":
                if (Files.exists(p)) {
                    return new Source(p, ImageFormat.detect(p), false);
                }
                if (h.getCapacity() == null) {
                    ctx.refuse(f + ".capacity", "required for type DiskOrCreate when the image does not exist");
                    return null;
                }
                ctx.prepare(new PreparedFile.SparseRaw(p,
                        Quantities.value(Quantities.text(h.getCapacity())), ctx.field(f)));
                return new Source(p, ImageFormat.RAW, false);
            default:
                ctx.refuse(f + ".type", "'" + type + "' is not allowed: Disk, DiskOrCreate");
                return null;
        }
    }

    private static int indexOf(List<Volume> volumes, String name) {
        for (int i = 0; i < volumes.size(); i++) {
            if (volumes.get(i).getName() != null && volumes.get(i).getName().equals(name)) {
                return i;
            }
        }
        return -1;
    }
}
