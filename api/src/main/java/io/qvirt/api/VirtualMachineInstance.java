package io.qvirt.api;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Categories;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Kind;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Singular;
import io.fabric8.kubernetes.model.annotation.Version;
import io.qvirt.api.model.VirtualMachineInstanceSpec;
import io.qvirt.api.model.VirtualMachineInstanceStatus;

/**
 * {@code kubevirt.io/v1 VirtualMachineInstance}: one running (or about to run) virtual machine.
 *
 * <p>The CRD matches KubeVirt's names, short names ({@code vmi}/{@code vmis}), category {@code all}
 * and printer columns (Age, Phase, IP from {@code .status.interfaces[0].ipAddress}, NodeName, Ready,
 * and at priority 1 Live-Migratable and Paused).
 *
 * <p>Like KubeVirt's, the VMI CRD has no {@code status} subresource: the handler writes status with a
 * plain update of the object, as KubeVirt's virt-handler does. (fabric8's generator adds the subresource
 * whenever there is a status property; {@link io.qvirt.api.crd.CrdFixups} removes it at build time.)
 */
@Group(VirtualMachine.GROUP)
@Version(VirtualMachine.VERSION)
@Kind("VirtualMachineInstance")
@Plural("virtualmachineinstances")
@Singular("virtualmachineinstance")
@ShortNames({"vmi", "vmis"})
@Categories("all")
@AdditionalPrinterColumn(name = "Age", type = AdditionalPrinterColumn.Type.DATE,
        jsonPath = ".metadata.creationTimestamp")
@AdditionalPrinterColumn(name = "Phase", type = AdditionalPrinterColumn.Type.STRING, jsonPath = ".status.phase")
@AdditionalPrinterColumn(name = "IP", type = AdditionalPrinterColumn.Type.STRING,
        jsonPath = ".status.interfaces[0].ipAddress")
@AdditionalPrinterColumn(name = "NodeName", type = AdditionalPrinterColumn.Type.STRING, jsonPath = ".status.nodeName")
@AdditionalPrinterColumn(name = "Ready", type = AdditionalPrinterColumn.Type.STRING,
        jsonPath = ".status.conditions[?(@.type=='Ready')].status")
@AdditionalPrinterColumn(name = "Live-Migratable", type = AdditionalPrinterColumn.Type.STRING,
        jsonPath = ".status.conditions[?(@.type=='LiveMigratable')].status", priority = 1)
@AdditionalPrinterColumn(name = "Paused", type = AdditionalPrinterColumn.Type.STRING,
        jsonPath = ".status.conditions[?(@.type=='Paused')].status", priority = 1)
public class VirtualMachineInstance extends CustomResource<VirtualMachineInstanceSpec, VirtualMachineInstanceStatus>
        implements Namespaced {
    /** KubeVirt's labels only its components set on a VMI; a create carrying one is refused. */
    public static final java.util.Set<String> RESERVED_LABELS = java.util.Set.of("kubevirt.io/created-by",
            "kubevirt.io/migrationJobUID", "kubevirt.io/nodeName", "kubevirt.io/migrationTargetNodeName",
            "kubevirt.io/schedulable", "kubevirt.io/install-strategy");

    private static final long serialVersionUID = 1L;

    public static final String KIND = "VirtualMachineInstance";
}
