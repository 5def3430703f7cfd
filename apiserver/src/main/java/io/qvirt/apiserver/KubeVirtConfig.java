package io.qvirt.apiserver;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.qvirt.api.FeatureGates;
import io.qvirt.api.NetworkSettings;
import io.qvirt.api.client.KubeVirtCrReader;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.logging.Logger;

/**
 * The KubeVirt CR's settings that admission consults, read live from the first {@code kubevirt.io/v1 KubeVirt} in any
 * namespace: from an informer's cache once it has synced (so a webhook call does no I/O, and a change applies as soon
 * as its watch event arrives), and until then by a LIST at most every 5 s (so the first calls after start already
 * see the CR).
 * <ul>
 * <li>feature gates ({@code spec.configuration.developerConfiguration.featureGates}), added to KubeVirt's defaults
 * ({@link #get()});</li>
 * <li>network settings ({@code spec.configuration.network.defaultNetworkInterface} and
 * {@code permitBridgeInterfaceOnPodNetwork}; {@link #network()}): each one left out is qvirt's
 * ({@link NetworkSettings#QVIRT_DEFAULTS}: masquerade, bridge permitted). A value that is not allowed (say
 * {@code defaultNetworkInterface: slirp}) is logged and the last valid settings stay, as KubeVirt keeps its last
 * valid configuration.</li>
 * </ul>
 * If the CR cannot be read, the last settings read (at first the defaults) stay.
 */
final class KubeVirtConfig implements Supplier<FeatureGates> {
    private static final Logger LOG = Logger.getLogger(KubeVirtConfig.class.getName());
    static final ResourceDefinitionContext KUBEVIRT = KubeVirtCrReader.KUBEVIRT;

    private final KubeVirtCrReader cr;
    private FeatureGates gates = FeatureGates.kubevirtDefaults();
    private NetworkSettings network = NetworkSettings.QVIRT_DEFAULTS;
    private List<String> last = List.of();
    private String evictionStrategy;

    KubeVirtConfig(KubernetesClient client) {
        this.cr = new KubeVirtCrReader(client);
        cr.start(() -> { }); // not awaited: until it has synced, refresh() lists
    }

    /**
     * virt-api's webhooks, with the KubeVirt CR's feature gates and network settings read live through {@code client}, and
     * the instancetypes and preferences VMs name and the VMIs and migrations migrations name read from it.
     */
    static Admission admission(KubernetesClient client) {
        return admission(client, new KubeVirtConfig(client));
    }

    /** As {@link #admission(KubernetesClient)}, sharing {@code config} with the subresources that read it too. */
    static Admission admission(KubernetesClient client, KubeVirtConfig config) {
        return new Admission(config, config::network, new io.qvirt.api.client.ApiServerInstancetypes(client),
                new ApiServerMigrations(client, config::evictionStrategy));
    }

    /** The feature gates. */
    @Override
    public synchronized FeatureGates get() {
        refresh();
        return gates;
    }

    /** The CR's {@code configuration.evictionStrategy} (None, LiveMigrate, LiveMigrateIfPossible, External); null if unset. */
    public synchronized String evictionStrategy() {
        refresh();
        return evictionStrategy;
    }

    /** The network settings defaults and validation use. */
    public synchronized NetworkSettings network() {
        refresh();
        return network;
    }

    private void refresh() {
        KubeVirtCrReader.Read r;
        try {
            r = cr.poll();
        } catch (RuntimeException e) {
            LOG.fine("KubeVirt CR not read, keeping " + gates + " and " + network + ": " + e);
            return;
        }
        if (r != null) {
            apply(r.spec());
        }
    }

    /** The settings of the first CR's {@code spec} (null, no CR: the defaults); an invalid network setting keeps the last. */
    private void apply(Object spec) {
        List<String> fg = List.of();
        Object list = dig(dig(dig(spec, "configuration"), "developerConfiguration"), "featureGates");
        if (list instanceof List<?> l) {
            fg = l.stream().map(String::valueOf).toList();
        }
        if (!fg.equals(last)) {
            LOG.info("KubeVirt CR feature gates: " + fg);
            last = fg;
        }
        gates = FeatureGates.kubevirtDefaults().with(fg.toArray(String[]::new));
        Object es = dig(dig(spec, "configuration"), "evictionStrategy");
        evictionStrategy = es instanceof String str && !str.isEmpty() ? str : null;
        try {
            NetworkSettings n = networkSettings(spec);
            if (!n.equals(network)) {
                LOG.info("KubeVirt CR network settings: " + n);
            }
            network = n;
        } catch (IllegalArgumentException e) {
            LOG.warning("KubeVirt CR: " + e.getMessage() + "; keeping " + network);
        }
    }

    /**
     * The network settings of a KubeVirt CR's {@code spec} (a parsed map; null: no CR), qvirt's for what it leaves out.
     *
     * @throws IllegalArgumentException naming the field and what is allowed
     */
    static NetworkSettings networkSettings(Object spec) {
        return NetworkSettings.fromKubeVirtSpec(spec);
    }

    private static Object dig(Object o, String key) {
        return o instanceof Map<?, ?> m ? m.get(key) : null;
    }
}
