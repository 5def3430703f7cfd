package io.qvirt.controller;

import com.fasterxml.jackson.core.type.TypeReference;
import io.fabric8.kubernetes.api.model.Affinity;
import io.fabric8.kubernetes.api.model.Capabilities;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import io.fabric8.kubernetes.api.model.LocalObjectReference;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodDNSConfig;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.SecurityContextBuilder;
import io.fabric8.kubernetes.api.model.Toleration;
import io.fabric8.kubernetes.api.model.TopologySpreadConstraint;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.qvirt.api.FieldError;
import io.qvirt.api.KubevirtJson;
import io.qvirt.api.Quantities;
import io.qvirt.api.VirtualMachine;
import io.qvirt.api.VirtualMachineInstance;
import io.qvirt.api.VmiDefaults;
import io.qvirt.api.model.CPU;
import io.qvirt.api.model.ContainerDiskSource;
import io.qvirt.api.model.VirtualMachineInstanceSpec;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds the launcher pod of a VMI: one pod per VMI whose main container runs
 * {@code launcher exec --vmi-json <vmi>}, which prepares the VM's directory and then becomes QEMU.
 *
 * <p><b>containerDisk: KubeVirt's way.</b> Each containerDisk volume becomes an extra container of the pod
 * whose image is the containerDisk image, so the kubelet pulls it (with the node's credentials and
 * {@code imagePullSecret}, through the node's image cache and garbage collection), and a pull error shows
 * where Kubernetes users look for it: the pod's container statuses ({@code ErrImagePull},
 * {@code ImagePullBackOff}), which the VMI controller copies to a VMI condition and the VM's
 * printableStatus. The alternative, a registry puller in the launcher with its own node cache, would make the
 * controller depend on the launcher's puller, duplicate the kubelet's cache and credentials, and hide pull
 * errors inside a running container. containerDisk images are usually {@code FROM scratch}, so, as KubeVirt
 * injects its static {@code container-disk} binary, an init container copies a static busybox from the
 * launcher image into an emptyDir ({@value #BIN_DIR}); the disk container runs it to publish
 * {@code /proc/<pid>/root/disk} as the symlink {@value #DISKS_DIR}{@code /<volume>} and then waits for QEMU to
 * exit (the FIFO {@code <volume>.alive}, see {@link #diskContainer}). With
 * {@code shareProcessNamespace} and the same uid in every container, the launcher opens the disk through
 * that link (no copy; read-only base, the launcher's overlay on top). That is the launcher's side of the
 * contract: wait for the link, then use {@code path} or the single file under it.
 *
 * <p><b>Claims and hostDisks, KubeVirt's way</b> (its rendervolumes): a persistentVolumeClaim or ephemeral volume is a
 * pod volume of the VMI volume's name, mounted in {@code compute} at {@value #VMI_DISKS_DIR}{@code /<volume>}, or in
 * block mode (as the VMI's {@code status.volumeStatus} records it) passed as the device {@code /dev/<volume>}; the
 * launcher gets {@code --pvc-dir} {@value #VMI_DISKS_DIR} and the claims' info in its {@code --vmi-json}. A hostDisk's
 * directory is a hostPath at {@value #VMI_DISKS_DIR}{@code /<volume>}, and the launcher is given the disk's path there.
 *
 * <p><b>/dev/kvm</b> comes from the {@code devices.kubevirt.io/kvm: 1} extended resource (KubeVirt's device
 * plugin, served by the handler), not a hostPath: the scheduler then only places VMs on nodes with KVM, and
 * the pod needs no privilege to see the device. With KubeVirt's {@code useEmulation} the request is left
 * out and the launcher may fall back to TCG ({@code --accel auto}); otherwise it is {@code --accel kvm}.
 *
 * <p><b>Security</b>: no privilege, every capability dropped, no privilege escalation, RuntimeDefault
 * seccomp, read-only root filesystem (a private {@code /tmp}), and uid/gid 107, KubeVirt's {@code qemu}
 * user. Running as non-root works because the device plugin hands the container a {@code /dev/kvm} it may
 * open (KubeVirt's non-root launcher relies on the same) and the handler owns the runtime hostPath
 * {@value #RUNTIME_DIR} as 107:107 (the handler DaemonSet's init container in manifests/). The launcher
 * uses user-mode networking with port forwards on the pod IP, so it needs no {@code NET_ADMIN}.
 */
public final class LauncherPods {
    public static final String APP_LABEL = "kubevirt.io";
    public static final String APP_LAUNCHER = "virt-launcher";
    public static final String CREATED_BY_LABEL = "kubevirt.io/created-by";
    public static final String VM_NAME_LABEL = "vm.kubevirt.io/name";
    public static final String DOMAIN_ANNOTATION = "kubevirt.io/domain";
    public static final String SCHEDULABLE_LABEL = "kubevirt.io/schedulable";
    public static final String KVM_RESOURCE = "devices.kubevirt.io/kvm";
    public static final String COMPUTE = "compute";
    public static final String RUNTIME_DIR = "/run/qvirt";
    public static final String BIN_DIR = "/qvirt-bin";
    public static final String DISKS_DIR = "/var/run/qvirt/container-disks";
    /**
     * {@code DISKS_DIR/<volume>} + this: the disk container's FIFO, which it reads until every writer (the
     * launcher, then QEMU) has closed it; the launcher's {@code ContainerDiskDir.ALIVE_SUFFIX}.
     */
    public static final String ALIVE_SUFFIX = ".alive";
    /**
     * KubeVirt's {@code hostdisk.GetMountedHostDiskDir} root: each claim (filesystem mode) and each hostDisk's directory
     * is mounted at {@code <this>/<volume>}; the launcher's {@code --pvc-dir}.
     */
    public static final String VMI_DISKS_DIR = "/var/run/kubevirt-private/vmi-disks";
    /** KubeVirt's tun device plugin resource: the launcher plumbs a bridge on the pod network with a tap. */
    public static final String TUN_RESOURCE = "devices.kubevirt.io/tun";
    /** Why a DataVolume is refused, and the way out. */
    public static final String NO_CDI = "DataVolumes need CDI (the Containerized Data Importer), a separate project "
            + "that qvirt does not include: create the PersistentVolumeClaim yourself (filled with a raw disk.img, or "
            + "empty: the launcher makes disk.img at the claim's size) and name it in a persistentVolumeClaim volume";
    /** KubeVirt's qemu user and group. */
    public static final long QEMU_UID = 107;
    /**
     * KubeVirt gives the pod 30 s more than the VMI (two paddings of 15 s), so the guest's shutdown is never cut
     * short by the pod.
     */
    public static final long EXTRA_GRACE_SECONDS = 30;
    public static final String VMI_ID_LABEL = "vmi.kubevirt.io/id";
    public static final String DEFAULT_CONTAINER_ANNOTATION = "kubectl.kubernetes.io/default-container";
    /** KubeVirt's pod readiness gate: True while the VM is not paused. */
    public static final String UNPAUSED_CONDITION = "kubevirt.io/virtual-machine-unpaused";

    private static final String NAME_CHARS = "bcdfghjklmnpqrstvwxz2456789"; // Kubernetes' generateName alphabet
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final long MI = 1024L * 1024;

    private LauncherPods() {
    }

    /** {@code virt-launcher-<vmi>-<5 random>}, with the VMI's name cut so the pod's stays a valid label (63). */
    public static String podName(String vmiName) {
        StringBuilder suffix = new StringBuilder(5);
        for (int i = 0; i < 5; i++) {
            suffix.append(NAME_CHARS.charAt(RANDOM.nextInt(NAME_CHARS.length())));
        }
        String base = "virt-launcher-" + vmiName;
        if (base.length() > 57) {
            base = base.substring(0, 57);
        }
        return base + "-" + suffix;
    }

    /**
     * QEMU's memory beside the guest's RAM, in bytes.
     *
     * <p>Formula: {@code 80 MiB + 8 MiB x vCPUs + guest / 512}, rounded up to a MiB. The constant is QEMU
     * itself (binary, libraries, device models, TCG's translation cache as far as a small guest touches
     * it): measured here, QEMU 7.2 under TCG has an RSS of 216-221 MB with a 128 MiB guest, i.e. ~90 MiB on
     * top, and the formula gives 89 MiB for 1 vCPU. Each vCPU adds a thread stack and its CPU state; the
     * guest's page tables and dirty bitmaps grow with its RAM (KubeVirt also counts guest/512 for them).
     * KubeVirt's fixed per-VM overhead is ~220 MiB, the anchor this is measured against: it covers
     * virt-launcher, virtqemud and virtlogd beside QEMU, none of which qvirt runs (the launcher execs into
     * QEMU), so qvirt's pod asks for QEMU alone.
     */
    public static long overheadBytes(long guestBytes, int vcpus) {
        long bytes = 80 * MI + 8 * MI * Math.max(1, vcpus) + ceilDiv(guestBytes, 512);
        return ceilDiv(bytes, MI) * MI;
    }

    /** Guest memory and vCPUs of a VMI spec, read after KubeVirt's defaults (a copy is defaulted). */
    public static long[] guestMemoryAndCpus(VirtualMachineInstanceSpec spec) {
        VirtualMachineInstanceSpec s = KubevirtJson.deepCopy(spec, VirtualMachineInstanceSpec.class);
        VmiDefaults.applySpec(s);
        long guest = s.getDomain().getMemory() == null || s.getDomain().getMemory().getGuest() == null ? 0
                : Quantities.bytes(s.getDomain().getMemory().getGuest());
        CPU cpu = s.getDomain().getCpu();
        long vcpus = (long) nz(cpu.getSockets()) * nz(cpu.getCores()) * nz(cpu.getThreads());
        return new long[] {guest, vcpus};
    }

    /**
     * The launcher pod of {@code vmi}.
     *
     * @param vmi    a VMI as stored (name, namespace and uid set)
     * @param config cluster settings: launcher image, whether emulation is allowed
     * @throws IllegalArgumentException if the VMI has no uid or no guest memory
     */
    public static Pod build(VirtualMachineInstance vmi, ClusterConfig config) {
        return build(vmi, config, AutoLimits.NONE);
    }

    /**
     * KubeVirt's automatic limits for a VMI that sets none: its namespace has a ResourceQuota with a hard
     * {@code limits.memory} (or {@code limits.cpu}), so a pod without that limit would be refused.
     *
     * @param memory      set a memory limit: the pod's memory request times {@code memoryRatio}
     * @param memoryRatio the namespace's {@value #AUTO_MEMORY_RATIO_LABEL} label, else 2 (KubeVirt's default)
     * @param cpu         set a CPU limit: one CPU per vCPU
     */
    public record AutoLimits(boolean memory, double memoryRatio, boolean cpu) {
        public static final AutoLimits NONE = new AutoLimits(false, DEFAULT_MEMORY_LIMIT_RATIO, false);

        /**
         * What KubeVirt's renderer decides for a VMI in a namespace.
         *
         * @param quotaLimits     whether a ResourceQuota of the namespace sets hard {@code limits.<resource>}
         * @param namespaceLabels the namespace's labels
         */
        public static AutoLimits of(VirtualMachineInstance vmi, java.util.function.Predicate<String> quotaLimits,
                                    Map<String, String> namespaceLabels) {
            Map<String, Quantity> lim = vmi.getSpec() != null && vmi.getSpec().getDomain() != null
                    && vmi.getSpec().getDomain().getResources() != null
                    && vmi.getSpec().getDomain().getResources().getLimits() != null
                    ? vmi.getSpec().getDomain().getResources().getLimits() : Map.of();
            double ratio = DEFAULT_MEMORY_LIMIT_RATIO;
            String label = namespaceLabels.get(AUTO_MEMORY_RATIO_LABEL);
            if (label != null) {
                try {
                    double r = Double.parseDouble(label);
                    // KubeVirt ignores a ratio below 1 (and one that is not a number), with a warning
                    ratio = r >= 1.0 && Double.isFinite(r) ? r : DEFAULT_MEMORY_LIMIT_RATIO;
                } catch (NumberFormatException e) {
                    ratio = DEFAULT_MEMORY_LIMIT_RATIO;
                }
            }
            return new AutoLimits(!lim.containsKey("memory") && quotaLimits.test("memory"), ratio,
                    !lim.containsKey("cpu") && quotaLimits.test("cpu"));
        }
    }

    /** KubeVirt's namespace label for the automatic memory limit's ratio to the request. */
    public static final String AUTO_MEMORY_RATIO_LABEL = "alpha.kubevirt.io/auto-memory-limits-ratio";
    /** KubeVirt's default ratio of the automatic memory limit to the request. */
    public static final double DEFAULT_MEMORY_LIMIT_RATIO = 2.0;

    /**
     * The launcher pod of {@code vmi}, with KubeVirt's automatic limits where {@code auto} asks for them.
     *
     * @see #build(VirtualMachineInstance, ClusterConfig)
     */
    public static Pod build(VirtualMachineInstance vmi, ClusterConfig config, AutoLimits auto) {
        String name = vmi.getMetadata().getName();
        String uid = vmi.getMetadata().getUid();
        if (uid == null || uid.isEmpty()) {
            throw new IllegalArgumentException("VMI " + name + " has no uid: create it before its pod");
        }
        VirtualMachineInstanceSpec spec = vmi.getSpec() == null ? new VirtualMachineInstanceSpec() : vmi.getSpec();
        long[] mc = guestMemoryAndCpus(spec);
        if (mc[0] <= 0) {
            throw new IllegalArgumentException("VMI " + name + " has no guest memory (domain.memory.guest or "
                    + "domain.resources.requests.memory)");
        }
        // Rounded up to a whole MiB: the request must never be below guest + overhead.
        long memoryMi = ceilDiv(mc[0] + overheadBytes(mc[0], (int) mc[1]), MI);

        Map<String, String> labels = new LinkedHashMap<>();
        if (vmi.getMetadata().getLabels() != null) {
            labels.putAll(vmi.getMetadata().getLabels());
        }
        String hostname = spec.getHostname() != null && !spec.getHostname().isEmpty() ? spec.getHostname()
                : hostname(name);
        labels.put(APP_LABEL, APP_LAUNCHER);
        labels.put(CREATED_BY_LABEL, uid);
        labels.put(VM_NAME_LABEL, hostname); // KubeVirt's (deprecated) label carries the pod's hostname
        labels.put(VMI_ID_LABEL, vmiId(name));

        // KubeVirt copies the VMI's annotations to the pod, except kubectl's and its own API-version ones.
        Map<String, String> annotations = new LinkedHashMap<>();
        annotations.put(DOMAIN_ANNOTATION, name);
        if (vmi.getMetadata().getAnnotations() != null) {
            vmi.getMetadata().getAnnotations().forEach((k, v) -> {
                if (!k.startsWith("kubectl.kubernetes.io") && !k.startsWith("kubevirt.io/storage-observed-api-version")
                        && !k.startsWith("kubevirt.io/latest-observed-api-version")) {
                    annotations.put(k, v);
                }
            });
        }
        annotations.put(DEFAULT_CONTAINER_ANNOTATION, COMPUTE);

        Map<String, String> nodeSelector = new LinkedHashMap<>();
        if (spec.getNodeSelector() != null) {
            nodeSelector.putAll(spec.getNodeSelector());
        }
        nodeSelector.put(SCHEDULABLE_LABEL, "true");

        Map<String, Quantity> requests = new LinkedHashMap<>();
        Map<String, Quantity> limits = new LinkedHashMap<>();
        requests.put("memory", new Quantity(memoryMi + "Mi"));
        Map<String, Quantity> vmiReq = spec.getDomain() != null && spec.getDomain().getResources() != null
                && spec.getDomain().getResources().getRequests() != null
                ? spec.getDomain().getResources().getRequests() : Map.of();
        Map<String, Quantity> vmiLim = spec.getDomain() != null && spec.getDomain().getResources() != null
                && spec.getDomain().getResources().getLimits() != null
                ? spec.getDomain().getResources().getLimits() : Map.of();
        // KubeVirt's default CPU request is a tenth of a CPU per vCPU (cpuAllocationRatio 10); a CPU limit is only
        // set when the VMI sets one.
        requests.put("cpu", vmiReq.containsKey("cpu") ? vmiReq.get("cpu") : new Quantity(Math.max(1, mc[1]) * 100 + "m"));
        if (vmiLim.containsKey("cpu")) {
            limits.put("cpu", vmiLim.get("cpu"));
        }
        // A memory limit only where KubeVirt sets one: the VMI's own limit plus the overhead, or request = limit
        // for dedicated CPUs (Guaranteed QoS).
        CPU vmiCpu = spec.getDomain() == null ? null : spec.getDomain().getCpu();
        boolean dedicated = vmiCpu != null && Boolean.TRUE.equals(vmiCpu.getDedicatedCpuPlacement());
        if (dedicated) {
            // KubeVirt's WithCPUPinning: whole CPUs with request = limit (the kubelet's static CPU manager pins only
            // a Guaranteed pod's CPUs), one more for an isolated emulator thread.
            long cpus = Math.max(1, mc[1]) + (Boolean.TRUE.equals(vmiCpu.getIsolateEmulatorThread()) ? 1 : 0);
            requests.put("cpu", new Quantity(Long.toString(cpus)));
            limits.put("cpu", new Quantity(Long.toString(cpus)));
        }
        // Guaranteed QoS needs every container's requests equal to its limits: for dedicated CPUs or a VMI whose
        // requests equal its limits (KubeVirt's WantsToHaveQOSGuaranteed) the helper containers get both too.
        boolean guaranteed = dedicated || wantsGuaranteed(vmiReq, vmiLim);
        if (dedicated) {
            // KubeVirt aligns the limit with the request, whatever limit the VMI has
            limits.put("memory", new Quantity(memoryMi + "Mi"));
        } else if (vmiLim.containsKey("memory")) {
            long limit = Quantities.bytes(vmiLim.get("memory"));
            limits.put("memory", new Quantity(ceilDiv(limit + overheadBytes(mc[0], (int) mc[1]), MI) + "Mi"));
        }
        if (auto.memory() && !limits.containsKey("memory")) {
            // KubeVirt's WithAutoMemoryLimits: the request (with the overhead) times the namespace's ratio.
            limits.put("memory", new Quantity((long) Math.ceil(memoryMi * auto.memoryRatio()) + "Mi"));
        }
        if (auto.cpu() && !limits.containsKey("cpu")) {
            // KubeVirt's auto CPU limit: one CPU per vCPU.
            limits.put("cpu", new Quantity(Long.toString(Math.max(1, mc[1]))));
        }
        if (!config.useEmulation()) {
            // Extended resources must have request == limit.
            requests.put(KVM_RESOURCE, new Quantity("1"));
            limits.put(KVM_RESOURCE, new Quantity("1"));
        }
        if (bridgeOnPodNetwork(spec, config.network())) {
            // KubeVirt's RequiresTunDevice (from the handler's tun device plugin): virt-handler makes the bridge's tap
            // (tap0 in the pod's netns, owned by the pod's uid); QEMU needs /dev/net/tun to open it.
            // KubeVirt asks for it whenever the VMI has an interface; qvirt's masquerade is user-mode networking
            // without a tap, so only a bridge on the pod network asks for it.
            requests.put(TUN_RESOURCE, new Quantity("1"));
            limits.put(TUN_RESOURCE, new Quantity("1"));
        }

        String vmiJson = KubevirtJson.toJson(forLauncher(vmi));
        List<Volume> volumes = new ArrayList<>();
        volumes.add(new VolumeBuilder().withName("runtime").withNewHostPath().withPath(RUNTIME_DIR)
                .withType("DirectoryOrCreate").endHostPath().build());
        volumes.add(new VolumeBuilder().withName("tmp").withNewEmptyDir().endEmptyDir().build());
        List<VolumeMount> computeMounts = new ArrayList<>();
        computeMounts.add(mount("runtime", RUNTIME_DIR, false));
        computeMounts.add(mount("tmp", "/tmp", false));

        List<Container> diskContainers = new ArrayList<>();
        List<LocalObjectReference> pullSecrets = new ArrayList<>();
        if (spec.getVolumes() != null) {
            for (io.qvirt.api.model.Volume v : spec.getVolumes()) {
                ContainerDiskSource cd = v.getContainerDisk();
                if (cd == null) {
                    continue;
                }
                diskContainers.add(diskContainer(v.getName(), cd, guaranteed));
                if (cd.getImagePullSecret() != null && !cd.getImagePullSecret().isEmpty()
                        && pullSecrets.stream().noneMatch(s -> s.getName().equals(cd.getImagePullSecret()))) {
                    pullSecrets.add(new LocalObjectReference(cd.getImagePullSecret()));
                }
            }
        }
        // KubeVirt's rendervolumes: a claim (persistentVolumeClaim, or an ephemeral volume's claim) is a pod volume of
        // the volume's name, mounted at VMI_DISKS_DIR/<volume> in filesystem mode or passed as the device /dev/<volume>
        // in block mode (the mode recorded in the VMI's status.volumeStatus); a hostDisk's directory is a hostPath
        // (DirectoryOrCreate for DiskOrCreate) at VMI_DISKS_DIR/<volume>.
        List<io.fabric8.kubernetes.api.model.VolumeDevice> devices = new ArrayList<>();
        boolean claims = false;
        if (spec.getVolumes() != null) {
            for (io.qvirt.api.model.Volume v : spec.getVolumes()) {
                io.qvirt.api.model.PersistentVolumeClaimSource claim = v.getPersistentVolumeClaim() != null
                        ? v.getPersistentVolumeClaim()
                        : v.getEphemeral() != null ? v.getEphemeral().getPersistentVolumeClaim() : null;
                if (claim != null) {
                    claims = true;
                    volumes.add(new VolumeBuilder().withName(v.getName()).withNewPersistentVolumeClaim()
                            .withClaimName(claim.getClaimName()).withReadOnly(claim.getReadOnly())
                            .endPersistentVolumeClaim().build());
                    if (blockClaim(vmi, v.getName())) {
                        devices.add(new io.fabric8.kubernetes.api.model.VolumeDeviceBuilder().withName(v.getName())
                                .withDevicePath("/dev/" + v.getName()).build());
                    } else {
                        computeMounts.add(mount(v.getName(), VMI_DISKS_DIR + "/" + v.getName(), false));
                    }
                } else if (v.getHostDisk() != null && v.getHostDisk().getPath() != null) {
                    String type = "DiskOrCreate".equals(v.getHostDisk().getType()) ? "DirectoryOrCreate" : "Directory";
                    volumes.add(new VolumeBuilder().withName(v.getName()).withNewHostPath()
                            .withPath(parentDir(v.getHostDisk().getPath())).withType(type).endHostPath().build());
                    computeMounts.add(mount(v.getName(), VMI_DISKS_DIR + "/" + v.getName(), false));
                }
            }
        }
        List<Container> initContainers = new ArrayList<>();
        if (!diskContainers.isEmpty()) {
            volumes.add(new VolumeBuilder().withName("qvirt-bin").withNewEmptyDir().endEmptyDir().build());
            volumes.add(new VolumeBuilder().withName("container-disks").withNewEmptyDir().endEmptyDir().build());
            computeMounts.add(mount("container-disks", DISKS_DIR, true));
            initContainers.add(new ContainerBuilder().withName("container-disk-binary")
                    .withImage(config.launcherImage()).withImagePullPolicy("IfNotPresent")
                    .withCommand("/bin/cp", "/bin/busybox", BIN_DIR + "/busybox")
                    .withVolumeMounts(mount("qvirt-bin", BIN_DIR, false))
                    .withResources(supportResources(16, guaranteed))
                    .withSecurityContext(securityContext()).build());
        }

        String accel = config.useEmulation() ? "auto" : "kvm";
        List<String> command = new ArrayList<>(List.of("launcher", "exec", "--vmi-json", vmiJson, "--accel", accel,
                "--forward-address", "$(POD_IP)"));
        if (!diskContainers.isEmpty()) {
            // The launcher boots from the disks the disk containers publish here, and pulls nothing itself.
            command.addAll(List.of("--container-disk-dir", DISKS_DIR));
        }
        if (claims) {
            // The launcher finds each claim at VMI_DISKS_DIR/<volume> (or its device at /dev/<volume>).
            command.addAll(List.of("--pvc-dir", VMI_DISKS_DIR));
        }
        Container compute = new ContainerBuilder().withName(COMPUTE).withImage(config.launcherImage())
                .withImagePullPolicy("IfNotPresent")
                .withCommand(command)
                .withEnv(fieldEnv("POD_IP", "status.podIP"), fieldEnv("POD_NAME", "metadata.name"),
                        fieldEnv("POD_NAMESPACE", "metadata.namespace"),
                        new EnvVarBuilder().withName("QVIRT_RUNTIME_ROOT").withValue(RUNTIME_DIR).build())
                .withNewResources().withRequests(requests).withLimits(limits).endResources()
                .withVolumeMounts(computeMounts)
                .withVolumeDevices(devices.isEmpty() ? null : devices)
                .withSecurityContext(securityContext())
                .build();
        List<Container> containers = new ArrayList<>();
        containers.add(compute);
        containers.addAll(diskContainers);

        long grace = (spec.getTerminationGracePeriodSeconds() == null ? VmiDefaults.DEFAULT_GRACE_PERIOD_SECONDS
                : spec.getTerminationGracePeriodSeconds()) + EXTRA_GRACE_SECONDS;
        // KubeVirt: the VMI's serviceAccountName, else the one of a serviceAccount volume (whose token is then
        // mounted); no token otherwise.
        String serviceAccountVolume = spec.getVolumes() == null ? null : spec.getVolumes().stream()
                .filter(v -> v.getServiceAccount() != null && v.getServiceAccount().getServiceAccountName() != null)
                .map(v -> v.getServiceAccount().getServiceAccountName()).findFirst().orElse(null);
        String serviceAccount = spec.getServiceAccountName() != null && !spec.getServiceAccountName().isEmpty()
                ? spec.getServiceAccountName() : serviceAccountVolume;
        Map<String, Object> extra = spec.getAdditionalProperties();
        return new PodBuilder()
                .withNewMetadata()
                    .withName(podName(name))
                    .withNamespace(vmi.getMetadata().getNamespace())
                    .withLabels(labels)
                    .withAnnotations(annotations)
                    .withOwnerReferences(new OwnerReferenceBuilder().withApiVersion(VirtualMachine.API_VERSION)
                            .withKind(VirtualMachineInstance.KIND).withName(name).withUid(uid)
                            .withController(true).withBlockOwnerDeletion(true).build())
                .endMetadata()
                .withNewSpec()
                    .withRestartPolicy("Never")
                    .withNodeSelector(nodeSelector)
                    .withHostname(hostname)
                    .withSubdomain(spec.getSubdomain())
                    .withSchedulerName(spec.getSchedulerName())
                    .withPriorityClassName(spec.getPriorityClassName())
                    // the VMI's scheduling intent and DNS, as KubeVirt's template passes them on
                    .withAffinity(convert(extra.get("affinity"), new TypeReference<Affinity>() { }))
                    .withTolerations(convert(extra.get("tolerations"), new TypeReference<List<Toleration>>() { }))
                    .withTopologySpreadConstraints(convert(extra.get("topologySpreadConstraints"),
                            new TypeReference<List<TopologySpreadConstraint>>() { }))
                    .withDnsPolicy(convert(extra.get("dnsPolicy"), new TypeReference<String>() { }))
                    .withDnsConfig(convert(extra.get("dnsConfig"), new TypeReference<PodDNSConfig>() { }))
                    .withServiceAccountName(serviceAccount)
                    .withAutomountServiceAccountToken(serviceAccountVolume != null)
                    .withEnableServiceLinks(false)
                    // the handler's pause shows on the pod's readiness (VmiReconciler keeps the condition)
                    .addNewReadinessGate().withConditionType(UNPAUSED_CONDITION).endReadinessGate()
                    .withTerminationGracePeriodSeconds(grace)
                    .withShareProcessNamespace(diskContainers.isEmpty() ? null : Boolean.TRUE)
                    .withImagePullSecrets(pullSecrets)
                    .withNewSecurityContext()
                        .withRunAsUser(QEMU_UID).withRunAsGroup(QEMU_UID).withFsGroup(QEMU_UID).withRunAsNonRoot(true)
                        .withNewSeccompProfile().withType("RuntimeDefault").endSeccompProfile()
                        // QEMU's hostfwd binds the interface's ports (80, 443, ...) in the pod's network namespace
                        // as uid 107: a namespaced sysctl Kubernetes allows by default (a "safe" one since 1.22).
                        .addNewSysctl().withName("net.ipv4.ip_unprivileged_port_start").withValue("0").endSysctl()
                    .endSecurityContext()
                    .withInitContainers(initContainers)
                    .withContainers(containers)
                    .withVolumes(volumes)
                .endSpec()
                .build();
    }

    /** The VMI as the launcher reads it: metadata it needs (name, namespace, uid, labels) and the spec. */
    private static VirtualMachineInstance forLauncher(VirtualMachineInstance vmi) {
        VirtualMachineInstance copy = new VirtualMachineInstance();
        copy.setMetadata(new io.fabric8.kubernetes.api.model.ObjectMetaBuilder()
                .withName(vmi.getMetadata().getName()).withNamespace(vmi.getMetadata().getNamespace())
                .withUid(vmi.getMetadata().getUid()).withLabels(userLabels(vmi.getMetadata().getLabels()))
                .withAnnotations(vmi.getMetadata().getAnnotations()).build());
        copy.setSpec(vmi.getSpec());
        boolean hostDisks = vmi.getSpec() != null && vmi.getSpec().getVolumes() != null
                && vmi.getSpec().getVolumes().stream().anyMatch(v -> v.getHostDisk() != null);
        if (hostDisks) {
            // As KubeVirt's launcher reads it: the disk in the directory the pod mounts at VMI_DISKS_DIR/<volume>.
            VirtualMachineInstanceSpec spec = KubevirtJson.deepCopy(vmi.getSpec(), VirtualMachineInstanceSpec.class);
            for (io.qvirt.api.model.Volume v : spec.getVolumes()) {
                if (v.getHostDisk() != null && v.getHostDisk().getPath() != null) {
                    v.getHostDisk().setPath(mountedHostDiskPath(v.getName(), v.getHostDisk().getPath()));
                }
            }
            copy.setSpec(spec);
        }
        Object volumeStatus = vmi.getStatus() == null ? null
                : vmi.getStatus().getAdditionalProperties().get("volumeStatus");
        if (volumeStatus != null) {
            // The claims' capacity, mode and overhead, which the launcher reads to make a missing disk.img.
            io.qvirt.api.model.VirtualMachineInstanceStatus st = new io.qvirt.api.model.VirtualMachineInstanceStatus();
            st.getAdditionalProperties().put("volumeStatus", volumeStatus);
            copy.setStatus(st);
        }
        return copy;
    }

    /**
     * The VMI's labels without those KubeVirt's components set ({@code kubevirt.io/nodeName} once the VMI runs,
     * {@code kubevirt.io/migrationTargetNodeName} while it migrates): the launcher validates the VMI as a create, which
     * refuses them, and a migration's target pod is made from a VMI that carries them.
     */
    private static Map<String, String> userLabels(Map<String, String> labels) {
        if (labels == null) {
            return null;
        }
        Map<String, String> out = new LinkedHashMap<>(labels);
        out.keySet().removeAll(VirtualMachineInstance.RESERVED_LABELS);
        return out;
    }

    /** KubeVirt's GetMountedHostDiskPath: the hostDisk's file in the directory mounted for its volume. */
    static String mountedHostDiskPath(String volume, String path) {
        return VMI_DISKS_DIR + "/" + volume + "/" + java.nio.file.Path.of(path).getFileName();
    }

    private static String parentDir(String path) {
        java.nio.file.Path parent = java.nio.file.Path.of(path).getParent();
        return parent == null ? "/" : parent.toString();
    }

    /** Whether the VMI's status.volumeStatus records the volume's claim in volumeMode Block. */
    static boolean blockClaim(VirtualMachineInstance vmi, String volume) {
        if (vmi.getStatus() == null || !(vmi.getStatus().getAdditionalProperties().get("volumeStatus")
                instanceof List<?> statuses)) {
            return false;
        }
        for (Object o : statuses) {
            com.fasterxml.jackson.databind.JsonNode n = KubevirtJson.toTree(o);
            if (volume.equals(n.path("name").asText(null))) {
                return "Block".equals(n.path("persistentVolumeClaimInfo").path("volumeMode").asText(null));
            }
        }
        return false;
    }

    /**
     * Whether an interface binds {@code bridge} to the pod network, after KubeVirt's defaults (with the cluster's
     * default binding, so a VMI that declares no interface gets the one it will run with).
     */
    static boolean bridgeOnPodNetwork(VirtualMachineInstanceSpec spec, io.qvirt.api.NetworkSettings network) {
        VirtualMachineInstanceSpec s = KubevirtJson.deepCopy(spec, VirtualMachineInstanceSpec.class);
        VmiDefaults.applySpec(s, network);
        if (s.getDomain() == null || s.getDomain().getDevices() == null
                || s.getDomain().getDevices().getInterfaces() == null || s.getNetworks() == null) {
            return false;
        }
        for (io.qvirt.api.model.Interface i : s.getDomain().getDevices().getInterfaces()) {
            if (i.getBridge() != null && s.getNetworks().stream()
                    .anyMatch(n -> n.getPod() != null && n.getName() != null && n.getName().equals(i.getName()))) {
                return true;
            }
        }
        return false;
    }

    /**
     * A containerDisk's container: the image is the disk; the injected busybox makes the FIFO
     * {@code DISKS_DIR/<volume>.alive}, publishes the container's root as {@code DISKS_DIR/<volume>} (the FIFO
     * first: the launcher opens it once it sees the link), then reads the FIFO until EOF and exits 0. The launcher
     * opens it for writing and passes that fd into QEMU, so the read ends when QEMU (or a launcher that failed
     * before becoming QEMU) exits: the disk container ends with the compute container and the pod can end
     * Succeeded (KubeVirt's container-disk binary exits when its socket in the shared directory goes). SIGTERM
     * still ends it with 0 (a shell needs the trap to stop on SIGTERM at all).
     */
    static Container diskContainer(String volume, ContainerDiskSource cd, boolean guaranteed) {
        String bb = BIN_DIR + "/busybox ";
        String link = DISKS_DIR + "/" + volume;
        String fifo = link + ALIVE_SUFFIX;
        String script = "trap 'exit 0' TERM; " + bb + "rm -f " + fifo + "; " + bb + "mkfifo " + fifo + " && " + bb
                + "ln -sfn /proc/$$/root/disk " + link + " && " + bb + "cat " + fifo + " >/dev/null & wait";
        return new ContainerBuilder().withName("volume" + volume).withImage(cd.getImage())
                .withImagePullPolicy(cd.getImagePullPolicy() != null ? cd.getImagePullPolicy()
                        : VmiDefaults.pullPolicy(cd.getImage()))
                .withCommand(BIN_DIR + "/busybox", "sh", "-c", script)
                .withVolumeMounts(mount("qvirt-bin", BIN_DIR, true), mount("container-disks", DISKS_DIR, false))
                .withResources(supportResources(8, guaranteed))
                .withSecurityContext(securityContext())
                .build();
    }

    /**
     * A helper container's resources: 10m CPU and {@code memoryMi} requested, 40 MiB of memory at most; for a
     * Guaranteed pod (see {@link #build}) 10m CPU and 40 MiB as both request and limit, as KubeVirt's
     * initContainerDedicatedCPURequiredResources.
     */
    private static io.fabric8.kubernetes.api.model.ResourceRequirements supportResources(long memoryMi,
                                                                                        boolean guaranteed) {
        var b = new io.fabric8.kubernetes.api.model.ResourceRequirementsBuilder()
                .addToRequests("cpu", new Quantity("10m")).addToLimits("memory", new Quantity("40Mi"));
        if (guaranteed) {
            return b.addToRequests("memory", new Quantity("40Mi")).addToLimits("cpu", new Quantity("10m")).build();
        }
        // KubeVirt's initContainerMinimalLimits: 100m CPU as well, so a namespace whose quota sets limits.cpu
        // admits the pod.
        return b.addToRequests("memory", new Quantity(memoryMi + "Mi")).addToLimits("cpu", new Quantity("100m"))
                .build();
    }

    /**
     * KubeVirt's WantsToHaveQOSGuaranteed: a CPU request equal to the CPU limit, and a memory limit that the memory
     * request (if any) equals.
     */
    static boolean wantsGuaranteed(Map<String, Quantity> requests, Map<String, Quantity> limits) {
        Quantity reqMem = requests.get("memory");
        Quantity limMem = limits.get("memory");
        Quantity reqCpu = requests.get("cpu");
        Quantity limCpu = limits.get("cpu");
        boolean memory = limMem != null && !isZero(limMem) && (reqMem == null || isZero(reqMem)
                || Quantity.getAmountInBytes(reqMem).compareTo(Quantity.getAmountInBytes(limMem)) == 0);
        boolean cpu = reqCpu != null && limCpu != null && !isZero(reqCpu)
                && Quantity.getAmountInBytes(reqCpu).compareTo(Quantity.getAmountInBytes(limCpu)) == 0;
        return memory && cpu;
    }

    private static boolean isZero(Quantity q) {
        return Quantity.getAmountInBytes(q).signum() == 0;
    }

    private static SecurityContext securityContext() {
        return new SecurityContextBuilder().withPrivileged(false).withAllowPrivilegeEscalation(false)
                .withRunAsNonRoot(true).withRunAsUser(QEMU_UID).withRunAsGroup(QEMU_UID)
                .withReadOnlyRootFilesystem(true)
                .withCapabilities(new Capabilities(null, List.of("ALL"))).build();
    }

    private static VolumeMount mount(String name, String path, boolean readOnly) {
        VolumeMount m = new VolumeMount();
        m.setName(name);
        m.setMountPath(path);
        m.setReadOnly(readOnly ? Boolean.TRUE : null);
        return m;
    }

    private static EnvVar fieldEnv(String name, String path) {
        return new EnvVarBuilder().withName(name).withNewValueFrom().withNewFieldRef().withFieldPath(path)
                .endFieldRef().endValueFrom().build();
    }

    /** KubeVirt's SanitizeHostname: the VMI's name up to its first dot, at most 63 characters. */
    static String hostname(String name) {
        String s = name.split("\\.", -1)[0];
        return s.length() > 63 ? s.substring(0, 63) : s;
    }

    /**
     * KubeVirt's {@code vmi.kubevirt.io/id}: the VMI's name, or for a name over 63 characters its first 54 and
     * the first 8 hex digits of its SHA-1.
     */
    static String vmiId(String name) {
        if (name.length() <= 63) {
            return name;
        }
        try {
            byte[] d = MessageDigest.getInstance("SHA-1").digest(name.getBytes(StandardCharsets.UTF_8));
            return name.substring(0, 54) + "-" + HexFormat.of().formatHex(d).substring(0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * The VMI's volumes its launcher pod cannot provide, by field path under {@code prefix} (e.g.
     * {@code spec.volumes}): the pod brings containerDisks (its disk containers), cloudInitNoCloud with inline
     * data, emptyDisks (made by the launcher), persistentVolumeClaim and ephemeral claims (mounted, or passed as a
     * device) and hostDisks (their directory as a hostPath; the HostDisk feature gate is validation's); DataVolumes
     * need CDI, and ConfigMaps, Secrets and the rest would need mounts the pod does not have, so the launcher would
     * fail and the VM crash-loop.
     */
    public static List<FieldError> unprovidableVolumes(VirtualMachineInstanceSpec spec, String prefix) {
        List<FieldError> out = new ArrayList<>();
        if (spec == null || spec.getVolumes() == null) {
            return out;
        }
        for (int i = 0; i < spec.getVolumes().size(); i++) {
            io.qvirt.api.model.Volume v = spec.getVolumes().get(i);
            String f = prefix + "[" + i + "]";
            if (v.getContainerDisk() != null || v.getEmptyDisk() != null || v.getPersistentVolumeClaim() != null
                    || v.getEphemeral() != null || v.getHostDisk() != null) {
                continue;
            }
            if (v.getDataVolume() != null) {
                out.add(new FieldError(f + ".dataVolume", NO_CDI));
                continue;
            }
            if (v.getCloudInitNoCloud() != null) {
                if (v.getCloudInitNoCloud().getUserDataSecretRef() != null) {
                    out.add(new FieldError(f + ".cloudInitNoCloud.secretRef",
                            "not supported by qvirt's launcher pod: use userData or userDataBase64"));
                }
                if (v.getCloudInitNoCloud().getNetworkDataSecretRef() != null) {
                    out.add(new FieldError(f + ".cloudInitNoCloud.networkDataSecretRef",
                            "not supported by qvirt's launcher pod: use networkData or networkDataBase64"));
                }
                continue;
            }
            String kind = v.getConfigMap() != null ? "configMap"
                    : v.getSecret() != null ? "secret"
                    : v.getServiceAccount() != null ? "serviceAccount"
                    : v.getDownwardAPI() != null ? "downwardAPI"
                    : v.getCloudInitConfigDrive() != null ? "cloudInitConfigDrive"
                    : v.getAdditionalProperties().keySet().stream().filter(k -> !"name".equals(k)).findFirst()
                            .orElse("(no source)");
            out.add(new FieldError(f + "." + kind, "not supported by qvirt's launcher pod"));
        }
        return out;
    }

    /** A field of the VMI spec that qvirt's model keeps untyped, as the Kubernetes type; null if absent. */
    private static <T> T convert(Object value, TypeReference<T> type) {
        return value == null ? null : KubevirtJson.json().convertValue(value, type);
    }

    private static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }

    private static int nz(Integer i) {
        return i == null || i == 0 ? 1 : i;
    }
}
