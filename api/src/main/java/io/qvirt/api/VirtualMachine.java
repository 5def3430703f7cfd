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
import io.qvirt.api.model.VirtualMachineSpec;
import io.qvirt.api.model.VirtualMachineStatus;

/**
 * {@code kubevirt.io/v1 VirtualMachine}: a VM that the controller starts and stops by its run strategy.
 *
 * <p>The CRD matches KubeVirt's: namespaced, short names {@code vm}/{@code vms}, category {@code all},
 * a {@code status} subresource, and the printer columns Age, Status ({@code .status.printableStatus})
 * and Ready (the Ready condition, as KubeVirt prints it).
 */
@Group(VirtualMachine.GROUP)
@Version(VirtualMachine.VERSION)
@Kind("VirtualMachine")
@Plural("virtualmachines")
@Singular("virtualmachine")
@ShortNames({"vm", "vms"})
@Categories("all")
@AdditionalPrinterColumn(name = "Age", type = AdditionalPrinterColumn.Type.DATE,
        jsonPath = ".metadata.creationTimestamp")
@AdditionalPrinterColumn(name = "Status", type = AdditionalPrinterColumn.Type.STRING,
        jsonPath = ".status.printableStatus", getDescription = "Human Readable Status")
@AdditionalPrinterColumn(name = "Ready", type = AdditionalPrinterColumn.Type.STRING,
        jsonPath = ".status.conditions[?(@.type=='Ready')].status")
public class VirtualMachine extends CustomResource<VirtualMachineSpec, VirtualMachineStatus> implements Namespaced {
    private static final long serialVersionUID = 1L;

    public static final String GROUP = "kubevirt.io";
    public static final String VERSION = "v1";
    public static final String API_VERSION = GROUP + "/" + VERSION;
    public static final String KIND = "VirtualMachine";
}
