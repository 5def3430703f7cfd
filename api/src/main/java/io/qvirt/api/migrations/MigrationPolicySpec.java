package io.qvirt.api.migrations;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.fabric8.generator.annotation.Required;
import io.fabric8.kubernetes.api.model.Quantity;
import io.qvirt.api.model.Extensible;

/**
 * KubeVirt's {@code MigrationPolicySpec}: which VMIs ({@code selectors}, required; a policy without them matches
 * none) and the settings it overrides, each null when not given.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class MigrationPolicySpec extends Extensible {
    @Required
    private MigrationPolicySelectors selectors;

    private Boolean allowAutoConverge;

    /** A quantity of bytes per second (as KubeVirt's resource.Quantity). */
    private Quantity bandwidthPerMigration;

    private Long completionTimeoutPerGiB;

    private Boolean allowPostCopy;

    private Boolean allowWorkloadDisruption;

    public MigrationPolicySelectors getSelectors() {
        return selectors;
    }

    public void setSelectors(MigrationPolicySelectors selectors) {
        this.selectors = selectors;
    }

    public Boolean getAllowAutoConverge() {
        return allowAutoConverge;
    }

    public void setAllowAutoConverge(Boolean allowAutoConverge) {
        this.allowAutoConverge = allowAutoConverge;
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
