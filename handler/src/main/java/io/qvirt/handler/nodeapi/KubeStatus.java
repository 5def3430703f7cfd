package io.qvirt.handler.nodeapi;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.util.Map;

/**
 * A Kubernetes {@code Status} (kind Status, apiVersion v1) as the body of a refusal, the shape KubeVirt's
 * and Kubernetes' servers answer errors with, so virt-api and kubectl show the message as is.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({"kind", "apiVersion", "metadata", "status", "message", "reason", "code"})
record KubeStatus(String kind, String apiVersion, Map<String, Object> metadata, String status, String message,
                  String reason, int code) {

    /** A Failure with {@code code}'s Kubernetes reason ({@code NotFound}, {@code Conflict}, ...). */
    static KubeStatus failure(int code, String message) {
        return new KubeStatus("Status", "v1", Map.of(), "Failure", message, reasonOf(code), code);
    }

    /** Kubernetes' StatusReason for an HTTP code; null (left out) where it has none. */
    static String reasonOf(int code) {
        return switch (code) {
            case 400 -> "BadRequest";
            case 401 -> "Unauthorized";
            case 403 -> "Forbidden";
            case 404 -> "NotFound";
            case 405 -> "MethodNotAllowed";
            case 409 -> "Conflict";
            case 413 -> "RequestEntityTooLarge";
            case 415 -> "UnsupportedMediaType";
            case 429 -> "TooManyRequests";
            case 500 -> "InternalError";
            case 503 -> "ServiceUnavailable";
            case 504 -> "Timeout";
            default -> null;
        };
    }
}
