package io.qvirt.api.migrations;

import io.qvirt.api.model.Extensible;

/** KubeVirt's {@code MigrationPolicyStatus}: empty; kept for what another writer puts there. */
public class MigrationPolicyStatus extends Extensible {
}
