package io.qvirt.controller;

import java.util.List;
import java.util.Objects;

/**
 * Cluster-wide settings, as the {@code KubeVirt} CR gives them ({@link KubeVirt}), with the controller's
 * flags as defaults.
 *
 * @param useEmulation  KubeVirt's {@code developerConfiguration.useEmulation}: VMs may run under TCG, so the
 *                      launcher pod does not ask for {@code /dev/kvm}
 * @param imageRegistry where qvirt's component images live ({@code spec.imageRegistry})
 * @param imageTag      their tag ({@code spec.imageTag})
 * @param featureGates  {@code developerConfiguration.featureGates}, given to validation
 */
public record ClusterConfig(boolean useEmulation, String imageRegistry, String imageTag, List<String> featureGates) {
    public static final String DEFAULT_REGISTRY = "quay.io/qvirt";
    public static final String DEFAULT_TAG = "v0.1.0";

    public ClusterConfig {
        Objects.requireNonNull(imageRegistry, "imageRegistry");
        Objects.requireNonNull(imageTag, "imageTag");
        featureGates = List.copyOf(featureGates);
    }

    /** No KubeVirt CR: KVM required, default images, default gates. */
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
     * This configuration overlaid with what a KubeVirt CR sets (null fields keep ours).
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
        if (s.getConfiguration() != null && s.getConfiguration().getDeveloperConfiguration() != null) {
            KubeVirt.DeveloperConfiguration d = s.getConfiguration().getDeveloperConfiguration();
            if (d.getUseEmulation() != null) {
                emu = d.getUseEmulation();
            }
            if (d.getFeatureGates() != null) {
                gates = d.getFeatureGates();
            }
        }
        return new ClusterConfig(emu, blank(s.getImageRegistry()) ? imageRegistry : s.getImageRegistry(),
                blank(s.getImageTag()) ? imageTag : s.getImageTag(), gates);
    }

    private static boolean blank(String s) {
        return s == null || s.isEmpty();
    }
}
