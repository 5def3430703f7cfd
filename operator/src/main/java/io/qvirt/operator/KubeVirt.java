package io.qvirt.operator;

import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Kind;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * KubeVirt's {@code kubevirt.io/v1 KubeVirt} CR, the install's configuration (one per cluster, usually
 * {@code kubevirt/kubevirt}), as virt-operator reads it ({@link KubeVirtSpec}) and reports on it
 * ({@link KubeVirtStatus}).
 */
@Group("kubevirt.io")
@Version("v1")
@Kind("KubeVirt")
@Plural("kubevirts")
public class KubeVirt extends CustomResource<KubeVirtSpec, KubeVirtStatus> implements Namespaced {
    private static final long serialVersionUID = 1L;
}
