package io.qvirt.api.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;
import java.util.Map;

/** Spec of a {@code kubevirt.io/v1} VirtualMachineInstance (KubeVirt's {@code VirtualMachineInstanceSpec}). Fields qvirt does not model are kept in {@link #getAdditionalProperties()}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class VirtualMachineInstanceSpec extends Extensible {
    /** The virtual hardware. */
    private DomainSpec domain;

    private Map<String, String> nodeSelector;

    /** {@code LiveMigrate}, {@code LiveMigrateIfPossible}, {@code None} or {@code External}. */
    private String evictionStrategy;

    /** Only {@code Paused} is allowed. */
    private String startStrategy;

    /** Seconds to wait for a graceful guest shutdown; KubeVirt's default is 30. */
    private Long terminationGracePeriodSeconds;

    private List<Volume> volumes;

    private List<Network> networks;

    private String hostname;

    private String subdomain;

    /** {@code amd64}, {@code arm64} or {@code s390x}. */
    private String architecture;

    private String serviceAccountName;

    private String priorityClassName;

    private String schedulerName;

    public DomainSpec getDomain() {
        return domain;
    }

    public void setDomain(DomainSpec domain) {
        this.domain = domain;
    }

    public Map<String, String> getNodeSelector() {
        return nodeSelector;
    }

    public void setNodeSelector(Map<String, String> nodeSelector) {
        this.nodeSelector = nodeSelector;
    }

    public String getEvictionStrategy() {
        return evictionStrategy;
    }

    public void setEvictionStrategy(String evictionStrategy) {
        this.evictionStrategy = evictionStrategy;
    }

    public String getStartStrategy() {
        return startStrategy;
    }

    public void setStartStrategy(String startStrategy) {
        this.startStrategy = startStrategy;
    }

    public Long getTerminationGracePeriodSeconds() {
        return terminationGracePeriodSeconds;
    }

    public void setTerminationGracePeriodSeconds(Long terminationGracePeriodSeconds) {
        this.terminationGracePeriodSeconds = terminationGracePeriodSeconds;
    }

    public List<Volume> getVolumes() {
        return volumes;
    }

    public void setVolumes(List<Volume> volumes) {
        this.volumes = volumes;
    }

    public List<Network> getNetworks() {
        return networks;
    }

    public void setNetworks(List<Network> networks) {
        this.networks = networks;
    }

    public String getHostname() {
        return hostname;
    }

    public void setHostname(String hostname) {
        this.hostname = hostname;
    }

    public String getSubdomain() {
        return subdomain;
    }

    public void setSubdomain(String subdomain) {
        this.subdomain = subdomain;
    }

    public String getArchitecture() {
        return architecture;
    }

    public void setArchitecture(String architecture) {
        this.architecture = architecture;
    }

    public String getServiceAccountName() {
        return serviceAccountName;
    }

    public void setServiceAccountName(String serviceAccountName) {
        this.serviceAccountName = serviceAccountName;
    }

    public String getPriorityClassName() {
        return priorityClassName;
    }

    public void setPriorityClassName(String priorityClassName) {
        this.priorityClassName = priorityClassName;
    }

    public String getSchedulerName() {
        return schedulerName;
    }

    public void setSchedulerName(String schedulerName) {
        this.schedulerName = schedulerName;
    }
}
