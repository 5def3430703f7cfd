package io.qvirt.api;

import java.util.List;
import java.util.stream.Collectors;

/** A document that KubeVirt's admission webhook would refuse; carries every error at once. */
public class ValidationException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final transient List<FieldError> errors;

    public ValidationException(String subject, List<FieldError> errors) {
        super(format(subject, errors));
        this.errors = List.copyOf(errors);
    }

    public List<FieldError> errors() {
        return errors;
    }

    private static String format(String subject, List<FieldError> errors) {
        return subject + " is invalid (" + errors.size() + (errors.size() == 1 ? " error" : " errors") + "):\n"
                + errors.stream().map(e -> "  " + e).collect(Collectors.joining("\n"));
    }
}
