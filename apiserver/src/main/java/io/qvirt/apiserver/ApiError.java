package io.qvirt.apiserver;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A refusal written as a Kubernetes {@code Status} (kind Status, apiVersion v1), with the messages Kubernetes'
 * {@code k8s.io/apimachinery/pkg/api/errors} constructors make, which KubeVirt's virt-api answers with:
 * {@code Operation cannot be fulfilled on virtualmachine.kubevirt.io "vm": VM is already running} and so on.
 */
public final class ApiError extends RuntimeException {
    private final int code;
    private final String reason;
    private final String kind;
    private final String name;

    public ApiError(int code, String reason, String message, String kind, String name) {
        super(message);
        this.code = code;
        this.reason = reason;
        this.kind = kind;
        this.name = name;
    }

    public int code() {
        return code;
    }

    public String reason() {
        return reason;
    }

    /** {@code errors.NewConflict(v1.Resource(resource), name, err)}. */
    public static ApiError conflict(String resource, String name, String why) {
        return new ApiError(409, "Conflict", "Operation cannot be fulfilled on " + resource + ".kubevirt.io \"" + name
                + "\": " + why, resource, name);
    }

    /** {@code errors.NewNotFound(v1.Resource(resource), name)}. */
    public static ApiError notFound(String resource, String name) {
        return new ApiError(404, "NotFound", resource + ".kubevirt.io \"" + name + "\" not found", resource, name);
    }

    /** {@code errors.NewForbidden(v1.Resource(resource), name, err)}. */
    public static ApiError forbidden(String resource, String name, String why) {
        return new ApiError(403, "Forbidden", resource + ".kubevirt.io \"" + name + "\" is forbidden: " + why, resource, name);
    }

    /** {@code errors.NewBadRequest(msg)}. */
    public static ApiError badRequest(String message) {
        return new ApiError(400, "BadRequest", message, null, null);
    }

    /** {@code errors.NewInternalError(err)}. */
    public static ApiError internal(String why) {
        return new ApiError(500, "InternalError", "Internal error occurred: " + why, null, null);
    }

    public static ApiError of(int code, String reason, String message) {
        return new ApiError(code, reason, message, null, null);
    }

    /** The Status body. */
    public ObjectNode toStatus() {
        ObjectNode s = JsonNodeFactory.instance.objectNode();
        s.put("kind", "Status");
        s.put("apiVersion", "v1");
        s.putObject("metadata");
        s.put("status", "Failure");
        s.put("message", getMessage());
        s.put("reason", reason);
        if (kind != null || name != null) {
            ObjectNode d = s.putObject("details");
            if (name != null) {
                d.put("name", name);
            }
            d.put("group", "kubevirt.io");
            if (kind != null) {
                d.put("kind", kind);
            }
        }
        s.put("code", code);
        return s;
    }
}
