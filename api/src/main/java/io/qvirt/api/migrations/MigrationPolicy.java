package io.qvirt.api.migrations;

import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Kind;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.Singular;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * {@code migrations.kubevirt.io/v1alpha1 MigrationPolicy}: cluster-scoped migration settings for the VMIs its selectors
 * match, over the KubeVirt CR's {@code migrations} ({@link MigrationPolicies} picks and applies one). The CRD has
 * KubeVirt's names and status subresource.
 */
@Group(MigrationPolicy.GROUP)
@Version(MigrationPolicy.VERSION)
@Kind(MigrationPolicy.KIND)
@Plural("migrationpolicies")
@Singular("migrationpolicy")
public class MigrationPolicy extends CustomResource<MigrationPolicySpec, MigrationPolicyStatus> {
    private static final long serialVersionUID = 1L;

    public static final String GROUP = "migrations.kubevirt.io";
    public static final String VERSION = "v1alpha1";
    public static final String KIND = "MigrationPolicy";
}
