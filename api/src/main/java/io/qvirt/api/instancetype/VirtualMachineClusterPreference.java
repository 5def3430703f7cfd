package io.qvirt.api.instancetype;

import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Kind;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Singular;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * {@code instancetype.kubevirt.io/v1beta1 VirtualMachineClusterPreference}: a cluster-wide preference (a VM's
 * spec.preference without kind names one). The CRD has KubeVirt's names and short
 * names; it has no status (KubeVirt's has none). Only v1beta1 is served (KubeVirt also serves the deprecated
 * v1alpha1/v1alpha2).
 */
@Group(InstancetypeResource.GROUP)
@Version(InstancetypeResource.VERSION)
@Kind("VirtualMachineClusterPreference")
@Plural("virtualmachineclusterpreferences")
@Singular("virtualmachineclusterpreference")
@ShortNames({"vmcp", "vmcps"})
public class VirtualMachineClusterPreference extends CustomResource<VirtualMachinePreferenceSpec, Void> {
    private static final long serialVersionUID = 1L;
}
