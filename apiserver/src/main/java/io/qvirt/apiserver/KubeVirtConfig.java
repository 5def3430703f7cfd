package io.qvirt.apiserver;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.qvirt.api.FeatureGates;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.logging.Logger;

/**
 * The KubeVirt CR's feature gates ({@code spec.configuration.developerConfiguration.featureGates}), read live: at
 * most every 5 s, from the first {@code kubevirt.io/v1 KubeVirt} in any namespace, added to KubeVirt's defaults.
 * If the CR cannot be read, the last gates read (at first KubeVirt's defaults) stay.
 */
final class KubeVirtConfig implements Supplier<FeatureGates> {
    private static final Logger LOG = Logger.getLogger(KubeVirtConfig.class.getName());
    static final ResourceDefinitionContext KUBEVIRT = new ResourceDefinitionContext.Builder().withGroup("kubevirt.io")
            .withVersion("v1").withPlural("kubevirts").withKind("KubeVirt").withNamespaced(true).build();

    private final KubernetesClient client;
    private FeatureGates gates = FeatureGates.kubevirtDefaults();
    private List<String> last = List.of();
    private long readAt;

    KubeVirtConfig(KubernetesClient client) {
        this.client = client;
    }

    @Override
    public synchronized FeatureGates get() {
        if (readAt != 0 && System.nanoTime() - readAt < 5_000_000_000L) {
            return gates;
        }
        readAt = System.nanoTime();
        try {
            List<GenericKubernetesResource> crs = client.genericKubernetesResources(KUBEVIRT).inAnyNamespace().list().getItems();
            List<String> fg = List.of();
            if (!crs.isEmpty()) {
                Object spec = crs.get(0).getAdditionalProperties().get("spec");
                Object list = dig(dig(dig(spec, "configuration"), "developerConfiguration"), "featureGates");
                if (list instanceof List<?> l) {
                    fg = l.stream().map(String::valueOf).toList();
                }
            }
            if (!fg.equals(last)) {
                LOG.info("KubeVirt CR feature gates: " + fg);
                last = fg;
            }
            gates = FeatureGates.kubevirtDefaults().with(fg.toArray(String[]::new));
        } catch (RuntimeException e) {
            LOG.fine("KubeVirt CR not read, keeping the feature gates " + gates + ": " + e);
        }
        return gates;
    }

    private static Object dig(Object o, String key) {
        return o instanceof Map<?, ?> m ? m.get(key) : null;
    }
}
