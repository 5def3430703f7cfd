package io.qvirt.api.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.fabric8.kubernetes.api.model.Quantity;

/**
 * KubeVirt's {@code MigrationConfiguration} as one migration runs with it: the KubeVirt CR's {@code migrations} with
 * the matched migration policy applied, written by virt-controller into the VMI's
 * {@code status.migrationState.migrationConfiguration} when the migration starts, read by the source's virt-handler.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class MigrationConfiguration extends Extensible {
    private Long parallelMigrationsPerCluster;

    private Long parallelOutboundMigrationsPerNode;

    private Quantity bandwidthPerMigration;

    private Long completionTimeoutPerGiB;

    private Long progressTimeout;

    private Boolean allowAutoConverge;

    private Boolean allowPostCopy;

    private Boolean allowWorkloadDisruption;

    public Long getParallelMigrationsPerCluster() {
        return parallelMigrationsPerCluster;
    }

    public void setParallelMigrationsPerCluster(Long parallelMigrationsPerCluster) {
        this.parallelMigrationsPerCluster = parallelMigrationsPerCluster;
    }

    public Long getParallelOutboundMigrationsPerNode() {
        return parallelOutboundMigrationsPerNode;
    }

    public void setParallelOutboundMigrationsPerNode(Long parallelOutboundMigrationsPerNode) {
        this.parallelOutboundMigrationsPerNode = parallelOutboundMigrationsPerNode;
    }

    public Quantity getBandwidthPerMigration() {
        return bandwidthPerMigration;
    }

    public void setBandwidthPerMigration(Quantity bandwidthPerMigration) {
        this.bandwidthPerMigration = bandwidthPerMigration;
    }

    public Long getCompletionTimeoutPerGiB() {
        return completionTimeoutPerGiB;
    }

    public void setCompletionTimeoutPerGiB(Long completionTimeoutPerGiB) {
        this.completionTimeoutPerGiB = completionTimeoutPerGiB;
    }

    public Long getProgressTimeout() {
        return progressTimeout;
    }

    public void setProgressTimeout(Long progressTimeout) {
        this.progressTimeout = progressTimeout;
    }

    public Boolean getAllowAutoConverge() {
        return allowAutoConverge;
    }

    public void setAllowAutoConverge(Boolean allowAutoConverge) {
        this.allowAutoConverge = allowAutoConverge;
    }

    public Boolean getAllowPostCopy() {
        return allowPostCopy;
    }

    public void setAllowPostCopy(Boolean allowPostCopy) {
        this.allowPostCopy = allowPostCopy;
    }

    public Boolean getAllowWorkloadDisruption() {
        return allowWorkloadDisruption;
    }

    public void setAllowWorkloadDisruption(Boolean allowWorkloadDisruption) {
        this.allowWorkloadDisruption = allowWorkloadDisruption;
    }
}
