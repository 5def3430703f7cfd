package io.qvirt.api.instancetype;

/** An {@link InstancetypeLookup} could not answer (the API server failed or timed out); the object may exist. */
public class InstancetypeLookupException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public InstancetypeLookupException(String message, Throwable cause) {
        super(message, cause);
    }
}
