package io.qvirt.handler.nodeapi;

/** A refusal of the node API, with the HTTP status to answer and a message in KubeVirt's words. */
public final class NodeApiException extends RuntimeException {
    private final int status;

    public NodeApiException(int status, String message) {
        super(message);
        this.status = status;
    }

    /** The HTTP status code (400, 404, 409, 500, ...). */
    public int status() {
        return status;
    }
}
