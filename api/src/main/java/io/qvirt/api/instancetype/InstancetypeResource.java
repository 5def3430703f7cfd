package io.qvirt.api.instancetype;

import io.fabric8.kubernetes.api.model.HasMetadata;
import java.util.Locale;
import java.util.Optional;

/**
 * The four {@code instancetype.kubevirt.io} kinds, with KubeVirt's resource names, and how a VM's matcher
 * {@code kind} names them (KubeVirt's {@code find/spec.go}: lower-cased, the singular or plural resource name;
 * empty means the Cluster kind).
 */
public enum InstancetypeResource {
    INSTANCETYPE("VirtualMachineInstancetype", true, false, VirtualMachineInstancetype.class),
    CLUSTER_INSTANCETYPE("VirtualMachineClusterInstancetype", false, false, VirtualMachineClusterInstancetype.class),
    PREFERENCE("VirtualMachinePreference", true, true, VirtualMachinePreference.class),
    CLUSTER_PREFERENCE("VirtualMachineClusterPreference", false, true, VirtualMachineClusterPreference.class);

    public static final String GROUP = "instancetype.kubevirt.io";
    public static final String VERSION = "v1beta1";
    public static final String API_VERSION = GROUP + "/" + VERSION;

    private final String kind;
    private final boolean namespaced;
    private final boolean preference;
    private final Class<? extends HasMetadata> type;

    InstancetypeResource(String kind, boolean namespaced, boolean preference, Class<? extends HasMetadata> type) {
        this.kind = kind;
        this.namespaced = namespaced;
        this.preference = preference;
        this.type = type;
    }

    /** The kind, e.g. {@code VirtualMachineClusterInstancetype}. */
    public String kind() {
        return kind;
    }

    /** The singular resource name, the kind lower-cased. */
    public String singular() {
        return kind.toLowerCase(Locale.ROOT);
    }

    /** The plural resource name. */
    public String plural() {
        return singular() + "s";
    }

    public boolean namespaced() {
        return namespaced;
    }

    /** A preference kind (else an instancetype kind). */
    public boolean isPreference() {
        return preference;
    }

    /** The model class (a fabric8 CustomResource). */
    public Class<? extends HasMetadata> type() {
        return type;
    }

    /** The CRD file fabric8's generator writes for it, e.g. {@code virtualmachineinstancetypes.instancetype.kubevirt.io-v1.yml} (v1: the CRD API's version). */
    public String crdFile() {
        return plural() + "." + GROUP + "-v1.yml";
    }

    /** The API server's words when there is no such object: {@code PLURAL.instancetype.kubevirt.io "NAME" not found}. */
    public String notFound(String name) {
        return plural() + "." + GROUP + " \"" + name + "\" not found";
    }

    /** What a VM's {@code spec.instancetype.kind} names; empty for a kind KubeVirt does not accept. */
    public static Optional<InstancetypeResource> forInstancetypeMatcher(String kind) {
        return matcher(kind, INSTANCETYPE, CLUSTER_INSTANCETYPE);
    }

    /** What a VM's {@code spec.preference.kind} names; empty for a kind KubeVirt does not accept. */
    public static Optional<InstancetypeResource> forPreferenceMatcher(String kind) {
        return matcher(kind, PREFERENCE, CLUSTER_PREFERENCE);
    }

    /** The resource of an object's {@code kind} as written in a manifest (exact). */
    public static Optional<InstancetypeResource> forKind(String kind) {
        for (InstancetypeResource r : values()) {
            if (r.kind.equals(kind)) {
                return Optional.of(r);
            }
        }
        return Optional.empty();
    }

    private static Optional<InstancetypeResource> matcher(String kind, InstancetypeResource namespaced,
                                                          InstancetypeResource cluster) {
        String k = kind == null ? "" : kind.toLowerCase(Locale.ROOT);
        if (k.isEmpty() || k.equals(cluster.singular()) || k.equals(cluster.plural())) {
            return Optional.of(cluster);
        }
        if (k.equals(namespaced.singular()) || k.equals(namespaced.plural())) {
            return Optional.of(namespaced);
        }
        return Optional.empty();
    }
}
