package io.qvirt.qmp;

/** A single JSON message exceeded {@link QmpOptions#maxFrameBytes()}; the connection is closed. */
public class QmpFrameTooLargeException extends QmpProtocolException {
    private final long limit;

    public QmpFrameTooLargeException(long limit, long seen) {
        super("QMP message exceeds the frame limit of " + limit + " bytes (" + seen
                + " bytes without the object closing)");
        this.limit = limit;
    }

    /** The configured limit in bytes. */
    public long limit() {
        return limit;
    }
}
