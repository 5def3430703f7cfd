package io.qvirt.api;

import java.util.HashSet;
import java.util.Set;

/**
 * The KubeVirt feature gates validation consults. {@link #kubevirtDefaults()} is a KubeVirt install with
 * no gate configured: GA and Beta gates on, Alpha gates off (KubeVirt's {@code featuregate.IsEnabled}).
 * Of the gates qvirt's rules look at, that means {@code PasstBinding} and
 * {@code DeclarativeHotplugVolumes} (Beta) are on and {@code HostDisk} and {@code Sidecar} (Alpha) are off.
 */
public final class FeatureGates {
    public static final String HOST_DISK = "HostDisk";
    public static final String PASST_BINDING = "PasstBinding";
    public static final String DECLARATIVE_HOTPLUG_VOLUMES = "DeclarativeHotplugVolumes";
    public static final String DECENTRALIZED_LIVE_MIGRATION = "DecentralizedLiveMigration";
    /** Alpha: hook sidecars ({@code hooks.kubevirt.io/hookSidecars}); qvirt refuses them even when it is on. */
    public static final String SIDECAR = "Sidecar";

    private static final Set<String> BETA = Set.of(PASST_BINDING, DECLARATIVE_HOTPLUG_VOLUMES);

    private final Set<String> enabled;
    private final Set<String> disabled;

    private FeatureGates(Set<String> enabled, Set<String> disabled) {
        this.enabled = Set.copyOf(enabled);
        this.disabled = Set.copyOf(disabled);
    }

    /** KubeVirt's defaults: Beta gates on, Alpha gates off. */
    public static FeatureGates kubevirtDefaults() {
        return new FeatureGates(Set.of(), Set.of());
    }

    /** These gates on in addition to the defaults (KubeVirt's {@code developerConfiguration.featureGates}). */
    public FeatureGates with(String... gates) {
        Set<String> on = new HashSet<>(enabled);
        Set<String> off = new HashSet<>(disabled);
        for (String g : gates) {
            on.add(g);
            off.remove(g);
        }
        return new FeatureGates(on, off);
    }

    /** These gates off ({@code developerConfiguration.disabledFeatureGates}). */
    public FeatureGates without(String... gates) {
        Set<String> on = new HashSet<>(enabled);
        Set<String> off = new HashSet<>(disabled);
        for (String g : gates) {
            on.remove(g);
            off.add(g);
        }
        return new FeatureGates(on, off);
    }

    public boolean isEnabled(String gate) {
        if (enabled.contains(gate)) {
            return true;
        }
        if (disabled.contains(gate)) {
            return false;
        }
        return BETA.contains(gate);
    }

    @Override
    public String toString() {
        return "FeatureGates{enabled=" + enabled + ", disabled=" + disabled + "}";
    }
}
