package io.qvirt.operator;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderCallbacks;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderElectionConfigBuilder;
import io.fabric8.kubernetes.client.extended.leaderelection.resourcelock.LeaseLock;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * virt-operator's runtime: informers on the KubeVirt CRs and on everything it installed (its label), whose callbacks
 * only queue the CRs' keys; one worker that runs {@link KubeVirtReconciler} per key (a key is queued at most once;
 * a failed pass runs again after a growing delay); leader election so that of several replicas one works.
 */
public final class Operator implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(Operator.class.getName());
    private static final Duration RETRY_BASE = Duration.ofMillis(200);
    private static final Duration RETRY_MAX = Duration.ofSeconds(30);

    private final KubernetesClient client;
    private final OperatorOptions options;
    private final KubeVirtReconciler reconciler;
    private final ScheduledExecutorService worker;
    private final Set<String> queued = new LinkedHashSet<>();
    private final java.util.Map<String, Integer> failures = new java.util.HashMap<>();
    /** Key -> System.nanoTime() of its pending delayed run; guarded by {@link #queued}. */
    private final java.util.Map<String, Long> delayed = new java.util.HashMap<>();
    private final List<SharedIndexInformer<?>> informers = new ArrayList<>();
    private final AtomicBoolean leader = new AtomicBoolean();
    private final AtomicInteger passes = new AtomicInteger();
    private SharedIndexInformer<KubeVirt> kubevirts;
    private CompletableFuture<?> election;

    public Operator(KubernetesClient client, OperatorOptions options) {
        this.client = client;
        this.options = options;
        this.reconciler = new KubeVirtReconciler(client, options, Templates.fromClassPath(), Clock.systemUTC());
        this.worker = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "virt-operator-worker");
            t.setDaemon(true);
            return t;
        });
    }

    /** Starts the informers and the worker now (one replica, or tests). Idempotent. */
    public synchronized void start() {
        if (kubevirts != null) {
            return;
        }
        // Assigned before it starts: its first events look for every CR in its store.
        kubevirts = client.resources(KubeVirt.class).inAnyNamespace().runnableInformer(options.resync().toMillis());
        kubevirts.addEventHandler(onAnyEvent());
        kubevirts.exceptionHandler(Operator::retry);
        informers.add(kubevirts);
        kubevirts.start().whenComplete((v, e) -> {
            if (e != null) {
                LOG.warning("cannot watch KubeVirt CRs (is the KubeVirt CRD installed?): " + e.getMessage());
            }
        });
        for (ManagedKind k : ManagedKind.values()) {
            var ops = client.genericKubernetesResources(k.context());
            var labelled = k.namespaced
                    ? ops.inAnyNamespace().withLabel(InstallStrategy.MANAGED_BY_LABEL, InstallStrategy.MANAGED_BY)
                    : ops.withLabel(InstallStrategy.MANAGED_BY_LABEL, InstallStrategy.MANAGED_BY);
            SharedIndexInformer<GenericKubernetesResource> i = labelled.runnableInformer(0);
            i.addEventHandler(onAnyEvent());
            i.exceptionHandler(Operator::retry);
            // A kind the API server does not serve yet (an APIService group before its first install) must not stop the
            // others: the informer keeps retrying on its own.
            i.start().whenComplete((v, e) -> {
                if (e != null) {
                    LOG.info("informer for " + k.kind + " not started yet: " + e.getMessage());
                }
            });
            informers.add(i);
        }
        // Nodes: the handlers' certificate names every Node's InternalIP. Only a new, gone or re-addressed Node matters
        // (status heartbeats do not).
        SharedIndexInformer<Node> nodes = client.nodes().runnableInformer(0);
        nodes.addEventHandler(new ResourceEventHandler<>() {
            @Override
            public void onAdd(Node n) {
                enqueueAll();
            }

            @Override
            public void onUpdate(Node oldNode, Node newNode) {
                if (!java.util.Objects.equals(addresses(oldNode), addresses(newNode))) {
                    enqueueAll();
                }
            }

            @Override
            public void onDelete(Node n, boolean deletedFinalStateUnknown) {
                enqueueAll();
            }
        });
        nodes.exceptionHandler(Operator::retry);
        nodes.start();
        informers.add(nodes);
        LOG.info("virt-operator " + OperatorOptions.VERSION + " working in " + options.namespace() + ", default images "
                + options.defaultRegistry() + " tag " + options.defaultTag());
    }

    /**
     * Competes for the Lease {@code <namespace>/virt-operator}; works while it holds it.
     *
     * @param identity this replica's name in the Lease
     * @param onLost   called once leadership is lost (the process then exits, as client-go's controllers do)
     */
    public void startLeaderElection(String identity, Duration leaseDuration, Runnable onLost) {
        var config = new LeaderElectionConfigBuilder()
                .withName("virt-operator")
                .withLock(new LeaseLock(options.namespace(), "virt-operator", identity))
                .withLeaseDuration(leaseDuration)
                .withRenewDeadline(leaseDuration.multipliedBy(2).dividedBy(3))
                .withRetryPeriod(leaseDuration.dividedBy(5))
                .withReleaseOnCancel(true)
                .withLeaderCallbacks(new LeaderCallbacks(() -> {
                    LOG.info(identity + " became leader");
                    leader.set(true);
                    start();
                }, () -> {
                    LOG.warning(identity + " lost leadership");
                    leader.set(false);
                    onLost.run();
                }, newLeader -> LOG.info("leader is " + newLeader)))
                .build();
        election = client.leaderElector().withConfig(config).build().start();
    }

    private static Object addresses(Node n) {
        return n.getStatus() == null ? null : n.getStatus().getAddresses();
    }

    /**
     * Keeps an informer listing after a failure: fabric8 stops one whose first list fails (API server not reachable
     * yet, an aggregated group not served yet), which would leave the operator deaf for good.
     */
    private static boolean retry(boolean started, Throwable t) {
        LOG.fine("informer retrying after " + t);
        return true;
    }

    public boolean isLeader() {
        return leader.get();
    }

    /** Reconcile passes run so far (each CR key counts once per pass). */
    public int passes() {
        return passes.get();
    }

    private <T> ResourceEventHandler<T> onAnyEvent() {
        return new ResourceEventHandler<>() {
            @Override
            public void onAdd(T obj) {
                enqueueAll();
            }

            @Override
            public void onUpdate(T oldObj, T newObj) {
                enqueueAll();
            }

            @Override
            public void onDelete(T obj, boolean deletedFinalStateUnknown) {
                enqueueAll();
            }
        };
    }

    /** Every KubeVirt CR: an event on any installed object, or on one CR, may concern each (one is active). */
    private void enqueueAll() {
        SharedIndexInformer<KubeVirt> i = kubevirts;
        if (i == null) {
            return;
        }
        for (KubeVirt kv : i.getStore().list()) {
            enqueue(kv.getMetadata().getNamespace() + "/" + kv.getMetadata().getName(), Duration.ZERO);
        }
    }

    /**
     * Queues {@code key} now (at most once until its pass starts), or after {@code delay}: one delayed run per key is
     * pending at a time, the earliest asked for, and it never holds back an immediate one.
     */
    private void enqueue(String key, Duration delay) {
        if (!delay.isZero()) {
            long due = System.nanoTime() + delay.toNanos();
            synchronized (queued) {
                Long pending = delayed.get(key);
                if (pending != null && pending - due <= 0) {
                    return;
                }
                delayed.put(key, due);
            }
            schedule(() -> {
                synchronized (queued) {
                    if (!Long.valueOf(due).equals(delayed.get(key))) {
                        return; // superseded by an earlier one
                    }
                    delayed.remove(key);
                }
                enqueue(key, Duration.ZERO);
            }, delay);
            return;
        }
        synchronized (queued) {
            if (!queued.add(key)) {
                return;
            }
        }
        schedule(() -> run(key), Duration.ZERO);
    }

    private void schedule(Runnable task, Duration delay) {
        try {
            worker.schedule(task, delay.toMillis(), TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // closing
        }
    }

    private void run(String key) {
        synchronized (queued) {
            queued.remove(key);
        }
        String[] nsName = key.split("/", 2);
        passes.incrementAndGet();
        try {
            KubeVirtReconciler.Result r = reconciler.reconcile(nsName[0], nsName[1]);
            failures.remove(key);
            if (r.requeueAfter() != null) {
                enqueue(key, r.requeueAfter());
            }
        } catch (java.security.GeneralSecurityException | RuntimeException e) {
            // Retried after a delay that doubles per failure in a row: an API hiccup costs little, a persistent error
            // does not spin.
            int n = failures.merge(key, 1, Integer::sum);
            long delay = Math.min(RETRY_MAX.toMillis(), RETRY_BASE.toMillis() << Math.min(n - 1, 20));
            String cause = e.getCause() == null ? "" : " (" + e.getCause() + ")";
            if (e instanceof KubernetesClientException || e instanceof java.security.GeneralSecurityException) {
                LOG.log(n > 3 ? Level.WARNING : Level.INFO, "reconcile " + key + " failed (" + n + " in a row, again in "
                        + delay + " ms): " + e.getMessage() + cause);
            } else {
                LOG.log(Level.SEVERE, "reconcile " + key + " failed (" + n + " in a row, again in " + delay + " ms)", e);
            }
            enqueue(key, Duration.ofMillis(delay));
        }
    }

    @Override
    public void close() {
        if (election != null) {
            election.cancel(true); // releases the Lease (withReleaseOnCancel)
        }
        informers.forEach(SharedIndexInformer::close);
        worker.shutdownNow();
        try {
            worker.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
