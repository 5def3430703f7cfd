package io.qvirt.apiserver;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.qvirt.api.FieldError;
import io.qvirt.api.KubevirtJson;
import io.qvirt.api.MigrationSettings;
import io.qvirt.api.Quantities;
import io.qvirt.api.migrations.MigrationPolicy;
import io.qvirt.api.migrations.MigrationPolicySpec;
import java.util.ArrayList;
import java.util.List;

/**
 * KubeVirt's MigrationPolicy admitter ({@code migration-policy-validator.kubevirt.io}, CREATE and UPDATE): a policy
 * the controller could not apply is refused by field. KubeVirt's check (a negative {@code completionTimeoutPerGiB}),
 * a {@code bandwidthPerMigration} that is no quantity of bytes, missing {@code selectors}, and the fields qvirt does
 * not act on ({@code maxDowntimeMs}, {@code experimental}, which KubeVirt also refuses without its feature gates).
 */
final class MigrationPolicyAdmitter {
    static final String PATH = "/migration-policy-validate-create";

    private MigrationPolicyAdmitter() {
    }

    static ObjectNode admit(Admission.Review r) {
        if (!r.group().equals(MigrationPolicy.GROUP) || !r.resource().equals("migrationpolicies")) {
            return Admission.error("unexpected resource " + r.group() + "/" + r.resource() + ": expected "
                    + MigrationPolicy.GROUP + "/migrationpolicies");
        }
        if (r.object() == null) {
            return Admission.error("the request has no object");
        }
        MigrationPolicy policy;
        try {
            policy = KubevirtJson.json().treeToValue(r.object(), MigrationPolicy.class);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            return Admission.error("the MigrationPolicy cannot be read: " + e.getOriginalMessage());
        } catch (IllegalArgumentException e) {
            return Admission.error("the MigrationPolicy cannot be read: " + e.getMessage());
        }
        List<FieldError> errors = problems(policy.getSpec());
        return errors.isEmpty() ? Admission.allowed() : Admission.denied(errors);
    }

    /** A selector label without a value matches nothing the API server would store: refused by key. */
    private static void labelValues(List<FieldError> errors, String path, java.util.Map<String, String> selector) {
        if (selector != null) {
            selector.forEach((k, v) -> {
                if (v == null) {
                    errors.add(new FieldError(path + "." + k, "a label value is required"));
                }
            });
        }
    }

    /** What is wrong with a policy's spec, by field; empty if the controller can apply it. */
    static List<FieldError> problems(MigrationPolicySpec spec) {
        List<FieldError> errors = new ArrayList<>();
        if (spec == null) {
            errors.add(new FieldError("spec", "is required"));
            return errors;
        }
        if (spec.getSelectors() == null) {
            errors.add(new FieldError("spec.selectors", "is required (empty selectors match every VMI)"));
        } else {
            for (String f : spec.getSelectors().getAdditionalProperties().keySet()) {
                errors.add(new FieldError("spec.selectors." + f, "is not a selector: namespaceSelector and "
                        + "virtualMachineInstanceSelector are"));
            }
            labelValues(errors, "spec.selectors.namespaceSelector", spec.getSelectors().getNamespaceSelector());
            labelValues(errors, "spec.selectors.virtualMachineInstanceSelector",
                    spec.getSelectors().getVirtualMachineInstanceSelector());
        }
        Long completion = spec.getCompletionTimeoutPerGiB();
        if (completion != null && completion < 0) {
            errors.add(new FieldError("spec.completionTimeoutPerGiB", "must not be negative"));
        } else if (completion != null && completion > Integer.MAX_VALUE) {
            errors.add(new FieldError("spec.completionTimeoutPerGiB", "must be at most " + Integer.MAX_VALUE));
        }
        if (spec.getBandwidthPerMigration() != null) {
            try {
                MigrationSettings.bandwidthPerMigration(Quantities.text(spec.getBandwidthPerMigration()), "spec.");
            } catch (IllegalArgumentException e) {
                int colon = e.getMessage().indexOf(": ");
                errors.add(new FieldError("spec.bandwidthPerMigration", e.getMessage().substring(colon + 2)));
            }
        }
        for (String f : spec.getAdditionalProperties().keySet()) {
            errors.add(new FieldError("spec." + f, "is not supported by qvirt: a policy may set allowAutoConverge, "
                    + "allowPostCopy, allowWorkloadDisruption, bandwidthPerMigration and completionTimeoutPerGiB"));
        }
        return errors;
    }
}
