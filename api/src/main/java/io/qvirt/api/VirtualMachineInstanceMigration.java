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
import io.qvirt.api.model.VirtualMachineInstanceMigrationSpec;
import io.qvirt.api.model.VirtualMachineInstanceMigrationStatus;

/**
 * {@code kubevirt.io/v1 VirtualMachineInstanceMigration}: one request to move a running VMI to another node
 * ({@code virtctl migrate} creates it through virt-api). The CRD has KubeVirt's names, short names
 * ({@code vmim}/{@code vmims}), category {@code all}, printer columns (Phase, VMI) and status subresource.
 */
@Group(VirtualMachine.GROUP)
@Version(VirtualMachine.VERSION)
@Kind("VirtualMachineInstanceMigration")
@Plural("virtualmachineinstancemigrations")
@Singular("virtualmachineinstancemigration")
@ShortNames({"vmim", "vmims"})
@Categories("all")
@AdditionalPrinterColumn(name = "Phase", type = AdditionalPrinterColumn.Type.STRING, jsonPath = ".status.phase")
@AdditionalPrinterColumn(name = "VMI", type = AdditionalPrinterColumn.Type.STRING, jsonPath = ".spec.vmiName")
public class VirtualMachineInstanceMigration
        extends CustomResource<VirtualMachineInstanceMigrationSpec, VirtualMachineInstanceMigrationStatus>
        implements Namespaced {
    private static final long serialVersionUID = 1L;

    public static final String KIND = "VirtualMachineInstanceMigration";
}
