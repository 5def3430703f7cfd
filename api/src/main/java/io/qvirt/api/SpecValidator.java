package io.qvirt.api;

import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.Quantity;
import io.qvirt.api.model.CPU;
import io.qvirt.api.model.CloudInitSource;
import io.qvirt.api.model.Devices;
import io.qvirt.api.model.Disk;
import io.qvirt.api.model.DomainSpec;
import io.qvirt.api.model.Firmware;
import io.qvirt.api.model.HostDisk;
import io.qvirt.api.model.Input;
import io.qvirt.api.model.Interface;
import io.qvirt.api.model.KernelBoot;
import io.qvirt.api.model.KernelBootContainer;
import io.qvirt.api.model.Memory;
import io.qvirt.api.model.Network;
import io.qvirt.api.model.Port;
import io.qvirt.api.model.ResourceRequirements;
import io.qvirt.api.model.VirtualMachineInstanceSpec;
import io.qvirt.api.model.Volume;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The rules of KubeVirt's VMI admission ({@code pkg/virt-api/webhooks/validating-webhook/admitters/
 * vmi-create-admitter.go}, {@code pkg/network/admitter/}, {@code pkg/storage/admitters/disks.go}) and of
 * its OpenAPI schema (required fields) for the fields qvirt models, plus a few qvirt rules (marked), over
 * one VMI spec at a path prefix ({@code spec} for a VMI, {@code spec.template.spec} for a VM). Messages are
 * KubeVirt's where KubeVirt has one.
 */
final class SpecValidator {
    static final int CLOUD_INIT_USER_MAX_LEN = 2048;
    static final int CLOUD_INIT_NETWORK_MAX_LEN = 2048;
    static final List<String> DISK_BUSES = List.of("virtio", "scsi", "sata", "usb");
    static final List<String> INTERFACE_MODELS = List.of("e1000", "e1000e", "igb", "ne2k_pci", "pcnet", "rtl8139",
            "virtio");
    static final List<String> EVICTION_STRATEGIES = List.of("LiveMigrate", "LiveMigrateIfPossible", "None", "External");
    static final Map<String, List<String>> EMULATED_MACHINES = Map.of(
            "amd64", List.of("q35*", "pc-q35*"),
            "arm64", List.of("virt*"),
            "s390x", List.of("s390-ccw-virtio*"));
    static final Set<String> RESERVED_LABELS = VirtualMachineInstance.RESERVED_LABELS;
    /** Volume sources qvirt does not model but counts, so "exactly one source" holds for them too. */
    static final List<String> UNMODELLED_SOURCES = List.of("sysprep", "downwardMetrics", "memoryDump", "containerPath");

    private static final Pattern DNS1123_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
    private static final Pattern DNS1123_SUBDOMAIN = Pattern.compile(
            "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");
    private static final Pattern SERIAL = Pattern.compile("[A-Za-z0-9_.+-]+");
    private static final Pattern IFACE_NAME = Pattern.compile("[A-Za-z0-9-_]+");
    private static final Pattern PCI_ADDRESS = Pattern.compile("[0-9a-fA-F]{4}:[0-9a-fA-F]{2}:[01][0-9a-fA-F]\\.[0-7]");
    private static final Pattern MAC = Pattern.compile("([0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}");
    private static final Pattern PORT_NAME = Pattern.compile("[a-z0-9]([a-z0-9-]*[a-z0-9])*");
    /** The distribution reference grammar (docker/distribution {@code reference.ReferenceRegexp}). */
    private static final Pattern IMAGE_REFERENCE;

    static {
        String alnum = "[a-z0-9]+";
        String separator = "(?:[._]|__|[-]+)";
        String pathComponent = alnum + "(?:" + separator + alnum + ")*";
        String domainComponent = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
        String domainName = domainComponent + "(?:\\." + domainComponent + ")*";
        String ipv6 = "\\[(?:[a-fA-F0-9:]+)\\]";
        String domain = "(?:" + domainName + "|" + ipv6 + ")(?::[0-9]+)?";
        String name = "(?:" + domain + "/)?" + pathComponent + "(?:/" + pathComponent + ")*";
        String tag = "[\\w][\\w.-]{0,127}";
        String digest = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}";
        IMAGE_REFERENCE = Pattern.compile(name + "(?::" + tag + ")?(?:@" + digest + ")?");
    }

    private final String p;
    private final VirtualMachineInstanceSpec spec;
    private final FeatureGates gates;
    private final NetworkSettings network;
    private final List<FieldError> errors = new ArrayList<>();

    private final boolean mandatory;

    private SpecValidator(String prefix, VirtualMachineInstanceSpec spec, FeatureGates gates, NetworkSettings network,
            boolean mandatory) {
        this.mandatory = mandatory;
        this.p = prefix;
        this.spec = spec;
        this.gates = gates;
        this.network = network;
    }

    /**
     * Validates {@code spec} (already defaulted, as KubeVirt validates after its mutating webhook), at
     * {@code prefix}. {@code raw} is the spec as written, for the schema's required fields. {@code mandatory}
     * adds KubeVirt's VMI-only {@code ValidateVirtualMachineInstanceMandatoryFields} (some memory is given),
     * which its VM admitter does not run on templates.
     */
    static List<FieldError> validate(String prefix, VirtualMachineInstanceSpec raw, VirtualMachineInstanceSpec spec,
            FeatureGates gates, NetworkSettings network, boolean mandatory) {
        SpecValidator v = new SpecValidator(prefix, spec, gates, network, mandatory);
        if (raw.getDomain() == null) {
            v.required(prefix + ".domain");
            return v.errors;
        }
        if (raw.getDomain().getDevices() == null) {
            v.required(prefix + ".domain.devices");
        }
        v.run();
        return v.errors;
    }

    /** Annotations KubeVirt gives meaning to that qvirt cannot honour, and why (refused, not ignored). */
    static final Map<String, String> UNHONOURED_ANNOTATIONS = Map.of(
            "kubevirt.io/ignitiondata", "not supported by qvirt (Ignition through QEMU's fw_cfg, KubeVirt's "
                    + "ExperimentalIgnitionSupport): pass the configuration with cloudInitNoCloud",
            "kubevirt.io/libvirt-log-filters", "not supported by qvirt: there is no libvirt; QEMU's stderr is in the "
                    + "VM's directory (qemu.stderr)",
            "kubevirt.io/keep-launcher-alive-after-failure", "not supported by qvirt: its launcher becomes QEMU, so "
                    + "no launcher process is left to keep");

    /** The annotation naming hook sidecar containers, which edit libvirt's domain XML before it is defined. */
    static final String HOOK_SIDECARS = "hooks.kubevirt.io/hookSidecars";

    /**
     * KubeVirt's {@code ValidateVirtualMachineInstanceMetadata}: no reserved kubevirt.io labels; hook sidecars only
     * with the Sidecar feature gate, and (qvirt) not even then: they change libvirt's domain XML, and qvirt has none.
     */
    static void validateMetadata(String prefix, ObjectMeta meta, FeatureGates gates, List<FieldError> errors) {
        if (meta == null) {
            return;
        }
        String hooks = meta.getAnnotations() == null ? null : meta.getAnnotations().get(HOOK_SIDECARS);
        if (hooks != null && !hooks.isEmpty()) {
            errors.add(new FieldError(prefix + ".annotations", gates.isEnabled(FeatureGates.SIDECAR)
                    ? "hook sidecars (" + prefix + ".annotations." + HOOK_SIDECARS + ") are not supported by qvirt: "
                            + "they edit libvirt's domain XML, and qvirt runs QEMU without libvirt"
                    : "sidecar feature gate is not enabled in kubevirt-config, invalid entry " + prefix
                            + ".annotations." + HOOK_SIDECARS));
        }
        if (meta.getAnnotations() != null) {
            for (Map.Entry<String, String> a : UNHONOURED_ANNOTATIONS.entrySet()) {
                if (meta.getAnnotations().containsKey(a.getKey())) {
                    errors.add(new FieldError(prefix + ".annotations." + a.getKey(), a.getValue()));
                }
            }
        }
        if (meta.getLabels() == null) {
            return;
        }
        for (String label : meta.getLabels().keySet()) {
            if (RESERVED_LABELS.contains(label)) {
                errors.add(new FieldError(prefix + ".labels",
                        "creation of the following reserved kubevirt.io/ labels on a VMI object is prohibited"));
                return;
            }
        }
    }

    /** The API server's rule for object names: required, a DNS-1123 subdomain. */
    static void validateName(ObjectMeta meta, List<FieldError> errors) {
        String name = meta == null ? null : meta.getName();
        String generateName = meta == null ? null : meta.getGenerateName();
        if ((name == null || name.isEmpty()) && (generateName == null || generateName.isEmpty())) {
            errors.add(new FieldError("metadata.name", "name or generateName is required"));
        } else if (name != null && !name.isEmpty()) {
            for (String msg : dns1123Subdomain(name)) {
                errors.add(new FieldError("metadata.name", "Invalid value: \"" + name + "\": " + msg));
            }
        }
    }

    private void run() {
        DomainSpec domain = spec.getDomain();
        Devices devices = domain.getDevices();
        hostnameAndSubdomain();
        memory(domain);
        machine(domain);
        cpu(domain);
        startStrategy();
        networks(devices);
        bootOrder(devices);
        inputs(devices);
        disks(devices);
        firmware(domain);
        volumes();
        containerDisks();
        eviction();
        serviceAccountName();
        architecture();
    }

    // ---- hostname, subdomain ----

    private void hostnameAndSubdomain() {
        if (notEmpty(spec.getHostname())) {
            List<String> msgs = dns1123Label(spec.getHostname());
            if (!msgs.isEmpty()) {
                add(p + ".hostname", p + ".hostname does not conform to the kubernetes DNS_LABEL rules : "
                        + String.join(", ", msgs));
            }
        }
        if (notEmpty(spec.getSubdomain())) {
            List<String> msgs = dns1123Subdomain(spec.getSubdomain());
            if (!msgs.isEmpty()) {
                add(p + ".subdomain", p + ".subdomain does not conform to the kubernetes DNS_SUBDOMAIN rules : "
                        + String.join(", ", msgs));
            }
        }
    }

    // ---- memory ----

    private void memory(DomainSpec domain) {
        ResourceRequirements res = domain.getResources() == null ? new ResourceRequirements() : domain.getResources();
        String reqPath = p + ".domain.resources.requests.memory";
        String limPath = p + ".domain.resources.limits.memory";
        checkQuantities(p + ".domain.resources.requests", res.getRequests());
        checkQuantities(p + ".domain.resources.limits", res.getLimits());
        Memory memory = domain.getMemory();
        if (memory != null) {
            checkQuantity(p + ".domain.memory.guest", memory.getGuest());
            checkQuantity(p + ".domain.memory.maxGuest", memory.getMaxGuest());
        }
        long request = value(res.getRequests(), "memory");
        long limit = value(res.getLimits(), "memory");
        String reqText = text(res.getRequests(), "memory");
        String limText = text(res.getLimits(), "memory");
        if (request < 0) {
            add(reqPath, reqPath + " '" + reqText + "': must be greater than or equal to 0.");
        } else if (request > 0 && request < 1_000_000) {
            add(reqPath, reqPath + " '" + reqText + "': must be greater than or equal to 1M.");
        }
        if (limit < 0) {
            add(limPath, limPath + " '" + limText + "': must be greater than or equal to 0.");
        }
        if (limit > 0 && request > limit) {
            add(reqPath, reqPath + " '" + reqText + "' is greater than " + limPath + " '" + limText + "'");
        }
        // hugepages
        if (memory != null && memory.getHugepages() != null) {
            String pagePath = p + ".domain.memory.hugepages.pageSize";
            String page = memory.getHugepages().getPageSize();
            if (!Quantities.isValid(page)) {
                add(pagePath, pagePath + " '" + (page == null ? "" : page)
                        + "': quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");
            } else {
                long pageBytes = Quantities.bytes(page);
                long vmMemory = request;
                if (vmMemory == 0 && Quantities.isValid(memory.getGuest())) {
                    vmMemory = Quantities.bytes(memory.getGuest());
                }
                if (vmMemory == 0) {
                    vmMemory = limit;
                }
                if (vmMemory != 0 && vmMemory < pageBytes) {
                    add(reqPath, reqPath + " '" + reqText + "' must be equal to or larger than page size "
                            + pagePath + " '" + page + "'");
                } else if (pageBytes > 0 && vmMemory % pageBytes != 0) {
                    add(reqPath, reqPath + " '" + reqText + "' is not a multiple of the page size "
                            + pagePath + " '" + page + "'");
                }
            }
        }
        // guest memory within the limit
        if (memory != null && Quantities.isValid(memory.getGuest())) {
            long guest = Quantities.bytes(memory.getGuest());
            if (limit != 0 && limit < guest) {
                String guestPath = p + ".domain.memory.guest";
                add(guestPath, guestPath + " '" + Quantities.text(memory.getGuest())
                        + "' must be equal to or less than the memory limit " + limPath + " '" + limText + "'");
            }
        }
        // VMI mandatory fields: some memory
        if (mandatory && request == 0 && (memory == null || (memory.getGuest() == null && memory.getHugepages() == null))) {
            add(reqPath, "no memory requested, at least one of '" + p + ".domain.memory.guest', '" + p
                    + ".domain.memory.hugepages.pageSize' or '" + reqPath + "' must be set");
        }
    }

    // ---- machine ----

    private void machine(DomainSpec domain) {
        if (domain.getMachine() == null || !notEmpty(domain.getMachine().getType())) {
            return;
        }
        String type = domain.getMachine().getType();
        List<String> allowed = EMULATED_MACHINES.getOrDefault(
                spec.getArchitecture() == null ? VmiDefaults.DEFAULT_ARCHITECTURE : spec.getArchitecture(),
                EMULATED_MACHINES.get("amd64"));
        boolean match = allowed.stream().anyMatch(g -> type.matches(g.replace(".", "\\.").replace("*", ".*")));
        if (!match) {
            String path = p + ".domain.machine.type";
            add(path, path + " is not supported: " + type + " (allowed values: [" + String.join(" ", allowed) + "])");
        }
    }

    // ---- cpu ----

    private void cpu(DomainSpec domain) {
        ResourceRequirements res = domain.getResources() == null ? new ResourceRequirements() : domain.getResources();
        String reqPath = p + ".domain.resources.requests.cpu";
        String limPath = p + ".domain.resources.limits.cpu";
        long reqMilli = milli(res.getRequests(), "cpu");
        long limMilli = milli(res.getLimits(), "cpu");
        if (reqMilli < 0) {
            add(reqPath, reqPath + " '" + text(res.getRequests(), "cpu") + "': must be greater than or equal to 0.");
        }
        if (limMilli < 0) {
            add(limPath, limPath + " '" + text(res.getLimits(), "cpu") + "': must be greater than or equal to 0.");
        }
        if (limMilli > 0 && reqMilli > limMilli) {
            add(reqPath, reqPath + " '" + text(res.getRequests(), "cpu") + "' is greater than " + limPath + " '"
                    + text(res.getLimits(), "cpu") + "'");
        }
        CPU cpu = domain.getCpu();
        if (cpu == null) {
            return;
        }
        // qvirt: topology values are uint32 in KubeVirt; a negative one cannot be stored there.
        checkNonNegative(p + ".domain.cpu.cores", cpu.getCores());
        checkNonNegative(p + ".domain.cpu.sockets", cpu.getSockets());
        checkNonNegative(p + ".domain.cpu.threads", cpu.getThreads());
        checkNonNegative(p + ".domain.cpu.maxSockets", cpu.getMaxSockets());
        if (cpu.getMaxSockets() != null && cpu.getMaxSockets() != 0 && cpu.getSockets() != null
                && cpu.getSockets() > cpu.getMaxSockets()) {
            add(p + ".domain.cpu.sockets", "Number of sockets in CPU topology is greater than the maximum sockets allowed");
        }
        if (Boolean.TRUE.equals(cpu.getIsolateEmulatorThread()) && !Boolean.TRUE.equals(cpu.getDedicatedCpuPlacement())) {
            add(p + ".domain.cpu.isolateEmulatorThread",
                    "IsolateEmulatorThread should be only set in combination with DedicatedCPUPlacement");
        }
        if (Boolean.TRUE.equals(cpu.getDedicatedCpuPlacement())) {
            dedicatedCpu(domain, res, cpu);
        }
    }

    private void dedicatedCpu(DomainSpec domain, ResourceRequirements res, CPU cpu) {
        String dedicated = p + ".domain.cpu.dedicatedCpuPlacement";
        String reqCpu = p + ".domain.resources.requests.cpu";
        String limCpu = p + ".domain.resources.limits.cpu";
        long memLimit = value(res.getLimits(), "memory");
        long memRequest = value(res.getRequests(), "memory");
        Memory memory = domain.getMemory();
        boolean memoryGiven = memLimit != 0 || memRequest != 0 || (memory != null && (memory.getHugepages() != null
                || (Quantities.isValid(memory.getGuest()) && Quantities.bytes(memory.getGuest()) != 0)));
        if (!memoryGiven) {
            add(p + ".domain.resources.limits.memory", p + ".domain.resources.requests.memory, " + p
                    + ".domain.resources.limits.memory, " + p + ".domain.memory.hugepages or " + p
                    + ".domain.memory.guest should be provided");
        }
        long reqMilli = milli(res.getRequests(), "cpu");
        long limMilli = milli(res.getLimits(), "cpu");
        long req = value(res.getRequests(), "cpu");
        long lim = value(res.getLimits(), "cpu");
        if (req > 0 && req * 1000 != reqMilli) {
            add(reqCpu, "provided resources CPU requests must be an interger");
        }
        if (lim > 0 && lim * 1000 != limMilli) {
            add(limCpu, "provided resources CPU limits must be an interger");
        }
        if (memRequest > 0 && memLimit > 0 && memRequest != memLimit) {
            add(p + ".domain.resources.requests.memory", p + ".domain.resources.requests.memory must be equal to "
                    + p + ".domain.resources.limits.memory");
        }
        long vcpus = (long) nz(cpu.getCores()) * nz(cpu.getSockets()) * nz(cpu.getThreads());
        if (req == 0 && lim == 0 && vcpus == 0) {
            add(dedicated, "either " + reqCpu + " or " + limCpu + " or " + p + ".domain.cpu.cores must be provided "
                    + "when DedicatedCPUPlacement is true ");
        }
        if (req > 0 && lim > 0 && req != lim) {
            add(dedicated, reqCpu + " or " + limCpu + " must be equal when DedicatedCPUPlacement is true ");
        }
        if ((req > 0 || lim > 0) && vcpus > 0 && req != vcpus && lim != vcpus) {
            add(dedicated, reqCpu + " or " + limCpu + " must not be provided at the same time with " + p
                    + ".domain.cpu.cores when DedicatedCPUPlacement is true ");
        }
        if (cpu.getThreads() != null && cpu.getThreads() > 2) {
            add(dedicated, "Not more than two threads must be provided at " + p + ".domain.cpu.threads (got "
                    + cpu.getThreads() + ") when DedicatedCPUPlacement is true");
        }
    }

    private void startStrategy() {
        if (spec.getStartStrategy() != null && !"Paused".equals(spec.getStartStrategy())) {
            String path = p + ".startStrategy";
            add(path, path + " is set with an unrecognized option: " + spec.getStartStrategy());
        }
    }

    // ---- networks and interfaces (pkg/network/admitter) ----

    private void networks(Devices devices) {
        List<Network> networks = list(spec.getNetworks());
        List<Interface> ifaces = list(devices.getInterfaces());
        String ifacesPath = p + ".domain.devices.interfaces";
        for (int i = 0; i < networks.size(); i++) {
            if (networks.get(i).getName() == null) {
                required(p + ".networks[" + i + "].name");
            }
        }
        for (int i = 0; i < ifaces.size(); i++) {
            if (ifaces.get(i).getName() == null) {
                required(ifacesPath + "[" + i + "].name");
            }
        }
        // single pod network
        long pods = networks.stream().filter(n -> n.getPod() != null).count();
        long multusDefaults = networks.stream()
                .filter(n -> n.getMultus() != null && Boolean.TRUE.equals(n.getMultus().getDefaultNetwork())).count();
        if (pods > 1) {
            add(p + ".interfaces", "more than one interface is connected to a pod network in " + p + ".interfaces");
        }
        if (multusDefaults > 1) {
            add(p + ".networks", "Multus CNI should only have one default network");
        }
        if (pods > 0 && multusDefaults > 0) {
            add(p + ".networks", "Pod network cannot be defined when Multus default network is defined");
        }
        // one source per network
        for (int i = 0; i < networks.size(); i++) {
            Network n = networks.get(i);
            int count = (n.getPod() != null ? 1 : 0) + (n.getMultus() != null ? 1 : 0)
                    + (n.getAdditionalProperties().containsKey("resourceClaim") ? 1 : 0);
            if (count == 0) {
                add(p + ".networks[" + i + "]", "should have a network type");
            } else if (count > 1) {
                add(p + ".networks[" + i + "]", "should have only one network type");
            }
        }
        for (int i = 0; i < networks.size(); i++) {
            Network n = networks.get(i);
            if (n.getMultus() != null && !notEmpty(n.getMultus().getNetworkName())) {
                add(p + ".networks[" + i + "]", "CNI delegating plugin must have a networkName");
                break;
            }
        }
        Map<String, Network> networksByName = new HashMap<>();
        for (Network n : networks) {
            if (n.getName() != null) {
                networksByName.putIfAbsent(n.getName(), n);
            }
        }
        // interface state and bindings
        for (int i = 0; i < ifaces.size(); i++) {
            Interface iface = ifaces.get(i);
            String ip = ifacesPath + "[" + i + "]";
            String state = iface.getState();
            if (notEmpty(state) && !List.of("absent", "down", "up").contains(state)) {
                add(ip + ".state", "logical " + iface.getName() + " interface state value is unsupported: " + state);
            }
            if (iface.getSriov() != null && ("down".equals(state) || "up".equals(state))) {
                add(ip + ".state", "\"" + iface.getName() + "\" interface's state \"" + state
                        + "\" is not supported for SR-IOV NICs");
            }
            if ("absent".equals(state) && iface.getBridge() == null) {
                add(ip + ".state", "\"" + iface.getName() + "\" interface's state \"absent\" is supported only for "
                        + "bridge binding");
            }
        }
        for (int i = 0; i < ifaces.size(); i++) {
            Interface iface = ifaces.get(i);
            String ip = ifacesPath + "[" + i + "]";
            Network net = networksByName.get(iface.getName());
            boolean pod = net != null && net.getPod() != null;
            int bindings = count(iface.getBridge(), iface.getMasquerade(), iface.getSriov(), iface.getPasstBinding())
                    + (iface.getBinding() != null ? 1 : 0);
            // discontinued bindings are reported on their own (creation check)
            if (bindings != 1 && iface.getSlirp() == null && iface.getPasst() == null && iface.getMacvtap() == null) {
                add(ip, "logical " + iface.getName() + " interface must have exactly one binding method or binding plugin");
            }
            if (iface.getMasquerade() != null && !pod) {
                add(ip + ".name", "Masquerade interface only implemented with pod network");
            }
            if (iface.getBridge() != null && pod && !network.permitBridgeInterfaceOnPodNetwork()) {
                add(ip + ".name", "Bridge on pod network configuration is not enabled under kubevirt-config");
            }
            if (iface.getMasquerade() != null && "02:00:00:00:00:00".equals(iface.getMacAddress())) {
                add(ip + ".macAddress", "The requested MAC address is reserved for the in-pod bridge. "
                        + "Please choose another one.");
            }
            if (iface.getPasstBinding() != null && !gates.isEnabled(FeatureGates.PASST_BINDING)) {
                add(ip + ".name", "PasstBinding feature gate is not enabled");
            }
            if (iface.getPasstBinding() != null && !pod) {
                add(ip + ".name", "PasstBinding interface only implemented with pod network");
            }
            if (iface.getSlirp() != null) {
                add(ip + ".slirp", "Slirp interface support has been discontinued since v1.3");
            }
            if (iface.getPasst() != null) {
                add(ip + ".passt", "Passt network binding has been discontinued since v1.3");
            }
            if (iface.getMacvtap() != null) {
                add(ip + ".macvtap", "Macvtap network binding has been discontinued since v1.3");
            }
        }
        // unique names, every network has an interface and every interface a network
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < networks.size(); i++) {
            String name = networks.get(i).getName();
            if (name != null && !seen.add(name)) {
                add(p + ".networks[" + i + "].name", "Network with name \"" + name
                        + "\" already exists, every network must have a unique name");
            }
        }
        Set<String> ifaceNames = new HashSet<>();
        ifaces.forEach(f -> ifaceNames.add(f.getName()));
        for (int i = 0; i < networks.size(); i++) {
            String name = networks.get(i).getName();
            if (name != null && !ifaceNames.contains(name)) {
                String path = p + ".networks[" + i + "].name";
                add(path, path + " '" + name + "' not found.");
            }
        }
        seen.clear();
        for (int i = 0; i < ifaces.size(); i++) {
            String name = ifaces.get(i).getName();
            if (name != null && !seen.add(name)) {
                add(ifacesPath + "[" + i + "].name", "Only one interface can be connected to one specific network");
            }
        }
        for (int i = 0; i < ifaces.size(); i++) {
            String name = ifaces.get(i).getName();
            if (name != null && !networksByName.containsKey(name)) {
                String path = ifacesPath + "[" + i + "].name";
                add(path, path + " '" + name + "' not found.");
            }
        }
        // per-interface fields
        for (int i = 0; i < ifaces.size(); i++) {
            Interface iface = ifaces.get(i);
            String ip = ifacesPath + "[" + i + "]";
            if (iface.getName() != null && !IFACE_NAME.matcher(iface.getName()).matches()) {
                add(ip + ".name", "Network interface name can only contain alphabetical characters, numbers, "
                        + "dashes (-) or underscores (_)");
            }
            if (notEmpty(iface.getModel()) && !INTERFACE_MODELS.contains(iface.getModel())) {
                add(ip + ".model", "interface " + ip + ".name uses model " + iface.getModel()
                        + " that is not supported.");
            }
            if (notEmpty(iface.getMacAddress()) && !MAC.matcher(iface.getMacAddress()).matches()) {
                add(ip + ".macAddress", "interface " + ip + ".name has malformed MAC address ("
                        + iface.getMacAddress() + ").");
            }
            if (notEmpty(iface.getPciAddress()) && !PCI_ADDRESS.matcher(iface.getPciAddress()).matches()) {
                add(ip + ".pciAddress", "interface " + ip + ".name has malformed PCI address ("
                        + iface.getPciAddress() + ").");
            }
            Network net = networksByName.get(iface.getName());
            if (net != null && net.getPod() != null && iface.getPorts() != null) {
                ports(ip, iface.getPorts());
            }
            if (iface.getAdditionalProperties().containsKey("portRanges")) {
                add(ip + ".name", "portRanges is specified on interface but the PortRangesSpec feature gate is not enabled");
            }
        }
    }

    private void ports(String ip, List<Port> ports) {
        Set<String> names = new HashSet<>();
        for (int j = 0; j < ports.size(); j++) {
            Port port = ports.get(j);
            String pp = ip + ".ports[" + j + "]";
            if (notEmpty(port.getName())) {
                if (!names.add(port.getName())) {
                    add(pp + ".name", "Duplicate name of the port: " + port.getName());
                }
                if (port.getName().length() > 15 || !PORT_NAME.matcher(port.getName()).matches()
                        || port.getName().contains("--") || !port.getName().matches(".*[a-z].*")) {
                    add(pp + ".name", "Invalid name of the port: " + port.getName());
                }
            }
            int n = port.getPort() == null ? 0 : port.getPort();
            if (n == 0) {
                add(pp + ".port", "Port field is mandatory.");
            }
            if (n < 0 || n >= 65536) {
                add(pp + ".port", "Port field must be in range 0 < x < 65536.");
            }
            if (notEmpty(port.getProtocol()) && !"TCP".equals(port.getProtocol()) && !"UDP".equals(port.getProtocol())) {
                add(pp + ".protocol", "Unknown protocol, only TCP or UDP allowed");
            }
        }
    }

    // ---- boot order ----

    private void bootOrder(Devices devices) {
        Set<Integer> orders = new HashSet<>();
        Map<String, Volume> volumes = new HashMap<>();
        list(spec.getVolumes()).forEach(v -> volumes.putIfAbsent(v.getName(), v));
        List<Disk> disks = list(devices.getDisks());
        for (int i = 0; i < disks.size(); i++) {
            Disk disk = disks.get(i);
            String dp = p + ".domain.devices.disks[" + i + "]";
            Volume volume = volumes.get(disk.getName());
            if (volume == null && disk.getName() != null) {
                if (disk.getCdrom() == null) {
                    add(dp + ".name", dp + ".Name '" + disk.getName() + "' not found.");
                } else if (!gates.isEnabled(FeatureGates.DECLARATIVE_HOTPLUG_VOLUMES)) {
                    add(dp + ".name", "DeclarativeHotplugVolumes feature gate not enabled, cannot define an empty "
                            + "CD-ROM disk");
                }
            }
            if (disk.getLun() != null && volume != null && volume.getPersistentVolumeClaim() == null
                    && volume.getDataVolume() == null) {
                add(dp + ".lun", dp + ".lun can only be mapped to a DataVolume or PersistentVolumeClaim volume.");
            }
            if (disk.getBootOrder() != null) {
                if (disk.getBootOrder() < 1) {
                    // reported by the disk rules (validateBootOrderValue)
                    continue;
                }
                if (!orders.add(disk.getBootOrder())) {
                    add(dp + ".bootOrder", "Boot order for " + dp + ".bootOrder already set for a different device.");
                }
            }
        }
        List<Interface> ifaces = list(devices.getInterfaces());
        for (int i = 0; i < ifaces.size(); i++) {
            Integer order = ifaces.get(i).getBootOrder();
            String ip = p + ".domain.devices.interfaces[" + i + "]";
            if (order == null) {
                continue;
            }
            if (order < 1) {
                add(ip + ".bootOrder", ip + " must have a boot order > 0, if supplied");
            } else if (!orders.add(order)) {
                add(ip + ".bootOrder", "Boot order for " + ip + ".bootOrder already set for a different device.");
            }
        }
    }

    private void inputs(Devices devices) {
        List<Input> inputs = list(devices.getInputs());
        for (int i = 0; i < inputs.size(); i++) {
            Input in = inputs.get(i);
            String ip = p + ".domain.devices.inputs[" + i + "]";
            if (notEmpty(in.getBus()) && !"virtio".equals(in.getBus()) && !"usb".equals(in.getBus())) {
                add(ip + ".bus", "Input device can have only virtio or usb bus.");
            }
            if (!"tablet".equals(in.getType())) {
                add(ip + ".type", "Input device can have only tablet type.");
            }
        }
    }

    // ---- disks (pkg/storage/admitters/disks.go) ----

    private void disks(Devices devices) {
        List<Disk> disks = list(devices.getDisks());
        String base = p + ".domain.devices.disks";
        Map<String, Integer> firstByName = new HashMap<>();
        for (int i = 0; i < disks.size(); i++) {
            Disk disk = disks.get(i);
            String dp = base + "[" + i + "]";
            if (disk.getName() == null) {
                required(dp + ".name");
            }
            Integer first = disk.getName() == null ? null : firstByName.putIfAbsent(disk.getName(), i);
            if (first != null) {
                // KubeVirt names every earlier disk of that name; one is enough (and keeps this linear).
                add(dp + ".name", dp + " and " + base + "[" + first + "] must not have the same Name.");
            }
            int targets = (disk.getDisk() != null ? 1 : 0) + (disk.getLun() != null ? 1 : 0)
                    + (disk.getCdrom() != null ? 1 : 0);
            if (targets > 1) {
                add(dp, dp + " can only have a single target type defined");
            }
            if (disk.getDisk() != null && notEmpty(disk.getDisk().getPciAddress())) {
                String pci = disk.getDisk().getPciAddress();
                String named = p + ".domain.devices.disks.disk[" + i + "]";
                if (!"virtio".equals(disk.getDisk().getBus())) {
                    add(named + ".pciAddress", "disk " + named + ".name - setting a PCI address is only possible with "
                            + "bus type virtio.");
                }
                if (!PCI_ADDRESS.matcher(pci).matches()) {
                    add(named + ".pciAddress", "disk " + named + ".name has malformed PCI address (" + pci + ").");
                }
            }
            if (disk.getBootOrder() != null && disk.getBootOrder() < 1) {
                add(dp + ".bootOrder", dp + " must have a boot order > 0, if supplied");
            }
            bus(dp, disk);
            if (notEmpty(disk.getSerial())) {
                if (!SERIAL.matcher(disk.getSerial()).matches()) {
                    add(dp + ".serial", dp + " must be made up of the following characters [A-Za-z0-9_.+-], if specified");
                }
                if (disk.getSerial().codePointCount(0, disk.getSerial().length()) > 256) {
                    add(dp + ".serial", dp + " must be less than or equal to 256 in length, if specified");
                }
            }
            if (notEmpty(disk.getCache()) && !List.of("none", "writethrough", "writeback").contains(disk.getCache())) {
                add(dp + ".cache", dp + ".cache has invalid value " + disk.getCache());
            }
            if (notEmpty(disk.getIo()) && !"native".equals(disk.getIo()) && !"threads".equals(disk.getIo())) {
                add(dp + ".io", "Disk IO mode for " + base + " is not supported. Supported modes are: native, threads.");
            }
            if (disk.getErrorPolicy() != null
                    && !List.of("stop", "ignore", "report", "enospace").contains(disk.getErrorPolicy())) {
                add(dp + ".errorPolicy", dp + ".errorPolicy has invalid value \"" + disk.getErrorPolicy() + "\"");
            }
            if (disk.getName() != null) {
                for (String msg : dns1123Label(disk.getName())) {
                    add(dp + ".name", msg);
                }
            }
        }
    }

    private void bus(String dp, Disk disk) {
        String bus;
        String type;
        if (disk.getDisk() != null) {
            bus = disk.getDisk().getBus();
            type = "disk";
        } else if (disk.getLun() != null) {
            bus = disk.getLun().getBus();
            type = "lun";
        } else if (disk.getCdrom() != null) {
            bus = disk.getCdrom().getBus();
            type = "cdrom";
        } else {
            return;
        }
        if (!notEmpty(bus)) {
            return;
        }
        switch (bus) {
            case "ide":
                add(dp + "." + type + ".bus", "IDE bus is not supported");
                break;
            case "virtio":
                if ("cdrom".equals(type)) {
                    add(dp + ".cdrom.bus", "Bus type virtio is invalid for CD-ROM device");
                }
                break;
            case "sata":
                if (disk.getDisk() != null && Boolean.TRUE.equals(disk.getDisk().getReadonly())) {
                    add(dp + ".disk.bus", "sata hard-disks do not support read-only.");
                }
                break;
            case "scsi":
            case "usb":
                break;
            default:
                add(dp + "." + type + ".bus", dp + " is set with an unrecognized bus " + bus + ", must be one of: ["
                        + String.join(" ", DISK_BUSES) + "]");
        }
        if (Boolean.TRUE.equals(disk.getDedicatedIOThread()) && !"virtio".equals(bus)) {
            add(dp, "IOThreads are not supported for disks on a " + bus + " bus");
        }
    }

    // ---- firmware ----

    private void firmware(DomainSpec domain) {
        Firmware fw = domain.getFirmware();
        String fp = p + ".domain.firmware";
        if (fw != null) {
            if (fw.getBootloader() != null && fw.getBootloader().getEfi() != null && fw.getBootloader().getBios() != null) {
                add(fp + ".bootloader", fp + ".bootloader has both EFI and BIOS configured, but they are mutually "
                        + "exclusive.");
            }
            kernelBoot(fp + ".kernelBoot", fw.getKernelBoot());
            // qvirt: KubeVirt's uuid is a types.UID; QEMU's -uuid needs a real UUID.
            if (notEmpty(fw.getUuid()) && !fw.getUuid().matches(
                    "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")) {
                add(fp + ".uuid", fp + ".uuid '" + fw.getUuid() + "' is not a UUID "
                        + "(8-4-4-4-12 hexadecimal digits)");
            }
        }
        boolean secureBoot = fw != null && fw.getBootloader() != null && fw.getBootloader().getEfi() != null
                && (fw.getBootloader().getEfi().getSecureBoot() == null || fw.getBootloader().getEfi().getSecureBoot());
        boolean smm = domain.getFeatures() != null && domain.getFeatures().getSmm() != null
                && (domain.getFeatures().getSmm().getEnabled() == null || domain.getFeatures().getSmm().getEnabled());
        boolean tdx = domain.getAdditionalProperties().get("launchSecurity") instanceof Map<?, ?> ls
                && ls.get("tdx") != null;
        if (secureBoot && !smm && !tdx) {
            add(p + ".domain", p + ".domain has EFI SecureBoot enabled. SecureBoot requires SMM, which is currently "
                    + "disabled.");
        }
    }

    private void kernelBoot(String kp, KernelBoot kb) {
        if (kb == null) {
            return;
        }
        KernelBootContainer c = kb.getContainer();
        if (c == null) {
            if (notEmpty(kb.getKernelArgs())) {
                add(kp + ".kernelArgs", "kernel arguments cannot be provided without an external kernel");
            }
            return;
        }
        String cp = kp + ".container";
        if (!notEmpty(c.getImage())) {
            add(cp + ".image", cp + " must be defined with an image");
        } else {
            imageReference(cp + ".image", c.getImage());
        }
        if (!notEmpty(c.getInitrdPath()) && !notEmpty(c.getKernelPath())) {
            add(cp, cp + " must be defined with at least one of the following: kernelPath, initrdPath");
        }
        if (notEmpty(c.getKernelPath())) {
            path(cp + ".kernelPath", c.getKernelPath());
        }
        if (notEmpty(c.getInitrdPath())) {
            path(cp + ".initrdPath", c.getInitrdPath());
        }
    }

    // ---- volumes ----

    private void volumes() {
        List<Volume> volumes = list(spec.getVolumes());
        String base = p + ".volumes";
        Map<String, Integer> names = new HashMap<>();
        int serviceAccounts = 0;
        for (int i = 0; i < volumes.size(); i++) {
            Volume v = volumes.get(i);
            String vp = base + "[" + i + "]";
            if (v.getName() == null) {
                required(vp + ".name");
            } else {
                Integer other = names.putIfAbsent(v.getName(), i);
                if (other != null) {
                    add(vp + ".name", vp + " and " + base + "[" + other + "] must not have the same Name.");
                }
            }
            int sources = count(v.getPersistentVolumeClaim(), v.getCloudInitNoCloud(), v.getCloudInitConfigDrive(),
                    v.getContainerDisk(), v.getEphemeral(), v.getEmptyDisk(), v.getHostDisk(), v.getDataVolume(),
                    v.getConfigMap(), v.getSecret(), v.getDownwardAPI(), v.getServiceAccount());
            for (String s : UNMODELLED_SOURCES) {
                if (v.getAdditionalProperties().get(s) != null) {
                    sources++;
                }
            }
            if (v.getDataVolume() != null && !notEmpty(v.getDataVolume().getName())) {
                add(vp + ".name", "DataVolume 'name' must be set");
            }
            if (v.getServiceAccount() != null) {
                serviceAccounts++;
            }
            if (sources != 1) {
                add(vp, vp + " must have exactly one source type set");
            }
            if (v.getCloudInitNoCloud() != null) {
                cloudInit(vp, "cloudInitNoCloud", v.getCloudInitNoCloud());
            } else if (v.getCloudInitConfigDrive() != null) {
                cloudInit(vp, "cloudInitConfigDrive", v.getCloudInitConfigDrive());
            }
            if (v.getContainerDisk() != null) {
                String image = v.getContainerDisk().getImage();
                if (!notEmpty(image)) {
                    required(vp + ".containerDisk.image");
                } else {
                    imageReference(vp + ".containerDisk.image", image);
                }
            }
            if (v.getHostDisk() != null) {
                hostDisk(vp, v.getHostDisk());
            }
            if (v.getEmptyDisk() != null) {
                String cap = vp + ".emptyDisk.capacity";
                if (v.getEmptyDisk().getCapacity() == null) {
                    required(cap);
                } else if (checkQuantity(cap, v.getEmptyDisk().getCapacity())
                        && Quantities.bytes(v.getEmptyDisk().getCapacity()) <= 0) {
                    // qvirt: QEMU cannot create an image of zero or negative size.
                    add(cap, cap + " '" + Quantities.text(v.getEmptyDisk().getCapacity())
                            + "': must be greater than 0");
                }
            }
            if (v.getPersistentVolumeClaim() != null && !notEmpty(v.getPersistentVolumeClaim().getClaimName())) {
                required(vp + ".persistentVolumeClaim.claimName");
            }
            if (v.getEphemeral() != null && (v.getEphemeral().getPersistentVolumeClaim() == null
                    || !notEmpty(v.getEphemeral().getPersistentVolumeClaim().getClaimName()))) {
                required(vp + ".ephemeral.persistentVolumeClaim.claimName");
            }
            if (v.getConfigMap() != null && !notEmpty(v.getConfigMap().getName())) {
                add(vp + ".configMap.name", vp + ".configMap.name is a required field");
            }
            if (v.getSecret() != null && !notEmpty(v.getSecret().getSecretName())) {
                add(vp + ".secret.secretName", vp + ".secret.secretName is a required field");
            }
            if (v.getServiceAccount() != null && !notEmpty(v.getServiceAccount().getServiceAccountName())) {
                add(vp + ".serviceAccount.serviceAccountName", vp + ".serviceAccount.serviceAccountName is a required field");
            }
        }
        if (serviceAccounts > 1) {
            add(base, base + " must have max one serviceAccount volume set");
        }
    }

    private void cloudInit(String vp, String type, CloudInitSource ci) {
        String cp = vp + "." + type;
        int userSources = 0;
        int userLen = 0;
        int netSources = 0;
        int netLen = 0;
        if (ci.getUserDataSecretRef() != null && notEmpty(ci.getUserDataSecretRef().getName())) {
            userSources++;
        }
        if (notEmpty(ci.getUserDataBase64())) {
            userSources++;
            byte[] decoded = base64(ci.getUserDataBase64());
            if (decoded == null) {
                add(cp + ".userDataBase64", cp + ".userDataBase64." + type + ".userDataBase64 is not a valid base64 value.");
            } else {
                userLen = decoded.length;
            }
        }
        if (notEmpty(ci.getUserData())) {
            userSources++;
            userLen = ci.getUserData().getBytes(StandardCharsets.UTF_8).length;
        }
        if (userSources > 1) {
            add(cp, cp + " must have only one userdatasource set.");
        }
        if (userLen > CLOUD_INIT_USER_MAX_LEN) {
            add(cp, cp + " userdata exceeds " + CLOUD_INIT_USER_MAX_LEN
                    + " byte limit. Should use UserDataSecretRef for larger data.");
        }
        if (ci.getNetworkDataSecretRef() != null && notEmpty(ci.getNetworkDataSecretRef().getName())) {
            netSources++;
        }
        if (notEmpty(ci.getNetworkDataBase64())) {
            netSources++;
            byte[] decoded = base64(ci.getNetworkDataBase64());
            if (decoded == null) {
                add(cp + ".networkDataBase64", cp + ".networkDataBase64." + type
                        + ".networkDataBase64 is not a valid base64 value.");
            } else {
                netLen = decoded.length;
            }
        }
        if (notEmpty(ci.getNetworkData())) {
            netSources++;
            netLen = ci.getNetworkData().getBytes(StandardCharsets.UTF_8).length;
        }
        if (netSources > 1) {
            add(cp, cp + " must have only one networkdata source set.");
        }
        if (netLen > CLOUD_INIT_NETWORK_MAX_LEN) {
            add(cp, cp + " networkdata exceeds " + CLOUD_INIT_NETWORK_MAX_LEN
                    + " byte limit. Should use NetworkDataSecretRef for larger data.");
        }
        if (userSources == 0 && netSources == 0) {
            add(cp, cp + " must have at least one userdatasource or one networkdatasource set.");
        }
    }

    private void hostDisk(String vp, HostDisk hd) {
        String hp = vp + ".hostDisk";
        if (!gates.isEnabled(FeatureGates.HOST_DISK)) {
            add(vp, "HostDisk feature gate is not enabled");
        }
        if (!notEmpty(hd.getPath())) {
            add(hp + ".path", hp + ".path is required for hostDisk volume");
        } else {
            // qvirt: the image is opened by QEMU on this node, so the path must be absolute and clean.
            path(hp + ".path", hd.getPath());
        }
        String type = hd.getType();
        if (!"Disk".equals(type) && !"DiskOrCreate".equals(type)) {
            add(hp + ".type", hp + ".type has invalid value '" + (type == null ? "" : type)
                    + "', allowed are 'Disk' or 'DiskOrCreate'");
        }
        boolean hasCapacity = hd.getCapacity() != null && checkQuantity(hp + ".capacity", hd.getCapacity())
                && Quantities.bytes(hd.getCapacity()) != 0;
        if ("Disk".equals(type) && hasCapacity) {
            add(hp + ".capacity", hp + ".capacity is allowed to pass only with " + hp + ".type equal to 'DiskOrCreate'");
        }
        // qvirt: KubeVirt sizes a created image from the PVC; qvirt has no PVC, so the size must be given.
        if ("DiskOrCreate".equals(type) && !hasCapacity) {
            add(hp + ".capacity", hp + ".capacity is required when " + hp + ".type is 'DiskOrCreate'");
        }
    }

    private void containerDisks() {
        List<Volume> volumes = list(spec.getVolumes());
        for (int i = 0; i < volumes.size(); i++) {
            Volume v = volumes.get(i);
            if (v.getContainerDisk() != null && notEmpty(v.getContainerDisk().getPath())) {
                path(p + ".volumes[" + i + "].containerDisk", v.getContainerDisk().getPath());
            }
        }
    }

    private void eviction() {
        if (spec.getEvictionStrategy() != null && !EVICTION_STRATEGIES.contains(spec.getEvictionStrategy())) {
            String path = p + ".evictionStrategy";
            add(path, path + " is set with an unrecognized option: " + spec.getEvictionStrategy());
        }
    }

    private void serviceAccountName() {
        String name = spec.getServiceAccountName();
        if (!notEmpty(name)) {
            return;
        }
        String path = p + ".serviceAccountName";
        List<String> msgs = dns1123Subdomain(name);
        if (!msgs.isEmpty()) {
            add(path, path + " is not a valid service account name: " + String.join("; ", msgs));
        }
        for (Volume v : list(spec.getVolumes())) {
            if (v.getServiceAccount() != null && !name.equals(v.getServiceAccount().getServiceAccountName())) {
                add(path, "spec.serviceAccountName \"" + name + "\" and serviceAccount volume \""
                        + v.getServiceAccount().getServiceAccountName() + "\" must reference the same service account");
                break;
            }
        }
    }

    private void architecture() {
        String arch = spec.getArchitecture();
        if (arch != null && !EMULATED_MACHINES.containsKey(arch)) {
            add(p + ".architecture", "unsupported architecture: " + arch);
        }
    }

    // ---- helpers ----

    /** KubeVirt's {@code ValidatePath}: absolute, not root, no relative components. */
    private void path(String field, String path) {
        // qvirt: a NUL cannot be in a Linux path and control characters have no place in one; the launcher
        // hands these paths to the file system and to QEMU.
        if (path.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
            add(field, field + " must not contain control characters (NUL, newline, ...)");
            return;
        }
        if (path.length() > 4096) {
            add(field, field + " must be at most 4096 characters (PATH_MAX)");
            return;
        }
        if ("/".equals(path)) {
            add(field, field + " must not point to root");
            return;
        }
        String provided = path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
        String cleaned = cleanAbsolute(path);
        if (!cleaned.equals(provided)) {
            add(field, field + " must be an absolute path to a file without relative components");
        }
    }

    /** Go's {@code filepath.Join("/", path)}. */
    private static String cleanAbsolute(String path) {
        List<String> out = new ArrayList<>();
        for (String part : path.split("/")) {
            if (part.isEmpty() || part.equals(".")) {
                continue;
            }
            if (part.equals("..")) {
                if (!out.isEmpty()) {
                    out.remove(out.size() - 1);
                }
                continue;
            }
            out.add(part);
        }
        return "/" + String.join("/", out);
    }

    /** qvirt: an image reference must follow the distribution reference grammar (KubeVirt leaves it to the kubelet). */
    private void imageReference(String field, String image) {
        if (image.length() > 255 * 2 || !IMAGE_REFERENCE.matcher(image).matches()) {
            add(field, field + " '" + image + "' is not a valid image reference: expected "
                    + "[registry[:port]/]repository[:tag][@digest], lower-case repository");
        }
    }

    private static String shorten(String text) {
        return text == null || text.length() <= 80 ? text : text.substring(0, 80) + "...";
    }

    private static byte[] base64(String text) {
        try {
            return Base64.getDecoder().decode(text);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private void checkQuantities(String base, Map<String, Quantity> map) {
        if (map != null) {
            map.forEach((k, q) -> checkQuantity(base + "." + k, q));
        }
    }

    /** A quantity Kubernetes would not parse; true if {@code q} is valid. */
    private boolean checkQuantity(String field, Quantity q) {
        if (q == null) {
            return false;
        }
        if (!Quantities.isValid(q)) {
            add(field, field + " '" + shorten(Quantities.text(q)) + "': quantities must match the regular expression "
                    + "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
                    + (Quantities.text(q).length() > Quantities.MAX_LENGTH ? " (at most " + Quantities.MAX_LENGTH
                    + " characters)" : ""));
            return false;
        }
        // qvirt: Kubernetes keeps such values, but no memory, disk or CPU count is that large.
        if (!Quantities.inRange(Quantities.text(q))) {
            add(field, field + " '" + Quantities.text(q) + "': out of range (at most 2^63-1 in milli-units)");
            return false;
        }
        return true;
    }

    private void checkNonNegative(String field, Integer value) {
        if (value != null && value < 0) {
            add(field, field + " '" + value + "': must be greater than or equal to 0.");
        }
    }

    private static long value(Map<String, Quantity> map, String key) {
        Quantity q = map == null ? null : map.get(key);
        return q == null || !Quantities.isValid(q) ? 0 : Quantities.value(q);
    }

    private static long milli(Map<String, Quantity> map, String key) {
        Quantity q = map == null ? null : map.get(key);
        return q == null || !Quantities.isValid(q) ? 0 : Quantities.milliValue(q);
    }

    private static String text(Map<String, Quantity> map, String key) {
        Quantity q = map == null ? null : map.get(key);
        return q == null ? "0" : Quantities.text(q);
    }

    static List<String> dns1123Label(String value) {
        List<String> msgs = new ArrayList<>();
        if (value.length() > 63) {
            msgs.add("must be no more than 63 characters");
        }
        if (!DNS1123_LABEL.matcher(value).matches()) {
            msgs.add("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must "
                    + "start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for "
                    + "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')");
        }
        return msgs;
    }

    static List<String> dns1123Subdomain(String value) {
        List<String> msgs = new ArrayList<>();
        if (value.length() > 253) {
            msgs.add("must be no more than 253 characters");
        }
        if (!DNS1123_SUBDOMAIN.matcher(value).matches()) {
            msgs.add("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
                    + "and must start and end with an alphanumeric character (e.g. 'example.com', regex used for "
                    + "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')");
        }
        return msgs;
    }

    private void required(String field) {
        add(field, field + " in body is required");
    }

    private void add(String field, String message) {
        errors.add(new FieldError(field, message));
    }

    private static int count(Object... objects) {
        int n = 0;
        for (Object o : objects) {
            if (o != null) {
                n++;
            }
        }
        return n;
    }

    private static int nz(Integer i) {
        return i == null ? 0 : i;
    }

    private static boolean notEmpty(String s) {
        return s != null && !s.isEmpty();
    }

    private static <T> List<T> list(List<T> l) {
        return l == null ? List.of() : l;
    }
}
