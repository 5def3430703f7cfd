package io.qvirt.controller;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.qvirt.api.model.Condition;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.List;

/** Small helpers over object metadata and conditions, shared by the reconcilers. */
final class Objects2 {
    private Objects2() {
    }

    /** The work-queue key of an object: {@code namespace/name}. */
    static String key(HasMetadata o) {
        return key(o.getMetadata().getNamespace(), o.getMetadata().getName());
    }

    static String key(String namespace, String name) {
        return namespace + "/" + name;
    }

    /** {namespace, name} of a key made by {@link #key}. */
    static String[] split(String key) {
        int i = key.indexOf('/');
        if (i < 0) {
            throw new IllegalArgumentException("not a namespace/name key: " + key);
        }
        return new String[] {key.substring(0, i), key.substring(i + 1)};
    }

    static boolean deleting(HasMetadata o) {
        return o.getMetadata().getDeletionTimestamp() != null && !o.getMetadata().getDeletionTimestamp().isEmpty();
    }

    static boolean hasFinalizer(HasMetadata o, String finalizer) {
        List<String> f = o.getMetadata().getFinalizers();
        return f != null && f.contains(finalizer);
    }

    /** The controller owner reference of {@code o} of the given kind, or null. */
    static OwnerReference controllerOf(HasMetadata o, String kind) {
        List<OwnerReference> refs = o.getMetadata().getOwnerReferences();
        if (refs == null) {
            return null;
        }
        for (OwnerReference r : refs) {
            if (Boolean.TRUE.equals(r.getController()) && kind.equals(r.getKind())) {
                return r;
            }
        }
        return null;
    }

    /** An RFC 3339 time, or null if absent or unreadable. */
    static Instant time(String rfc3339) {
        if (rfc3339 == null || rfc3339.isEmpty()) {
            return null;
        }
        try {
            return Instant.parse(rfc3339);
        } catch (DateTimeParseException e) {
            return null;
        }
    }

    static Condition condition(List<Condition> conditions, String type) {
        if (conditions == null) {
            return null;
        }
        for (Condition c : conditions) {
            if (type.equals(c.getType())) {
                return c;
            }
        }
        return null;
    }

    static boolean isTrue(List<Condition> conditions, String type) {
        Condition c = condition(conditions, type);
        return c != null && "True".equals(c.getStatus());
    }

    static boolean isConflict(KubernetesClientException e) {
        return e.getCode() == 409;
    }

    static boolean isNotFound(KubernetesClientException e) {
        return e.getCode() == 404;
    }
}
