package io.qvirt.operator;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeAddress;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.qvirt.api.KubevirtJson;
import io.qvirt.api.client.ResourcePatcher;
import io.qvirt.api.model.Condition;
import io.qvirt.api.model.Conditions;
import java.security.GeneralSecurityException;
import java.time.Clock;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.logging.Logger;

/**
 * Brings the cluster to what one KubeVirt CR asks for, in one idempotent pass ({@link #reconcile}): installs what
 * is missing, puts back what was edited, rolls an update in KubeVirt's order (CRDs and the rest, then virt-api,
 * virt-controller, virt-handler, each only once the ones before are ready: the CRDs Established, the workloads
 * rolled out), creates no component before the CRDs are Established, removes what is no longer wanted, and
 * writes the CR's status as KubeVirt's. Only objects labelled {@code app.kubernetes.io/managed-by: virt-operator}
 * are ever changed or removed. Deleting the CR uninstalls (its finalizer), unless VMs or VMIs exist and the CR's
 * uninstallStrategy is not {@code RemoveWorkloads}. A second KubeVirt CR is reported and never installed.
 */
final class KubeVirtReconciler {
    private static final Logger LOG = Logger.getLogger(KubeVirtReconciler.class.getName());
    /** KubeVirt's finalizer on its CR. */
    static final String FINALIZER = "foregroundDeleteKubeVirt";
    /** KubeVirt's refusal of an uninstall while workloads exist ({@code %s}: what is still there). */
    static final String UNINSTALL_REFUSED = "Rejecting the uninstall request, since there are still %s present. Either "
            + "delete all KubeVirt related workloads or change the uninstall strategy before uninstalling KubeVirt.";
    static final String EXISTING_DEPLOYMENT = "There is an active KubeVirt deployment";
    private static final ResourceDefinitionContext VMIS = kubevirt("VirtualMachineInstance", "virtualmachineinstances");
    private static final ResourceDefinitionContext VMS = kubevirt("VirtualMachine", "virtualmachines");

    /** What one pass asks of its caller: nothing, or to run again after a delay. */
    record Result(Duration requeueAfter) {
        static final Result DONE = new Result(null);
    }

    private final KubernetesClient client;
    private final OperatorOptions options;
    private final Templates templates;
    private final Clock clock;
    private final ResourcePatcher patcher;
    private final Certificates certificates;

    KubeVirtReconciler(KubernetesClient client, OperatorOptions options, Templates templates, Clock clock) {
        this.client = client;
        this.options = options;
        this.templates = templates;
        this.clock = clock;
        this.patcher = new ResourcePatcher(client);
        this.certificates = new Certificates(client, options.namespace(), options.caValidity(), options.certValidity());
    }

    /**
     * One pass for the CR {@code namespace/name}; safe to run any number of times.
     *
     * @throws KubernetesClientException on an API error (a conflict included): the caller retries later
     */
    Result reconcile(String namespace, String name) throws GeneralSecurityException {
        KubeVirt kv = client.resources(KubeVirt.class).inNamespace(namespace).withName(name).get();
        if (kv == null) {
            return Result.DONE;
        }
        KubeVirt active = active(client.resources(KubeVirt.class).inAnyNamespace().list().getItems());
        if (active != null && !sameObject(kv, active)) {
            // Never a second install: report, as KubeVirt does, and leave it alone (it may be deleted freely).
            if (kv.getMetadata().getDeletionTimestamp() == null) {
                writeStatus(kv, s -> {
                    s.setPhase(null);
                    s.setConditions(Conditions.with(conditions(s), condition("Synchronized", "False",
                            "ExistingDeployment", EXISTING_DEPLOYMENT)));
                });
            }
            return Result.DONE;
        }
        if (kv.getMetadata().getDeletionTimestamp() != null) {
            return uninstall(kv);
        }
        kv = patcher.finalizer(KubeVirt.class, kv, FINALIZER, true);
        if (kv == null) {
            return Result.DONE;
        }
        return install(kv);
    }

    private Result install(KubeVirt kv) throws GeneralSecurityException {
        InstallStrategy.Target target = InstallStrategy.Target.of(kv.getSpec(), options.defaultRegistry(), options.defaultTag());
        String id = target.deploymentId();
        Map<String, String> labels = Map.of(InstallStrategy.MANAGED_BY_LABEL, InstallStrategy.MANAGED_BY,
                InstallStrategy.COMPONENT_LABEL, "kubevirt");
        Map<String, String> annotations = Map.of(InstallStrategy.VERSION_ANNOTATION, target.tag(),
                InstallStrategy.REGISTRY_ANNOTATION, target.registry(), InstallStrategy.ID_ANNOTATION, id);
        String ca;
        try {
            ca = certificates.ensure(nodeAddresses(), labels, annotations, clock.instant());
        } catch (Certificates.ForeignSecretException e) {
            // Someone else's Secret where ours goes: left alone, said, and nothing installed without certificates.
            writeStatus(kv, s -> {
                s.setPhase(KubeVirtStatus.DEPLOYING);
                s.setConditions(Conditions.with(conditions(s), condition("Degraded", "True", "ExistingObjects",
                        "objects not installed by virt-operator are in the way: " + e.getMessage())));
            });
            return new Result(Duration.ofSeconds(30));
        }
        List<ObjectNode> desired = InstallStrategy.desired(templates, target, ca);

        Set<String> wanted = new HashSet<>();
        List<String> conflicts = new ArrayList<>();
        List<KubeVirtStatus.GenerationStatus> generations = new ArrayList<>();
        boolean allReady = true;        // every workload exists and reports ready (whatever its version)
        boolean atTarget = true;        // ... and runs what this CR asks for
        boolean earlierAtTarget = true; // every workload of the stages before the current one is at target
        boolean crdsEstablished = true; // every CRD (stage 0, first) is served: Established by the API server
        int stage = 0;
        for (ObjectNode d : desired) {
            int s = InstallStrategy.stage(d);
            if (s != stage) {
                earlierAtTarget = atTarget;
                stage = s;
            }
            wanted.add(InstallStrategy.key(d));
            ManagedKind kind = ManagedKind.of(d.path("apiVersion").asText(), d.path("kind").asText());
            if (kind.servedByOwnCrd() && !crdsEstablished) {
                // Its kind is not served yet: neither read nor written until the CRDs are Established.
                allReady = false;
                atTarget = false;
                continue;
            }
            GenericKubernetesResource actual = get(kind, d);
            JsonNode written;
            boolean workload = InstallStrategy.isWorkload(d);
            if (workload && actual == null && !crdsEstablished) {
                // Not before the API server serves the CRDs: the components list and watch their kinds at start-up.
                allReady = false;
                atTarget = false;
                continue;
            } else if (actual == null) {
                LOG.info("creating " + InstallStrategy.key(d));
                written = tree(ops(kind, d).resource(toResource(d)).create());
                if (workload) {
                    allReady = false;
                    atTarget = false;
                }
            } else if (!managed(actual)) {
                conflicts.add(d.path("kind").asText() + " " + qualifiedName(d));
                written = tree(actual);
                atTarget = false;
            } else if (Drift.drifted(d, tree(actual))) {
                if (workload && !earlierAtTarget) {
                    // KubeVirt's order: this component waits until the ones before it run the target version.
                    written = tree(actual);
                    allReady &= Readiness.ready(written);
                    atTarget = false;
                } else {
                    LOG.info("updating " + InstallStrategy.key(d));
                    written = tree(ops(kind, d).resource(forUpdate(d, actual)).update());
                    if (workload) {
                        allReady = false;
                        atTarget = false;
                    }
                }
            } else {
                written = tree(actual);
                if (workload && !Readiness.ready(written)) {
                    allReady = false;
                    atTarget = false;
                }
            }
            if (kind == ManagedKind.CUSTOM_RESOURCE_DEFINITION && !Readiness.ready(written)) {
                // KubeVirt's order: CRDs first, and the components only once their kinds are served.
                crdsEstablished = false;
                allReady = false;
                atTarget = false;
            }
            generations.add(new KubeVirtStatus.GenerationStatus(kind.group, kind.plural,
                    d.path("metadata").path("namespace").isMissingNode() ? null : d.path("metadata").path("namespace").asText(),
                    d.path("metadata").path("name").asText(),
                    written.path("metadata").has("generation") ? written.path("metadata").path("generation").asLong() : null,
                    InstallStrategy.digest(KubevirtJson.toJson(d)).substring(0, 16)));
        }
        prune(wanted);

        boolean ready = allReady;
        boolean done = atTarget && conflicts.isEmpty();
        String progress = "Deploying version " + target.tag() + " with registry " + target.registry();
        writeStatus(kv, s -> {
            List<Condition> c = conditions(s);
            c = Conditions.without(c, "Synchronized");
            c = Conditions.with(c, ready ? condition("Available", "True", "AllComponentsReady", "All components are ready.")
                    : condition("Available", "False", "DeploymentInProgress", progress));
            c = Conditions.with(c, done ? condition("Progressing", "False", "AllComponentsReady", "All components are ready.")
                    : condition("Progressing", "True", "DeploymentInProgress", progress));
            c = Conditions.with(c, !conflicts.isEmpty()
                    ? condition("Degraded", "True", "ExistingObjects", "objects not installed by virt-operator are in the way: "
                        + String.join(", ", conflicts))
                    : condition("Degraded", "False", done ? "AllComponentsReady" : "DeploymentInProgress",
                        done ? "All components are ready." : progress));
            c = Conditions.with(c, condition("Created", "True", "AllResourcesCreated", "All resources were created."));
            s.setConditions(c);
            s.setPhase(done ? KubeVirtStatus.DEPLOYED : KubeVirtStatus.DEPLOYING);
            s.setOperatorVersion(OperatorOptions.VERSION);
            s.setObservedGeneration(kv.getMetadata().getGeneration());
            s.setTargetKubeVirtVersion(target.tag());
            s.setTargetKubeVirtRegistry(target.registry());
            s.setTargetDeploymentID(id);
            if (done) {
                s.setObservedKubeVirtVersion(target.tag());
                s.setObservedKubeVirtRegistry(target.registry());
                s.setObservedDeploymentID(id);
            }
            s.setGenerations(generations);
        });
        return done ? new Result(options.resync()) : Result.DONE;
    }

    private Result uninstall(KubeVirt kv) {
        List<String> finalizers = kv.getMetadata().getFinalizers();
        if (finalizers == null || !finalizers.contains(FINALIZER)) {
            return Result.DONE;
        }
        if (!KubeVirtSpec.REMOVE_WORKLOADS.equals(kv.getSpec() == null ? null : kv.getSpec().getUninstallStrategy())) {
            String present = !list(VMIS).isEmpty() ? "Virtual Machine Instances" : !list(VMS).isEmpty() ? "Virtual Machines" : null;
            if (present != null) {
                String message = String.format(UNINSTALL_REFUSED, present);
                writeStatus(kv, s -> {
                    s.setPhase(KubeVirtStatus.DELETING);
                    s.setConditions(Conditions.with(conditions(s), condition("Degraded", "True", "UninstallBlocked", message)));
                });
                return new Result(Duration.ofSeconds(5));
            }
        }
        writeStatus(kv, s -> {
            s.setPhase(KubeVirtStatus.DELETING);
            List<Condition> c = Conditions.with(conditions(s), condition("Available", "False", "DeletionInProgress",
                    "KubeVirt is being removed"));
            s.setConditions(Conditions.with(c, condition("Degraded", "False", "DeletionInProgress", "KubeVirt is being removed")));
        });
        // Workloads first (RemoveWorkloads), with the components still running to finish them; then the components,
        // in reverse install order; the CRDs last, since deleting one deletes every object of its kind.
        boolean remaining = false;
        for (ResourceDefinitionContext ctx : List.of(VMIS, VMS)) {
            for (GenericKubernetesResource r : list(ctx)) {
                remaining = true;
                if (r.getMetadata().getDeletionTimestamp() == null) {
                    client.genericKubernetesResources(ctx).inNamespace(r.getMetadata().getNamespace()).resource(r).delete();
                }
            }
        }
        if (remaining) {
            return new Result(Duration.ofSeconds(1));
        }
        List<ManagedKind> order = new ArrayList<>(List.of(ManagedKind.DAEMON_SET, ManagedKind.DEPLOYMENT));
        for (ManagedKind k : ManagedKind.values()) {
            if (!order.contains(k) && k != ManagedKind.CUSTOM_RESOURCE_DEFINITION) {
                order.add(k);
            }
        }
        order.add(ManagedKind.CUSTOM_RESOURCE_DEFINITION);
        for (ManagedKind k : order) {
            for (GenericKubernetesResource r : listManaged(k)) {
                remaining = true;
                LOG.info("uninstall: deleting " + k.kind + " " + qualifiedName(tree(r)));
                delete(k, r);
            }
        }
        if (remaining) {
            return new Result(Duration.ofSeconds(1));
        }
        writeStatus(kv, s -> {
            s.setPhase(KubeVirtStatus.DELETED);
            List<Condition> c = Conditions.with(conditions(s), condition("Available", "False", "Deleted", "KubeVirt was removed"));
            c = Conditions.with(c, condition("Progressing", "False", "Deleted", "KubeVirt was removed"));
            s.setConditions(Conditions.with(c, condition("Degraded", "False", "Deleted", "KubeVirt was removed")));
            s.setObservedKubeVirtVersion(null);
            s.setObservedKubeVirtRegistry(null);
            s.setObservedDeploymentID(null);
            s.setGenerations(null);
        });
        patcher.finalizer(KubeVirt.class, kv, FINALIZER, false);
        return Result.DONE;
    }

    /** Deletes what carries the operator's label but is no longer wanted (an older version's, a config change). */
    private void prune(Set<String> wanted) {
        for (ManagedKind k : ManagedKind.values()) {
            for (GenericKubernetesResource r : listManaged(k)) {
                JsonNode t = tree(r);
                if (k == ManagedKind.SECRET && options.namespace().equals(r.getMetadata().getNamespace())
                        && Certificates.SECRETS.contains(r.getMetadata().getName())) {
                    continue;
                }
                if (!wanted.contains(InstallStrategy.key(t)) && r.getMetadata().getDeletionTimestamp() == null) {
                    LOG.info("removing " + InstallStrategy.key(t) + ": no longer wanted");
                    delete(k, r);
                }
            }
        }
    }

    /**
     * The CR that owns the install: the oldest one carrying the operator's finalizer (an install done or under way),
     * else the oldest one not being deleted; null if none.
     */
    static KubeVirt active(List<KubeVirt> all) {
        Comparator<KubeVirt> age = Comparator.comparing((KubeVirt k) -> Objects.toString(k.getMetadata().getCreationTimestamp(), ""))
                .thenComparing(k -> k.getMetadata().getNamespace() + "/" + k.getMetadata().getName());
        return all.stream().filter(k -> k.getMetadata().getFinalizers() != null && k.getMetadata().getFinalizers().contains(FINALIZER))
                .min(age).orElseGet(() -> all.stream().filter(k -> k.getMetadata().getDeletionTimestamp() == null)
                        .min(age).orElse(null));
    }

    private static boolean sameObject(KubeVirt a, KubeVirt b) {
        return a.getMetadata().getNamespace().equals(b.getMetadata().getNamespace())
                && a.getMetadata().getName().equals(b.getMetadata().getName());
    }

    private void writeStatus(KubeVirt kv, java.util.function.Consumer<KubeVirtStatus> edit) {
        patcher.patchStatus(KubeVirt.class, kv, fresh -> {
            KubeVirtStatus current = fresh.getStatus() == null ? new KubeVirtStatus() : fresh.getStatus();
            JsonNode before = KubevirtJson.toTree(current);
            KubeVirtStatus next = KubevirtJson.deepCopy(current, KubeVirtStatus.class);
            edit.accept(next);
            JsonNode after = KubevirtJson.toTree(next);
            if (after.equals(before)) {
                return null;
            }
            ObjectNode patch = ((ObjectNode) after).deepCopy();
            before.fieldNames().forEachRemaining(f -> {
                if (!after.has(f)) {
                    patch.putNull(f);
                }
            });
            return patch;
        }, true);
    }

    private List<String> nodeAddresses() {
        List<String> ips = new ArrayList<>();
        for (Node n : client.nodes().list().getItems()) {
            if (n.getStatus() != null && n.getStatus().getAddresses() != null) {
                for (NodeAddress a : n.getStatus().getAddresses()) {
                    if ("InternalIP".equals(a.getType())) {
                        ips.add(a.getAddress());
                    }
                }
            }
        }
        return ips;
    }

    private GenericKubernetesResource get(ManagedKind kind, JsonNode d) {
        return ops(kind, d).withName(d.path("metadata").path("name").asText()).get();
    }

    private io.fabric8.kubernetes.client.dsl.NonNamespaceOperation<GenericKubernetesResource,
            io.fabric8.kubernetes.api.model.GenericKubernetesResourceList,
            io.fabric8.kubernetes.client.dsl.Resource<GenericKubernetesResource>> ops(ManagedKind kind, JsonNode d) {
        var all = client.genericKubernetesResources(kind.context());
        return kind.namespaced ? all.inNamespace(d.path("metadata").path("namespace").asText(options.namespace())) : all;
    }

    private List<GenericKubernetesResource> listManaged(ManagedKind k) {
        var all = client.genericKubernetesResources(k.context());
        try {
            return (k.namespaced ? all.inAnyNamespace().withLabel(InstallStrategy.MANAGED_BY_LABEL, InstallStrategy.MANAGED_BY)
                    : all.withLabel(InstallStrategy.MANAGED_BY_LABEL, InstallStrategy.MANAGED_BY)).list().getItems();
        } catch (KubernetesClientException e) {
            if (e.getCode() == 404 && k.servedByOwnCrd()) {
                return List.of(); // its CRD is not (or no longer) served: there is nothing of it
            }
            throw e;
        }
    }

    private void delete(ManagedKind k, GenericKubernetesResource r) {
        var all = client.genericKubernetesResources(k.context());
        (k.namespaced ? all.inNamespace(r.getMetadata().getNamespace()) : all).withName(r.getMetadata().getName()).delete();
    }

    private List<GenericKubernetesResource> list(ResourceDefinitionContext ctx) {
        try {
            return client.genericKubernetesResources(ctx).inAnyNamespace().list().getItems();
        } catch (KubernetesClientException e) {
            if (e.getCode() == 404) {
                return List.of(); // no such CRD (any more): nothing of that kind exists
            }
            throw e;
        }
    }

    private static boolean managed(GenericKubernetesResource r) {
        Map<String, String> l = r.getMetadata().getLabels();
        return l != null && InstallStrategy.MANAGED_BY.equals(l.get(InstallStrategy.MANAGED_BY_LABEL));
    }

    /** {@code desired} to replace {@code actual}: guarded by its resourceVersion; others' labels and annotations kept. */
    private static GenericKubernetesResource forUpdate(ObjectNode desired, GenericKubernetesResource actual) {
        GenericKubernetesResource r = toResource(desired);
        Map<String, String> labels = new LinkedHashMap<>(Objects.requireNonNullElse(actual.getMetadata().getLabels(), Map.of()));
        labels.putAll(Objects.requireNonNullElse(r.getMetadata().getLabels(), Map.of()));
        Map<String, String> ann = new LinkedHashMap<>(Objects.requireNonNullElse(actual.getMetadata().getAnnotations(), Map.of()));
        ann.putAll(Objects.requireNonNullElse(r.getMetadata().getAnnotations(), Map.of()));
        r.getMetadata().setLabels(labels);
        r.getMetadata().setAnnotations(ann);
        r.getMetadata().setResourceVersion(actual.getMetadata().getResourceVersion());
        // What the API server allocated and will not let a replace drop (a Service's cluster IPs).
        JsonNode a = tree(actual);
        if ("Service".equals(desired.path("kind").asText()) && a.path("spec").has("clusterIP")
                && !desired.path("spec").has("clusterIP")) {
            @SuppressWarnings("unchecked")
            Map<String, Object> spec = (Map<String, Object>) r.getAdditionalProperties().get("spec");
            spec.put("clusterIP", a.path("spec").path("clusterIP").asText());
            if (a.path("spec").has("clusterIPs")) {
                spec.put("clusterIPs", KubevirtJson.json().convertValue(a.path("spec").path("clusterIPs"), List.class));
            }
        }
        return r;
    }

    private static GenericKubernetesResource toResource(JsonNode o) {
        return KubevirtJson.json().convertValue(o, GenericKubernetesResource.class);
    }

    private static JsonNode tree(Object o) {
        return KubevirtJson.toTree(o);
    }

    private static String qualifiedName(JsonNode o) {
        String ns = o.path("metadata").path("namespace").asText("");
        return (ns.isEmpty() ? "" : ns + "/") + o.path("metadata").path("name").asText();
    }

    private static List<Condition> conditions(KubeVirtStatus s) {
        return s.getConditions() == null ? List.of() : s.getConditions();
    }

    private Condition condition(String type, String status, String reason, String message) {
        Condition c = new Condition();
        c.setType(type);
        c.setStatus(status);
        c.setReason(reason);
        c.setMessage(message);
        String now = clock.instant().truncatedTo(ChronoUnit.SECONDS).toString();
        c.setLastTransitionTime(now);
        c.setLastProbeTime(now);
        return c;
    }

    private static ResourceDefinitionContext kubevirt(String kind, String plural) {
        return new ResourceDefinitionContext.Builder().withGroup("kubevirt.io").withVersion("v1").withKind(kind)
                .withPlural(plural).withNamespaced(true).build();
    }
}
