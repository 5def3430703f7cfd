package io.qvirt.controller;

import io.qvirt.api.MigrationSettings;
import io.qvirt.api.NetworkSettings;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.logging.Logger;

/**
 * Cluster-wide settings, as the {@code KubeVirt} CR gives them ({@link KubeVirt}), with the controller's
 * flags as defaults.
 *
 * @param useEmulation  KubeVirt's {@code developerConfiguration.useEmulation}: VMs may run under TCG, so the
 *                      launcher pod does not ask for {@code /dev/kvm}
 * @param imageRegistry where qvirt's component images live ({@code spec.imageRegistry})
 * @param imageTag      their tag ({@code spec.imageTag})
 * @param featureGates  {@code developerConfiguration.featureGates}, given to validation
 * @param network       {@code configuration.network}: the binding of the default interface and whether bridge may
 *                      bind to the pod network, given to defaults and validation
 * @param migrations    {@code configuration.migrations}: the parallel limits the migration controller keeps, and the
 *                      bandwidth and timeouts the handler gives a migration (parsed by the api module's
 *                      {@link MigrationSettings#fromKubeVirtSpec}, which the handler calls on the same CR)
 * @param evictionStrategy {@code configuration.evictionStrategy}: the cluster's default for VMIs that set none
 *                      ({@code LiveMigrate} makes a drained node's VMIs migrate); null for none
 */
public record ClusterConfig(boolean useEmulation, String imageRegistry, String imageTag, List<String> featureGates,
                            NetworkSettings network, MigrationSettings migrations, String evictionStrategy) {
    public static final String DEFAULT_REGISTRY = "quay.io/qvirt";
    public static final String DEFAULT_TAG = "v0.1.0";
    private static final Logger LOG = Logger.getLogger(ClusterConfig.class.getName());
    /** The last refusal logged: the CR is overlaid on every reconcile, so each bad value is logged once. */
    private static volatile String lastRefusal;

    public ClusterConfig {
        Objects.requireNonNull(imageRegistry, "imageRegistry");
        Objects.requireNonNull(imageTag, "imageTag");
        Objects.requireNonNull(network, "network");
        Objects.requireNonNull(migrations, "migrations");
        featureGates = List.copyOf(featureGates);
    }

    /** With KubeVirt's migration settings and no default eviction strategy. */
    public ClusterConfig(boolean useEmulation, String imageRegistry, String imageTag, List<String> featureGates,
                         NetworkSettings network) {
        this(useEmulation, imageRegistry, imageTag, featureGates, network, MigrationSettings.KUBEVIRT_DEFAULTS, null);
    }

    /** With qvirt's network settings ({@link NetworkSettings#QVIRT_DEFAULTS}). */
    public ClusterConfig(boolean useEmulation, String imageRegistry, String imageTag, List<String> featureGates) {
        this(useEmulation, imageRegistry, imageTag, featureGates, NetworkSettings.QVIRT_DEFAULTS);
    }

    /** No KubeVirt CR: KVM required, default images, default gates, qvirt's network settings. */
    public static ClusterConfig defaults() {
        return new ClusterConfig(false, DEFAULT_REGISTRY, DEFAULT_TAG, List.of());
    }

    /** The launcher pod's image: {@code <registry>/virt-launcher:<tag>}, KubeVirt's naming. */
    public String launcherImage() {
        return imageRegistry + "/virt-launcher:" + imageTag;
    }

    /** The feature gates validation should use. */
    public io.qvirt.api.FeatureGates gates() {
        return io.qvirt.api.FeatureGates.kubevirtDefaults().with(featureGates.toArray(String[]::new));
    }

    /**
     * This configuration overlaid with what a KubeVirt CR sets (null fields keep ours). A network setting the CR
     * gets wrong (say {@code defaultNetworkInterface: slirp}) is logged and ours stays, as virt-api keeps its last
     * valid settings.
     *
     * @param cr the CR, or null for none
     */
    public ClusterConfig with(KubeVirt cr) {
        if (cr == null || cr.getSpec() == null) {
            return this;
        }
        KubeVirt.Spec s = cr.getSpec();
        boolean emu = useEmulation;
        List<String> gates = featureGates;
        NetworkSettings net = network;
        if (s.getConfiguration() != null && s.getConfiguration().getDeveloperConfiguration() != null) {
            KubeVirt.DeveloperConfiguration d = s.getConfiguration().getDeveloperConfiguration();
            if (d.getUseEmulation() != null) {
                emu = d.getUseEmulation();
            }
            if (d.getFeatureGates() != null) {
                gates = d.getFeatureGates();
            }
        }
        if (s.getConfiguration() != null && s.getConfiguration().getNetwork() != null) {
            Map<String, Object> spec = new LinkedHashMap<>();
            spec.put("configuration", Map.of("network", s.getConfiguration().getNetwork()));
            try {
                net = NetworkSettings.fromKubeVirtSpec(spec);
            } catch (IllegalArgumentException e) {
                if (!e.getMessage().equals(lastRefusal)) {
                    lastRefusal = e.getMessage();
                    LOG.warning("KubeVirt CR: " + e.getMessage() + "; keeping " + network);
                }
            }
        }
        MigrationSettings mig = migrations;
        String eviction = evictionStrategy;
        if (s.getConfiguration() != null && s.getConfiguration().getMigrations() != null) {
            Map<String, Object> spec = new LinkedHashMap<>();
            spec.put("configuration", Map.of("migrations", s.getConfiguration().getMigrations()));
            try {
                mig = MigrationSettings.fromKubeVirtSpec(spec);
            } catch (IllegalArgumentException e) {
                if (!e.getMessage().equals(lastRefusal)) {
                    lastRefusal = e.getMessage();
                    LOG.warning("KubeVirt CR: " + e.getMessage() + "; keeping " + migrations);
                }
            }
        }
        if (s.getConfiguration() != null && !blank(s.getConfiguration().getEvictionStrategy())) {
            eviction = s.getConfiguration().getEvictionStrategy();
        }
        return new ClusterConfig(emu, blank(s.getImageRegistry()) ? imageRegistry : s.getImageRegistry(),
                blank(s.getImageTag()) ? imageTag : s.getImageTag(), gates, net, mig, eviction);
    }

    private static boolean blank(String s) {
        return s == null || s.isEmpty();
    }
}
