package io.qvirt.api;

import io.qvirt.api.model.Devices;
import io.qvirt.api.model.DomainSpec;
import io.qvirt.api.model.Interface;
import io.qvirt.api.model.Network;
import io.qvirt.api.model.Volume;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

/**
 * Whether a VMI can be live-migrated, as KubeVirt's virt-handler decides its {@code LiveMigratable} condition
 * ({@code calculateLiveMigrationCondition}): the same checks in the same order, with KubeVirt's reasons and
 * messages. A pure function of the VMI (its spec, and for claims the access modes the controller recorded in
 * {@code status.volumeStatus[].persistentVolumeClaimInfo}, or a lookup the caller gives).
 *
 * <p>Migratable: containerDisk, emptyDisk, ephemeral, cloudInit, configMap/secret/serviceAccount/downwardAPI volumes
 * (qvirt's target makes the read-only ones again, and copies a containerDisk's or emptyDisk's own overlay by block
 * mirror: KubeVirt's "block migration"), ReadWriteMany claims, a {@code shared: true} hostDisk, masquerade (and
 * passt) on the pod network. Not: a claim that is not ReadWriteMany or whose access modes are not known
 * ({@code DisksNotLiveMigratable}), a hostDisk that is not shared, bridge (or anything else but masquerade/passt)
 * on the pod network ({@code InterfaceNotLiveMigratable}), virtiofs filesystems ({@code VirtIOFSNotLiveMigratable}:
 * QEMU 7.2's vhost-user-fs blocks migration, as KubeVirt said before it could migrate them), host devices and
 * GPUs ({@code HostDeviceNotLiveMigratable}), SEV/TDX, hyperv passthrough.
 */
public final class LiveMigratability {
    public static final String DISKS_NOT_MIGRATABLE = "DisksNotLiveMigratable";
    public static final String INTERFACE_NOT_MIGRATABLE = "InterfaceNotLiveMigratable";
    public static final String VIRTIOFS_NOT_MIGRATABLE = "VirtIOFSNotLiveMigratable";
    public static final String HOST_DEVICE_NOT_MIGRATABLE = "HostDeviceNotLiveMigratable";
    public static final String SEV_NOT_MIGRATABLE = "SEVNotLiveMigratable";
    public static final String TDX_NOT_MIGRATABLE = "TDXNotLiveMigratable";
    public static final String HYPERV_PASSTHROUGH_NOT_MIGRATABLE = "HypervPassthroughNotLiveMigratable";

    /** Why a VMI cannot migrate: the condition's reason and message (KubeVirt's words). */
    public record Refusal(String reason, String message) {
    }

    private LiveMigratability() {
    }

    /**
     * Null if the VMI can live-migrate, else why not; claims are judged by the access modes in the VMI's
     * {@code status.volumeStatus}.
     */
    public static Refusal check(VirtualMachineInstance vmi) {
        return check(vmi, claim -> accessModesFromStatus(vmi, claim));
    }

    /**
     * Null if the VMI can live-migrate, else why not (the first reason in KubeVirt's order).
     *
     * @param accessModes a claim's access modes by claim name (a PVC's or a DataVolume's), or null when not known
     *                    (which refuses, as KubeVirt does: "Unable to determine if PVC ... is shared")
     */
    public static Refusal check(VirtualMachineInstance vmi, Function<String, List<String>> accessModes) {
        DomainSpec domain = vmi.getSpec() == null ? null : vmi.getSpec().getDomain();
        Devices devices = domain == null ? null : domain.getDevices();
        String itf = interfaces(vmi);
        if (itf != null) {
            return new Refusal(INTERFACE_NOT_MIGRATABLE, itf);
        }
        if (devices != null && nonEmptyList(devices.getAdditionalProperties().get("filesystems"))) {
            return new Refusal(VIRTIOFS_NOT_MIGRATABLE, "VMI uses virtiofs");
        }
        if (devices != null) {
            if (nonEmptyList(devices.getAdditionalProperties().get("hostDevices"))) {
                return new Refusal(HOST_DEVICE_NOT_MIGRATABLE, "VMI specifies non-migratable generic PCI host device");
            }
            Object gpus = devices.getAdditionalProperties().get("gpus");
            if (gpus instanceof List<?> l && l.size() > 1) {
                return new Refusal(HOST_DEVICE_NOT_MIGRATABLE, "VMI specifies too many GPUs");
            }
            if (nonEmptyList(gpus)) {
                return new Refusal(HOST_DEVICE_NOT_MIGRATABLE, "VMI specifies non-migratable GPU device");
            }
        }
        if (domain != null && domain.getAdditionalProperties().get("launchSecurity") instanceof Map<?, ?> ls) {
            if (ls.get("sev") != null) {
                return new Refusal(SEV_NOT_MIGRATABLE, "VMI uses SEV");
            }
            if (ls.get("tdx") != null) {
                return new Refusal(TDX_NOT_MIGRATABLE, "VMI uses TDX");
            }
        }
        if (domain != null && domain.getFeatures() != null
                && domain.getFeatures().getAdditionalProperties().get("hypervPassthrough") instanceof Map<?, ?> hp
                && Boolean.TRUE.equals(hp.get("enabled"))) {
            return new Refusal(HYPERV_PASSTHROUGH_NOT_MIGRATABLE, "VMI uses hyperv passthrough");
        }
        String disks = volumes(vmi, accessModes);
        if (disks != null) {
            return new Refusal(DISKS_NOT_MIGRATABLE, disks);
        }
        return null;
    }

    /** KubeVirt's VerifyVMIMigratable: the pod network's interface must be masquerade (or passt). */
    private static String interfaces(VirtualMachineInstance vmi) {
        DomainSpec domain = vmi.getSpec() == null ? null : vmi.getSpec().getDomain();
        List<Interface> itfs = domain == null || domain.getDevices() == null ? null : domain.getDevices().getInterfaces();
        if (itfs == null || itfs.isEmpty()) {
            return null;
        }
        List<Network> nets = vmi.getSpec().getNetworks() == null ? List.of() : vmi.getSpec().getNetworks();
        Network pod = nets.stream().filter(n -> n.getPod() != null).findFirst().orElse(null);
        if (pod == null) {
            return null;
        }
        Interface primary = itfs.stream().filter(i -> Objects.equals(i.getName(), pod.getName())).findFirst().orElse(null);
        if (primary == null) {
            return "no primary interface found for network " + pod.getName();
        }
        if (primary.getMasquerade() != null || primary.getPasstBinding() != null) {
            return null;
        }
        // KubeVirt lets bridge migrate with the kubevirt.io/allow-pod-bridge-network-live-migration annotation;
        // qvirt does not: its handler plumbs only the pod a VMI runs in, not a migration target's.
        return "cannot migrate VMI which does not use masquerade or a migratable plugin to connect to the pod network";
    }

    /** KubeVirt's checkVolumesForMigration: every claim shared (ReadWriteMany), every hostDisk shared. */
    private static String volumes(VirtualMachineInstance vmi, Function<String, List<String>> accessModes) {
        List<Volume> volumes = vmi.getSpec() == null || vmi.getSpec().getVolumes() == null ? List.of()
                : vmi.getSpec().getVolumes();
        for (Volume v : volumes) {
            String claim = v.getPersistentVolumeClaim() != null ? v.getPersistentVolumeClaim().getClaimName()
                    : v.getDataVolume() != null ? v.getDataVolume().getName() : null;
            if (v.getPersistentVolumeClaim() != null || v.getDataVolume() != null) {
                List<String> modes = accessModes.apply(claim);
                if (modes == null) {
                    return "cannot migrate VMI: Unable to determine if PVC " + claim + " is shared, live migration "
                            + "requires that all PVCs must be shared (using ReadWriteMany access mode)";
                }
                if (!modes.contains("ReadWriteMany")) {
                    return "cannot migrate VMI: PVC " + claim + " is not shared, live migration requires that all "
                            + "PVCs must be shared (using ReadWriteMany access mode)";
                }
            } else if (v.getHostDisk() != null && !Boolean.TRUE.equals(v.getHostDisk().getShared())) {
                return "cannot migrate VMI with non-shared HostDisk";
            }
        }
        return null;
    }

    /**
     * A claim's access modes as the controller recorded them ({@code status.volumeStatus[]
     * .persistentVolumeClaimInfo.accessModes} of the entry whose {@code persistentVolumeClaimInfo.claimName} is
     * the claim), or null if not recorded.
     */
    public static List<String> accessModesFromStatus(VirtualMachineInstance vmi, String claim) {
        if (vmi.getStatus() == null || !(vmi.getStatus().getAdditionalProperties().get("volumeStatus") instanceof List<?> l)) {
            return null;
        }
        for (Object o : l) {
            if (o instanceof Map<?, ?> entry && entry.get("persistentVolumeClaimInfo") instanceof Map<?, ?> info
                    && Objects.equals(info.get("claimName"), claim) && info.get("accessModes") instanceof List<?> modes) {
                return modes.stream().map(String::valueOf).toList();
            }
        }
        return null;
    }

    private static boolean nonEmptyList(Object o) {
        return o instanceof List<?> l && !l.isEmpty();
    }
}
