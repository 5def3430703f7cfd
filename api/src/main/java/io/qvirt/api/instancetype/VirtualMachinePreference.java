package io.qvirt.api.instancetype;

import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Categories;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Kind;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Singular;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * {@code instancetype.kubevirt.io/v1beta1 VirtualMachinePreference}: a namespaced preference: defaults for the
 * fields a VM referencing it leaves unset. The CRD has KubeVirt's names and short
 * names; it has no status (KubeVirt's has none). Only v1beta1 is served (KubeVirt also serves the deprecated
 * v1alpha1/v1alpha2).
 */
@Group(InstancetypeResource.GROUP)
@Version(InstancetypeResource.VERSION)
@Kind("VirtualMachinePreference")
@Plural("virtualmachinepreferences")
@Singular("virtualmachinepreference")
@ShortNames({"vmpref", "vmprefs", "vmp", "vmps"})
@Categories("all")
public class VirtualMachinePreference extends CustomResource<VirtualMachinePreferenceSpec, Void> implements Namespaced {
    private static final long serialVersionUID = 1L;
}
