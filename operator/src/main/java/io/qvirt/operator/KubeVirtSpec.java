package io.qvirt.operator;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.Affinity;
import io.fabric8.kubernetes.api.model.LocalObjectReference;
import io.fabric8.kubernetes.api.model.Toleration;
import io.qvirt.api.model.Extensible;
import java.util.List;
import java.util.Map;

/**
 * {@code spec} of the KubeVirt CR: the fields virt-operator acts on, KubeVirt's names; every other field is kept
 * ({@link Extensible}).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class KubeVirtSpec extends Extensible {
    /** KubeVirt's value that lets the CR's deletion remove every VM and VMI. */
    public static final String REMOVE_WORKLOADS = "RemoveWorkloads";

    private String imageRegistry;
    private String imageTag;
    private String imagePullPolicy;
    private List<LocalObjectReference> imagePullSecrets;
    private String uninstallStrategy;
    private ComponentConfig infra;
    private ComponentConfig workloads;
    private JsonNode configuration;

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

    public String getImagePullPolicy() {
        return imagePullPolicy;
    }

    public void setImagePullPolicy(String imagePullPolicy) {
        this.imagePullPolicy = imagePullPolicy;
    }

    public List<LocalObjectReference> getImagePullSecrets() {
        return imagePullSecrets;
    }

    public void setImagePullSecrets(List<LocalObjectReference> imagePullSecrets) {
        this.imagePullSecrets = imagePullSecrets;
    }

    /** {@code RemoveWorkloads} or {@code BlockUninstallIfWorkloadsExist}; unset blocks, as KubeVirt's default. */
    public String getUninstallStrategy() {
        return uninstallStrategy;
    }

    public void setUninstallStrategy(String uninstallStrategy) {
        this.uninstallStrategy = uninstallStrategy;
    }

    /** Placement and replicas of virt-api and virt-controller. */
    public ComponentConfig getInfra() {
        return infra;
    }

    public void setInfra(ComponentConfig infra) {
        this.infra = infra;
    }

    /** Placement of virt-handler (and so of the VMs). */
    public ComponentConfig getWorkloads() {
        return workloads;
    }

    public void setWorkloads(ComponentConfig workloads) {
        this.workloads = workloads;
    }

    /**
     * {@code spec.configuration}, as written: virt-api, virt-controller and virt-handler read it from the CR themselves
     * (live), so nothing the operator installs depends on it and a change restarts nothing.
     */
    public JsonNode getConfiguration() {
        return configuration;
    }

    public void setConfiguration(JsonNode configuration) {
        this.configuration = configuration;
    }

    /** KubeVirt's {@code ComponentConfig}: where a component's pods run, and how many. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class ComponentConfig extends Extensible {
        private NodePlacement nodePlacement;
        private Integer replicas;

        public NodePlacement getNodePlacement() {
            return nodePlacement;
        }

        public void setNodePlacement(NodePlacement nodePlacement) {
            this.nodePlacement = nodePlacement;
        }

        public Integer getReplicas() {
            return replicas;
        }

        public void setReplicas(Integer replicas) {
            this.replicas = replicas;
        }
    }

    /** KubeVirt's {@code NodePlacement}. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class NodePlacement extends Extensible {
        private Map<String, String> nodeSelector;
        private Affinity affinity;
        private List<Toleration> tolerations;

        public Map<String, String> getNodeSelector() {
            return nodeSelector;
        }

        public void setNodeSelector(Map<String, String> nodeSelector) {
            this.nodeSelector = nodeSelector;
        }

        public Affinity getAffinity() {
            return affinity;
        }

        public void setAffinity(Affinity affinity) {
            this.affinity = affinity;
        }

        public List<Toleration> getTolerations() {
            return tolerations;
        }

        public void setTolerations(List<Toleration> tolerations) {
            this.tolerations = tolerations;
        }
    }
}
