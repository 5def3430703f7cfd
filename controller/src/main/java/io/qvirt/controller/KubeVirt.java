package io.qvirt.controller;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Kind;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.Version;
import java.util.List;
import java.util.Map;

/**
 * The part of KubeVirt's {@code kubevirt.io/v1 KubeVirt} CR (the install's configuration, one per cluster,
 * usually {@code kubevirt/kubevirt}) that qvirt's controller reads: image registry and tag, and
 * {@code configuration.developerConfiguration} ({@code useEmulation}, {@code featureGates}) and
 * {@code configuration.network} ({@code defaultNetworkInterface}, {@code permitBridgeInterfaceOnPodNetwork}),
 * {@code configuration.migrations} and {@code configuration.evictionStrategy}. Everything else
 * is ignored on read; the controller never writes this object.
 */
@Group("kubevirt.io")
@Version("v1")
@Kind("KubeVirt")
@Plural("kubevirts")
public class KubeVirt extends CustomResource<KubeVirt.Spec, Map<String, Object>> implements Namespaced {
    private static final long serialVersionUID = 1L;

    /** {@code spec}: only the fields the controller uses. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class Spec {
        private String imageRegistry;
        private String imageTag;
        private Configuration configuration;

        public String getImageRegistry() {
            return imageRegistry;
        }

        public void setImageRegistry(String imageRegistry) {
            this.imageRegistry = imageRegistry;
        }

        public String getImageTag() {
            return imageTag;
        }

        public void setImageTag(String imageTag) {
            this.imageTag = imageTag;
        }

        public Configuration getConfiguration() {
            return configuration;
        }

        public void setConfiguration(Configuration configuration) {
            this.configuration = configuration;
        }
    }

    /** {@code spec.configuration}. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class Configuration {
        private DeveloperConfiguration developerConfiguration;
        /** {@code network}, kept as parsed: {@link io.qvirt.api.NetworkSettings#fromKubeVirtSpec} reads it. */
        private Map<String, Object> network;
        /** {@code migrations}, kept as parsed: {@link io.qvirt.api.MigrationSettings#fromKubeVirtSpec} reads it. */
        private Map<String, Object> migrations;
        /** {@code evictionStrategy}: the default of VMIs that set none ({@code None}, {@code LiveMigrate}, ...). */
        private String evictionStrategy;

        public Map<String, Object> getMigrations() {
            return migrations;
        }

        public void setMigrations(Map<String, Object> migrations) {
            this.migrations = migrations;
        }

        public String getEvictionStrategy() {
            return evictionStrategy;
        }

        public void setEvictionStrategy(String evictionStrategy) {
            this.evictionStrategy = evictionStrategy;
        }

        public Map<String, Object> getNetwork() {
            return network;
        }

        public void setNetwork(Map<String, Object> network) {
            this.network = network;
        }

        public DeveloperConfiguration getDeveloperConfiguration() {
            return developerConfiguration;
        }

        public void setDeveloperConfiguration(DeveloperConfiguration developerConfiguration) {
            this.developerConfiguration = developerConfiguration;
        }
    }

    /** {@code spec.configuration.developerConfiguration}. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class DeveloperConfiguration {
        private Boolean useEmulation;
        private List<String> featureGates;

        public Boolean getUseEmulation() {
            return useEmulation;
        }

        public void setUseEmulation(Boolean useEmulation) {
            this.useEmulation = useEmulation;
        }

        public List<String> getFeatureGates() {
            return featureGates;
        }

        public void setFeatureGates(List<String> featureGates) {
            this.featureGates = featureGates;
        }
    }
}
