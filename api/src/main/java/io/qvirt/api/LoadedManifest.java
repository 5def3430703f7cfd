package io.qvirt.api;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.qvirt.api.model.VirtualMachineInstanceSpec;
import io.qvirt.api.model.VirtualMachineInstanceTemplateSpec;
import io.qvirt.api.instancetype.InstancetypeExpander;
import io.qvirt.api.instancetype.InstancetypeResource;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Optional;

/**
 * One document of a manifest: a VirtualMachine or a VirtualMachineInstance, where it came from, and the
 * VMI it stands for ({@link #vmi()}); or an instancetype or preference ({@link #instancetypeResource()}) for a
 * VirtualMachine of the same manifest to name.
 */
public final class LoadedManifest {
    private final String source;
    private final int documentIndex;
    private final int line;
    private final HasMetadata resource;

    LoadedManifest(String source, int documentIndex, int line, HasMetadata resource) {
        this.source = source;
        this.documentIndex = documentIndex;
        this.line = line;
        this.resource = resource;
    }

    /** The file name, or the source name given to {@code loadString}. */
    public String source() {
        return source;
    }

    /** 0-based index of the document in its source. */
    public int documentIndex() {
        return documentIndex;
    }

    /** 1-based line where the document starts. */
    public int line() {
        return line;
    }

    /** {@code VirtualMachine} or {@code VirtualMachineInstance}. */
    public String kind() {
        return resource.getKind();
    }

    public boolean isVirtualMachine() {
        return resource instanceof VirtualMachine;
    }

    /** The object as read (a {@link VirtualMachine} or a {@link VirtualMachineInstance}). */
    public HasMetadata resource() {
        return resource;
    }

    /** The instancetype.kubevirt.io kind of this document; empty for a VM or a VMI. */
    public Optional<InstancetypeResource> instancetypeResource() {
        return InstancetypeResource.forKind(resource.getKind());
    }

    /** The VirtualMachine, or null if this document is not one. */
    public VirtualMachine vm() {
        return resource instanceof VirtualMachine vm ? vm : null;
    }

    public String name() {
        return resource.getMetadata().getName();
    }

    public String namespace() {
        return resource.getMetadata().getNamespace();
    }

    /**
     * The VMI this document stands for, as a new object on every call (no defaults applied). For a VMI, a
     * deep copy of it. For a VM, the VMI KubeVirt's VM controller would create from it: name and namespace of
     * the VM, labels and annotations of the template, the template's spec, and (when the VM has a uid) an
     * owner reference to the VM; null if the VM has no template.
     */
    public VirtualMachineInstance vmi() {
        if (resource instanceof VirtualMachineInstance vmi) {
            return KubevirtJson.deepCopy(vmi, VirtualMachineInstance.class);
        }
        return resource instanceof VirtualMachine vm ? fromVm(vm) : null;
    }

    /**
     * KubeVirt's admission rules for this document ({@link VmValidator} or {@link VmiValidator}; for an
     * instancetype or preference, its name and {@link InstancetypeExpander#validateObject}). A VM is checked without
     * the other documents: see {@link io.qvirt.api.instancetype.ManifestInstancetypes} for a VM naming them.
     */
    public List<FieldError> validate() {
        return validate(FeatureGates.kubevirtDefaults());
    }

    /** As {@link #validate()}, with the given feature gates. */
    public List<FieldError> validate(FeatureGates gates) {
        return validate(gates, NetworkSettings.QVIRT_DEFAULTS);
    }

    /** As {@link #validate()}, with the given feature gates and network settings. */
    public List<FieldError> validate(FeatureGates gates, NetworkSettings network) {
        if (resource instanceof VirtualMachine vm) {
            return VmValidator.validate(vm, gates, network);
        }
        if (resource instanceof VirtualMachineInstance vmi) {
            return VmiValidator.validate(vmi, gates, network);
        }
        List<FieldError> errors = new ArrayList<>();
        SpecValidator.validateName(resource.getMetadata(), errors);
        errors.addAll(InstancetypeExpander.validateObject(instancetypeResource().orElseThrow(),
                KubevirtJson.toTree(resource).get("spec")));
        return errors;
    }

    /** The VMI of a VM, as KubeVirt's VM controller builds it ({@code setupVMIFromVM}). */
    public static VirtualMachineInstance fromVm(VirtualMachine vm) {
        VirtualMachineInstanceTemplateSpec template = vm.getSpec() == null ? null : vm.getSpec().getTemplate();
        if (template == null) {
            return null;
        }
        VirtualMachineInstance vmi = new VirtualMachineInstance();
        ObjectMeta meta = new ObjectMeta();
        ObjectMeta vmMeta = vm.getMetadata() == null ? new ObjectMeta() : vm.getMetadata();
        meta.setName(vmMeta.getName());
        meta.setNamespace(vmMeta.getNamespace());
        if (template.getMetadata() != null) {
            ObjectMeta t = template.getMetadata();
            if (t.getLabels() != null && !t.getLabels().isEmpty()) {
                meta.setLabels(new LinkedHashMap<>(t.getLabels()));
            }
            if (t.getAnnotations() != null && !t.getAnnotations().isEmpty()) {
                meta.setAnnotations(new LinkedHashMap<>(t.getAnnotations()));
            }
        }
        if (vmMeta.getUid() != null) {
            OwnerReference owner = new OwnerReference();
            owner.setApiVersion(VirtualMachine.API_VERSION);
            owner.setKind(VirtualMachine.KIND);
            owner.setName(vmMeta.getName());
            owner.setUid(vmMeta.getUid());
            owner.setController(true);
            owner.setBlockOwnerDeletion(true);
            meta.setOwnerReferences(new java.util.ArrayList<>(List.of(owner)));
        }
        vmi.setMetadata(meta);
        vmi.setSpec(template.getSpec() == null ? new VirtualMachineInstanceSpec()
                : KubevirtJson.deepCopy(template.getSpec(), VirtualMachineInstanceSpec.class));
        return vmi;
    }

    @Override
    public String toString() {
        return kind() + " " + namespace() + "/" + name() + " (" + source + ", document " + (documentIndex + 1)
                + ", line " + line + ")";
    }
}
