package io.qvirt.controller;

/** The controller could not start: an informer's first list failed (API server unreachable, no permission, no CRD). */
public final class StartupException extends Exception {
    private static final long serialVersionUID = 1L;

    public StartupException(String message, Throwable cause) {
        super(message, cause);
    }
}
