package io.qvirt.api.client;

import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import java.util.function.Consumer;

/** Informer callbacks as qvirt's servers use them: they only hand the object on (to a work queue, a flag). */
public final class Informers {
    private Informers() {
    }

    /**
     * A handler that passes every added, updated (the new copy) and deleted object to {@code each}.
     * Precondition: {@code each} does not block (it runs on the informer's thread).
     */
    public static <T> ResourceEventHandler<T> onEvery(Consumer<T> each) {
        return new ResourceEventHandler<>() {
            @Override
            public void onAdd(T obj) {
                each.accept(obj);
            }

            @Override
            public void onUpdate(T oldObj, T newObj) {
                each.accept(newObj);
            }

            @Override
            public void onDelete(T obj, boolean deletedFinalStateUnknown) {
                each.accept(obj);
            }
        };
    }
}
