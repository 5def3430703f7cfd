package io.qvirt.sandbox;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The discovery documents kube-apiserver serves ({@code /api}, {@code /api/v1}, {@code /apis}, {@code /apis/G/V},
 * {@code /version}), which fabric8's mock does not: kubectl maps {@code vms} to a resource with them. The resources
 * are the built-in kinds the rig uses ({@link #BUILTIN}, fixed) plus every served version of every CRD the mock holds
 * (names, short names, categories, scope and subresources as the CRD declares them), plus the aggregated group
 * {@code subresources.kubevirt.io} once virt-api is known (its own resource list is virt-api's, relayed). Plain
 * (unaggregated) discovery only: kubectl falls back to it when the answer is not an APIGroupDiscoveryList.
 */
final class ApiDiscovery {
    private static final JsonNodeFactory F = JsonNodeFactory.instance;
    static final List<String> ALL_VERBS = List.of("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch");
    /** What the version document says: the API surface the front door answers for, and that it is not a kube-apiserver. */
    static final String GIT_VERSION = "v1.32.0-qvirt-sandbox-mock";

    /** One resource of a group version, as an APIResourceList names it. */
    record ApiResource(String group, String version, String plural, String singular, String kind, boolean namespaced,
            List<String> verbs, List<String> shortNames, List<String> categories, List<String> subresources) {
        String groupVersion() {
            return group.isEmpty() ? version : group + "/" + version;
        }
    }

    private static ApiResource builtin(String group, String plural, String kind, boolean namespaced, List<String> shortNames,
            List<String> categories, String... subresources) {
        String singular = kind.toLowerCase();
        return new ApiResource(group, "v1", plural, singular, kind, namespaced, ALL_VERBS, shortNames, categories, List.of(subresources));
    }

    /**
     * The built-in kinds the rig's components and FAKE node agents use, with kube-apiserver's short names and
     * categories. Their storage is the mock's generic CRUD; nothing here validates them.
     */
    static final List<ApiResource> BUILTIN = List.of(
            builtin("", "configmaps", "ConfigMap", true, List.of("cm"), List.of()),
            builtin("", "endpoints", "Endpoints", true, List.of("ep"), List.of()),
            builtin("", "events", "Event", true, List.of("ev"), List.of()),
            builtin("", "namespaces", "Namespace", false, List.of("ns"), List.of(), "status"),
            builtin("", "nodes", "Node", false, List.of("no"), List.of(), "status"),
            builtin("", "persistentvolumeclaims", "PersistentVolumeClaim", true, List.of("pvc"), List.of(), "status"),
            builtin("", "pods", "Pod", true, List.of("po"), List.of("all"), "status", "log"),
            builtin("", "secrets", "Secret", true, List.of(), List.of()),
            builtin("", "serviceaccounts", "ServiceAccount", true, List.of("sa"), List.of()),
            builtin("", "services", "Service", true, List.of("svc"), List.of("all"), "status"),
            builtin("apps", "daemonsets", "DaemonSet", true, List.of("ds"), List.of("all"), "status"),
            builtin("apps", "deployments", "Deployment", true, List.of("deploy"), List.of("all"), "status"),
            builtin("apps", "replicasets", "ReplicaSet", true, List.of("rs"), List.of("all"), "status"),
            builtin("apiextensions.k8s.io", "customresourcedefinitions", "CustomResourceDefinition", false, List.of("crd", "crds"),
                    List.of("api-extensions"), "status"),
            builtin("coordination.k8s.io", "leases", "Lease", true, List.of(), List.of()),
            new ApiResource("authorization.k8s.io", "v1", "subjectaccessreviews", "subjectaccessreview", "SubjectAccessReview",
                    false, List.of("create"), List.of(), List.of(), List.of()));

    /** The aggregated group the front door relays to virt-api, and its versions (KubeVirt's two APIServices). */
    static final String AGGREGATED_GROUP = "subresources.kubevirt.io";
    static final List<String> AGGREGATED_VERSIONS = List.of("v1", "v1alpha3");

    private ApiDiscovery() {
    }

    /**
     * The resources of every served version of the CRDs in {@code crdList} (a CustomResourceDefinitionList as the
     * mock answers it); a CRD without a group, plural or kind is skipped (the store holds what it was given).
     */
    static List<ApiResource> fromCrds(JsonNode crdList) {
        List<ApiResource> out = new ArrayList<>();
        for (JsonNode crd : crdList.path("items")) {
            JsonNode spec = crd.path("spec");
            JsonNode names = spec.path("names");
            String group = spec.path("group").asText("");
            String plural = names.path("plural").asText("");
            String kind = names.path("kind").asText("");
            if (group.isEmpty() || plural.isEmpty() || kind.isEmpty()) {
                continue;
            }
            String singular = names.path("singular").asText(kind.toLowerCase());
            boolean namespaced = !"Cluster".equals(spec.path("scope").asText());
            for (JsonNode v : spec.path("versions")) {
                if (!v.path("served").asBoolean(true)) {
                    continue;
                }
                List<String> subs = new ArrayList<>();
                if (v.path("subresources").has("status")) {
                    subs.add("status");
                }
                if (v.path("subresources").has("scale")) {
                    subs.add("scale");
                }
                out.add(new ApiResource(group, v.path("name").asText(), plural, singular, kind, namespaced, ALL_VERBS,
                        strings(names.path("shortNames")), strings(names.path("categories")), subs));
            }
        }
        return out;
    }

    /** The built-in kinds and the CRDs' together, built-ins first (a CRD cannot shadow a built-in's group). */
    static List<ApiResource> all(JsonNode crdList) {
        List<ApiResource> out = new ArrayList<>(BUILTIN);
        for (ApiResource r : fromCrds(crdList)) {
            if (BUILTIN.stream().noneMatch(b -> b.group().equals(r.group()))) {
                out.add(r);
            }
        }
        return out;
    }

    private static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    /** {@code /api}: the core group's versions. */
    static ObjectNode apiVersions(String serverAddress) {
        ObjectNode o = F.objectNode();
        o.put("kind", "APIVersions");
        o.putArray("versions").add("v1");
        o.putArray("serverAddressByClientCIDRs").addObject().put("clientCIDR", "0.0.0.0/0").put("serverAddress", serverAddress);
        return o;
    }

    /**
     * {@code /apis}: every named group with its versions, the first version in the CRD's order preferred (as
     * kube-apiserver orders CRD versions by priority, the storage version first in qvirt's CRDs).
     *
     * @param aggregated whether virt-api is known (its group is listed only then)
     */
    static ObjectNode apiGroupList(List<ApiResource> resources, boolean aggregated) {
        Map<String, Set<String>> groups = new LinkedHashMap<>();
        for (ApiResource r : resources) {
            if (!r.group().isEmpty()) {
                groups.computeIfAbsent(r.group(), g -> new LinkedHashSet<>()).add(r.version());
            }
        }
        if (aggregated) {
            groups.put(AGGREGATED_GROUP, new LinkedHashSet<>(AGGREGATED_VERSIONS));
        }
        ObjectNode o = F.objectNode();
        o.put("kind", "APIGroupList");
        o.put("apiVersion", "v1");
        ArrayNode list = o.putArray("groups");
        groups.forEach((name, versions) -> list.add(group(name, versions)));
        return o;
    }

    /** {@code /apis/G}: one group, or null when no resource has it. */
    static ObjectNode apiGroup(List<ApiResource> resources, boolean aggregated, String name) {
        for (JsonNode g : apiGroupList(resources, aggregated).path("groups")) {
            if (g.path("name").asText().equals(name)) {
                ObjectNode o = ((ObjectNode) g).deepCopy();
                o.put("kind", "APIGroup");
                o.put("apiVersion", "v1");
                return o;
            }
        }
        return null;
    }

    private static ObjectNode group(String name, Set<String> versions) {
        ObjectNode g = F.objectNode();
        g.put("name", name);
        ArrayNode vs = g.putArray("versions");
        for (String v : versions) {
            vs.addObject().put("groupVersion", name + "/" + v).put("version", v);
        }
        String preferred = versions.iterator().next();
        g.putObject("preferredVersion").put("groupVersion", name + "/" + preferred).put("version", preferred);
        return g;
    }

    /**
     * {@code /api/v1} or {@code /apis/G/V}: the resources of one group version with their subresources, or null when
     * the group version has none (the caller answers 404).
     */
    static ObjectNode resourceList(List<ApiResource> resources, String group, String version) {
        ObjectNode o = F.objectNode();
        o.put("kind", "APIResourceList");
        o.put("apiVersion", "v1");
        o.put("groupVersion", group.isEmpty() ? version : group + "/" + version);
        ArrayNode list = o.putArray("resources");
        for (ApiResource r : resources) {
            if (!r.group().equals(group) || !r.version().equals(version)) {
                continue;
            }
            ObjectNode e = list.addObject();
            e.put("name", r.plural());
            e.put("singularName", r.singular());
            e.put("namespaced", r.namespaced());
            e.put("kind", r.kind());
            ArrayNode verbs = e.putArray("verbs");
            r.verbs().forEach(verbs::add);
            if (!r.shortNames().isEmpty()) {
                ArrayNode sn = e.putArray("shortNames");
                r.shortNames().forEach(sn::add);
            }
            if (!r.categories().isEmpty()) {
                ArrayNode cs = e.putArray("categories");
                r.categories().forEach(cs::add);
            }
            for (String sub : r.subresources()) {
                ObjectNode s = list.addObject();
                s.put("name", r.plural() + "/" + sub);
                s.put("singularName", "");
                s.put("namespaced", r.namespaced());
                s.put("kind", sub.equals("log") ? "Pod" : sub.equals("scale") ? "Scale" : r.kind());
                ArrayNode sv = s.putArray("verbs");
                (sub.equals("log") ? List.of("get") : List.of("get", "patch", "update")).forEach(sv::add);
            }
        }
        return list.isEmpty() ? null : o;
    }

    /** {@code /version}: the API surface answered, marked as the rig's mock (NOT a kube-apiserver). */
    static ObjectNode version() {
        ObjectNode o = F.objectNode();
        o.put("major", "1");
        o.put("minor", "32");
        o.put("gitVersion", GIT_VERSION);
        o.put("gitCommit", "");
        o.put("gitTreeState", "clean");
        o.put("buildDate", "");
        o.put("goVersion", "none (fabric8's mock API server behind qvirt-sandbox's front door)");
        o.put("compiler", "none");
        o.put("platform", "linux/amd64");
        return o;
    }

    /** The resource of {@code group}/{@code plural}, any version, or null. */
    static ApiResource find(List<ApiResource> resources, String group, String version, String plural) {
        for (ApiResource r : resources) {
            if (r.group().equals(group) && r.version().equals(version) && r.plural().equals(plural)) {
                return r;
            }
        }
        return null;
    }
}
