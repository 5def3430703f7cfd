package io.qvirt.api.client;

/** A guarded patch kept conflicting: the object changes faster than its writer can re-read it. */
public final class PatchConflictException extends RuntimeException {
    public PatchConflictException(String message) {
        super(message);
    }
}
