package io.qvirt.api;

import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.Quantity;
import io.qvirt.api.model.BindingMethod;
import io.qvirt.api.model.CDRomTarget;
import io.qvirt.api.model.CPU;
import io.qvirt.api.model.Devices;
import io.qvirt.api.model.Disk;
import io.qvirt.api.model.DiskTarget;
import io.qvirt.api.model.DomainSpec;
import io.qvirt.api.model.FeatureState;
import io.qvirt.api.model.Features;
import io.qvirt.api.model.Firmware;
import io.qvirt.api.model.Input;
import io.qvirt.api.model.Interface;
import io.qvirt.api.model.LunTarget;
import io.qvirt.api.model.Machine;
import io.qvirt.api.model.Memory;
import io.qvirt.api.model.Network;
import io.qvirt.api.model.PodNetwork;
import io.qvirt.api.model.ResourceRequirements;
import io.qvirt.api.model.VirtualMachineInstanceSpec;
import io.qvirt.api.model.Volume;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Set;
import java.util.UUID;

/**
 * Every default qvirt applies to a VMI, in one place, as KubeVirt's mutating webhook applies them
 * ({@code pkg/defaults/defaults.go} {@code SetDefaultVirtualMachineInstance}, the generated
 * {@code SetObjectDefaults_VirtualMachineInstance} of {@code staging/src/kubevirt.io/api/core/v1/defaults.go},
 * {@code pkg/defaults/amd64.go}, {@code pkg/network/vmispec/defaults.go}), with a KubeVirt cluster
 * configuration left at its defaults except for the network settings, which are given
 * ({@link NetworkSettings}). Applying twice changes nothing.
 *
 * <p>KubeVirt's, in its order:
 * <ul>
 * <li>{@code spec.architecture}: {@value #DEFAULT_ARCHITECTURE} (KubeVirt: the cluster's default architecture).</li>
 * <li>{@code domain.machine.type}: {@value #DEFAULT_MACHINE_TYPE} on amd64 ({@code virt} on arm64,
 *     {@code s390-ccw-virtio} on s390x).</li>
 * <li>{@code resources.requests.cpu} from {@code resources.limits.cpu} when only the limit is given.</li>
 * <li>{@code domain.memory.guest}: the memory request, else the memory limit, else the hugepage size.</li>
 * <li>CPU topology when no cores/sockets/threads are given: sockets from the CPU limit (else request, else 1),
 *     1 core, 1 thread.</li>
 * <li>containerDisk {@code imagePullPolicy}: {@code Always} for {@code :latest} or an untagged image,
 *     else {@code IfNotPresent}.</li>
 * <li>With no networks and no interfaces (and {@code autoattachPodInterface} not false): interface
 *     {@code default} on the pod network {@code default}, its binding the cluster's
 *     {@code spec.configuration.network.defaultNetworkInterface} ({@link NetworkSettings}). KubeVirt's default
 *     is bridge; qvirt ships masquerade ({@link NetworkSettings#QVIRT_DEFAULTS}, used by the overloads without
 *     settings).</li>
 * <li>A disk for every volume that has none (KubeVirt's {@code SetDefaultVolumeDisk}).</li>
 * <li>{@code firmware} and {@code features} present; {@code features.acpi.enabled} true, and {@code enabled}
 *     true on apic/smm/pvspinlock when present without it.</li>
 * <li>A disk with no target gets {@code disk: {}}; a cdrom gets {@code readonly: true}, {@code tray: closed}.</li>
 * <li>Disk bus where unset: {@value #AMD64_DISK_BUS} on amd64 (KubeVirt's {@code setDefaultAmd64DisksBus}:
 *     not virtio!), {@code virtio} on arm64 and s390x, for disk, cdrom and lun alike.</li>
 * <li>Input devices: bus {@code usb}, type {@code tablet}.</li>
 * <li>{@code cpu.model}: {@value #DEFAULT_CPU_MODEL}.</li>
 * </ul>
 * <p>What KubeVirt decides later (in virt-controller or the launcher's converter) and qvirt writes down
 * here, so the launcher reads one place:
 * <ul>
 * <li>{@code firmware.uuid}: derived from the name, as KubeVirt's VM controller does for every VMI it
 *     creates ({@code CalculateLegacyUUID}: a name-based SHA-1 UUID (version 5) in namespace
 *     {@value #FIRMWARE_UUID_NAMESPACE}). KubeVirt gives a bare VMI a random UUID instead; qvirt derives it
 *     for bare VMIs too, so a VMI restarted from the same manifest keeps its UUID. Without a name it
 *     stays unset.</li>
 * <li>Topology fields left 0 become 1 (KubeVirt's converter does the same).</li>
 * <li>Interface {@code model}: {@value #DEFAULT_INTERFACE_MODEL} (KubeVirt's converter treats "" as virtio).</li>
 * <li>{@code terminationGracePeriodSeconds}: {@value #DEFAULT_GRACE_PERIOD_SECONDS}
 *     (KubeVirt's {@code DefaultGracePeriodSeconds}, used when the field is absent).</li>
 * <li>autoattach switches made explicit as KubeVirt reads an absent one: pod interface, serial console,
 *     graphics device and memory balloon true; input device and VSOCK false.</li>
 * <li>{@code metadata.namespace}: {@value #DEFAULT_NAMESPACE}.</li>
 * </ul>
 * Not applied: eviction strategy (KubeVirt's cluster default is none), probes, hotplug maxima
 * (live-update rollout is off by default), status fields.
 */
public final class VmiDefaults {
    public static final String DEFAULT_ARCHITECTURE = "amd64";
    public static final String DEFAULT_MACHINE_TYPE = "q35";
    public static final String DEFAULT_CPU_MODEL = "host-model";
    public static final String DEFAULT_NETWORK_NAME = "default";
    public static final String DEFAULT_INTERFACE_MODEL = "virtio";
    public static final String AMD64_DISK_BUS = "sata";
    public static final long DEFAULT_GRACE_PERIOD_SECONDS = 30;
    public static final String DEFAULT_NAMESPACE = "default";
    public static final String FIRMWARE_UUID_NAMESPACE = "6a1a24a1-4061-4607-8bf4-a3963d0c5895";

    private VmiDefaults() {
    }

    /** Applies every default to {@code vmi} (metadata and spec), with qvirt's network settings, and returns it. */
    public static VirtualMachineInstance apply(VirtualMachineInstance vmi) {
        return apply(vmi, NetworkSettings.QVIRT_DEFAULTS);
    }

    /** Applies every default to {@code vmi} (metadata and spec), with the cluster's network settings; returns it. */
    public static VirtualMachineInstance apply(VirtualMachineInstance vmi, NetworkSettings network) {
        if (vmi.getMetadata() == null) {
            vmi.setMetadata(new ObjectMeta());
        }
        ObjectMeta meta = vmi.getMetadata();
        if (meta.getNamespace() == null || meta.getNamespace().isEmpty()) {
            meta.setNamespace(DEFAULT_NAMESPACE);
        }
        if (vmi.getSpec() == null) {
            vmi.setSpec(new VirtualMachineInstanceSpec());
        }
        applySpec(vmi.getSpec(), network);
        applyObjectDefaults(vmi.getSpec(), meta.getName());
        return vmi;
    }

    /**
     * The spec-level defaults KubeVirt's VM admitter applies to a VM's template before validating it
     * ({@code SetDefaultVirtualMachineInstanceSpec}): architecture, machine type, CPU request, guest memory,
     * CPU topology, pull policies, default interface, disks for volumes.
     */
    public static void applySpec(VirtualMachineInstanceSpec spec) {
        applySpec(spec, NetworkSettings.QVIRT_DEFAULTS);
    }

    /**
     * As {@link #applySpec(VirtualMachineInstanceSpec)}, with the cluster's network settings: the default
     * interface's binding is {@link NetworkSettings#defaultNetworkInterface()}. With bridge not permitted on the
     * pod network KubeVirt's defaulting fails ("Bridge interface is not enabled in kubevirt-config"); here the
     * bridge interface is added all the same and validation refuses it by its field path.
     */
    public static void applySpec(VirtualMachineInstanceSpec spec, NetworkSettings network) {
        DomainSpec domain = domain(spec);
        if (isBlank(spec.getArchitecture())) {
            spec.setArchitecture(DEFAULT_ARCHITECTURE);
        }
        // machine type
        if (domain.getMachine() == null) {
            domain.setMachine(new Machine());
        }
        if (isBlank(domain.getMachine().getType())) {
            domain.getMachine().setType(machineType(spec.getArchitecture()));
        }
        // cpu request from limit
        ResourceRequirements res = domain.getResources();
        if (res == null) {
            res = new ResourceRequirements();
            domain.setResources(res);
        }
        Quantity cpuLimit = res.getLimits() == null ? null : res.getLimits().get("cpu");
        Quantity cpuRequest = res.getRequests() == null ? null : res.getRequests().get("cpu");
        if (nonZero(cpuLimit) && !nonZero(cpuRequest)) {
            if (res.getRequests() == null) {
                res.setRequests(new LinkedHashMap<>());
            }
            res.getRequests().put("cpu", new Quantity(Quantities.text(cpuLimit)));
        }
        // guest memory
        Memory memory = domain.getMemory();
        if (memory == null || memory.getGuest() == null) {
            if (memory == null) {
                memory = new Memory();
                domain.setMemory(memory);
            }
            Quantity memRequest = res.getRequests() == null ? null : res.getRequests().get("memory");
            Quantity memLimit = res.getLimits() == null ? null : res.getLimits().get("memory");
            if (nonZero(memRequest)) {
                memory.setGuest(new Quantity(Quantities.text(memRequest)));
            } else if (nonZero(memLimit)) {
                memory.setGuest(new Quantity(Quantities.text(memLimit)));
            } else if (memory.getHugepages() != null && Quantities.isValid(memory.getHugepages().getPageSize())) {
                memory.setGuest(new Quantity(memory.getHugepages().getPageSize()));
            }
        }
        // cpu topology
        CPU cpu = domain.getCpu();
        if (cpu == null || (zero(cpu.getCores()) && zero(cpu.getSockets()) && zero(cpu.getThreads()))) {
            if (cpu == null) {
                cpu = new CPU();
                domain.setCpu(cpu);
            }
            int sockets = 1;
            Quantity limit = res.getLimits() == null ? null : res.getLimits().get("cpu");
            Quantity request = res.getRequests() == null ? null : res.getRequests().get("cpu");
            if (limit != null && Quantities.isValid(limit)) {
                sockets = (int) Quantities.value(limit);
            } else if (request != null && Quantities.isValid(request)) {
                sockets = (int) Quantities.value(request);
            }
            cpu.setSockets(Math.max(1, sockets));
            cpu.setCores(1);
            cpu.setThreads(1);
        }
        // pull policies
        if (spec.getVolumes() != null) {
            for (Volume v : spec.getVolumes()) {
                if (v.getContainerDisk() != null && isBlank(v.getContainerDisk().getImagePullPolicy())) {
                    v.getContainerDisk().setImagePullPolicy(pullPolicy(v.getContainerDisk().getImage()));
                }
            }
        }
        addDefaultInterface(spec, network);
        addVolumeDisks(spec);
    }

    /**
     * KubeVirt's {@code SetDefaultNetworkInterface}: with no networks and no interfaces (and
     * {@code autoattachPodInterface} not false), interface {@value #DEFAULT_NETWORK_NAME} on the pod network, its
     * binding the cluster's default. Part of {@link #applySpec}; alone for the instancetype expansion, which needs
     * it before a preference's interface model is applied.
     */
    public static void addDefaultInterface(VirtualMachineInstanceSpec spec, NetworkSettings network) {
        DomainSpec domain = domain(spec);
        Devices devices = domain.getDevices();
        boolean autoattachPod = devices.getAutoattachPodInterface() == null || devices.getAutoattachPodInterface();
        if (autoattachPod && isEmpty(spec.getNetworks()) && isEmpty(devices.getInterfaces())) {
            Interface iface = new Interface();
            iface.setName(DEFAULT_NETWORK_NAME);
            if ("masquerade".equals(network.defaultNetworkInterface())) {
                iface.setMasquerade(new BindingMethod());
            } else {
                iface.setBridge(new BindingMethod());
            }
            devices.setInterfaces(new ArrayList<>(List.of(iface)));
            Network net = new Network();
            net.setName(DEFAULT_NETWORK_NAME);
            net.setPod(new PodNetwork());
            spec.setNetworks(new ArrayList<>(List.of(net)));
        }
    }

    /**
     * KubeVirt's {@code SetDefaultVolumeDisk}: a disk (no target) for every volume that has no disk or filesystem.
     * Part of {@link #applySpec}; alone for the instancetype expansion (before a preference's disk bus).
     */
    public static void addVolumeDisks(VirtualMachineInstanceSpec spec) {
        DomainSpec domain = domain(spec);
        Devices devices = domain.getDevices();
        if (spec.getVolumes() != null && !spec.getVolumes().isEmpty()) {
            Set<String> diskNames = new HashSet<>();
            if (devices.getDisks() != null) {
                devices.getDisks().forEach(d -> diskNames.add(d.getName()));
            }
            Object filesystems = devices.getAdditionalProperties().get("filesystems");
            if (filesystems instanceof List<?> list) {
                for (Object fs : list) {
                    if (fs instanceof java.util.Map<?, ?> m && m.get("name") instanceof String n) {
                        diskNames.add(n);
                    }
                }
            }
            for (Volume v : spec.getVolumes()) {
                if (v.getName() != null && !diskNames.contains(v.getName())) {
                    if (devices.getDisks() == null) {
                        devices.setDisks(new ArrayList<>());
                    }
                    Disk d = new Disk();
                    d.setName(v.getName());
                    devices.getDisks().add(d);
                    diskNames.add(v.getName());
                }
            }
        }
    }

    /** The defaults KubeVirt applies to the VMI object itself (firmware, features, devices), plus qvirt's. */
    static void applyObjectDefaults(VirtualMachineInstanceSpec spec, String name) {
        DomainSpec domain = domain(spec);
        if (domain.getFirmware() == null) {
            domain.setFirmware(new Firmware());
        }
        if (isBlank(domain.getFirmware().getUuid()) && !isBlank(name)) {
            domain.getFirmware().setUuid(firmwareUuid(name));
        }
        if (domain.getFeatures() == null) {
            domain.setFeatures(new Features());
        }
        Features features = domain.getFeatures();
        if (features.getAcpi() == null) {
            features.setAcpi(new FeatureState());
        }
        enable(features.getAcpi());
        if (features.getApic() != null && features.getApic().getEnabled() == null) {
            features.getApic().setEnabled(true);
        }
        enable(features.getSmm());
        enable(features.getPvspinlock());

        Devices devices = domain.getDevices();
        String bus = defaultDiskBus(spec.getArchitecture());
        if (devices.getDisks() != null) {
            for (Disk d : devices.getDisks()) {
                if (d.getDisk() == null && d.getCdrom() == null && d.getLun() == null) {
                    d.setDisk(new DiskTarget());
                }
                if (d.getCdrom() != null) {
                    CDRomTarget c = d.getCdrom();
                    if (c.getReadonly() == null) {
                        c.setReadonly(true);
                    }
                    if (isBlank(c.getTray())) {
                        c.setTray("closed");
                    }
                    if (isBlank(c.getBus())) {
                        c.setBus(bus);
                    }
                }
                if (d.getDisk() != null && isBlank(d.getDisk().getBus())) {
                    d.getDisk().setBus(bus);
                }
                LunTarget lun = d.getLun();
                if (lun != null && isBlank(lun.getBus())) {
                    lun.setBus(bus);
                }
            }
        }
        if (devices.getInputs() != null) {
            for (Input in : devices.getInputs()) {
                if (isBlank(in.getBus())) {
                    in.setBus("usb");
                }
                if (isBlank(in.getType())) {
                    in.setType("tablet");
                }
            }
        }
        CPU cpu = domain.getCpu();
        if (cpu == null) {
            cpu = new CPU();
            domain.setCpu(cpu);
        }
        if (isBlank(cpu.getModel())) {
            cpu.setModel(DEFAULT_CPU_MODEL);
        }
        // qvirt: what KubeVirt decides later, written down here
        if (zero(cpu.getSockets())) {
            cpu.setSockets(1);
        }
        if (zero(cpu.getCores())) {
            cpu.setCores(1);
        }
        if (zero(cpu.getThreads())) {
            cpu.setThreads(1);
        }
        if (devices.getInterfaces() != null) {
            for (Interface i : devices.getInterfaces()) {
                if (isBlank(i.getModel())) {
                    i.setModel(DEFAULT_INTERFACE_MODEL);
                }
            }
        }
        if (spec.getTerminationGracePeriodSeconds() == null) {
            spec.setTerminationGracePeriodSeconds(DEFAULT_GRACE_PERIOD_SECONDS);
        }
        if (devices.getAutoattachPodInterface() == null) {
            devices.setAutoattachPodInterface(true);
        }
        if (devices.getAutoattachSerialConsole() == null) {
            devices.setAutoattachSerialConsole(true);
        }
        if (devices.getAutoattachGraphicsDevice() == null) {
            devices.setAutoattachGraphicsDevice(true);
        }
        if (devices.getAutoattachMemBalloon() == null) {
            devices.setAutoattachMemBalloon(true);
        }
        if (devices.getAutoattachInputDevice() == null) {
            devices.setAutoattachInputDevice(false);
        }
        if (devices.getAutoattachVSOCK() == null) {
            devices.setAutoattachVSOCK(false);
        }
    }

    /** KubeVirt's default machine type for an architecture. */
    public static String machineType(String architecture) {
        if ("arm64".equals(architecture)) {
            return "virt";
        }
        if ("s390x".equals(architecture)) {
            return "s390-ccw-virtio";
        }
        return DEFAULT_MACHINE_TYPE;
    }

    /** KubeVirt's default disk bus: sata on amd64, virtio on arm64 and s390x. */
    public static String defaultDiskBus(String architecture) {
        if ("arm64".equals(architecture) || "s390x".equals(architecture)) {
            return "virtio";
        }
        return AMD64_DISK_BUS;
    }

    /** KubeVirt's pull policy default: Always for {@code :latest} or an image with neither tag nor digest. */
    public static String pullPolicy(String image) {
        if (image == null) {
            return "Always";
        }
        String last = image.substring(image.lastIndexOf('/') + 1);
        if (image.endsWith(":latest") || !(last.contains(":") || last.contains("@"))) {
            return "Always";
        }
        return "IfNotPresent";
    }

    /**
     * The firmware UUID KubeVirt's VM controller gives a VMI of this name: a version 5 (SHA-1, name-based)
     * UUID of the name's bytes in namespace {@value #FIRMWARE_UUID_NAMESPACE}.
     */
    public static String firmwareUuid(String name) {
        UUID ns = UUID.fromString(FIRMWARE_UUID_NAMESPACE);
        try {
            MessageDigest sha1 = MessageDigest.getInstance("SHA-1");
            sha1.update(ByteBuffer.allocate(16).putLong(ns.getMostSignificantBits())
                    .putLong(ns.getLeastSignificantBits()).array());
            sha1.update(name.getBytes(StandardCharsets.UTF_8));
            byte[] h = sha1.digest();
            h[6] = (byte) ((h[6] & 0x0f) | 0x50);
            h[8] = (byte) ((h[8] & 0x3f) | 0x80);
            ByteBuffer b = ByteBuffer.wrap(h, 0, 16);
            return new UUID(b.getLong(), b.getLong()).toString();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-1 unavailable", e);
        }
    }

    private static DomainSpec domain(VirtualMachineInstanceSpec spec) {
        if (spec.getDomain() == null) {
            spec.setDomain(new DomainSpec());
        }
        if (spec.getDomain().getDevices() == null) {
            spec.getDomain().setDevices(new Devices());
        }
        return spec.getDomain();
    }

    private static void enable(FeatureState f) {
        if (f != null && f.getEnabled() == null) {
            f.setEnabled(true);
        }
    }

    private static boolean nonZero(Quantity q) {
        if (q == null || !Quantities.isValid(q)) {
            return false;
        }
        return Quantities.exact(Quantities.text(q)).signum() != 0;
    }

    private static boolean zero(Integer i) {
        return i == null || i == 0;
    }

    private static boolean isBlank(String s) {
        return s == null || s.isEmpty();
    }

    private static boolean isEmpty(List<?> l) {
        return l == null || l.isEmpty();
    }
}
