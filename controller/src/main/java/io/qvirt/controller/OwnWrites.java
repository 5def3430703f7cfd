package io.qvirt.controller;

import io.fabric8.kubernetes.api.model.HasMetadata;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The resourceVersions this controller's own writes replaced, per object: a cached copy still at one of them is
 * older than what the server holds, and a write computed from it would only fail its resourceVersion guard (409,
 * then a GET). The informer always delivers the newer version (by its watch, or a relist after a dropped watch),
 * so a reconcile that finds its object behind can wait for that event.
 *
 * <p>An entry ends when the cache shows any version not replaced here (ours caught up, or another writer's).
 */
final class OwnWrites {
    private final Map<String, Set<String>> replaced = new ConcurrentHashMap<>();

    /**
     * Records a write of ours.
     *
     * @param id     the object's identity (its uid)
     * @param before the copy the write was computed from
     * @param after  the copy the write returned (or the freshest read); null if the object is gone
     * @return {@code after}
     */
    <T extends HasMetadata> T wrote(String id, T before, T after) {
        if (after == null) {
            replaced.remove(id);
            return null;
        }
        String from = before.getMetadata().getResourceVersion();
        if (from != null && !from.equals(after.getMetadata().getResourceVersion())) {
            replaced.computeIfAbsent(id, k -> ConcurrentHashMap.newKeySet()).add(from);
        }
        return after;
    }

    /** True if {@code cached} is a version one of our writes has replaced. */
    boolean behind(String id, HasMetadata cached) {
        Set<String> r = replaced.get(id);
        if (r == null) {
            return false;
        }
        if (r.contains(cached.getMetadata().getResourceVersion())) {
            return true;
        }
        replaced.remove(id);
        return false;
    }

    /** Forgets an object (it is gone). */
    void forget(String id) {
        replaced.remove(id);
    }
}
