package io.qvirt.qmp;

/**
 * No answer within the allowed time: a command's reply, the greeting and negotiation of a connection,
 * or an awaited event. A reply that arrives after its command timed out is dropped and counted
 * ({@link QmpClient#lateReplies()}), never handed to another caller.
 */
public class QmpTimeoutException extends QmpException {
    public QmpTimeoutException(String message) {
        super(message);
    }
}
