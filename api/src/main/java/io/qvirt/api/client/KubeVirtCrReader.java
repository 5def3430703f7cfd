package io.qvirt.api.client;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Logger;

/**
 * The {@code spec} of the cluster's {@code kubevirt.io/v1 KubeVirt} CR, read live as qvirt's servers read their
 * settings: from an informer's cache once it has synced (no I/O on the caller's path; a change shows as soon as its
 * watch event arrives), and until then (or without an informer) by a LIST at most every 5 s. KubeVirt's webhook allows
 * one CR; should there be more, the first by namespace and name.
 *
 * <p>Lifecycle: {@link #start(Runnable)} once (before it, {@link #poll()} lists), then {@link #close()}. Callers
 * serialise their calls to {@link #poll()}.
 */
public final class KubeVirtCrReader implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(KubeVirtCrReader.class.getName());
    public static final ResourceDefinitionContext KUBEVIRT = new ResourceDefinitionContext.Builder()
            .withGroup("kubevirt.io").withVersion("v1").withPlural("kubevirts").withKind("KubeVirt")
            .withNamespaced(true).build();
    private static final long LIST_EVERY_NANOS = 5_000_000_000L;

    /** What was read: the first CR's {@code spec} as a parsed map, null when there is no CR (or it has none). */
    public record Read(Object spec) {
    }

    private final KubernetesClient client;
    private volatile SharedIndexInformer<GenericKubernetesResource> informer;
    /** Set by the informer's callbacks (which only mark), cleared when a poll reads its cache. */
    private final AtomicBoolean changed = new AtomicBoolean(true);
    private long readAt;

    /** @param client the API server (kubevirts get/list/watch) */
    public KubeVirtCrReader(KubernetesClient client) {
        this.client = client;
    }

    /**
     * Starts the informer (not awaited: until it has synced, {@link #poll()} lists). If it cannot be made, polls
     * keep listing.
     *
     * @param onChange called on the informer's thread after every add, update and delete of a KubeVirt CR;
     *                 precondition: it does not block
     */
    public synchronized void start(Runnable onChange) {
        try {
            SharedIndexInformer<GenericKubernetesResource> inf = client.genericKubernetesResources(KUBEVIRT)
                    .inAnyNamespace().runnableInformer(0);
            inf.addEventHandler(Informers.onEvery(cr -> {
                changed.set(true);
                onChange.run();
            }));
            inf.start();
            informer = inf;
        } catch (RuntimeException e) {
            LOG.warning("no informer on the KubeVirt CR (" + e.getMessage() + "): listing it at most every 5 s");
        }
    }

    /**
     * @return the CR as it is now if it may have changed since the last poll (an informer event, or without a synced
     *         informer 5 s since the last LIST); null when nothing new is known
     * @throws RuntimeException if the LIST failed (the caller keeps what it read last)
     */
    public Read poll() {
        List<GenericKubernetesResource> crs;
        SharedIndexInformer<GenericKubernetesResource> inf = informer;
        if (inf != null && inf.hasSynced()) {
            if (!changed.getAndSet(false)) {
                return null;
            }
            crs = inf.getStore().list();
        } else {
            if (readAt != 0 && System.nanoTime() - readAt < LIST_EVERY_NANOS) {
                return null;
            }
            readAt = System.nanoTime();
            crs = client.genericKubernetesResources(KUBEVIRT).inAnyNamespace().list().getItems();
        }
        GenericKubernetesResource cr = crs.stream().min(Comparator.comparing((GenericKubernetesResource r) ->
                r.getMetadata().getNamespace() + "/" + r.getMetadata().getName())).orElse(null);
        return new Read(cr == null ? null : cr.getAdditionalProperties().get("spec"));
    }

    @Override
    public synchronized void close() {
        if (informer != null) {
            informer.stop();
        }
    }
}
