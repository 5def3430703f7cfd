package io.qvirt.apiserver;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.qvirt.api.KubevirtJson;
import io.qvirt.api.VirtualMachineInstance;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * {@link MigrationLookup} through the API server: each read bounded by {@link #PER_READ}, so the webhook (10 s timeout,
 * two reads) answers in time.
 */
public final class ApiServerMigrations implements MigrationLookup {
    /** Longest wait for one read. */
    public static final Duration PER_READ = Duration.ofSeconds(4);
    /** Daemon threads: a read that never answers holds neither the JVM nor a webhook thread past its bound. */
    private static final ExecutorService READS = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "migration-webhook-read");
        t.setDaemon(true);
        return t;
    });

    private final KubernetesClient client;
    private final Supplier<String> evictionStrategy;

    public ApiServerMigrations(KubernetesClient client) {
        this(client, () -> null);
    }

    /** @param evictionStrategy the KubeVirt CR's {@code configuration.evictionStrategy}, read live (null: none) */
    public ApiServerMigrations(KubernetesClient client, Supplier<String> evictionStrategy) {
        this.client = client;
        this.evictionStrategy = evictionStrategy;
    }

    @Override
    public Optional<JsonNode> pod(String namespace, String name) {
        io.fabric8.kubernetes.api.model.Pod p = bounded("pod " + namespace + "/" + name,
                () -> client.pods().inNamespace(namespace).withName(name).get());
        return p == null ? Optional.empty() : Optional.of(Admission.JSON.valueToTree(p));
    }

    @Override
    public String clusterEvictionStrategy() {
        return evictionStrategy.get();
    }

    @Override
    public void markForEvacuation(String namespace, String vmi, String node, boolean dryRun) {
        if (dryRun) {
            return;
        }
        // KubeVirt's VMI CRD has no status subresource: the object itself is patched.
        bounded("marking VirtualMachineInstance " + namespace + "/" + vmi, () -> client.resources(VirtualMachineInstance.class)
                .inNamespace(namespace).withName(vmi).patch(io.fabric8.kubernetes.client.dsl.base.PatchContext.of(
                        io.fabric8.kubernetes.client.dsl.base.PatchType.JSON_MERGE),
                        "{\"status\":{\"evacuationNodeName\":" + Admission.JSON.valueToTree(node) + "}}"));
    }

    @Override
    public Optional<JsonNode> vmi(String namespace, String name) {
        VirtualMachineInstance v = bounded("VirtualMachineInstance " + namespace + "/" + name,
                () -> client.resources(VirtualMachineInstance.class).inNamespace(namespace).withName(name).get());
        return v == null ? Optional.empty() : Optional.of(KubevirtJson.toTree(v));
    }

    @Override
    public List<JsonNode> migrations(String namespace) {
        List<GenericKubernetesResource> items = bounded("the VirtualMachineInstanceMigrations of " + namespace,
                () -> client.genericKubernetesResources(VmSubresources.MIGRATIONS).inNamespace(namespace).list().getItems());
        return items.stream().map(m -> (JsonNode) Admission.JSON.valueToTree(m)).toList();
    }

    private static <T> T bounded(String what, Supplier<T> read) {
        CompletableFuture<T> f = CompletableFuture.supplyAsync(read, READS);
        try {
            return f.get(PER_READ.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            f.cancel(true);
            throw new MigrationLookupException("no answer from the API server within " + PER_READ.toSeconds() + " s reading " + what, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new MigrationLookupException("interrupted reading " + what, e);
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            String why = c instanceof KubernetesClientException k ? k.getMessage() : String.valueOf(c);
            throw new MigrationLookupException("reading " + what + ": " + why, c);
        }
    }
}
