package io.qvirt.api.client;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apps.ControllerRevision;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.qvirt.api.KubevirtJson;
import io.qvirt.api.instancetype.InstancetypeLookup;
import io.qvirt.api.instancetype.InstancetypeLookupException;
import io.qvirt.api.instancetype.InstancetypeResource;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * Instancetypes, preferences and their ControllerRevisions read from the API server, one GET each, as KubeVirt's
 * virt-api finds them (its admitter and expand-spec pass no informer store: {@code find.NewSpecFinder(nil, ...)}).
 * Every GET is bounded by {@link #PER_GET}, so the VM webhook (10 s timeout, two GETs at most) answers in time; a
 * GET that fails or runs out is an {@link InstancetypeLookupException}, never "not found". virt-api's webhooks and
 * expand-spec use it, and the controller (which KubeVirt gives informer stores; a VM's objects are read when it syncs).
 */
public final class ApiServerInstancetypes implements InstancetypeLookup {
    /** Longest wait for one GET. */
    public static final Duration PER_GET = Duration.ofSeconds(4);
    /** Daemon threads, so a GET that never answers cannot hold the JVM or an admission thread past its bound. */
    private static final ExecutorService GETS = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "instancetype-get");
        t.setDaemon(true);
        return t;
    });

    private final KubernetesClient client;

    public ApiServerInstancetypes(KubernetesClient client) {
        this.client = client;
    }

    @Override
    public Optional<JsonNode> spec(InstancetypeResource resource, String namespace, String name) {
        HasMetadata found = bounded(resource.kind() + " " + name, () -> resource.namespaced()
                ? client.resources(resource.type()).inNamespace(namespace).withName(name).get()
                : client.resources(resource.type()).withName(name).get());
        return found == null ? Optional.empty() : Optional.ofNullable(KubevirtJson.toTree(found).get("spec"));
    }

    @Override
    public Optional<JsonNode> revision(String namespace, String revisionName) {
        ControllerRevision r = bounded("ControllerRevision " + revisionName,
                () -> client.apps().controllerRevisions().inNamespace(namespace).withName(revisionName).get());
        return r == null || r.getData() == null ? Optional.empty() : Optional.of(KubevirtJson.toTree(r.getData()));
    }

    private static <T> T bounded(String what, Supplier<T> get) {
        CompletableFuture<T> f = CompletableFuture.supplyAsync(get, GETS);
        try {
            return f.get(PER_GET.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            f.cancel(true);
            throw new InstancetypeLookupException("no answer from the API server within " + PER_GET.toSeconds()
                    + " s reading " + what, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InstancetypeLookupException("interrupted reading " + what, e);
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            String why = c instanceof KubernetesClientException k ? k.getMessage() : String.valueOf(c);
            throw new InstancetypeLookupException("reading " + what + ": " + why, c);
        }
    }
}
