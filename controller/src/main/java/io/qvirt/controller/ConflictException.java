package io.qvirt.controller;

/** A write that kept meeting a newer resourceVersion after every re-read; the key is retried with back-off. */
public final class ConflictException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public ConflictException(String message) {
        super(message);
    }
}
