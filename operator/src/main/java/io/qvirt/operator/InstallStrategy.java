package io.qvirt.operator;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.LocalObjectReference;
import io.qvirt.api.KubevirtJson;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * What virt-operator installs for one KubeVirt CR: every object of {@code manifests/crds} and
 * {@code manifests/install}, rendered for the CR's registry and tag and customized as the CR asks (pull policy and
 * secrets, placement, replicas), labelled as the operator's, with the CA as caBundle; in KubeVirt's install order.
 */
final class InstallStrategy {
    static final String MANAGED_BY_LABEL = "app.kubernetes.io/managed-by";
    static final String MANAGED_BY = "virt-operator";
    static final String COMPONENT_LABEL = "app.kubernetes.io/component";
    static final String VERSION_ANNOTATION = "kubevirt.io/install-strategy-version";
    static final String REGISTRY_ANNOTATION = "kubevirt.io/install-strategy-registry";
    static final String ID_ANNOTATION = "kubevirt.io/install-strategy-identifier";

    /** The rolled workloads, in KubeVirt's update order (after the CRDs and everything else): stage 1, 2, 3. */
    static final List<String> WORKLOAD_ORDER = List.of("Deployment/virt-api", "Deployment/virt-controller",
            "DaemonSet/virt-handler");

    private InstallStrategy() {
    }

    /**
     * What the CR asks for, resolved against the operator's defaults.
     *
     * @param registry     images' registry ({@code spec.imageRegistry}, else the operator's own)
     * @param tag          images' tag ({@code spec.imageTag}, else the operator's own)
     * @param pullPolicy   {@code spec.imagePullPolicy}, or null for the templates' own
     * @param pullSecrets  {@code spec.imagePullSecrets} (names), possibly empty
     * @param infra        {@code spec.infra} (virt-api, virt-controller), or null
     * @param workloads    {@code spec.workloads} (virt-handler), or null
     */
    record Target(String registry, String tag, String pullPolicy, List<String> pullSecrets,
                  KubeVirtSpec.ComponentConfig infra, KubeVirtSpec.ComponentConfig workloads,
                  boolean commonInstancetypes) {
        Target {
            pullSecrets = List.copyOf(pullSecrets);
        }

        static Target of(KubeVirtSpec spec, String defaultRegistry, String defaultTag) {
            KubeVirtSpec s = spec == null ? new KubeVirtSpec() : spec;
            List<String> secrets = s.getImagePullSecrets() == null ? List.of()
                    : s.getImagePullSecrets().stream().map(LocalObjectReference::getName).toList();
            return new Target(blank(s.getImageRegistry()) ? defaultRegistry : s.getImageRegistry(),
                    blank(s.getImageTag()) ? defaultTag : s.getImageTag(),
                    s.getImagePullPolicy(), secrets, s.getInfra(), s.getWorkloads(), InstallStrategy.commonInstancetypes(s));
        }

        /** KubeVirt's deployment ID: a digest of everything that shapes the installed objects. */
        String deploymentId() {
            return digest(KubevirtJson.toJson(this)).substring(0, 16);
        }
    }

    /**
     * The objects to install for {@code target}, with {@code caBundlePem} set on the APIServices and webhooks.
     *
     * @return stage 0 (CRDs first, then the rest in file order), then virt-api, virt-controller, virt-handler
     */
    static List<ObjectNode> desired(Templates templates, Target target, String caBundlePem) {
        Map<String, String> values = Map.of("REGISTRY", target.registry(), "TAG", target.tag());
        List<ObjectNode> out = new ArrayList<>(templates.render("crds", values));
        out.addAll(templates.render("install", values));
        if (target.commonInstancetypes()) {
            out.addAll(templates.render("instancetypes", values));
        }
        String bundle = Base64.getEncoder().encodeToString(caBundlePem.getBytes(StandardCharsets.US_ASCII));
        String id = target.deploymentId();
        for (ObjectNode o : out) {
            ObjectNode meta = o.withObjectProperty("metadata");
            meta.withObjectProperty("labels").put(MANAGED_BY_LABEL, MANAGED_BY).put(COMPONENT_LABEL, "kubevirt");
            meta.withObjectProperty("annotations").put(VERSION_ANNOTATION, target.tag()).put(REGISTRY_ANNOTATION, target.registry())
                    .put(ID_ANNOTATION, id);
            switch (o.path("kind").asText()) {
                case "APIService" -> o.withObjectProperty("spec").put("caBundle", bundle);
                case "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration" ->
                        o.withArrayProperty("webhooks").forEach(w -> ((ObjectNode) w).withObjectProperty("clientConfig").put("caBundle", bundle));
                case "Deployment", "DaemonSet" -> customizeWorkload(o, target);
                default -> { }
            }
        }
        out.sort(Comparator.comparingInt(InstallStrategy::stage));  // stable: file order within a stage
        return out;
    }

    /**
     * KubeVirt's {@code spec.configuration.commonInstancetypesDeployment.enabled}: the common instancetypes and
     * preferences are deployed unless it is {@code false}.
     */
    static boolean commonInstancetypes(KubeVirtSpec s) {
        JsonNode enabled = s.getConfiguration() == null ? null
                : s.getConfiguration().path("commonInstancetypesDeployment").get("enabled");
        return enabled == null || !enabled.isBoolean() || enabled.booleanValue();
    }

    /** 0 for everything but the rolled workloads, 1.. for those in {@link #WORKLOAD_ORDER}. */
    static int stage(JsonNode o) {
        return WORKLOAD_ORDER.indexOf(o.path("kind").asText() + "/" + o.path("metadata").path("name").asText()) + 1;
    }

    static boolean isWorkload(JsonNode o) {
        return stage(o) > 0;
    }

    /** A key naming one object: {@code apiVersion/kind/namespace/name}. */
    static String key(JsonNode o) {
        return o.path("apiVersion").asText() + "/" + o.path("kind").asText() + "/"
                + o.path("metadata").path("namespace").asText("") + "/" + o.path("metadata").path("name").asText();
    }

    static String digest(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void customizeWorkload(ObjectNode o, Target target) {
        ObjectNode spec = o.withObjectProperty("spec");
        ObjectNode pod = spec.withObjectProperty("template").withObjectProperty("spec");
        if (target.pullPolicy() != null) {
            for (String list : List.of("initContainers", "containers")) {
                pod.path(list).forEach(c -> ((ObjectNode) c).put("imagePullPolicy", target.pullPolicy()));
            }
        }
        if (!target.pullSecrets().isEmpty()) {
            ArrayNode secrets = pod.putArray("imagePullSecrets");
            target.pullSecrets().forEach(n -> secrets.addObject().put("name", n));
        }
        // KubeVirt: infra places virt-api and virt-controller (and sets their replicas); workloads places virt-handler.
        KubeVirtSpec.ComponentConfig placement = "DaemonSet".equals(o.path("kind").asText()) ? target.workloads() : target.infra();
        if (placement == null) {
            return;
        }
        if (placement.getReplicas() != null && "Deployment".equals(o.path("kind").asText())) {
            spec.put("replicas", placement.getReplicas());
        }
        KubeVirtSpec.NodePlacement np = placement.getNodePlacement();
        if (np == null) {
            return;
        }
        if (np.getNodeSelector() != null && !np.getNodeSelector().isEmpty()) {
            ObjectNode sel = pod.withObjectProperty("nodeSelector");
            np.getNodeSelector().forEach(sel::put);
        }
        if (np.getTolerations() != null && !np.getTolerations().isEmpty()) {
            ArrayNode tol = pod.withArrayProperty("tolerations");
            np.getTolerations().forEach(t -> tol.add(KubevirtJson.toTree(t)));
        }
        if (np.getAffinity() != null) {
            // The CR's node/pod affinity, beside the template's own anti-affinity (virt-api's spread) unless replaced.
            ((ObjectNode) KubevirtJson.toTree(np.getAffinity())).properties()
                    .forEach(e -> pod.withObjectProperty("affinity").set(e.getKey(), e.getValue()));
        }
    }

    private static boolean blank(String s) {
        return s == null || s.isBlank();
    }
}
