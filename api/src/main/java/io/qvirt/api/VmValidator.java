package io.qvirt.api;

import io.qvirt.api.model.RunStrategy;
import io.qvirt.api.model.VirtualMachineInstanceSpec;
import io.qvirt.api.model.VirtualMachineSpec;
import java.util.ArrayList;
import java.util.List;

/**
 * Validates a VirtualMachine as KubeVirt's VM admitter does
 * ({@code pkg/virt-api/webhooks/validating-webhook/admitters/vms-admitter.go}): the template must exist,
 * its metadata and spec pass the VMI rules (on a copy with the spec defaults applied, as the admitter
 * does with {@code SetDefaultVirtualMachineInstanceSpec}), and the run strategy is valid: {@code running}
 * and {@code runStrategy} are mutually exclusive and one of them is required. Paths are
 * {@code spec.template.spec...}. KubeVirt stops after the first failing stage; qvirt reports everything.
 */
public final class VmValidator {
    private VmValidator() {
    }

    /** All errors, with KubeVirt's default feature gates. */
    public static List<FieldError> validate(VirtualMachine vm) {
        return validate(vm, FeatureGates.kubevirtDefaults());
    }

    /** All errors, with the given feature gates. */
    public static List<FieldError> validate(VirtualMachine vm, FeatureGates gates) {
        List<FieldError> errors = new ArrayList<>();
        SpecValidator.validateName(vm.getMetadata(), errors);
        VirtualMachineSpec spec = vm.getSpec();
        if (spec == null) {
            errors.add(new FieldError("spec", "spec in body is required"));
            return errors;
        }
        if (spec.getTemplate() == null) {
            errors.add(new FieldError("spec.template", "missing virtual machine template."));
        } else {
            SpecValidator.validateMetadata("spec.template.metadata", spec.getTemplate().getMetadata(), errors);
            VirtualMachineInstanceSpec raw = spec.getTemplate().getSpec();
            if (raw == null) {
                errors.add(new FieldError("spec.template.spec", "spec.template.spec in body is required"));
            } else {
                VirtualMachineInstanceSpec defaulted = KubevirtJson.deepCopy(raw, VirtualMachineInstanceSpec.class);
                VmiDefaults.applySpec(defaulted);
                errors.addAll(SpecValidator.validate("spec.template.spec", raw, defaulted, gates, false));
            }
        }
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
     * Throws if {@link #validate(VirtualMachine)} finds anything.
     *
     * @throws ValidationException carrying every error
     */
    public static void validateOrThrow(VirtualMachine vm) {
        validateOrThrow(vm, FeatureGates.kubevirtDefaults());
    }

    /** As {@link #validateOrThrow(VirtualMachine)}, with the given feature gates. */
    public static void validateOrThrow(VirtualMachine vm, FeatureGates gates) {
        List<FieldError> errors = validate(vm, gates);
        if (!errors.isEmpty()) {
            throw new ValidationException(VmiValidator.describe(vm), errors);
        }
    }
}
