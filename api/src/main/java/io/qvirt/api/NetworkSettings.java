package io.qvirt.api;

import java.util.List;

/**
 * The two network settings of a KubeVirt cluster that defaults and validation consult
 * ({@code spec.configuration.network} of the KubeVirt CR):
 *
 * @param defaultNetworkInterface          the binding of the interface KubeVirt adds to a VMI that declares no
 *                                         interface and no network ({@code defaultNetworkInterface}): one of
 *                                         {@link #BINDINGS}
 * @param permitBridgeInterfaceOnPodNetwork whether {@code bridge} may bind to the pod network; when false such an
 *                                         interface is refused, as KubeVirt's webhook refuses it
 */
public record NetworkSettings(String defaultNetworkInterface, boolean permitBridgeInterfaceOnPodNetwork) {
    /** The bindings {@code defaultNetworkInterface} may name (KubeVirt also knew slirp, discontinued in v1.3). */
    public static final List<String> BINDINGS = List.of("bridge", "masquerade");

    /** KubeVirt's own defaults: bridge, bridge permitted. */
    public static final NetworkSettings KUBEVIRT_DEFAULTS = new NetworkSettings("bridge", true);

    /**
     * What qvirt ships: masquerade, because bridge on the pod network needs the node agent to plumb the launcher
     * pod's network namespace, which only a real cluster node has (not {@code launcher run}, not the one-machine
     * rig), while masquerade runs everywhere qvirt runs. Bridge stays permitted, as in KubeVirt: it runs on a
     * cluster, and what cannot run it refuses it by name.
     */
    public static final NetworkSettings QVIRT_DEFAULTS = new NetworkSettings("masquerade", true);

    /** @throws IllegalArgumentException when the binding is not one of {@link #BINDINGS} */
    public NetworkSettings {
        if (defaultNetworkInterface == null || !BINDINGS.contains(defaultNetworkInterface)) {
            throw new IllegalArgumentException("defaultNetworkInterface: " + (defaultNetworkInterface == null ? "missing"
                    : "'" + Messages.clean(defaultNetworkInterface) + "' is not allowed") + ": allowed are "
                    + String.join(", ", BINDINGS));
        }
    }
    /**
     * The network settings of a KubeVirt CR's {@code spec} (as parsed JSON: maps, lists, strings, booleans; null for
     * no CR): {@code configuration.network.defaultNetworkInterface} and {@code permitBridgeInterfaceOnPodNetwork},
     * qvirt's ({@link #QVIRT_DEFAULTS}) for what it leaves out. The one parser of them: virt-api's and
     * virt-controller's readers of the CR both call it.
     *
     * @throws IllegalArgumentException naming the field and what is allowed
     */
    public static NetworkSettings fromKubeVirtSpec(Object spec) {
        Object net = dig(dig(spec, "configuration"), "network");
        Object iface = dig(net, "defaultNetworkInterface");
        if ("".equals(iface)) {
            iface = null; // KubeVirt reads "" as unset
        }
        Object permit = dig(net, "permitBridgeInterfaceOnPodNetwork");
        String prefix = "spec.configuration.network.";
        if (iface != null && !(iface instanceof String s && BINDINGS.contains(s))) {
            throw new IllegalArgumentException(prefix + "defaultNetworkInterface: '" + iface + "' is not allowed: "
                    + String.join(", ", BINDINGS));
        }
        if (permit != null && !(permit instanceof Boolean)) {
            throw new IllegalArgumentException(prefix + "permitBridgeInterfaceOnPodNetwork: '" + permit
                    + "' is not allowed: true, false");
        }
        NetworkSettings d = QVIRT_DEFAULTS;
        return new NetworkSettings(iface == null ? d.defaultNetworkInterface() : (String) iface,
                permit == null ? d.permitBridgeInterfaceOnPodNetwork() : (Boolean) permit);
    }

    private static Object dig(Object o, String key) {
        return o instanceof java.util.Map<?, ?> m ? m.get(key) : null;
    }
}
