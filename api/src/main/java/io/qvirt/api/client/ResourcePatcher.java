package io.qvirt.api.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.Resource;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.qvirt.api.KubevirtJson;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Patches guarded by the object's resourceVersion, for every qvirt component that writes to the API server:
 * the patch sets {@code metadata.resourceVersion} to the version it was computed from, so the API server
 * refuses it (409) if the object changed since. On a conflict the object is read again from the server (not an
 * informer's cache, which may be the stale side) and the patch is computed afresh from it, up to
 * {@value #ATTEMPTS} times.
 *
 * <p>Callers describe the change as a two-level merge patch (the fields to set; null removes one); it is sent
 * as the equivalent JSON Patch (RFC 6902: {@code add} replaces a member, {@code remove} drops it). Why not the
 * merge patch itself: fabric8's mock API server appends to lists in a merge patch where RFC 7386 (and the real
 * API server) replaces them, so conditions would pile up; a JSON Patch means the same on both.
 */
public final class ResourcePatcher {
    public static final int ATTEMPTS = 5;
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private final KubernetesClient client;

    public ResourcePatcher(KubernetesClient client) {
        this.client = client;
    }

    /**
     * Patches {@code object}'s {@code status} with what {@code desired} computes from the freshest copy.
     *
     * @param desired     from the object, the status fields to write (merge-patch semantics: a null field
     *                    removes it), or null when nothing needs writing
     * @param subresource true to write through the status subresource (VM), false for a plain patch (VMI:
     *                    KubeVirt's VMI CRD has no status subresource)
     * @return the object as the server returned it, or the last read copy if nothing was written; null if
     *         the object is gone
     * @throws PatchConflictException after {@value #ATTEMPTS} conflicts in a row
     */
    public <T extends HasMetadata> T patchStatus(Class<T> type, T object, Function<T, ObjectNode> desired,
                                                 boolean subresource) {
        return patch(type, object, o -> {
            ObjectNode status = desired.apply(o);
            if (status == null) {
                return null;
            }
            ObjectNode patch = NODES.objectNode();
            patch.set("status", status);
            return patch;
        }, subresource);
    }

    /**
     * Sets {@code metadata.finalizers} with {@code finalizer} added or removed.
     *
     * @return the patched object, the unchanged one if there was nothing to do, or null if it is gone
     */
    public <T extends HasMetadata> T finalizer(Class<T> type, T object, String finalizer, boolean present) {
        return patch(type, object, o -> {
            List<String> current = o.getMetadata().getFinalizers() == null ? List.of() : o.getMetadata().getFinalizers();
            if (current.contains(finalizer) == present) {
                return null;
            }
            List<String> next = new ArrayList<>(current);
            if (present) {
                next.add(finalizer);
            } else {
                next.removeIf(finalizer::equals);
            }
            ObjectNode patch = NODES.objectNode();
            patch.putObject("metadata").set("finalizers", KubevirtJson.toTree(next));
            return patch;
        }, false);
    }

    /**
     * The merge-patch loop: compute, guard with resourceVersion, send; on 409 re-read and recompute.
     *
     * @param compute from the freshest copy, a two-level merge patch ({@code {"status": {...}}} or
     *                {@code {"metadata": {...}}}), or null when nothing needs writing
     * @param status  true to send it to the status subresource
     */
    public <T extends HasMetadata> T patch(Class<T> type, T object, Function<T, ObjectNode> compute, boolean status) {
        T current = object;
        for (int attempt = 1; attempt <= ATTEMPTS; attempt++) {
            ObjectNode patch = compute.apply(current);
            if (patch == null) {
                return current;
            }
            ArrayNode ops = toJsonPatch(parts(current, patch), patch);
            ops.insertObject(0).put("op", "replace").put("path", "/metadata/resourceVersion")
                    .put("value", current.getMetadata().getResourceVersion());
            // resource(skeleton), not withName(): fabric8 would GET the object before every patch otherwise; and
            // not resource(current): fabric8 deep-copies the item it is given (a serialize and parse of the
            // whole object, the costliest step of a patch), where only its name and namespace are used.
            Resource<T> r = client.resources(type).inNamespace(current.getMetadata().getNamespace())
                    .resource(skeleton(type, current));
            try {
                String body = KubevirtJson.toJson(ops);
                PatchContext ctx = PatchContext.of(PatchType.JSON);
                return status ? r.subresource("status").patch(ctx, body) : r.patch(ctx, body);
            } catch (KubernetesClientException e) {
                if (e.getCode() == 404) {
                    return null;
                }
                if (e.getCode() != 409) {
                    throw e;
                }
                current = client.resources(type).inNamespace(current.getMetadata().getNamespace())
                        .withName(current.getMetadata().getName()).get();
                if (current == null) {
                    return null;
                }
            }
        }
        throw new PatchConflictException(type.getSimpleName() + " " + object.getMetadata().getNamespace() + "/"
                + object.getMetadata().getName() + ": still conflicting after " + ATTEMPTS + " re-reads");
    }

    /**
     * The top-level parts of {@code object} that {@code patch} touches ({@code status}, {@code metadata}), as JSON:
     * all {@link #toJsonPatch} reads. A whole launcher pod or VMI made into a tree on every patch cost as much as
     * the patch's request.
     */
    private static JsonNode parts(HasMetadata object, ObjectNode patch) {
        ObjectNode out = NODES.objectNode();
        for (var e : patch.properties()) {
            String top = e.getKey();
            Object part;
            try {
                part = object.getClass().getMethod("get" + Character.toUpperCase(top.charAt(0)) + top.substring(1))
                        .invoke(object);
            } catch (ReflectiveOperationException | RuntimeException ex) {
                return KubevirtJson.toTree(object); // no getter of that name: the whole object, as before
            }
            if (part != null) {
                out.set(top, KubevirtJson.toTree(part));
            }
        }
        return out;
    }

    /** An empty {@code type} with only {@code object}'s name and namespace: what fabric8 needs to address it. */
    private static <T extends HasMetadata> T skeleton(Class<T> type, T object) {
        T s;
        try {
            s = type.getDeclaredConstructor().newInstance();
        } catch (ReflectiveOperationException e) {
            return object; // no public no-argument constructor: let fabric8 copy the object
        }
        ObjectMeta m = new ObjectMeta();
        m.setName(object.getMetadata().getName());
        m.setNamespace(object.getMetadata().getNamespace());
        s.setMetadata(m);
        return s;
    }

    /**
     * The JSON Patch that applies the two-level merge patch {@code merge} ({@code {"status": {...}}} or
     * {@code {"metadata": {...}}}) to {@code current}: each second-level field is added (replacing it) or,
     * when null, removed if present.
     */
    public static ArrayNode toJsonPatch(JsonNode current, ObjectNode merge) {
        ArrayNode ops = NODES.arrayNode();
        merge.properties().forEach(top -> {
            JsonNode cur = current.get(top.getKey());
            if (cur == null || cur.isNull()) {
                ObjectNode value = NODES.objectNode();
                top.getValue().properties().forEach(f -> {
                    if (!f.getValue().isNull()) {
                        value.set(f.getKey(), f.getValue());
                    }
                });
                ops.addObject().put("op", "add").put("path", "/" + top.getKey()).set("value", value);
                return;
            }
            top.getValue().properties().forEach(f -> {
                String path = "/" + top.getKey() + "/" + f.getKey().replace("~", "~0").replace("/", "~1");
                if (f.getValue().isNull()) {
                    if (cur.has(f.getKey())) {
                        ops.addObject().put("op", "remove").put("path", path);
                    }
                } else {
                    ops.addObject().put("op", "add").put("path", path).set("value", f.getValue());
                }
            });
        });
        return ops;
    }
}
