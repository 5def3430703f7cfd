package io.qvirt.api.instancetype;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.qvirt.api.FieldError;
import io.qvirt.api.KubevirtJson;
import io.qvirt.api.NetworkSettings;
import io.qvirt.api.Quantities;
import io.qvirt.api.VirtualMachine;
import io.qvirt.api.VirtualMachineInstance;
import io.qvirt.api.VmiDefaults;
import io.qvirt.api.model.InstancetypeMatcher;
import io.qvirt.api.model.InstancetypeStatusRef;
import io.qvirt.api.model.VirtualMachineInstanceSpec;
import io.qvirt.api.model.VirtualMachineSpec;
import io.qvirt.api.model.VirtualMachineStatus;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Applies a VM's instancetype and preference to its template, as KubeVirt does ({@code pkg/instancetype}):
 * <ul>
 * <li>the instancetype's fields are set in the template, and a template that sets one of them too is refused,
 *     field by field ({@code apply/}: "VM field(s) PATH conflicts with selected instance type"); {@code cpu.guest}
 *     becomes sockets, cores or threads by the preference's {@code preferredCPUTopology} (default sockets);</li>
 * <li>a preference only fills what the template leaves unset ({@code preference/apply/}: disk, cdrom, lun and
 *     input bus, interface model, rng, autoattach switches, features, firmware, machine type, clock, subdomain,
 *     termination grace period, architecture, annotations);</li>
 * <li>a preference's {@code requirements} (cpu, memory, architecture) are checked on the result
 *     ({@code preference/requirements/}: "failure checking preference requirements: insufficient ...").</li>
 * </ul>
 * Pure: objects come from an {@link InstancetypeLookup}; the arguments are never changed. Three uses: the VM
 * admission ({@link #admit}), virt-api's {@code expand-spec} ({@link #expand}) and making a VMI from a VM
 * ({@link #toVmi}, KubeVirt's VM controller and the launcher). Field paths are KubeVirt's.
 *
 * <p>Not supported: {@code inferFromVolume} (it reads CDI volume labels; refused by {@link #validateMatchers}).
 */
public final class InstancetypeExpander {
    /** KubeVirt's annotations on a VMI naming what it was expanded from. */
    public static final String INSTANCETYPE_ANNOTATION = "kubevirt.io/instancetype-name";
    public static final String CLUSTER_INSTANCETYPE_ANNOTATION = "kubevirt.io/cluster-instancetype-name";
    public static final String PREFERENCE_ANNOTATION = "kubevirt.io/preference-name";
    public static final String CLUSTER_PREFERENCE_ANNOTATION = "kubevirt.io/cluster-preference-name";

    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final String CONFLICT = "VM field(s) %s conflicts with selected instance type";
    private static final Set<String> TOPOLOGIES = Set.of("preferSockets", "preferCores", "preferThreads",
            "preferSpread", "preferAny", "sockets", "cores", "threads", "spread", "any");
    private static final Set<String> SPREAD_ACROSS = Set.of("SocketsCores", "CoresThreads", "SocketsCoresThreads");

    private InstancetypeExpander() {
    }

    /**
     * What a VM resolved to: the instancetype's and preference's specs as JSON (null where the VM names none or it
     * was not found), with where they came from.
     */
    public record Specs(JsonNode instancetype, InstancetypeResource instancetypeResource, JsonNode preference,
                        InstancetypeResource preferenceResource) {
        public static final Specs NONE = new Specs(null, null, null, null);

        public boolean isEmpty() {
            return instancetype == null && preference == null;
        }
    }

    /** {@link #find}'s answer: the specs found, and one error per matcher that named nothing that exists. */
    public record Found(Specs specs, List<FieldError> errors) {
    }

    /**
     * {@link #admit}'s answer. {@code vm} is a copy whose template has the instancetype and preference applied (the
     * argument itself when the VM references neither); {@code errors} are KubeVirt's refusals; {@code notFound}
     * the references that named nothing (KubeVirt's admission admits those, logging them; the controller then
     * fails the VM).
     */
    public record Admitted(VirtualMachine vm, Specs specs, List<FieldError> errors, List<FieldError> notFound) {
    }

    /** {@link #expand}'s answer: the expanded VM, or the errors (then {@code vm} is null). */
    public record Expanded(VirtualMachine vm, List<FieldError> errors) {
    }

    /** The VM names an instancetype or a preference. */
    public static boolean references(VirtualMachine vm) {
        VirtualMachineSpec spec = vm == null ? null : vm.getSpec();
        return spec != null && (spec.getInstancetype() != null || spec.getPreference() != null);
    }

    // ---- matchers ----

    /**
     * KubeVirt's checks of {@code spec.instancetype} and {@code spec.preference} (its VM mutator's
     * {@code validateMatchers}), plus qvirt's: a kind KubeVirt would not find is refused here, with the allowed
     * values, and {@code inferFromVolume} is refused (not supported).
     */
    public static List<FieldError> validateMatchers(VirtualMachineSpec spec) {
        List<FieldError> errors = new ArrayList<>();
        if (spec != null) {
            matcher("spec.instancetype", "InstancetypeMatcher", spec.getInstancetype(), false, errors);
            matcher("spec.preference", "PreferenceMatcher", spec.getPreference(), true, errors);
        }
        return errors;
    }

    private static void matcher(String at, String type, InstancetypeMatcher m, boolean preference,
                                List<FieldError> errors) {
        if (m == null) {
            return;
        }
        boolean noName = blank(m.getName());
        boolean infer = !blank(m.getInferFromVolume());
        if (noName && !infer) {
            errors.add(new FieldError(at, "Either Name or InferFromVolume should be provided within the " + type));
        }
        if (infer) {
            if (!noName) {
                errors.add(new FieldError(at + ".name", "Name already set, should be cleared before setting inferFromVolume"));
            }
            if (!blank(m.getKind())) {
                errors.add(new FieldError(at + ".kind", "Kind already set, should be cleared before setting inferFromVolume"));
            }
            errors.add(new FieldError(at + ".inferFromVolume", "not supported by qvirt (it infers from CDI volume "
                    + "labels): give " + at + ".name instead"));
        }
        String policy = m.getInferFromVolumeFailurePolicy();
        if (policy != null && !"Ignore".equals(policy) && !"Reject".equals(policy)) {
            errors.add(new FieldError(at + ".inferFromVolumeFailurePolicy", "Invalid value '" + policy
                    + "' for InferFromVolumeFailurePolicy"));
        }
        Optional<InstancetypeResource> r = preference ? InstancetypeResource.forPreferenceMatcher(m.getKind())
                : InstancetypeResource.forInstancetypeMatcher(m.getKind());
        if (r.isEmpty()) {
            InstancetypeResource ns = preference ? InstancetypeResource.PREFERENCE : InstancetypeResource.INSTANCETYPE;
            InstancetypeResource cl = preference ? InstancetypeResource.CLUSTER_PREFERENCE
                    : InstancetypeResource.CLUSTER_INSTANCETYPE;
            errors.add(new FieldError(at + ".kind", "got unexpected kind in " + type + ": " + m.getKind()
                    + "; allowed: " + ns.kind() + ", " + cl.kind() + " (any case, or the plural; omitted means "
                    + cl.kind() + ")"));
        }
    }

    // ---- find ----

    /**
     * Finds what the VM names, as KubeVirt's finders do: by the matcher's {@code revisionName} (a ControllerRevision's
     * object) when given, else by the revision the controller stored ({@code status.instancetypeRef
     * .controllerRevisionRef}) when it holds the named object, else by kind and name in the VM's namespace (the
     * Cluster kinds: cluster-wide). A reference that names nothing is an error with
     * the API server's words ({@code virtualmachineinstancetypes.instancetype.kubevirt.io "x" not found}) at
     * {@code spec.instancetype.name}; a lookup that fails is an error at {@code spec.instancetype}.
     * Precondition: {@link #validateMatchers} found nothing.
     */
    public static Found find(VirtualMachine vm, InstancetypeLookup lookup) {
        List<FieldError> errors = new ArrayList<>();
        VirtualMachineSpec spec = vm.getSpec();
        String ns = vm.getMetadata() == null ? null : vm.getMetadata().getNamespace();
        InstancetypeMatcher it = spec == null ? null : spec.getInstancetype();
        InstancetypeMatcher pref = spec == null ? null : spec.getPreference();
        InstancetypeResource itRes = it == null ? null : InstancetypeResource.forInstancetypeMatcher(it.getKind()).orElse(null);
        InstancetypeResource prefRes = pref == null ? null : InstancetypeResource.forPreferenceMatcher(pref.getKind()).orElse(null);
        VirtualMachineStatus status = vm.getStatus();
        JsonNode itSpec = findOne("spec.instancetype", it, itRes, stored(status == null ? null : status.getInstancetypeRef()),
                ns, lookup, errors);
        JsonNode prefSpec = findOne("spec.preference", pref, prefRes, stored(status == null ? null : status.getPreferenceRef()),
                ns, lookup, errors);
        return new Found(new Specs(itSpec, itRes, prefSpec, prefRes), errors);
    }

    private static String stored(InstancetypeStatusRef ref) {
        return ref == null || ref.getControllerRevisionRef() == null ? null : ref.getControllerRevisionRef().getName();
    }

    private static JsonNode findOne(String at, InstancetypeMatcher m, InstancetypeResource r, String storedRevision,
                                    String ns, InstancetypeLookup lookup, List<FieldError> errors) {
        if (m == null || r == null || blank(m.getName()) && blank(m.getRevisionName())) {
            return null;
        }
        try {
            // KubeVirt's revision finder: the revision the controller stored (status ...Ref.controllerRevisionRef)
            // when it holds the object the matcher names; the matcher's own revisionName comes first
            if (blank(m.getRevisionName()) && !blank(storedRevision)) {
                Optional<JsonNode> data = lookup.revision(ns, storedRevision);
                String statusAt = "status." + (r.isPreference() ? "preferenceRef" : "instancetypeRef")
                        + ".controllerRevisionRef.name";
                if (data.isEmpty()) {
                    errors.add(new FieldError(statusAt, "controllerrevisions.apps \"" + storedRevision + "\" not found"));
                    return null;
                }
                if (m.getName().equals(data.get().path("metadata").path("name").asText())
                        && data.get().get("spec") instanceof ObjectNode stored) {
                    return stored;
                }
            }
            if (!blank(m.getRevisionName())) {
                Optional<JsonNode> data = lookup.revision(ns, m.getRevisionName());
                if (data.isEmpty()) {
                    errors.add(new FieldError(at + ".revisionName", "controllerrevisions.apps \""
                            + m.getRevisionName() + "\" not found"));
                    return null;
                }
                JsonNode s = data.get().get("spec");
                if (s == null || !s.isObject()) {
                    errors.add(new FieldError(at + ".revisionName", "ControllerRevision " + m.getRevisionName()
                            + " holds no " + r.kind() + " spec"));
                    return null;
                }
                return s;
            }
            Optional<JsonNode> s = lookup.spec(r, ns, m.getName());
            if (s.isEmpty()) {
                errors.add(new FieldError(at + ".name", r.notFound(m.getName())));
                return null;
            }
            return s.get();
        } catch (InstancetypeLookupException e) {
            errors.add(new FieldError(at, "failed to find " + r.kind() + " " + m.getName() + ": " + e.getMessage()));
            return null;
        }
    }

    // ---- the three uses ----

    /**
     * KubeVirt's VM admission ({@code vms-admitter.go}, {@code webhooks/vm/admitter.go}): the matchers checked, the
     * objects found (one that is not found is left out, as KubeVirt's admitter does, and reported in
     * {@code notFound}), the spread topology checked, the instancetype and preference applied to a copy of the
     * template (conflicts refuse), then the preference's requirements checked on the copy with the spec defaults
     * applied. The caller validates {@link Admitted#vm()}'s template as usual.
     */
    public static Admitted admit(VirtualMachine vm, InstancetypeLookup lookup, NetworkSettings network) {
        if (!references(vm)) {
            return new Admitted(vm, Specs.NONE, List.of(), List.of());
        }
        List<FieldError> errors = validateMatchers(vm.getSpec());
        if (!errors.isEmpty()) {
            return new Admitted(vm, Specs.NONE, errors, List.of());
        }
        Found found = find(vm, lookup);
        Specs specs = found.specs();
        if (specs.isEmpty() || vm.getSpec().getTemplate() == null) {
            return new Admitted(vm, specs, List.of(), found.errors());
        }
        errors.addAll(checkSpreadTopology(specs));
        if (!errors.isEmpty()) {
            return new Admitted(vm, specs, errors, found.errors());
        }
        VirtualMachine copy = KubevirtJson.deepCopy(vm, VirtualMachine.class);
        errors.addAll(applyToTemplate(copy, "spec.template.spec", specs));
        if (!errors.isEmpty()) {
            return new Admitted(vm, specs, errors, found.errors());
        }
        VirtualMachineInstanceSpec defaulted = KubevirtJson.deepCopy(templateSpec(copy), VirtualMachineInstanceSpec.class);
        VmiDefaults.applySpec(defaulted, network);
        errors.addAll(checkRequirements(specs, defaulted));
        return new Admitted(copy, specs, errors, found.errors());
    }

    /**
     * KubeVirt's {@code expand.Expand} (virt-api's {@code expand-spec}): the objects must exist; a disk for every
     * volume and the default interface are added, the instancetype and preference applied, the template's spec
     * defaults set, and {@code spec.instancetype}/{@code spec.preference} and their status refs removed. A VM
     * referencing neither comes back with its template's spec defaults set only, as qvirt's expand-spec always did
     * (KubeVirt returns such a VM unchanged).
     */
    public static Expanded expand(VirtualMachine vm, InstancetypeLookup lookup, NetworkSettings network) {
        VirtualMachine copy = KubevirtJson.deepCopy(vm, VirtualMachine.class);
        if (!references(vm)) {
            if (copy.getSpec() != null && copy.getSpec().getTemplate() != null
                    && copy.getSpec().getTemplate().getSpec() != null) {
                VmiDefaults.applySpec(copy.getSpec().getTemplate().getSpec(), network);
            }
            return new Expanded(copy, List.of());
        }
        if (copy.getSpec().getTemplate() == null) {
            return new Expanded(null, List.of(new FieldError("spec.template", "missing virtual machine template.")));
        }
        if (copy.getSpec().getTemplate().getSpec() == null) {
            copy.getSpec().getTemplate().setSpec(new VirtualMachineInstanceSpec());
        }
        List<FieldError> errors = validateMatchers(vm.getSpec());
        if (!errors.isEmpty()) {
            return new Expanded(null, errors);
        }
        Found found = find(vm, lookup);
        if (!found.errors().isEmpty()) {
            return new Expanded(null, found.errors());
        }
        errors.addAll(checkSpreadTopology(found.specs()));
        if (!errors.isEmpty()) {
            return new Expanded(null, errors);
        }
        VirtualMachineInstanceSpec t = copy.getSpec().getTemplate().getSpec();
        VmiDefaults.addVolumeDisks(t);
        VmiDefaults.addDefaultInterface(t, network);
        errors.addAll(applyToTemplate(copy, "spec.template.spec", found.specs()));
        if (!errors.isEmpty()) {
            return new Expanded(null, errors);
        }
        VmiDefaults.applySpec(copy.getSpec().getTemplate().getSpec(), network);
        copy.getSpec().setInstancetype(null);
        copy.getSpec().setPreference(null);
        if (copy.getStatus() != null) {
            copy.getStatus().setInstancetypeRef(null);
            copy.getStatus().setPreferenceRef(null);
        }
        return new Expanded(copy, List.of());
    }

    /** {@link #toVmi}'s answer: the VMI, or (then {@code vmi} is null) the conflicts. */
    public record Made(VirtualMachineInstance vmi, List<FieldError> conflicts) {
        /** KubeVirt's VM controller's words for the conflicts. */
        public String describe() {
            return "VMI conflicts with instancetype spec in fields: ["
                    + String.join(", ", conflicts.stream().map(FieldError::path).toList()) + "]";
        }
    }

    /**
     * The VMI KubeVirt's VM controller creates from a VM with an instancetype or preference
     * ({@code vm.go setupVMIFromVM}, then {@code ApplyAutoAttachPreferences}, {@code SetDefaultNetworkInterface},
     * {@code ApplyToVMI}): {@link io.qvirt.api.LoadedManifest#fromVm} with a disk for every volume, the preference's
     * autoattach switches, the default interface, then the instancetype and preference applied (paths
     * {@code spec...}) and KubeVirt's annotations naming them ({@link #INSTANCETYPE_ANNOTATION}...). No other
     * defaults: {@link VmiDefaults#apply} (the VMI mutator) comes after.
     *
     * @param specs what {@link #find} found for the VM (the caller decides what a missing object means)
     */
    public static Made toVmi(VirtualMachine vm, Specs specs, NetworkSettings network) {
        VirtualMachineInstance vmi = io.qvirt.api.LoadedManifest.fromVm(vm);
        if (vmi == null) {
            return new Made(null, List.of(new FieldError("spec.template", "missing virtual machine template.")));
        }
        VmiDefaults.addVolumeDisks(vmi.getSpec());
        if (specs.isEmpty()) {
            return new Made(vmi, List.of());
        }
        List<FieldError> errors = new ArrayList<>(checkSpreadTopology(specs));
        if (!errors.isEmpty()) {
            return new Made(null, errors);
        }
        ObjectNode tree = (ObjectNode) KubevirtJson.toTree(vmi.getSpec());
        if (specs.preference() != null) {
            applyAutoattach(specs.preference(), obj(obj(tree, "domain"), "devices"));
        }
        VirtualMachineInstanceSpec withAutoattach = fromTree(tree);
        VmiDefaults.addDefaultInterface(withAutoattach, network);
        ObjectMeta meta = vmi.getMetadata();
        Map<String, String> annotations = meta.getAnnotations() == null ? new LinkedHashMap<>()
                : new LinkedHashMap<>(meta.getAnnotations());
        InstancetypeMatcher it = vm.getSpec().getInstancetype();
        InstancetypeMatcher pref = vm.getSpec().getPreference();
        if (it != null && specs.instancetypeResource() != null && !blank(it.getName())) {
            annotations.put(specs.instancetypeResource() == InstancetypeResource.INSTANCETYPE
                    ? INSTANCETYPE_ANNOTATION : CLUSTER_INSTANCETYPE_ANNOTATION, it.getName());
        }
        if (pref != null && specs.preferenceResource() != null && !blank(pref.getName())) {
            annotations.put(specs.preferenceResource() == InstancetypeResource.PREFERENCE
                    ? PREFERENCE_ANNOTATION : CLUSTER_PREFERENCE_ANNOTATION, pref.getName());
        }
        ObjectNode spec = (ObjectNode) KubevirtJson.toTree(withAutoattach);
        errors.addAll(apply("spec", specs, spec, annotations));
        if (!errors.isEmpty()) {
            return new Made(null, errors);
        }
        vmi.setSpec(fromTree(spec));
        meta.setAnnotations(annotations.isEmpty() ? null : annotations);
        return new Made(vmi, List.of());
    }

    // ---- apply ----

    /** Applies to {@code vm}'s template (changed in place); conflicts at {@code base}. */
    private static List<FieldError> applyToTemplate(VirtualMachine vm, String base, Specs specs) {
        ObjectNode tree = (ObjectNode) KubevirtJson.toTree(templateSpec(vm));
        ObjectMeta tmeta = vm.getSpec().getTemplate().getMetadata();
        Map<String, String> annotations = tmeta == null || tmeta.getAnnotations() == null ? new LinkedHashMap<>()
                : new LinkedHashMap<>(tmeta.getAnnotations());
        List<FieldError> conflicts = apply(base, specs, tree, annotations);
        if (conflicts.isEmpty()) {
            vm.getSpec().getTemplate().setSpec(fromTree(tree));
            if (!annotations.isEmpty()) {
                if (tmeta == null) {
                    tmeta = new ObjectMeta();
                    vm.getSpec().getTemplate().setMetadata(tmeta);
                }
                tmeta.setAnnotations(annotations);
            }
        }
        return conflicts;
    }

    /**
     * KubeVirt's {@code ApplyToVMI}: the instancetype (every conflict collected, then nothing of the preference
     * applied if there was one), then the preference.
     *
     * @param base        where the VMI spec is: {@code spec.template.spec} for a VM, {@code spec} for a VMI
     * @param vmiSpec     changed in place
     * @param annotations the VMI's (or template's) annotations, changed in place
     * @return the conflicts, KubeVirt's message at each path
     */
    public static List<FieldError> apply(String base, Specs specs, ObjectNode vmiSpec, Map<String, String> annotations) {
        List<FieldError> conflicts = new ArrayList<>();
        JsonNode it = specs.instancetype();
        JsonNode pref = specs.preference();
        if (it != null) {
            ObjectNode domain = obj(vmiSpec, "domain");
            nodeSelector(base, it, vmiSpec, conflicts);
            schedulerName(base, it, vmiSpec, conflicts);
            cpu(base, it, pref, domain, conflicts);
            memory(base, it, domain, conflicts);
            ioThreads(base, it, domain, conflicts);
            replaceIfUnset(base, it, "ioThreadsPolicy", domain, "domain.ioThreadsPolicy", conflicts);
            replaceIfUnset(base, it, "launchSecurity", domain, "domain.launchSecurity", conflicts);
            listIfEmpty(base, it, "gpus", obj(domain, "devices"), "domain.devices.gpus", conflicts);
            listIfEmpty(base, it, "hostDevices", obj(domain, "devices"), "domain.devices.hostDevices", conflicts);
            JsonNode a = it.get("annotations");
            if (a != null && a.isObject()) {
                for (Iterator<Map.Entry<String, JsonNode>> f = a.fields(); f.hasNext(); ) {
                    Map.Entry<String, JsonNode> e = f.next();
                    String have = annotations.get(e.getKey());
                    if (have == null) {
                        annotations.put(e.getKey(), e.getValue().asText());
                    } else if (!have.equals(e.getValue().asText())) {
                        // KubeVirt names it without the base path
                        conflicts.add(conflict("annotations." + e.getKey()));
                    }
                }
            }
            if (!conflicts.isEmpty()) {
                return conflicts;
            }
        }
        if (pref != null) {
            applyPreference(pref, vmiSpec, annotations);
        }
        return conflicts;
    }

    private static FieldError conflict(String path) {
        return new FieldError(path, String.format(CONFLICT, path));
    }

    private static void nodeSelector(String base, JsonNode it, ObjectNode vmi, List<FieldError> conflicts) {
        JsonNode sel = it.get("nodeSelector");
        if (sel == null || sel.isNull()) {
            return;
        }
        if (present(vmi.get("nodeSelector"))) {
            conflicts.add(conflict(base + ".nodeSelector"));
            return;
        }
        vmi.set("nodeSelector", sel.deepCopy());
    }

    private static void schedulerName(String base, JsonNode it, ObjectNode vmi, List<FieldError> conflicts) {
        String name = it.path("schedulerName").asText("");
        if (name.isEmpty()) {
            return;
        }
        if (!vmi.path("schedulerName").asText("").isEmpty()) {
            conflicts.add(conflict(base + ".schedulerName"));
            return;
        }
        vmi.put("schedulerName", name);
    }

    private static void cpu(String base, JsonNode it, JsonNode pref, ObjectNode domain, List<FieldError> conflicts) {
        ObjectNode cpu = obj(domain, "cpu");
        JsonNode itCpu = it.path("cpu");
        List<FieldError> mine = new ArrayList<>();
        JsonNode res = domain.path("resources");
        if (present(res.path("requests").get("cpu"))) {
            mine.add(conflict(base + ".domain.resources.requests.cpu"));
        }
        if (present(res.path("limits").get("cpu"))) {
            mine.add(conflict(base + ".domain.resources.limits.cpu"));
        }
        for (String f : List.of("sockets", "cores", "threads")) {
            if (cpu.path(f).asLong(0) != 0) {
                mine.add(conflict(base + ".domain.cpu." + f));
            }
        }
        if (!cpu.path("model").asText("").isEmpty() && present(itCpu.get("model"))) {
            mine.add(conflict(base + ".domain.cpu.model"));
        }
        // KubeVirt's VMI field is dedicatedCpuPlacement; the instancetype's is dedicatedCPUPlacement
        if (cpu.path("dedicatedCpuPlacement").asBoolean(false) && present(itCpu.get("dedicatedCPUPlacement"))) {
            mine.add(conflict(base + ".domain.cpu.dedicatedCPUPlacement"));
        }
        if (cpu.path("isolateEmulatorThread").asBoolean(false) && present(itCpu.get("isolateEmulatorThread"))) {
            mine.add(conflict(base + ".domain.cpu.isolateEmulatorThread"));
        }
        for (String f : List.of("numa", "realtime")) {
            if (present(cpu.get(f)) && present(itCpu.get(f))) {
                mine.add(conflict(base + ".domain.cpu." + f));
            }
        }
        if (!mine.isEmpty()) {
            conflicts.addAll(mine);
            return;
        }
        copyIfPresent(itCpu, "model", cpu, "model");
        copyIfPresent(itCpu, "dedicatedCPUPlacement", cpu, "dedicatedCpuPlacement");
        copyIfPresent(itCpu, "isolateEmulatorThread", cpu, "isolateEmulatorThread");
        copyIfPresent(itCpu, "numa", cpu, "numa");
        copyIfPresent(itCpu, "realtime", cpu, "realtime");
        copyIfPresent(itCpu, "maxSockets", cpu, "maxSockets");
        long vcpus = itCpu.path("guest").asLong(0);
        long sockets = 1;
        long cores = 1;
        long threads = 1;
        if (vcpus != 1) {
            switch (topology(pref)) {
                case "preferCores", "cores" -> cores = vcpus;
                case "preferSockets", "preferAny", "sockets", "any" -> sockets = vcpus;
                case "preferThreads", "threads" -> threads = vcpus;
                case "preferSpread", "spread" -> {
                    long ratio = spreadRatio(pref);
                    switch (spreadAcross(pref)) {
                        case "SocketsCores" -> {
                            cores = ratio;
                            sockets = vcpus / ratio;
                        }
                        case "CoresThreads" -> {
                            threads = ratio;
                            cores = vcpus / ratio;
                        }
                        case "SocketsCoresThreads" -> {
                            threads = 2;
                            cores = ratio;
                            sockets = vcpus / 2 / ratio;
                        }
                        default -> {
                            // an unknown value: KubeVirt leaves 1/1/1
                        }
                    }
                }
                default -> {
                    // an unknown topology: KubeVirt leaves 1/1/1
                }
            }
        }
        cpu.put("cores", cores);
        cpu.put("sockets", sockets);
        cpu.put("threads", threads);
    }

    private static void memory(String base, JsonNode it, ObjectNode domain, List<FieldError> conflicts) {
        ObjectNode mem = obj(domain, "memory");
        JsonNode itMem = it.path("memory");
        JsonNode res = domain.path("resources");
        String clash = null;
        if (present(mem.get("guest"))) {
            clash = ".domain.memory.guest";
        } else if (present(mem.get("hugepages")) && present(itMem.get("hugepages"))) {
            clash = ".domain.memory.hugepages";
        } else if (present(mem.get("maxGuest")) && present(itMem.get("maxGuest"))) {
            clash = ".domain.memory.maxGuest";
        } else if (present(res.path("requests").get("memory"))) {
            clash = ".domain.resources.requests.memory";
        } else if (present(res.path("limits").get("memory"))) {
            clash = ".domain.resources.limits.memory";
        }
        if (clash != null) {
            conflicts.add(conflict(base + clash));
            return;
        }
        String guest = itMem.path("guest").asText("");
        mem.put("guest", guest);
        int overcommit = itMem.path("overcommitPercent").asInt(0);
        if (overcommit > 0 && Quantities.isValid(guest)) {
            // KubeVirt computes it in float32: guest * (1 - percent/100), truncated
            long request = (long) ((float) Quantities.bytes(guest) * (1 - (float) overcommit / 100));
            obj(obj(domain, "resources"), "requests").put("memory", Long.toString(request));
        }
        copyIfPresent(itMem, "hugepages", mem, "hugepages");
        copyIfPresent(itMem, "maxGuest", mem, "maxGuest");
    }

    private static void ioThreads(String base, JsonNode it, ObjectNode domain, List<FieldError> conflicts) {
        JsonNode count = it.path("ioThreads").get("supplementalPoolThreadCount");
        if (!present(count)) {
            return;
        }
        if (present(domain.path("ioThreads").get("supplementalPoolThreadCount"))) {
            conflicts.add(conflict(base + ".domain.ioThreads.supplementalPoolThreadCount"));
            return;
        }
        obj(domain, "ioThreads").set("supplementalPoolThreadCount", count.deepCopy());
    }

    private static void replaceIfUnset(String base, JsonNode it, String field, ObjectNode domain, String path,
                                       List<FieldError> conflicts) {
        JsonNode v = it.get(field);
        if (!present(v)) {
            return;
        }
        if (present(domain.get(field))) {
            conflicts.add(conflict(base + "." + path));
            return;
        }
        domain.set(field, v.deepCopy());
    }

    private static void listIfEmpty(String base, JsonNode it, String field, ObjectNode devices, String path,
                                    List<FieldError> conflicts) {
        JsonNode v = it.get(field);
        if (v == null || !v.isArray() || v.isEmpty()) {
            return;
        }
        JsonNode have = devices.get(field);
        if (have != null && have.isArray() && !have.isEmpty()) {
            conflicts.add(conflict(base + "." + path));
            return;
        }
        devices.set(field, v.deepCopy());
    }

    // ---- preference ----

    private static void applyPreference(JsonNode pref, ObjectNode vmi, Map<String, String> annotations) {
        ObjectNode domain = obj(vmi, "domain");
        // cpu: preferred features the template does not name
        JsonNode features = pref.path("cpu").get("preferredCPUFeatures");
        if (features != null && features.isArray() && !features.isEmpty()) {
            ObjectNode cpu = obj(domain, "cpu");
            Set<String> named = new HashSet<>();
            JsonNode have = cpu.get("features");
            have = have == null || !have.isArray() ? cpu.putArray("features") : have;
            have.forEach(f -> named.add(f.path("name").asText()));
            for (JsonNode f : features) {
                if (!named.contains(f.path("name").asText())) {
                    ((ArrayNode) have).add(f.deepCopy());
                }
            }
        }
        JsonNode devPref = pref.get("devices");
        if (devPref != null && devPref.isObject()) {
            applyDevices(devPref, vmi, obj(domain, "devices"));
        }
        applyFeatures(pref.get("features"), domain);
        applyFirmware(pref.get("firmware"), domain);
        String machine = pref.path("machine").path("preferredMachineType").asText("");
        if (!machine.isEmpty() && obj(domain, "machine").path("type").asText("").isEmpty()) {
            obj(domain, "machine").put("type", machine);
        }
        JsonNode clock = pref.get("clock");
        if (clock != null && clock.isObject()) {
            ObjectNode c = obj(domain, "clock");
            JsonNode offset = clock.get("preferredClockOffset");
            if (present(offset) && !present(c.get("utc")) && !present(c.get("timezone"))) {
                offset.fields().forEachRemaining(e -> c.set(e.getKey(), e.getValue().deepCopy()));
            }
            JsonNode timer = clock.get("preferredTimer");
            if (present(timer) && !present(c.get("timer"))) {
                c.set("timer", timer.deepCopy());
            }
        }
        if (vmi.path("subdomain").asText("").isEmpty() && present(pref.get("preferredSubdomain"))) {
            vmi.put("subdomain", pref.get("preferredSubdomain").asText());
        }
        if (present(pref.get("preferredTerminationGracePeriodSeconds")) && !present(vmi.get("terminationGracePeriodSeconds"))) {
            vmi.set("terminationGracePeriodSeconds", pref.get("preferredTerminationGracePeriodSeconds").deepCopy());
        }
        String arch = pref.path("preferredArchitecture").asText("");
        if (!arch.isEmpty() && vmi.path("architecture").asText("").isEmpty()) {
            vmi.put("architecture", arch);
        }
        JsonNode a = pref.get("annotations");
        if (a != null && a.isObject()) {
            a.fields().forEachRemaining(e -> annotations.putIfAbsent(e.getKey(), e.getValue().asText()));
        }
        JsonNode ls = pref.get("preferredLaunchSecurity");
        if (present(ls) && !present(domain.get("launchSecurity"))) {
            domain.set("launchSecurity", ls.deepCopy());
        }
    }

    /** KubeVirt's {@code ApplyAutoAttachPreferences}: the preferred autoattach switches the template leaves unset. */
    static void applyAutoattach(JsonNode pref, ObjectNode devices) {
        JsonNode d = pref.get("devices");
        if (d == null || !d.isObject()) {
            return;
        }
        for (String what : List.of("GraphicsDevice", "MemBalloon", "PodInterface", "SerialConsole", "InputDevice")) {
            setIfUnset(d.get("preferredAutoattach" + what), devices, "autoattach" + what);
        }
    }

    private static void applyDevices(JsonNode d, ObjectNode vmi, ObjectNode devices) {
        setIfUnset(d.get("preferredUseVirtioTransitional"), devices, "useVirtioTransitional");
        setIfUnset(d.get("preferredBlockMultiQueue"), devices, "blockMultiQueue");
        setIfUnset(d.get("preferredNetworkInterfaceMultiQueue"), devices, "networkInterfaceMultiqueue");
        if (present(d.get("preferredDisableHotplug"))) {
            // KubeVirt's VMI field is a plain bool, so it cannot tell unset from false: the preference wins
            devices.set("disableHotplug", d.get("preferredDisableHotplug").deepCopy());
        }
        String sound = d.path("preferredSoundModel").asText("");
        if (!sound.isEmpty() && devices.get("sound") instanceof ObjectNode s && s.path("model").asText("").isEmpty()) {
            s.put("model", sound);
        }
        setIfUnset(d.get("preferredRng"), devices, "rng");
        setIfUnset(d.get("preferredTPM"), devices, "tpm");
        if (present(d.get("preferredVideoType"))) {
            ObjectNode video = obj(devices, "video");
            if (video.path("type").asText("").isEmpty()) {
                video.put("type", d.get("preferredVideoType").asText());
            }
        }
        applyAutoattach(NODES.objectNode().set("devices", d), devices);
        for (JsonNode disk : array(devices, "disks")) {
            if (!(disk instanceof ObjectNode dk)) {
                continue;
            }
            if (!present(dk.get("disk")) && !present(dk.get("cdrom")) && !present(dk.get("lun"))) {
                dk.putObject("disk");
            }
            if (dk.get("disk") instanceof ObjectNode target) {
                setTextIfEmpty(d, "preferredDiskBus", target, "bus");
                setIfUnset(d.get("preferredDiskBlockSize"), dk, "blockSize");
                setTextIfEmpty(d, "preferredDiskCache", dk, "cache");
                setTextIfEmpty(d, "preferredDiskIO", dk, "io");
                if ("virtio".equals(target.path("bus").asText())) {
                    setIfUnset(d.get("preferredDiskDedicatedIoThread"), dk, "dedicatedIOThread");
                }
            } else if (dk.get("cdrom") instanceof ObjectNode target) {
                setTextIfEmpty(d, "preferredCdromBus", target, "bus");
            } else if (dk.get("lun") instanceof ObjectNode target) {
                setTextIfEmpty(d, "preferredLunBus", target, "bus");
            }
        }
        Set<String> podNetworks = new HashSet<>();
        for (JsonNode n : array(vmi, "networks")) {
            if (present(n.get("pod"))) {
                podNetworks.add(n.path("name").asText());
            }
        }
        for (JsonNode i : array(devices, "interfaces")) {
            if (!(i instanceof ObjectNode iface)) {
                continue;
            }
            setTextIfEmpty(d, "preferredInterfaceModel", iface, "model");
            JsonNode masq = d.get("preferredInterfaceMasquerade");
            if (present(masq) && bindingUnset(iface) && podNetworks.contains(iface.path("name").asText())) {
                iface.set("masquerade", masq.deepCopy());
            }
        }
        for (JsonNode i : array(devices, "inputs")) {
            if (i instanceof ObjectNode input) {
                setTextIfEmpty(d, "preferredInputBus", input, "bus");
                setTextIfEmpty(d, "preferredInputType", input, "type");
            }
        }
        JsonNode panic = d.get("preferredPanicDeviceModel");
        if (present(panic)) {
            JsonNode have = devices.get("panicDevices");
            if (have == null || !have.isArray() || have.isEmpty()) {
                devices.putArray("panicDevices").addObject().set("model", panic.deepCopy());
            } else {
                for (JsonNode p : have) {
                    if (p instanceof ObjectNode po && !present(po.get("model"))) {
                        po.set("model", panic.deepCopy());
                    }
                }
            }
        }
    }

    private static final List<String> BINDINGS = List.of("bridge", "slirp", "masquerade", "sriov", "macvtap", "passt",
            "deprecatedSlirp", "deprecatedMacvtap", "deprecatedPasst", "binding");

    private static boolean bindingUnset(JsonNode iface) {
        return BINDINGS.stream().noneMatch(b -> present(iface.get(b)));
    }

    private static void applyFeatures(JsonNode f, ObjectNode domain) {
        if (f == null || !f.isObject()) {
            return;
        }
        ObjectNode features = obj(domain, "features");
        if (present(f.get("preferredAcpi"))) {
            // KubeVirt's VMI acpi is not a pointer, so it cannot tell unset from set: the preference wins
            features.set("acpi", f.get("preferredAcpi").deepCopy());
        }
        setIfUnset(f.get("preferredApic"), features, "apic");
        JsonNode hyperv = f.get("preferredHyperv");
        if (hyperv != null && hyperv.isObject()) {
            ObjectNode h = obj(features, "hyperv");
            hyperv.fields().forEachRemaining(e -> setIfUnset(e.getValue(), h, e.getKey()));
        }
        setIfUnset(f.get("preferredKvm"), features, "kvm");
        setIfUnset(f.get("preferredPvspinlock"), features, "pvspinlock");
        setIfUnset(f.get("preferredSmm"), features, "smm");
    }

    private static void applyFirmware(JsonNode f, ObjectNode domain) {
        if (f == null || !f.isObject()) {
            return;
        }
        ObjectNode boot = obj(obj(domain, "firmware"), "bootloader");
        if (f.path("preferredUseBios").asBoolean(false) && !present(boot.get("bios")) && !present(boot.get("efi"))) {
            boot.putObject("bios");
        }
        if (present(f.get("preferredUseBiosSerial")) && boot.get("bios") instanceof ObjectNode bios
                && !present(bios.get("useSerial"))) {
            bios.set("useSerial", f.get("preferredUseBiosSerial").deepCopy());
        }
        if (!present(boot.get("efi")) && !present(boot.get("bios")) && present(f.get("preferredEfi"))) {
            boot.set("efi", f.get("preferredEfi").deepCopy());
            return;
        }
        if (f.path("preferredUseEfi").asBoolean(false) && !present(boot.get("efi")) && !present(boot.get("bios"))) {
            boot.putObject("efi");
        }
        if (present(f.get("preferredUseSecureBoot")) && boot.get("efi") instanceof ObjectNode efi
                && !present(efi.get("secureBoot"))) {
            efi.set("secureBoot", f.get("preferredUseSecureBoot").deepCopy());
        }
    }

    // ---- checks ----

    /** The preference's topology, KubeVirt's default {@code sockets} when it names none. */
    public static String topology(JsonNode pref) {
        String t = pref == null ? "" : pref.path("cpu").path("preferredCPUTopology").asText("");
        return t.isEmpty() ? "sockets" : t;
    }

    private static long spreadRatio(JsonNode pref) {
        long ratio = pref.path("preferSpreadSocketToCoreRatio").asLong(0);
        ratio = ratio == 0 ? 2 : ratio;
        JsonNode r = pref.path("cpu").path("spreadOptions").get("ratio");
        return present(r) ? r.asLong() : ratio;
    }

    private static String spreadAcross(JsonNode pref) {
        String a = pref.path("cpu").path("spreadOptions").path("across").asText("");
        return a.isEmpty() ? "SocketsCores" : a;
    }

    /**
     * KubeVirt's {@code CheckSpreadCPUTopology}: with topology spread, the instancetype's vCPUs must divide by the
     * ratio (and by 2 threads per core across SocketsCoresThreads). Path {@code instancetype.spec.cpu.guest}, as
     * KubeVirt's.
     */
    public static List<FieldError> checkSpreadTopology(Specs specs) {
        JsonNode pref = specs.preference();
        String t = topology(pref);
        if (specs.instancetype() == null || !t.equals("spread") && !t.equals("preferSpread")) {
            return List.of();
        }
        long guest = specs.instancetype().path("cpu").path("guest").asLong(0);
        long ratio = spreadRatio(pref);
        String at = "instancetype.spec.cpu.guest";
        if (ratio <= 0) {
            return List.of(new FieldError(at, "the preference's spread ratio must be at least 1"));
        }
        return switch (spreadAcross(pref)) {
            case "SocketsCores" -> guest % ratio > 0 ? List.of(new FieldError(at, guest + " vCPUs provided by the "
                    + "instance type are not divisible by the Spec.PreferSpreadSocketToCoreRatio or "
                    + "Spec.CPU.PreferSpreadOptions.Ratio of " + ratio + " provided by the preference")) : List.of();
            case "CoresThreads" -> guest % ratio > 0 ? List.of(new FieldError(at, guest + " vCPUs provided by the "
                    + "instance type are not divisible by the number of threads per core " + ratio)) : List.of();
            case "SocketsCoresThreads" -> guest % 2 > 0 || (guest / 2) % ratio > 0 ? List.of(new FieldError(at,
                    guest + " vCPUs provided by the instance type are not divisible by the number of threads per core "
                            + "2 and Spec.PreferSpreadSocketToCoreRatio or Spec.CPU.PreferSpreadOptions.Ratio of "
                            + ratio)) : List.of();
            default -> List.of();
        };
    }

    /**
     * KubeVirt's preference requirements checker, on the template spec with the instancetype applied and the
     * defaults set. One error: "failure checking preference requirements: ..." at the conflicting paths joined
     * by ", ", as KubeVirt's admitter reports it.
     */
    public static List<FieldError> checkRequirements(Specs specs, VirtualMachineInstanceSpec defaulted) {
        JsonNode pref = specs.preference();
        JsonNode req = pref == null ? null : pref.get("requirements");
        if (req == null || !req.isObject()) {
            return List.of();
        }
        JsonNode it = specs.instancetype();
        JsonNode vmi = KubevirtJson.toTree(defaulted);
        JsonNode cpu = vmi.path("domain").path("cpu");
        if (present(req.get("cpu"))) {
            long want = req.path("cpu").path("guest").asLong(0);
            String why = null;
            List<String> paths = new ArrayList<>();
            String base = "spec.template.spec.domain.cpu";
            if (it != null) {
                long have = it.path("cpu").path("guest").asLong(0);
                if (have < want) {
                    paths.add("spec.instancetype");
                    why = "insufficient CPU resources of " + have + " vCPU provided by instance type, preference requires "
                            + want + " vCPU";
                }
            } else if (!cpu.isObject()) {
                paths.add(base);
                why = "no CPU resources provided by VirtualMachine, preference requires " + want + " vCPU";
            } else {
                long sockets = cpu.path("sockets").asLong(0);
                long cores = cpu.path("cores").asLong(0);
                long threads = cpu.path("threads").asLong(0);
                long have;
                String as;
                List<String> fields;
                switch (topology(pref)) {
                    case "preferThreads", "threads" -> {
                        have = threads;
                        as = "threads";
                        fields = List.of("threads");
                    }
                    case "preferCores", "cores" -> {
                        have = cores;
                        as = "cores";
                        fields = List.of("cores");
                    }
                    case "preferSockets", "sockets" -> {
                        have = sockets;
                        as = "sockets";
                        fields = List.of("sockets");
                    }
                    case "preferAny", "any" -> {
                        have = cores * sockets * threads;
                        as = "cores, sockets and threads";
                        fields = List.of("cores", "sockets", "threads");
                    }
                    case "preferSpread", "spread" -> {
                        as = spreadAcross(pref);
                        switch (as) {
                            case "SocketsCores" -> {
                                have = sockets * cores;
                                fields = List.of("sockets", "cores");
                            }
                            case "CoresThreads" -> {
                                have = cores * threads;
                                fields = List.of("cores", "threads");
                            }
                            default -> {
                                have = sockets * cores * threads;
                                fields = List.of("sockets", "cores", "threads");
                            }
                        }
                    }
                    default -> {
                        have = Long.MAX_VALUE;
                        as = "";
                        fields = List.of();
                    }
                }
                if (have < want) {
                    fields.forEach(f -> paths.add(base + "." + f));
                    why = "insufficient CPU resources of " + have + " vCPU provided by VirtualMachine, preference "
                            + "requires " + want + " vCPU provided as " + as;
                }
            }
            if (why != null) {
                return List.of(requirement(paths, why));
            }
        }
        if (present(req.get("memory"))) {
            String want = req.path("memory").path("guest").asText("");
            String provided = "0";
            String path = "spec.template.spec.domain.memory";
            String who = "VirtualMachine";
            if (it != null) {
                provided = it.path("memory").path("guest").asText("0");
                path = "spec.instancetype";
                who = "instance type";
            }
            String guest = vmi.path("domain").path("memory").path("guest").asText("");
            if (!guest.isEmpty()) {
                provided = guest;
            }
            if (Quantities.isValid(want) && Quantities.isValid(provided)
                    && Quantities.exact(provided).compareTo(Quantities.exact(want)) < 0) {
                return List.of(requirement(List.of(path), "insufficient Memory resources of "
                        + provided + " provided by " + who + ", preference requires " + want));
            }
        }
        JsonNode arch = req.get("architecture");
        if (present(arch) && !arch.asText().equals(vmi.path("architecture").asText(""))) {
            return List.of(requirement(List.of("spec.template.spec.architecture"), "preference requires architecture "
                    + arch.asText() + " but " + vmi.path("architecture").asText("") + " is being requested"));
        }
        return List.of();
    }

    private static FieldError requirement(List<String> paths, String why) {
        return new FieldError(String.join(", ", paths), "failure checking preference requirements: " + why);
    }

    // ---- the objects themselves ----

    /**
     * Checks an instancetype's or preference's spec as KubeVirt's schema and admitters do where qvirt acts on the
     * field: {@code cpu.guest} (at least 1) and {@code memory.guest} required for an instancetype, a known
     * {@code preferredCPUTopology} and spread {@code across} for a preference. Paths {@code spec...}.
     */
    public static List<FieldError> validateObject(InstancetypeResource resource, JsonNode spec) {
        List<FieldError> errors = new ArrayList<>();
        if (spec == null || !spec.isObject()) {
            errors.add(new FieldError("spec", "spec in body is required"));
            return errors;
        }
        if (!resource.isPreference()) {
            JsonNode guest = spec.path("cpu").get("guest");
            if (guest == null || !guest.canConvertToLong() || guest.asLong() < 1 || guest.asLong() > 0xffffffffL) {
                errors.add(new FieldError("spec.cpu.guest", "Required value: the vCPUs, an integer of at least 1"));
            }
            JsonNode mem = spec.path("memory").get("guest");
            if (mem == null || !mem.isTextual() && !mem.isNumber() || !Quantities.isValid(mem.asText())) {
                errors.add(new FieldError("spec.memory.guest", "Required value: a quantity such as 1Gi"));
            }
            JsonNode over = spec.path("memory").get("overcommitPercent");
            if (present(over) && (!over.canConvertToInt() || over.asInt() < 0 || over.asInt() > 100)) {
                errors.add(new FieldError("spec.memory.overcommitPercent", "must be between 0 and 100"));
            }
        } else {
            String t = spec.path("cpu").path("preferredCPUTopology").asText("");
            if (!t.isEmpty() && !TOPOLOGIES.contains(t)) {
                errors.add(new FieldError("spec.cpu.preferredCPUTopology", "unknown preferredCPUTopology " + t
                        + "; allowed: sockets, cores, threads, spread, any (or the deprecated preferSockets, "
                        + "preferCores, preferThreads, preferSpread, preferAny)"));
            }
            String across = spec.path("cpu").path("spreadOptions").path("across").asText("");
            if (!across.isEmpty() && !SPREAD_ACROSS.contains(across)) {
                errors.add(new FieldError("spec.cpu.spreadOptions.across", "unknown value " + across
                        + "; allowed: SocketsCores, CoresThreads, SocketsCoresThreads"));
            }
        }
        return errors;
    }

    // ---- helpers ----

    private static VirtualMachineInstanceSpec templateSpec(VirtualMachine vm) {
        if (vm.getSpec().getTemplate().getSpec() == null) {
            vm.getSpec().getTemplate().setSpec(new VirtualMachineInstanceSpec());
        }
        return vm.getSpec().getTemplate().getSpec();
    }

    private static VirtualMachineInstanceSpec fromTree(JsonNode tree) {
        try {
            return KubevirtJson.json().treeToValue(tree, VirtualMachineInstanceSpec.class);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static ObjectNode obj(ObjectNode parent, String key) {
        JsonNode n = parent.get(key);
        if (n instanceof ObjectNode o) {
            return o;
        }
        return parent.putObject(key);
    }

    private static Iterable<JsonNode> array(JsonNode parent, String key) {
        JsonNode n = parent.get(key);
        return n != null && n.isArray() ? n : List.of();
    }

    private static boolean present(JsonNode n) {
        return n != null && !n.isNull() && !n.isMissingNode();
    }

    private static void setIfUnset(JsonNode value, ObjectNode target, String key) {
        if (present(value) && !present(target.get(key))) {
            target.set(key, value.deepCopy());
        }
    }

    private static void setTextIfEmpty(JsonNode pref, String prefKey, ObjectNode target, String key) {
        String v = pref.path(prefKey).asText("");
        if (!v.isEmpty() && target.path(key).asText("").isEmpty()) {
            target.put(key, v);
        }
    }

    private static void copyIfPresent(JsonNode from, String fromKey, ObjectNode to, String toKey) {
        JsonNode v = from.get(fromKey);
        if (present(v)) {
            to.set(toKey, v.deepCopy());
        }
    }

    private static boolean blank(String s) {
        return s == null || s.isEmpty();
    }
}
