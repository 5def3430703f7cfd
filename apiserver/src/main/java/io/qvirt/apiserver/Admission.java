package io.qvirt.apiserver;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.qvirt.api.FeatureGates;
import io.qvirt.api.FieldError;
import io.qvirt.api.KubevirtJson;
import io.qvirt.api.NetworkSettings;
import io.qvirt.api.VirtualMachine;
import io.qvirt.api.VirtualMachineInstance;
import io.qvirt.api.VmValidator;
import io.qvirt.api.VmiDefaults;
import io.qvirt.api.VmiValidator;
import io.qvirt.api.instancetype.InstancetypeExpander;
import io.qvirt.api.instancetype.InstancetypeLookup;
import io.qvirt.api.instancetype.InstancetypeLookupException;
import io.qvirt.api.instancetype.InstancetypeResource;
import io.qvirt.launcher.plan.AdmissionPlanning;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import java.util.logging.Logger;

/**
 * virt-api's admission webhooks, AdmissionReview {@code admission.k8s.io/v1} in and out, on KubeVirt's paths:
 *
 * <ul>
 * <li>{@code /virtualmachines-validate} (VM create/update): the api module's {@link VmValidator}, the same field
 * paths and messages as {@code launcher validate}; a VM naming an instancetype or a preference is checked with them
 * (read from the API server), as KubeVirt's admitter does: a template field the instancetype also sets, or a
 * preference requirement not met, is refused; one that does not exist is admitted with a warning (KubeVirt admits
 * it too: its controller fails the VM until it exists);</li>
 * <li>{@code /virtualmachineinstances-validate-create}: {@link VmiValidator};</li>
 * <li>{@code /virtualmachineinstances-validate-update}: a VMI's spec is immutable ("update of VMI object is
 * restricted"), except for KubeVirt's own service accounts;</li>
 * <li>{@code /virtualmachineinstances-mutate}: {@link VmiDefaults} as a JSON Patch replacing {@code /spec};</li>
 * <li>{@code /virtualmachines-mutate}: the template's machine type, as KubeVirt's VM mutator: the preference's
 * {@code preferredMachineType} when the VM names a preference that has one, else the architecture's default;</li>
 * <li>{@code /migration-validate-create} (VirtualMachineInstanceMigration create), as KubeVirt's migration admitter:
 * {@code spec.vmiName} required; the VMI read from the API server must exist, not be final (Succeeded/Failed), not
 * have {@code LiveMigratable} False, and have no other migration in flight (one not Succeeded or Failed);</li>
 * <li>{@code /migration-validate-update}: a migration's spec is immutable, and the {@code kubevirt.io/vmi-name}
 * selector label of one in flight can be neither changed nor removed.</li>
 * </ul>
 * A denial is KubeVirt's: {@code allowed: false}, a Status with reason Invalid, code 422, every error as a cause
 * ({@code field}, {@code message}) and the messages joined. Feature gates are the KubeVirt CR's
 * {@code developerConfiguration.featureGates}, and the network settings (the implicit interface's binding, bridge
 * on the pod network permitted or not) its {@code configuration.network} (both read live by the suppliers).
 *
 * <p>Bad input never reaches the validators: a body that is not JSON, JSON nested deeper than 200 or with
 * strings over 3 MiB, a document that is not an {@code admission.k8s.io/v1} AdmissionReview with a request and
 * its uid: a 400 {@link ApiError}, never a 500. A review of the wrong resource, or whose object does not decode
 * as one, is answered as KubeVirt does: {@code allowed: false} with the reason.
 */
public final class Admission {
    private static final Logger LOG = Logger.getLogger(Admission.class.getName());
    static final ObjectMapper JSON = JsonMapper.builder().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS).build();

    static {
        JSON.getFactory().setStreamReadConstraints(StreamReadConstraints.builder()
                .maxNestingDepth(200).maxStringLength(3 << 20).maxNumberLength(1000).build());
    }

    /** Users whose VMI spec updates are allowed (KubeVirt exempts its own components' service accounts). */
    static final Set<String> PRIVILEGED = Set.of(
            "system:serviceaccount:kubevirt:kubevirt-controller", "system:serviceaccount:kubevirt:kubevirt-handler",
            "system:serviceaccount:kubevirt:kubevirt-apiserver", "system:serviceaccount:kubevirt:virt-controller",
            "system:serviceaccount:kubevirt:virt-handler", "system:serviceaccount:kubevirt:virt-api");

    public static final List<String> PATHS = List.of("/virtualmachines-validate", "/virtualmachineinstances-validate-create",
            "/virtualmachineinstances-validate-update", "/virtualmachineinstances-mutate", "/virtualmachines-mutate",
            "/migration-validate-create", "/migration-validate-update", PodEvictionAdmitter.PATH,
            MigrationPolicyAdmitter.PATH);

    /** KubeVirt's {@code MigrationSelectorLabel}: the VMI a migration is for. */
    static final String MIGRATION_SELECTOR_LABEL = "kubevirt.io/vmi-name";

    private final Supplier<FeatureGates> gates;
    private final Supplier<NetworkSettings> network;
    private final InstancetypeLookup instancetypes;
    private final MigrationLookup migrations;

    /** With qvirt's network settings ({@link NetworkSettings#QVIRT_DEFAULTS}) and no instancetypes or preferences. */
    public Admission(Supplier<FeatureGates> gates) {
        this(gates, () -> NetworkSettings.QVIRT_DEFAULTS);
    }

    /** With the cluster's network settings (the KubeVirt CR's {@code spec.configuration.network}, read live). */
    public Admission(Supplier<FeatureGates> gates, Supplier<NetworkSettings> network) {
        this(gates, network, InstancetypeLookup.none());
    }

    /** As {@link #Admission(Supplier, Supplier)}, with the instancetypes and preferences VMs name found in {@code instancetypes}. */
    public Admission(Supplier<FeatureGates> gates, Supplier<NetworkSettings> network, InstancetypeLookup instancetypes) {
        this(gates, network, instancetypes, MigrationLookup.none());
    }

    /** As {@link #Admission(Supplier, Supplier, InstancetypeLookup)}, with migrations' VMIs found in {@code migrations}. */
    public Admission(Supplier<FeatureGates> gates, Supplier<NetworkSettings> network, InstancetypeLookup instancetypes,
                     MigrationLookup migrations) {
        this.gates = gates;
        this.network = network;
        this.instancetypes = instancetypes;
        this.migrations = migrations;
    }

    /** A decoded review's request. */
    record Review(String uid, String group, String kind, String resource, String operation, String namespace,
                  String user, JsonNode object, JsonNode oldObject, String name, boolean dryRun) {
    }

    /**
     * Decodes an AdmissionReview body.
     *
     * @throws ApiError 400 for anything that is not a v1 AdmissionReview with a request
     */
    static Review decode(byte[] body) {
        JsonNode n;
        try {
            n = JSON.readTree(body);
        } catch (JsonProcessingException e) {
            throw ApiError.badRequest("the body is not a JSON AdmissionReview: " + e.getOriginalMessage());
        } catch (java.io.IOException e) {
            throw ApiError.badRequest("the body cannot be read: " + e.getMessage());
        }
        if (n == null || !n.isObject()) {
            throw ApiError.badRequest("the body is not a JSON object; expected an AdmissionReview (admission.k8s.io/v1)");
        }
        if (!"admission.k8s.io/v1".equals(n.path("apiVersion").asText(null)) || !"AdmissionReview".equals(n.path("kind").asText(null))) {
            throw ApiError.badRequest("expected kind AdmissionReview, apiVersion admission.k8s.io/v1; got kind "
                    + text(n.get("kind")) + ", apiVersion " + text(n.get("apiVersion")));
        }
        JsonNode r = n.get("request");
        if (r == null || !r.isObject()) {
            throw ApiError.badRequest("the AdmissionReview has no request");
        }
        JsonNode uid = r.get("uid");
        if (uid == null || !uid.isTextual() || uid.asText().isEmpty()) {
            throw ApiError.badRequest("the AdmissionReview's request has no uid");
        }
        JsonNode obj = r.get("object");
        JsonNode old = r.get("oldObject");
        return new Review(uid.asText(), r.path("kind").path("group").asText(""), r.path("kind").path("kind").asText(""),
                r.path("resource").path("resource").asText(""), r.path("operation").asText(""), r.path("namespace").asText(""),
                r.path("userInfo").path("username").asText(""),
                obj == null || !obj.isObject() ? null : obj, old == null || !old.isObject() ? null : old,
                r.path("name").asText(""), r.path("dryRun").asBoolean(false));
    }

    private static String text(JsonNode n) {
        return n == null ? "(none)" : n.isTextual() ? "\"" + n.asText() + "\"" : n.getNodeType().toString().toLowerCase();
    }

    /** Answers a review on {@code path}: the AdmissionReview response (always 200 once decoded). */
    public ObjectNode handle(String path, byte[] body) {
        Review r = decode(body);
        ObjectNode resp = switch (path) {
            case "/virtualmachines-validate" -> validateVm(r);
            case "/virtualmachineinstances-validate-create" -> validateVmiCreate(r);
            case "/virtualmachineinstances-validate-update" -> validateVmiUpdate(r);
            case "/virtualmachineinstances-mutate" -> mutateVmi(r);
            case "/virtualmachines-mutate" -> mutateVm(r);
            case "/migration-validate-create" -> validateMigrationCreate(r);
            case "/migration-validate-update" -> validateMigrationUpdate(r);
            case PodEvictionAdmitter.PATH -> new PodEvictionAdmitter(migrations).admit(r);
            case MigrationPolicyAdmitter.PATH -> MigrationPolicyAdmitter.admit(r);
            default -> throw ApiError.of(404, "NotFound", "no webhook at " + path);
        };
        resp.put("uid", r.uid());
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        out.put("apiVersion", "admission.k8s.io/v1");
        out.put("kind", "AdmissionReview");
        out.set("response", resp);
        return out;
    }

    static ObjectNode allowed() {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("allowed", true);
        return o;
    }

    /** KubeVirt's {@code ToAdmissionResponseError}: denied, code 400, the error's message. */
    static ObjectNode error(String message) {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("allowed", false);
        ObjectNode s = o.putObject("status");
        s.put("message", message);
        s.put("code", 400);
        return o;
    }

    /** KubeVirt's {@code ToAdmissionResponse(causes)}: denied, reason Invalid, code 422, causes. */
    static ObjectNode denied(List<FieldError> errors) {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("allowed", false);
        ObjectNode s = o.putObject("status");
        StringBuilder msg = new StringBuilder();
        ArrayNode causes = JsonNodeFactory.instance.arrayNode();
        for (FieldError e : errors) {
            if (msg.length() > 0) {
                msg.append(", ");
            }
            msg.append(e);
            causes.addObject().put("type", "FieldValueInvalid").put("message", e.toString()).put("field", e.path());
        }
        s.put("message", msg.toString());
        s.put("reason", "Invalid");
        s.put("code", 422);
        s.putObject("details").set("causes", causes);
        return o;
    }

    private static boolean is(Review r, String kind) {
        return "kubevirt.io".equals(r.group()) && kind.equals(r.kind());
    }

    private ObjectNode validateVm(Review r) {
        if (!is(r, "VirtualMachine")) {
            return error("expect resource to be 'virtualmachines'");
        }
        if (r.object() == null) {
            return error("the review has no object");
        }
        VirtualMachine vm;
        try {
            vm = KubevirtJson.json().treeToValue(r.object(), VirtualMachine.class);
        } catch (JsonProcessingException e) {
            return error("could not decode the VirtualMachine: " + e.getOriginalMessage());
        } catch (IllegalArgumentException e) {
            return error("could not decode the VirtualMachine: " + e.getMessage());
        }
        if (vm.getMetadata() != null && (vm.getMetadata().getNamespace() == null || vm.getMetadata().getNamespace().isEmpty())) {
            vm.getMetadata().setNamespace(r.namespace());
        }
        // KubeVirt's admitter ignores an instancetype or preference it cannot find or read (the VM controller fails
        // the VM later); qvirt says so in an admission warning, which kubectl prints.
        // Each object is read once per review: the rules and then the planning (runnable) both look them up.
        List<String> warnings = new ArrayList<>();
        java.util.Map<String, Optional<JsonNode>> read = new java.util.HashMap<>();
        InstancetypeLookup noting = new InstancetypeLookup() {
            @Override
            public Optional<JsonNode> spec(InstancetypeResource resource, String namespace, String name) {
                return noted(resource.kind() + "/" + namespace + "/" + name,
                        () -> instancetypes.spec(resource, namespace, name), resource.notFound(name));
            }

            @Override
            public Optional<JsonNode> revision(String namespace, String revisionName) {
                return noted("ControllerRevision/" + namespace + "/" + revisionName,
                        () -> instancetypes.revision(namespace, revisionName),
                        "controllerrevisions.apps \"" + revisionName + "\" not found");
            }

            private Optional<JsonNode> noted(String key, Supplier<Optional<JsonNode>> find, String notFound) {
                Optional<JsonNode> known = read.get(key);
                if (known != null) {
                    return known;
                }
                try {
                    Optional<JsonNode> s = find.get();
                    if (s.isEmpty()) {
                        warnings.add(notFound + ": the VM cannot start until it exists");
                    }
                    read.put(key, s);
                    return s;
                } catch (InstancetypeLookupException e) {
                    LOG.warning("admitting " + r.namespace() + "/" + r.object().path("metadata").path("name").asText("")
                            + " without what it names: " + e.getMessage());
                    warnings.add("not checked against its instancetype or preference: " + e.getMessage());
                    throw e;
                }
            }
        };
        NetworkSettings net = network.get();
        List<FieldError> errors = VmValidator.validate(vm, gates.get(), net, noting);
        if (errors.isEmpty() && warnings.isEmpty()) {
            errors = runnable(vm, net, noting);
        }
        log(r, errors);
        if (!errors.isEmpty()) {
            return denied(errors);
        }
        ObjectNode ok = allowed();
        if (!warnings.isEmpty()) {
            ArrayNode w = ok.putArray("warnings");
            warnings.forEach(w::add);
        }
        return ok;
    }

    private ObjectNode validateVmiCreate(Review r) {
        if (!is(r, "VirtualMachineInstance")) {
            return error("expect resource to be 'virtualmachineinstances'");
        }
        VirtualMachineInstance vmi = vmi(r.object());
        if (vmi == null) {
            return error("could not decode the VirtualMachineInstance");
        }
        NetworkSettings net = network.get();
        List<FieldError> errors = VmiValidator.validate(vmi, gates.get(), net);
        if (errors.isEmpty() && vmi.getMetadata() != null) {
            if (vmi.getMetadata().getNamespace() == null || vmi.getMetadata().getNamespace().isEmpty()) {
                vmi.getMetadata().setNamespace(r.namespace());
            }
            errors = vmi.getMetadata().getName() == null ? List.of()
                    : AdmissionPlanning.refusals(VmiDefaults.apply(vmi, net), "spec.");
        }
        log(r, errors);
        return errors.isEmpty() ? allowed() : denied(errors);
    }

    /**
     * What qvirt's launcher would refuse in the VMI this VM makes (its template with its instancetype and preference
     * applied, defaulted as virt-api's mutator does): refused now, by field path, rather than failing later in its
     * launcher pod. A VM whose instancetype or preference cannot be read is not planned (it is admitted with a
     * warning; the controller plans nothing until they exist). Precondition: the VM passed {@link VmValidator}
     * with {@code lookup}, which holds what it read, so nothing is read twice.
     */
    private List<FieldError> runnable(VirtualMachine vm, NetworkSettings net, InstancetypeLookup lookup) {
        VirtualMachineInstance vmi;
        if (InstancetypeExpander.references(vm)) {
            InstancetypeExpander.Found found;
            try {
                found = InstancetypeExpander.find(vm, lookup);
            } catch (InstancetypeLookupException e) {
                return List.of();
            }
            if (!found.errors().isEmpty()) {
                return List.of();
            }
            InstancetypeExpander.Made made = InstancetypeExpander.toVmi(vm, found.specs(), net);
            if (made.vmi() == null) {
                return made.conflicts();
            }
            vmi = made.vmi();
        } else {
            vmi = io.qvirt.api.LoadedManifest.fromVm(vm);
        }
        if (vmi == null || vmi.getMetadata() == null || vmi.getMetadata().getName() == null) {
            return List.of(); // generateName: the name is the API server's to give; the controller plans it then
        }
        if (vmi.getMetadata().getNamespace() == null) {
            vmi.getMetadata().setNamespace(vm.getMetadata().getNamespace());
        }
        return AdmissionPlanning.refusals(VmiDefaults.apply(vmi, net), "spec.template.spec.");
    }

    private ObjectNode validateVmiUpdate(Review r) {
        if (!is(r, "VirtualMachineInstance")) {
            return error("expect resource to be 'virtualmachineinstances'");
        }
        if (r.object() == null || r.oldObject() == null) {
            return error("an update review needs object and oldObject");
        }
        JsonNode now = r.object().path("spec");
        JsonNode before = r.oldObject().path("spec");
        if (!now.equals(before) && !PRIVILEGED.contains(r.user())) {
            List<FieldError> e = List.of(new FieldError("spec", "update of VMI object is restricted"));
            log(r, e);
            return denied(e);
        }
        return allowed();
    }

    private ObjectNode mutateVmi(Review r) {
        if (!is(r, "VirtualMachineInstance")) {
            return error("expect resource to be 'virtualmachineinstances'");
        }
        VirtualMachineInstance vmi = vmi(r.object());
        if (vmi == null) {
            return error("could not decode the VirtualMachineInstance");
        }
        if (vmi.getMetadata() != null && (vmi.getMetadata().getNamespace() == null || vmi.getMetadata().getNamespace().isEmpty())
                && !r.namespace().isEmpty()) {
            vmi.getMetadata().setNamespace(r.namespace());
        }
        try {
            VmiDefaults.apply(vmi, network.get());
        } catch (RuntimeException e) {
            // An invalid spec the defaults cannot be applied to: the validating webhook will name the field.
            LOG.fine("VMI defaults not applied: " + e);
            return allowed();
        }
        JsonNode spec;
        try {
            // Through text, so numbers compare by value as they arrived (an int is not a long to Jackson's trees).
            spec = JSON.readTree(KubevirtJson.toJson(vmi.getSpec()));
        } catch (JsonProcessingException e) {
            return allowed();
        }
        if (spec.equals(r.object().get("spec"))) {
            return allowed();
        }
        ArrayNode ops = JsonNodeFactory.instance.arrayNode();
        ops.addObject().put("op", r.object().has("spec") ? "replace" : "add").put("path", "/spec").set("value", spec);
        return patched(ops);
    }

    private ObjectNode mutateVm(Review r) {
        if (!is(r, "VirtualMachine")) {
            return error("expect resource to be 'virtualmachines'");
        }
        if (r.object() == null) {
            return error("the review has no object");
        }
        JsonNode domain = r.object().path("spec").path("template").path("spec").path("domain");
        if (!domain.isObject()) {
            return allowed();
        }
        String arch = r.object().path("spec").path("template").path("spec").path("architecture").asText("");
        String type = preferredMachineType(r);
        if (type.isEmpty()) {
            type = VmiDefaults.machineType(arch.isEmpty() ? VmiDefaults.DEFAULT_ARCHITECTURE : arch);
        }
        ArrayNode ops = JsonNodeFactory.instance.arrayNode();
        JsonNode machine = domain.get("machine");
        if (machine == null || machine.isNull()) {
            ops.addObject().put("op", "add").put("path", "/spec/template/spec/domain/machine")
                    .set("value", JsonNodeFactory.instance.objectNode().put("type", type));
        } else if (machine.isObject() && machine.path("type").asText("").isEmpty()) {
            ops.addObject().put("op", "add").put("path", "/spec/template/spec/domain/machine/type").put("value", type);
        }
        return ops.isEmpty() ? allowed() : patched(ops);
    }

    /**
     * KubeVirt's VM mutator's {@code mutateMachineType}: the preference's preferredMachineType, found as its
     * finder finds it (any error: none, as KubeVirt ignores it); "" when there is none.
     */
    private String preferredMachineType(Review r) {
        JsonNode matcher = r.object().path("spec").path("preference");
        String name = matcher.path("name").asText("");
        if (name.isEmpty()) {
            return "";
        }
        Optional<InstancetypeResource> kind = InstancetypeResource.forPreferenceMatcher(matcher.path("kind").asText(""));
        String ns = r.object().path("metadata").path("namespace").asText(r.namespace());
        try {
            String rev = matcher.path("revisionName").asText("");
            Optional<JsonNode> spec = rev.isEmpty() ? kind.flatMap(k -> instancetypes.spec(k, ns, name))
                    : instancetypes.revision(ns, rev).map(d -> d.path("spec"));
            return spec.map(s -> s.path("machine").path("preferredMachineType").asText("")).orElse("");
        } catch (InstancetypeLookupException e) {
            LOG.fine("preference not read for the machine type: " + e.getMessage());
            return "";
        }
    }

    private static ObjectNode patched(ArrayNode ops) {
        ObjectNode o = allowed();
        o.put("patchType", "JSONPatch");
        o.put("patch", Base64.getEncoder().encodeToString(ops.toString().getBytes(StandardCharsets.UTF_8)));
        return o;
    }

    /** KubeVirt's {@code ToAdmissionResponse} with one cause of {@code type} ({@code field} may be null). */
    static ObjectNode deniedCause(String type, String field, String message) {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("allowed", false);
        ObjectNode s = o.putObject("status");
        s.put("message", message);
        s.put("reason", "Invalid");
        s.put("code", 422);
        ObjectNode c = s.putObject("details").putArray("causes").addObject().put("type", type).put("message", message);
        if (field != null) {
            c.put("field", field);
        }
        return o;
    }

    /** The migration of a review, or why it is not one (KubeVirt decodes it into its type first). */
    private static String migrationProblem(Review r) {
        if (!"kubevirt.io".equals(r.group()) || !"virtualmachineinstancemigrations".equals(r.resource())) {
            return "expect resource to be 'virtualmachineinstancemigrations'";
        }
        if (r.object() == null) {
            return "the review has no object";
        }
        JsonNode name = r.object().path("spec").path("vmiName");
        if (!name.isMissingNode() && !name.isNull() && !name.isTextual()) {
            return "could not decode the VirtualMachineInstanceMigration: spec.vmiName must be a string";
        }
        return null;
    }

    private ObjectNode validateMigrationCreate(Review r) {
        String problem = migrationProblem(r);
        if (problem != null) {
            return error(problem);
        }
        String vmiName = r.object().path("spec").path("vmiName").asText("");
        if (vmiName.isEmpty()) {
            return deniedCause("FieldValueRequired", "spec.vmiName", "vmiName is missing");
        }
        String ns = r.object().path("metadata").path("namespace").asText("");
        if (ns.isEmpty()) {
            ns = r.namespace();
        }
        try {
            Optional<JsonNode> vmi = migrations.vmi(ns, vmiName);
            if (vmi.isEmpty()) {
                return error("the VMI \"" + ns + "/" + vmiName + "\" does not exist");
            }
            String phase = vmi.get().path("status").path("phase").asText("");
            if (phase.equals("Succeeded") || phase.equals("Failed")) {
                return error("Cannot migrate VMI in finalized state.");
            }
            for (JsonNode c : vmi.get().path("status").path("conditions")) {
                if (c.path("type").asText().equals("LiveMigratable") && c.path("status").asText().equals("False")) {
                    return error("Cannot migrate VMI, Reason: " + c.path("reason").asText("") + ", Message: "
                            + c.path("message").asText(""));
                }
            }
            // KubeVirt lists by the selector label its migration mutator sets; qvirt has no migration mutator, so the
            // same question is asked of spec.vmiName.
            for (JsonNode m : migrations.migrations(ns)) {
                String mPhase = m.path("status").path("phase").asText("");
                if (!vmiName.equals(m.path("spec").path("vmiName").asText()) || mPhase.equals("Succeeded") || mPhase.equals("Failed")) {
                    continue;
                }
                return error("in-flight migration detected. Active migration job (" + m.path("metadata").path("uid").asText("")
                        + ") is currently already in progress for VMI " + vmiName + ".");
            }
        } catch (MigrationLookup.MigrationLookupException e) {
            LOG.warning("migration " + ns + "/" + r.object().path("metadata").path("name").asText("") + " refused: " + e.getMessage());
            return error(e.getMessage());
        }
        return allowed();
    }

    private ObjectNode validateMigrationUpdate(Review r) {
        String problem = migrationProblem(r);
        if (problem != null) {
            return error(problem);
        }
        if (r.oldObject() == null) {
            return error("an update review needs object and oldObject");
        }
        if (!r.object().path("spec").equals(r.oldObject().path("spec"))) {
            return deniedCause("FieldValueNotSupported", null, "update of Migration object's spec is restricted");
        }
        String phase = r.object().path("status").path("phase").asText("");
        JsonNode oldLabels = r.oldObject().path("metadata").path("labels");
        if (!phase.equals("Succeeded") && !phase.equals("Failed") && oldLabels.has(MIGRATION_SELECTOR_LABEL)) {
            JsonNode newLabels = r.object().path("metadata").path("labels");
            if (!newLabels.isObject()) {
                return deniedCause("FieldValueNotSupported", null, "selector label can't be removed from an in-flight migration");
            }
            if (!oldLabels.get(MIGRATION_SELECTOR_LABEL).equals(newLabels.get(MIGRATION_SELECTOR_LABEL))) {
                return deniedCause("FieldValueNotSupported", null, "selector label can't be modified on an in-flight migration");
            }
        }
        return allowed();
    }

    private static VirtualMachineInstance vmi(JsonNode obj) {
        if (obj == null) {
            return null;
        }
        try {
            return KubevirtJson.json().treeToValue(obj, VirtualMachineInstance.class);
        } catch (JsonProcessingException | IllegalArgumentException e) {
            return null;
        }
    }

    private static void log(Review r, List<FieldError> errors) {
        if (!errors.isEmpty()) {
            LOG.info("denied " + r.operation() + " " + r.kind() + " " + r.namespace() + "/" + r.object().path("metadata").path("name").asText("")
                    + ": " + errors);
        }
    }
}
