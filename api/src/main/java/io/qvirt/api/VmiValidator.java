package io.qvirt.api;

import io.qvirt.api.model.VirtualMachineInstanceSpec;
import java.util.ArrayList;
import java.util.List;

/**
 * Validates a VirtualMachineInstance as KubeVirt's VMI create admitter does
 * ({@code pkg/virt-api/webhooks/validating-webhook/admitters/vmi-create-admitter.go}), for the fields qvirt
 * models. Like KubeVirt, which validates after its mutating webhook, it validates a copy with
 * {@link VmiDefaults} applied; the argument is not changed. Every error of the document is returned at
 * once, with paths such as {@code spec.domain.devices.disks[1].name}.
 */
public final class VmiValidator {
    private VmiValidator() {
    }

    /** All errors, with KubeVirt's default feature gates; empty if KubeVirt would admit the VMI. */
    public static List<FieldError> validate(VirtualMachineInstance vmi) {
        return validate(vmi, FeatureGates.kubevirtDefaults());
    }

    /** All errors, with the given feature gates and qvirt's network settings. */
    public static List<FieldError> validate(VirtualMachineInstance vmi, FeatureGates gates) {
        return validate(vmi, gates, NetworkSettings.QVIRT_DEFAULTS);
    }

    /** All errors, with the given feature gates and network settings (the copy is defaulted with them). */
    public static List<FieldError> validate(VirtualMachineInstance vmi, FeatureGates gates, NetworkSettings network) {
        List<FieldError> errors = new ArrayList<>();
        SpecValidator.validateName(vmi.getMetadata(), errors);
        if (vmi.getSpec() == null) {
            errors.add(new FieldError("spec", "spec in body is required"));
            return errors;
        }
        errors.addAll(StrictFields.unknown(vmi));
        VirtualMachineInstance copy = KubevirtJson.deepCopy(vmi, VirtualMachineInstance.class);
        VmiDefaults.apply(copy, network);
        VirtualMachineInstanceSpec raw = vmi.getSpec();
        errors.addAll(SpecValidator.validate("spec", raw, copy.getSpec(), gates, network, true));
        SpecValidator.validateMetadata("metadata", vmi.getMetadata(), gates, errors);
        return errors;
    }

    /**
     * Throws if {@link #validate(VirtualMachineInstance)} finds anything.
     *
     * @throws ValidationException carrying every error
     */
    public static void validateOrThrow(VirtualMachineInstance vmi) {
        validateOrThrow(vmi, FeatureGates.kubevirtDefaults());
    }

    /** As {@link #validateOrThrow(VirtualMachineInstance)}, with the given feature gates. */
    public static void validateOrThrow(VirtualMachineInstance vmi, FeatureGates gates) {
        validateOrThrow(vmi, gates, NetworkSettings.QVIRT_DEFAULTS);
    }

    /** As {@link #validateOrThrow(VirtualMachineInstance)}, with the given feature gates and network settings. */
    public static void validateOrThrow(VirtualMachineInstance vmi, FeatureGates gates, NetworkSettings network) {
        List<FieldError> errors = validate(vmi, gates, network);
        if (!errors.isEmpty()) {
            throw new ValidationException(describe(vmi), errors);
        }
    }

    static String describe(io.fabric8.kubernetes.api.model.HasMetadata r) {
        String name = r.getMetadata() == null ? null : r.getMetadata().getName();
        return r.getKind() + " " + (name == null ? "(unnamed)" : name);
    }
}
