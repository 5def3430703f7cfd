package io.qvirt.api.model;

import com.fasterxml.jackson.annotation.JsonInclude;

/** KubeVirt's {@code VirtualMachineInstanceMigrationState}: a VMI's (and its migration's) live migration: where from, where to, when, how it ended. Times are RFC 3339 strings; fields qvirt does not model are kept. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class MigrationState extends Extensible {
    private String startTimestamp;

    private String endTimestamp;

    private String targetNodeDomainReadyTimestamp;

    private Boolean targetNodeDomainDetected;

    private String targetNodeAddress;

    private java.util.Map<String, Integer> targetDirectMigrationNodePorts;

    private String targetNode;

    private String targetPod;

    private String sourceNode;

    private String sourcePod;

    private Boolean completed;

    private Boolean failed;

    private Boolean abortRequested;

    /** {@code Succeeded}, {@code Failed} or {@code Aborting}. */
    private String abortStatus;

    private String failureReason;

    private String migrationUid;

    /** {@code PreCopy}, {@code PostCopy} or {@code Paused}. */
    private String mode;

    /** The migration policy virt-controller matched when the migration started; null for none. */
    private String migrationPolicyName;

    /** The settings the migration runs with (the KubeVirt CR's, the matched policy applied). */
    private MigrationConfiguration migrationConfiguration;

    public String getStartTimestamp() {
        return startTimestamp;
    }

    public void setStartTimestamp(String startTimestamp) {
        this.startTimestamp = startTimestamp;
    }

    public String getEndTimestamp() {
        return endTimestamp;
    }

    public void setEndTimestamp(String endTimestamp) {
        this.endTimestamp = endTimestamp;
    }

    public String getTargetNodeDomainReadyTimestamp() {
        return targetNodeDomainReadyTimestamp;
    }

    public void setTargetNodeDomainReadyTimestamp(String targetNodeDomainReadyTimestamp) {
        this.targetNodeDomainReadyTimestamp = targetNodeDomainReadyTimestamp;
    }

    public Boolean getTargetNodeDomainDetected() {
        return targetNodeDomainDetected;
    }

    public void setTargetNodeDomainDetected(Boolean targetNodeDomainDetected) {
        this.targetNodeDomainDetected = targetNodeDomainDetected;
    }

    public String getTargetNodeAddress() {
        return targetNodeAddress;
    }

    public void setTargetNodeAddress(String targetNodeAddress) {
        this.targetNodeAddress = targetNodeAddress;
    }

    public java.util.Map<String, Integer> getTargetDirectMigrationNodePorts() {
        return targetDirectMigrationNodePorts;
    }

    public void setTargetDirectMigrationNodePorts(java.util.Map<String, Integer> targetDirectMigrationNodePorts) {
        this.targetDirectMigrationNodePorts = targetDirectMigrationNodePorts;
    }

    public String getTargetNode() {
        return targetNode;
    }

    public void setTargetNode(String targetNode) {
        this.targetNode = targetNode;
    }

    public String getTargetPod() {
        return targetPod;
    }

    public void setTargetPod(String targetPod) {
        this.targetPod = targetPod;
    }

    public String getSourceNode() {
        return sourceNode;
    }

    public void setSourceNode(String sourceNode) {
        this.sourceNode = sourceNode;
    }

    public String getSourcePod() {
        return sourcePod;
    }

    public void setSourcePod(String sourcePod) {
        this.sourcePod = sourcePod;
    }

    public Boolean getCompleted() {
        return completed;
    }

    public void setCompleted(Boolean completed) {
        this.completed = completed;
    }

    public Boolean getFailed() {
        return failed;
    }

    public void setFailed(Boolean failed) {
        this.failed = failed;
    }

    public Boolean getAbortRequested() {
        return abortRequested;
    }

    public void setAbortRequested(Boolean abortRequested) {
        this.abortRequested = abortRequested;
    }

    public String getAbortStatus() {
        return abortStatus;
    }

    public void setAbortStatus(String abortStatus) {
        this.abortStatus = abortStatus;
    }

    public String getFailureReason() {
        return failureReason;
    }

    public void setFailureReason(String failureReason) {
        this.failureReason = failureReason;
    }

    public String getMigrationUid() {
        return migrationUid;
    }

    public void setMigrationUid(String migrationUid) {
        this.migrationUid = migrationUid;
    }

    public String getMode() {
        return mode;
    }

    public void setMode(String mode) {
        this.mode = mode;
    }

    public String getMigrationPolicyName() {
        return migrationPolicyName;
    }

    public void setMigrationPolicyName(String migrationPolicyName) {
        this.migrationPolicyName = migrationPolicyName;
    }

    public MigrationConfiguration getMigrationConfiguration() {
        return migrationConfiguration;
    }

    public void setMigrationConfiguration(MigrationConfiguration migrationConfiguration) {
        this.migrationConfiguration = migrationConfiguration;
    }
}
