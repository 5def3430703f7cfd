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
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

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
        return load(file, network, List.of());
    }

    /**
     * As {@link #load(Path, NetworkSettings)}, with instancetypes and preferences from other files too
     * ({@code --instancetypes}: each a file, or a directory whose {@code *.yaml}, {@code *.yml} and {@code *.json}
     * files are read in name order, not recursively), as if they were more documents of {@code file}.
     *
     * @throws ManifestException  as above; a file of {@code instancetypes} holding anything but instancetypes and
     *                            preferences, or none of them; the same object named twice
     * @throws ValidationException as above
     */
    static Spec load(Path file, NetworkSettings network, List<Path> instancetypes) throws ManifestException {
        List<LoadedManifest> own = ManifestLoader.load(file);
        List<LoadedManifest> extra = extraInstancetypes(instancetypes);
        List<LoadedManifest> docs = new ArrayList<>(own);
        List<LoadedManifest> machines = docs.stream().filter(d -> d.instancetypeResource().isEmpty()).toList();
        if (machines.size() != 1) {
            throw new ManifestException(file.toString(), 0, 0, "expected exactly one VirtualMachine or "
                    + "VirtualMachineInstance (and the instancetypes and preferences a VirtualMachine names), found "
                    + machines.size() + " of them in " + docs.size() + " documents");
        }
        LoadedManifest doc = machines.get(0);
        if (doc.isVirtualMachine()) {
            // Given for every run (a directory of common instancetypes), so a VMI, which names none, ignores them.
            docs.addAll(extra);
        }
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

    /** The documents of the {@code --instancetypes} files, each checked to be an instancetype or a preference. */
    private static List<LoadedManifest> extraInstancetypes(List<Path> sources) throws ManifestException {
        List<LoadedManifest> out = new ArrayList<>();
        for (Path source : sources) {
            List<Path> files = new ArrayList<>();
            if (Files.isDirectory(source)) {
                try (Stream<Path> list = Files.list(source)) {
                    list.filter(f -> f.getFileName().toString().matches(".*\\.(ya?ml|json)") && Files.isRegularFile(f))
                            .sorted().forEach(files::add);
                } catch (IOException e) {
                    throw new ManifestException(source.toString(), 0, 0, "--instancetypes: cannot list the directory: "
                            + e.getMessage(), e);
                }
                if (files.isEmpty()) {
                    throw new ManifestException(source.toString(), 0, 0, "--instancetypes: the directory holds no "
                            + "*.yaml, *.yml or *.json file");
                }
            } else {
                files.add(source);
            }
            for (Path f : files) {
                List<LoadedManifest> docs = ManifestLoader.load(f);
                for (LoadedManifest d : docs) {
                    if (d.instancetypeResource().isEmpty()) {
                        throw new ManifestException(f.toString(), d.line(), 0, "document " + (d.documentIndex() + 1)
                                + ": --instancetypes takes only VirtualMachineInstancetype, "
                                + "VirtualMachineClusterInstancetype, VirtualMachinePreference and "
                                + "VirtualMachineClusterPreference documents, not a " + d.kind());
                    }
                }
                out.addAll(docs);
            }
        }
        return out;
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
