package io.qvirt.api;

import io.qvirt.api.instancetype.InstancetypeExpander;
import io.qvirt.api.instancetype.InstancetypeLookup;
import io.qvirt.api.model.DataVolumeTemplateSpec;
import io.qvirt.api.model.RunStrategy;
import io.qvirt.api.model.VirtualMachineInstanceSpec;
import io.qvirt.api.model.VirtualMachineSpec;
import io.qvirt.api.model.Volume;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Validates a VirtualMachine as KubeVirt's VM admitter does
 * ({@code pkg/virt-api/webhooks/validating-webhook/admitters/vms-admitter.go}): the template must exist,
 * its metadata and spec pass the VMI rules (on a copy with the spec defaults applied, as the admitter
 * does with {@code SetDefaultVirtualMachineInstanceSpec}), and the run strategy is valid: {@code running}
 * and {@code runStrategy} are mutually exclusive and one of them is required. A VM naming an instancetype or a
 * preference ({@code spec.instancetype}, {@code spec.preference}) is checked as KubeVirt's admitter checks it
 * ({@link InstancetypeExpander#admit}): the matchers, then the objects applied to a copy of the template (a field
 * the template sets that the instancetype sets too is refused), the preference's requirements, and the resulting
 * template validated as above. An object that does not exist is not an error here (KubeVirt admits such a VM; its
 * controller then reports the VM as failing); without an {@link InstancetypeLookup} none exists. qvirt adds one
 * rule: a field directly under {@code spec} that qvirt does not act on ({@code updateVolumesStrategy}, ...) or
 * that is in no schema is refused by its path. Paths are {@code spec.template.spec...}. KubeVirt stops after the
 * first failing stage; qvirt reports everything, except that instancetype conflicts and unmet requirements stop
 * it, as in KubeVirt (the template they leave is not the one that would run).
 */
public final class VmValidator {
    private VmValidator() {
    }

    /** All errors, with KubeVirt's default feature gates. */
    public static List<FieldError> validate(VirtualMachine vm) {
        return validate(vm, FeatureGates.kubevirtDefaults());
    }

    /** All errors, with the given feature gates and qvirt's network settings. */
    public static List<FieldError> validate(VirtualMachine vm, FeatureGates gates) {
        return validate(vm, gates, NetworkSettings.QVIRT_DEFAULTS);
    }

    /**
     * All errors, with the given feature gates and network settings (the template is defaulted with them); no
     * instancetype or preference exists.
     */
    public static List<FieldError> validate(VirtualMachine vm, FeatureGates gates, NetworkSettings network) {
        return validate(vm, gates, network, InstancetypeLookup.none());
    }

    /** All errors, with the given feature gates and network settings, instancetypes and preferences from {@code lookup}. */
    public static List<FieldError> validate(VirtualMachine vm, FeatureGates gates, NetworkSettings network,
                                            InstancetypeLookup lookup) {
        List<FieldError> errors = new ArrayList<>();
        SpecValidator.validateName(vm.getMetadata(), errors);
        if (vm.getSpec() == null) {
            errors.add(new FieldError("spec", "spec in body is required"));
            return errors;
        }
        // Fields qvirt names itself (NOT_ACTED_ON, e.g. one KubeVirt removed) are not also "unknown".
        StrictFields.unknown(vm).stream().filter(e -> !e.path().startsWith("spec.")
                || !NOT_ACTED_ON.containsKey(e.path().substring("spec.".length()))).forEach(errors::add);
        InstancetypeExpander.Admitted admitted = InstancetypeExpander.admit(vm, lookup, network);
        if (!admitted.errors().isEmpty()) {
            errors.addAll(admitted.errors());
            return errors;
        }
        VirtualMachineSpec spec = admitted.vm().getSpec();
        if (spec.getTemplate() == null) {
            errors.add(new FieldError("spec.template", "missing virtual machine template."));
        } else {
            SpecValidator.validateMetadata("spec.template.metadata", spec.getTemplate().getMetadata(), gates, errors);
            VirtualMachineInstanceSpec raw = spec.getTemplate().getSpec();
            if (raw == null) {
                errors.add(new FieldError("spec.template.spec", "spec.template.spec in body is required"));
            } else {
                VirtualMachineInstanceSpec defaulted = KubevirtJson.deepCopy(raw, VirtualMachineInstanceSpec.class);
                VmiDefaults.applySpec(defaulted, network);
                errors.addAll(SpecValidator.validate("spec.template.spec", raw, defaulted, gates, network, false));
            }
        }
        dataVolumeTemplates(spec, errors);
        unactedFields(spec, errors);
        if (spec.getRunning() != null && spec.getRunStrategy() != null) {
            errors.add(new FieldError("spec.running", "Running and RunStrategy are mutually exclusive. "
                    + "Note that Running is deprecated, please use RunStrategy instead"));
        }
        if (spec.getRunning() == null && spec.getRunStrategy() == null) {
            errors.add(new FieldError("spec.running", "RunStrategy must be specified"));
        }
        String rs = spec.getRunStrategy();
        if (rs != null) {
            if (RunStrategy.WAIT_AS_RECEIVER.equals(rs)) {
                if (!gates.isEnabled(FeatureGates.DECENTRALIZED_LIVE_MIGRATION)) {
                    errors.add(new FieldError("spec.runStrategy", "Invalid RunStrategy (" + rs + "), "
                            + FeatureGates.DECENTRALIZED_LIVE_MIGRATION
                            + " feature gate is not enabled in kubevirt resource"));
                }
            } else if (!RunStrategy.VALID.contains(rs)) {
                errors.add(new FieldError("spec.runStrategy", "Invalid RunStrategy (" + rs + "), allowed: "
                        + String.join(", ", RunStrategy.VALID)));
            }
        }
        return errors;
    }

    /**
     * KubeVirt's {@code validateDataVolumeTemplate}: every template has a name and is referenced by a volume (a
     * {@code dataVolume} of that name, or a {@code persistentVolumeClaim} claiming it). KubeVirt spells the path
     * {@code spec.dataVolumeTemplate[i]}, without the s; so does qvirt, so messages match.
     */
    private static void dataVolumeTemplates(VirtualMachineSpec spec, List<FieldError> errors) {
        List<DataVolumeTemplateSpec> templates = spec.getDataVolumeTemplates();
        if (templates == null) {
            return;
        }
        List<Volume> volumes = spec.getTemplate() == null || spec.getTemplate().getSpec() == null
                || spec.getTemplate().getSpec().getVolumes() == null ? List.of() : spec.getTemplate().getSpec().getVolumes();
        for (int i = 0; i < templates.size(); i++) {
            String at = "spec.dataVolumeTemplate[" + i + "]";
            DataVolumeTemplateSpec t = templates.get(i);
            String name = t == null || t.getMetadata() == null ? null : t.getMetadata().getName();
            if (name == null || name.isEmpty()) {
                errors.add(new FieldError(at + ".name", "'name' field must not be empty for DataVolumeTemplate entry "
                        + at + ".name."));
                continue;
            }
            boolean referenced = volumes.stream().anyMatch(v -> v != null
                    && (v.getDataVolume() != null && name.equals(v.getDataVolume().getName())
                    || v.getPersistentVolumeClaim() != null && name.equals(v.getPersistentVolumeClaim().getClaimName())));
            if (!referenced) {
                errors.add(new FieldError(at, "DataVolumeTemplate entry " + at
                        + " must be referenced in the VMI template's 'volumes' list"));
            }
        }
    }

    /**
     * qvirt's rule: a field directly under a VM's {@code spec} that qvirt does not act on is refused by its path, not
     * dropped (a VM asking for volume migration must not silently get none): KubeVirt's fields by name with what
     * to do instead, any other as kube-apiserver's strict field validation words it.
     */
    private static void unactedFields(VirtualMachineSpec spec, List<FieldError> errors) {
        for (String key : spec.getAdditionalProperties().keySet()) {
            // A field in no schema is StrictFields' to name; these are KubeVirt's.
            String why = NOT_ACTED_ON.get(key);
            if (why != null) {
                errors.add(new FieldError("spec." + key, why));
            }
        }
    }

    /** KubeVirt's VM spec fields qvirt does not act on (yet), and what to do instead. */
    static final Map<String, String> NOT_ACTED_ON = Map.of(
            "updateVolumesStrategy", "not supported by qvirt (volume migration): leave it out",
            "liveUpdateFeatures", "removed from KubeVirt (v1.1): leave it out");

    /**
     * Throws if {@link #validate(VirtualMachine)} finds anything.
     *
     * @throws ValidationException carrying every error
     */
    public static void validateOrThrow(VirtualMachine vm) {
        validateOrThrow(vm, FeatureGates.kubevirtDefaults());
    }

    /** As {@link #validateOrThrow(VirtualMachine)}, with the given feature gates. */
    public static void validateOrThrow(VirtualMachine vm, FeatureGates gates) {
        validateOrThrow(vm, gates, NetworkSettings.QVIRT_DEFAULTS);
    }

    /** As {@link #validateOrThrow(VirtualMachine)}, with the given feature gates and network settings. */
    public static void validateOrThrow(VirtualMachine vm, FeatureGates gates, NetworkSettings network) {
        List<FieldError> errors = validate(vm, gates, network);
        if (!errors.isEmpty()) {
            throw new ValidationException(VmiValidator.describe(vm), errors);
        }
    }
}
