package io.qvirt.launcher.cli;

import io.qvirt.api.FeatureGates;
import io.qvirt.api.FieldError;
import io.qvirt.api.LoadedManifest;
import io.qvirt.api.ManifestException;
import io.qvirt.api.ManifestLoader;
import io.qvirt.api.NetworkSettings;
import io.qvirt.api.ValidationException;
import io.qvirt.api.VirtualMachine;
import io.qvirt.api.VirtualMachineInstance;
import io.qvirt.api.VmValidator;
import io.qvirt.api.VmiDefaults;
import io.qvirt.api.instancetype.InstancetypeExpander;
import io.qvirt.api.instancetype.ManifestInstancetypes;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reading a VM or VMI file for the launcher: one VM or VMI, validated as KubeVirt does, defaulted. A VM may name
 * instancetypes and preferences ({@code spec.instancetype}, {@code spec.preference}) given as other documents of the
 * same file; the VMI is then the VM's with them applied.
 */
final class Specs {
    /**
     * @param vmi         the VMI to run, defaulted
     * @param fieldPrefix how field paths are named for the document ({@code spec.} or {@code spec.template.spec.})
     * @param source      the file
     */
    record Spec(VirtualMachineInstance vmi, String fieldPrefix, String source) {
    }

    private Specs() {
    }

    /**
     * @throws ManifestException  unreadable file, bad YAML (line and column), unknown kind
     * @throws ValidationException every rule KubeVirt's admission would refuse, at once
     */
    static Spec load(Path file) throws ManifestException {
        return load(file, NetworkSettings.QVIRT_DEFAULTS);
    }

    /**
     * As {@link #load(Path)}, with the cluster's network settings (the flags of {@link NetworkOptions}).
     *
     * @throws ManifestException  unreadable file, bad YAML (line and column), unknown kind
     * @throws ValidationException every rule KubeVirt's admission would refuse, at once
     */
    static Spec load(Path file, NetworkSettings network) throws ManifestException {
        List<LoadedManifest> docs = ManifestLoader.load(file);
        List<LoadedManifest> machines = docs.stream().filter(d -> d.instancetypeResource().isEmpty()).toList();
        if (machines.size() != 1) {
            throw new ManifestException(file.toString(), 0, 0, "expected exactly one VirtualMachine or "
                    + "VirtualMachineInstance (and the instancetypes and preferences a VirtualMachine names), found "
                    + machines.size() + " of them in " + docs.size() + " documents");
        }
        LoadedManifest doc = machines.get(0);
        // On one machine the user is the cluster admin: hostDisk (KubeVirt's HostDisk feature gate) is on.
        FeatureGates gates = FeatureGates.kubevirtDefaults().with(FeatureGates.HOST_DISK);
        for (LoadedManifest other : docs) {
            if (other == doc) {
                continue;
            }
            String kind = other.instancetypeResource().orElseThrow().kind();
            if (!doc.isVirtualMachine()) {
                throw new ManifestException(file.toString(), other.line(), 0, "document " + (other.documentIndex() + 1)
                        + ": a " + kind + " goes with a VirtualMachine (its spec.instancetype or spec.preference), "
                        + "not with a VirtualMachineInstance");
            }
            List<FieldError> errors = other.validate(gates, network);
            if (!errors.isEmpty()) {
                throw new ValidationException(kind + " " + other.name() + " in " + file, errors);
            }
        }
        String subject = doc.kind() + " " + (doc.name() == null ? "(no name)" : doc.name()) + " in " + file;
        VirtualMachine vm = doc.vm();
        if (vm != null && InstancetypeExpander.references(vm)) {
            return expanded(vm, ManifestInstancetypes.of(docs), gates, network, subject, file);
        }
        List<FieldError> errors = doc.validate(gates, network);
        if (!errors.isEmpty()) {
            throw new ValidationException(subject, errors);
        }
        VirtualMachineInstance vmi = doc.vmi();
        if (vmi == null) {
            throw new ValidationException(subject, List.of(new FieldError("spec.template", "required")));
        }
        VmiDefaults.apply(vmi, network);
        return new Spec(vmi, doc.isVirtualMachine() ? "spec.template.spec." : "spec.", file.toString());
    }

    /**
     * A VM naming an instancetype or a preference: they must be documents of the same file (named in the error
     * otherwise); the VM is validated with them as KubeVirt's admission does, and the VMI is the one KubeVirt's
     * controller would create from it, then defaulted.
     */
    private static Spec expanded(VirtualMachine vm, ManifestInstancetypes inFile, FeatureGates gates,
                                 NetworkSettings network, String subject, Path file) {
        List<FieldError> errors = new ArrayList<>(InstancetypeExpander.validateMatchers(vm.getSpec()));
        InstancetypeExpander.Found found = null;
        if (errors.isEmpty()) {
            found = InstancetypeExpander.find(vm, inFile);
            errors.addAll(ManifestInstancetypes.explain(found.errors(), vm.getMetadata().getNamespace()));
        }
        if (errors.isEmpty()) {
            errors.addAll(VmValidator.validate(vm, gates, network, inFile));
        }
        if (!errors.isEmpty()) {
            throw new ValidationException(subject, errors);
        }
        InstancetypeExpander.Made made = InstancetypeExpander.toVmi(vm, found.specs(), network);
        if (made.vmi() == null) {
            throw new ValidationException(subject, made.conflicts());
        }
        VirtualMachineInstance vmi = VmiDefaults.apply(made.vmi(), network);
        return new Spec(vmi, "spec.template.spec.", file.toString());
    }
}
