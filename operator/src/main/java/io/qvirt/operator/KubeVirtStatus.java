package io.qvirt.operator;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.qvirt.api.model.Condition;
import io.qvirt.api.model.Extensible;
import java.util.List;

/** {@code status} of the KubeVirt CR, KubeVirt's fields; virt-operator is its only writer. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class KubeVirtStatus extends Extensible {
    public static final String DEPLOYING = "Deploying";
    public static final String DEPLOYED = "Deployed";
    public static final String DELETING = "Deleting";
    public static final String DELETED = "Deleted";

    private String phase;
    private List<Condition> conditions;
    private String operatorVersion;
    private Long observedGeneration;
    private String observedKubeVirtVersion;
    private String observedKubeVirtRegistry;
    private String observedDeploymentID;
    private String targetKubeVirtVersion;
    private String targetKubeVirtRegistry;
    private String targetDeploymentID;
    private List<GenerationStatus> generations;

    public String getPhase() {
        return phase;
    }

    public void setPhase(String phase) {
        this.phase = phase;
    }

    public List<Condition> getConditions() {
        return conditions;
    }

    public void setConditions(List<Condition> conditions) {
        this.conditions = conditions;
    }

    public String getOperatorVersion() {
        return operatorVersion;
    }

    public void setOperatorVersion(String operatorVersion) {
        this.operatorVersion = operatorVersion;
    }

    public Long getObservedGeneration() {
        return observedGeneration;
    }

    public void setObservedGeneration(Long observedGeneration) {
        this.observedGeneration = observedGeneration;
    }

    public String getObservedKubeVirtVersion() {
        return observedKubeVirtVersion;
    }

    public void setObservedKubeVirtVersion(String observedKubeVirtVersion) {
        this.observedKubeVirtVersion = observedKubeVirtVersion;
    }

    public String getObservedKubeVirtRegistry() {
        return observedKubeVirtRegistry;
    }

    public void setObservedKubeVirtRegistry(String observedKubeVirtRegistry) {
        this.observedKubeVirtRegistry = observedKubeVirtRegistry;
    }

    public String getObservedDeploymentID() {
        return observedDeploymentID;
    }

    public void setObservedDeploymentID(String observedDeploymentID) {
        this.observedDeploymentID = observedDeploymentID;
    }

    public String getTargetKubeVirtVersion() {
        return targetKubeVirtVersion;
    }

    public void setTargetKubeVirtVersion(String targetKubeVirtVersion) {
        this.targetKubeVirtVersion = targetKubeVirtVersion;
    }

    public String getTargetKubeVirtRegistry() {
        return targetKubeVirtRegistry;
    }

    public void setTargetKubeVirtRegistry(String targetKubeVirtRegistry) {
        this.targetKubeVirtRegistry = targetKubeVirtRegistry;
    }

    public String getTargetDeploymentID() {
        return targetDeploymentID;
    }

    public void setTargetDeploymentID(String targetDeploymentID) {
        this.targetDeploymentID = targetDeploymentID;
    }

    public List<GenerationStatus> getGenerations() {
        return generations;
    }

    public void setGenerations(List<GenerationStatus> generations) {
        this.generations = generations;
    }

    /** KubeVirt's {@code GenerationStatus}: the generation of one installed object last seen by the operator. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class GenerationStatus extends Extensible {
        private String group;
        private String resource;
        private String namespace;
        private String name;
        private Long lastGeneration;
        private String hash;

        public GenerationStatus() {
        }

        public GenerationStatus(String group, String resource, String namespace, String name, Long lastGeneration,
                                String hash) {
            this.group = group;
            this.resource = resource;
            this.namespace = namespace;
            this.name = name;
            this.lastGeneration = lastGeneration;
            this.hash = hash;
        }

        public String getGroup() {
            return group;
        }

        public void setGroup(String group) {
            this.group = group;
        }

        public String getResource() {
            return resource;
        }

        public void setResource(String resource) {
            this.resource = resource;
        }

        public String getNamespace() {
            return namespace;
        }

        public void setNamespace(String namespace) {
            this.namespace = namespace;
        }

        public String getName() {
            return name;
        }

        public void setName(String name) {
            this.name = name;
        }

        public Long getLastGeneration() {
            return lastGeneration;
        }

        public void setLastGeneration(Long lastGeneration) {
            this.lastGeneration = lastGeneration;
        }

        public String getHash() {
            return hash;
        }

        public void setHash(String hash) {
            this.hash = hash;
        }
    }
}
