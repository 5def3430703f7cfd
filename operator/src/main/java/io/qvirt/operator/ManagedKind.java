package io.qvirt.operator;

import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;

/**
 * Every kind of object virt-operator installs, with what a generic client needs to reach it (no discovery: the plural
 * and scope are known). Removal of what is no longer wanted looks through exactly these kinds.
 */
enum ManagedKind {
    CUSTOM_RESOURCE_DEFINITION("apiextensions.k8s.io", "v1", "CustomResourceDefinition", "customresourcedefinitions", false),
    SERVICE_ACCOUNT("", "v1", "ServiceAccount", "serviceaccounts", true),
    SECRET("", "v1", "Secret", "secrets", true),
    CONFIG_MAP("", "v1", "ConfigMap", "configmaps", true),
    SERVICE("", "v1", "Service", "services", true),
    CLUSTER_ROLE("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", false),
    CLUSTER_ROLE_BINDING("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", false),
    ROLE("rbac.authorization.k8s.io", "v1", "Role", "roles", true),
    ROLE_BINDING("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", true),
    API_SERVICE("apiregistration.k8s.io", "v1", "APIService", "apiservices", false),
    VALIDATING_WEBHOOK("admissionregistration.k8s.io", "v1", "ValidatingWebhookConfiguration",
            "validatingwebhookconfigurations", false),
    MUTATING_WEBHOOK("admissionregistration.k8s.io", "v1", "MutatingWebhookConfiguration",
            "mutatingwebhookconfigurations", false),
    DEPLOYMENT("apps", "v1", "Deployment", "deployments", true),
    DAEMON_SET("apps", "v1", "DaemonSet", "daemonsets", true),
    // The common instancetypes and preferences: kinds of qvirt's own CRDs, created only once those are Established.
    CLUSTER_INSTANCETYPE("instancetype.kubevirt.io", "v1beta1", "VirtualMachineClusterInstancetype",
            "virtualmachineclusterinstancetypes", false),
    CLUSTER_PREFERENCE("instancetype.kubevirt.io", "v1beta1", "VirtualMachineClusterPreference",
            "virtualmachineclusterpreferences", false);

    final String group;
    final String version;
    final String kind;
    final String plural;
    final boolean namespaced;

    ManagedKind(String group, String version, String kind, String plural, boolean namespaced) {
        this.group = group;
        this.version = version;
        this.kind = kind;
        this.plural = plural;
        this.namespaced = namespaced;
    }

    /** Whether objects of this kind exist only once qvirt's CRDs are served. */
    boolean servedByOwnCrd() {
        return this == CLUSTER_INSTANCETYPE || this == CLUSTER_PREFERENCE;
    }

    String apiVersion() {
        return group.isEmpty() ? version : group + "/" + version;
    }

    ResourceDefinitionContext context() {
        return new ResourceDefinitionContext.Builder().withGroup(group).withVersion(version).withKind(kind)
                .withPlural(plural).withNamespaced(namespaced).build();
    }

    /** The kind of {@code apiVersion}/{@code kind}. */
    static ManagedKind of(String apiVersion, String kind) {
        for (ManagedKind k : values()) {
            if (k.apiVersion().equals(apiVersion) && k.kind.equals(kind)) {
                return k;
            }
        }
        throw new IllegalArgumentException("virt-operator does not manage " + apiVersion + " " + kind);
    }
}
