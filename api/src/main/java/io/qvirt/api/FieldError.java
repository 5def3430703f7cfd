package io.qvirt.api;

import java.util.Objects;

/**
 * One validation error: the field path as KubeVirt's admission webhook names it
 * ({@code spec.template.spec.domain.devices.disks[1].name} for a VM,
 * {@code spec.domain.devices.disks[1].name} for a VMI) and a message saying what is allowed.
 */
public record FieldError(String path, String message) {
    public FieldError {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(message, "message");
    }

    @Override
    public String toString() {
        return path + ": " + message;
    }
}
