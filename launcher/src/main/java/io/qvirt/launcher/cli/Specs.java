package io.qvirt.launcher.cli;

import io.qvirt.api.FeatureGates;
import io.qvirt.api.FieldError;
import io.qvirt.api.LoadedManifest;
import io.qvirt.api.ManifestException;
import io.qvirt.api.ManifestLoader;
import io.qvirt.api.NetworkSettings;
import io.qvirt.api.ValidationException;
import io.qvirt.api.VirtualMachineInstance;
import io.qvirt.api.VmiDefaults;
import java.nio.file.Path;
import java.util.List;

/** Reading a VM or VMI file for the launcher: one document, validated as KubeVirt does, defaulted. */
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
        if (docs.size() != 1) {
            throw new ManifestException(file.toString(), 0, 0, "expected exactly one VirtualMachine or "
                    + "VirtualMachineInstance, found " + docs.size() + " documents");
        }
        LoadedManifest doc = docs.get(0);
        // On one machine the user is the cluster admin: hostDisk (KubeVirt's HostDisk feature gate) is on.
        List<FieldError> errors = doc.validate(FeatureGates.kubevirtDefaults().with(FeatureGates.HOST_DISK), network);
        String subject = doc.kind() + " " + (doc.name() == null ? "(no name)" : doc.name()) + " in " + file;
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
}
