package io.qvirt.controller;

import io.qvirt.api.client.PatchConflictException;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.ResourceQuota;
import io.fabric8.kubernetes.api.model.apps.ControllerRevision;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.MixedOperation;
import io.fabric8.kubernetes.client.dsl.Resource;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderCallbacks;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderElectionConfigBuilder;
import io.fabric8.kubernetes.client.extended.leaderelection.resourcelock.LeaseLock;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.kubernetes.api.model.KubernetesResourceList;
import io.qvirt.api.VirtualMachine;
import io.qvirt.api.VirtualMachineInstance;
import io.qvirt.api.VirtualMachineInstanceMigration;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * virt-controller: informers on VMs, VMIs, launcher pods, migrations and the KubeVirt CR; rate-limited work queues
 * (VM, VMI, migration, evacuation) fed only by the informers' callbacks; worker threads running {@link VmReconciler},
 * {@link VmiReconciler}, {@link MigrationReconciler} and {@link EvacuationReconciler}. With leader election, the informers run everywhere (a warm cache for a fast
 * take-over) but workers, the only writers, run only on the leader.
 *
 * <p>Every key comes back until its reconcile succeeds: a failed reconcile (whatever it throws) is queued
 * again with a per-key back-off capped at {@link ControllerOptions#retryMax()}. As a safety net for anything
 * that still slips through (a write that failed ambiguously, a bug), the VM and VMI informers re-deliver
 * their whole cache every {@link ControllerOptions#resync()}: each object is reconciled again from the cache,
 * which writes nothing when nothing differs.
 *
 * <p>Lifecycle: {@link #start(Duration)} once, then {@link #close()}.
 */
public final class Controller implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(Controller.class.getName());

    private final KubernetesClient client;
    private final ControllerOptions options;
    private final Metrics metrics;
    private final Clock clock;
    private final WorkQueue vmQueue;
    private final WorkQueue vmiQueue;
    private final WorkQueue migrationQueue;
    private final WorkQueue evacuationQueue;
    private final List<SharedIndexInformer<?>> informers = new ArrayList<>();
    private final AtomicBoolean workersRunning = new AtomicBoolean();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final AtomicBoolean leader = new AtomicBoolean();
    private SharedIndexInformer<KubeVirt> kubevirtInformer;
    private ExecutorService workers;
    private CompletableFuture<?> election;
    private Caches caches;

    public Controller(KubernetesClient client, ControllerOptions options, Metrics metrics) {
        this(client, options, metrics, Clock.systemUTC());
    }

    Controller(KubernetesClient client, ControllerOptions options, Metrics metrics, Clock clock) {
        // fabric8 parses an object of a kind it has no class for into a GenericKubernetesResource and then
        // converts that to the informer's type: two passes over every VM and VMI watch event (a third of the
        // informers' CPU). Registered, they are parsed straight into qvirt's classes.
        client.getKubernetesSerialization().registerKubernetesResource(VirtualMachine.class);
        client.getKubernetesSerialization().registerKubernetesResource(VirtualMachineInstance.class);
        client.getKubernetesSerialization().registerKubernetesResource(KubeVirt.class);
        client.getKubernetesSerialization().registerKubernetesResource(VirtualMachineInstanceMigration.class);
        this.client = client;
        this.options = options;
        this.metrics = metrics;
        this.clock = clock;
        this.vmQueue = new WorkQueue("vm", options.retryBase(), options.retryMax());
        this.vmiQueue = new WorkQueue("vmi", options.retryBase(), options.retryMax());
        this.migrationQueue = new WorkQueue("migration", options.retryBase(), options.retryMax());
        this.evacuationQueue = new WorkQueue("evacuation", options.retryBase(), options.retryMax());
        metrics.queue("vm", vmQueue::depth);
        metrics.queue("vmi", vmiQueue::depth);
        metrics.queue("migration", migrationQueue::depth);
        metrics.queue("evacuation", evacuationQueue::depth);
    }

    /**
     * Starts the informers, waits for their first list, and starts the workers (at once, or when this
     * instance becomes leader if {@link #startLeaderElection} is called instead of passing
     * {@code runWorkers}).
     *
     * @param syncTimeout how long to wait for the caches to fill
     * @throws TimeoutException if they did not fill in time
     * @throws StartupException  if an informer's first list failed
     */
    public void start(Duration syncTimeout, boolean runWorkers)
            throws TimeoutException, InterruptedException, StartupException {
        SharedIndexInformer<VirtualMachine> vms = scoped(client.resources(VirtualMachine.class))
                .runnableInformer(options.resync().toMillis());
        vms.addEventHandler(handler(vm -> vmQueue.add(Objects2.key(vm))));
        SharedIndexInformer<VirtualMachineInstance> vmis = scoped(client.resources(VirtualMachineInstance.class))
                .runnableInformer(options.resync().toMillis());
        vmis.addEventHandler(handler(vmi -> {
            vmiQueue.add(Objects2.key(vmi));
            OwnerReference owner = Objects2.controllerOf(vmi, VirtualMachine.KIND);
            if (owner != null) {
                vmQueue.add(Objects2.key(vmi.getMetadata().getNamespace(), owner.getName()));
            }
            // the migrations moving it follow its migrationState; a VMI asked to leave its node is evacuated
            caches.migrationsOf(vmi.getMetadata().getNamespace(), vmi.getMetadata().getName())
                    .forEach(m -> migrationQueue.add(Objects2.key(m)));
            if (vmi.getStatus() != null && vmi.getStatus().getEvacuationNodeName() != null) {
                evacuationQueue.add(Objects2.key(vmi));
            }
        }));
        // KubeVirt's migration controller: migrations by the VMI they move and by uid (their target pods name it)
        SharedIndexInformer<VirtualMachineInstanceMigration> migrations =
                scoped(client.resources(VirtualMachineInstanceMigration.class)).runnableInformer(options.resync().toMillis());
        migrations.addIndexers(Map.of(
                Caches.BY_VMI, m -> m.getSpec() == null || m.getSpec().getVmiName() == null ? List.of()
                        : List.of(m.getMetadata().getNamespace() + "/" + m.getSpec().getVmiName()),
                Caches.BY_UID, m -> m.getMetadata().getUid() == null ? List.of() : List.of(m.getMetadata().getUid())));
        migrations.addEventHandler(handler(m -> {
            migrationQueue.add(Objects2.key(m));
            if (m.getSpec() != null && m.getSpec().getVmiName() != null) {
                // an evacuation ended (or began): the VMI may need another one
                evacuationQueue.add(Objects2.key(m.getMetadata().getNamespace(), m.getSpec().getVmiName()));
            }
        }));
        // KubeVirt's "pvc" index: a claim's events bring back the VMs and VMIs naming it (ErrorPvcNotFound, then the
        // pod once it exists; WaitingForVolumeBinding until it is Bound).
        vms.addIndexers(Map.of(Caches.BY_CLAIM, vm -> vm.getSpec() == null || vm.getSpec().getTemplate() == null ? List.of()
                : claimKeys(vm.getMetadata().getNamespace(), vm.getSpec().getTemplate().getSpec())));
        vmis.addIndexers(Map.of(Caches.BY_CLAIM, vmi -> claimKeys(vmi.getMetadata().getNamespace(), vmi.getSpec())));
        var claimOps = options.namespace() == null ? client.persistentVolumeClaims().inAnyNamespace()
                : client.persistentVolumeClaims().inNamespace(options.namespace());
        SharedIndexInformer<PersistentVolumeClaim> claims = claimOps.runnableInformer(0);
        claims.addEventHandler(handler(pvc -> {
            String ns = pvc.getMetadata().getNamespace();
            caches.vmisNaming(ns, pvc.getMetadata().getName()).forEach(vmiQueue::add);
            caches.vmsNaming(ns, pvc.getMetadata().getName()).forEach(vmQueue::add);
        }));
        var podOps = options.namespace() == null ? client.pods().inAnyNamespace()
                : client.pods().inNamespace(options.namespace());
        SharedIndexInformer<Pod> pods = podOps.withLabel(LauncherPods.APP_LABEL, LauncherPods.APP_LAUNCHER)
                .runnableInformer(0);
        pods.addIndexers(Map.of(Caches.BY_CREATOR, p -> {
            String uid = p.getMetadata().getLabels() == null ? null
                    : p.getMetadata().getLabels().get(LauncherPods.CREATED_BY_LABEL);
            return uid == null ? List.of() : List.of(uid);
        }, Caches.BY_MIGRATION, p -> {
            String uid = p.getMetadata().getLabels() == null ? null
                    : p.getMetadata().getLabels().get(MigrationReconciler.JOB_LABEL);
            return uid == null ? List.of() : List.of(uid);
        }));
        pods.addEventHandler(handler(p -> {
            OwnerReference owner = Objects2.controllerOf(p, VirtualMachineInstance.KIND);
            if (owner != null) {
                vmiQueue.add(Objects2.key(p.getMetadata().getNamespace(), owner.getName()));
            }
            String job = p.getMetadata().getLabels() == null ? null
                    : p.getMetadata().getLabels().get(MigrationReconciler.JOB_LABEL);
            VirtualMachineInstanceMigration m = job == null ? null : caches.migrationByUid(job);
            if (m != null) {
                migrationQueue.add(Objects2.key(m));
            }
        }));
        // The VMs' start revisions (KubeVirt's ControllerRevisions "revision-start-vm-<uid>-<generation>"),
        // indexed by their controller VM's uid; nothing to enqueue on their events.
        var revisionOps = options.namespace() == null ? client.apps().controllerRevisions().inAnyNamespace()
                : client.apps().controllerRevisions().inNamespace(options.namespace());
        SharedIndexInformer<ControllerRevision> revisions = revisionOps.runnableInformer(0);
        revisions.addIndexers(Map.of(Caches.BY_OWNER, r -> {
            OwnerReference owner = Objects2.controllerOf(r, VirtualMachine.KIND);
            return owner == null || owner.getUid() == null ? List.of() : List.of(owner.getUid());
        }));
        // KubeVirt's automatic limits: a namespace whose ResourceQuota sets limits.memory or limits.cpu gets them on
        // its launcher pods (the ratio from the namespace's label). Nothing to enqueue on their events: they apply
        // to the pods made after.
        var quotaOps = options.namespace() == null ? client.resourceQuotas().inAnyNamespace()
                : client.resourceQuotas().inNamespace(options.namespace());
        SharedIndexInformer<ResourceQuota> quotas = quotaOps.runnableInformer(0);
        SharedIndexInformer<Namespace> namespaces = options.namespace() == null
                ? client.namespaces().runnableInformer(0)
                : client.namespaces().withField("metadata.name", options.namespace()).runnableInformer(0);
        caches = new Caches(vms.getIndexer(), vmis.getIndexer(), pods.getIndexer(), revisions.getIndexer(),
                quotas.getIndexer(), namespaces.getIndexer(), claims.getIndexer());
        caches.migrations(migrations.getIndexer());
        informers.add(migrations);
        // KubeVirt's MigrationPolicies (cluster-scoped): read when a migration starts; nothing to enqueue on their events
        SharedIndexInformer<io.qvirt.api.migrations.MigrationPolicy> policies =
                client.resources(io.qvirt.api.migrations.MigrationPolicy.class).runnableInformer(0);
        caches.migrationPolicies(policies.getIndexer());
        informers.add(policies);
        informers.add(claims);
        informers.add(quotas);
        informers.add(namespaces);
        informers.add(vms);
        informers.add(vmis);
        informers.add(pods);
        informers.add(revisions);
        List<CompletableFuture<Void>> started = new ArrayList<>();
        for (SharedIndexInformer<?> i : informers) {
            started.add(i.start().toCompletableFuture());
        }
        // The KubeVirt CR is optional (no CRD, no CR: the flags' defaults), so it never holds up the start.
        kubevirtInformer = client.resources(KubeVirt.class).inNamespace(options.kubevirtNamespace()).runnableInformer(0);
        // Its feature gates and network settings decide which VMs are valid: each VM is looked at again on a change.
        kubevirtInformer.addEventHandler(handler(cr -> {
            if (caches != null) {
                caches.allVmKeys().forEach(vmQueue::add);
                // the migration limits and the default eviction strategy may have changed
                pendingMigrationsAgain();
                caches.allVmiKeys().forEach(evacuationQueue::add);
            }
        }));
        kubevirtInformer.start().whenComplete((v, e) -> {
            if (e != null) {
                LOG.info("no KubeVirt CR readable in " + options.kubevirtNamespace() + " (" + e.getMessage()
                        + "): using the flags' defaults");
            }
        });
        try {
            CompletableFuture.allOf(started.toArray(CompletableFuture[]::new))
                    .get(syncTimeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            Throwable c = e.getCause() instanceof java.util.concurrent.CompletionException ce && ce.getCause() != null
                    ? ce.getCause() : e.getCause();
            throw new StartupException("informers failed to list: " + c, c);
        }
        if (runWorkers) {
            startWorkers();
        }
    }

    /**
     * Competes for the Lease {@code <kubevirtNamespace>/virt-controller}; workers run while this instance
     * holds it. Call after {@link #start(Duration, boolean)} with {@code runWorkers} false.
     *
     * @param identity this instance's name in the Lease
     * @param onLost   called when leadership is lost (the process should exit and be restarted)
     */
    public void startLeaderElection(String identity, Duration leaseDuration, Runnable onLost) {
        LeaseLock lock = new LeaseLock(options.kubevirtNamespace(), "virt-controller", identity);
        var config = new LeaderElectionConfigBuilder()
                .withName("virt-controller")
                .withLock(lock)
                .withLeaseDuration(leaseDuration)
                .withRenewDeadline(leaseDuration.multipliedBy(2).dividedBy(3))
                .withRetryPeriod(leaseDuration.dividedBy(5))
                .withReleaseOnCancel(true)
                .withLeaderCallbacks(new LeaderCallbacks(() -> {
                    LOG.info(identity + " became leader");
                    leader.set(true);
                    startWorkers();
                }, () -> {
                    LOG.warning(identity + " lost leadership");
                    leader.set(false);
                    stopWorkers();
                    onLost.run();
                }, newLeader -> LOG.info("leader is " + newLeader)))
                .build();
        election = client.leaderElector().withConfig(config).build().start();
    }

    /** True while workers run (always without election; with it, while leader). */
    public boolean isActive() {
        return workersRunning.get();
    }

    /** The informers' caches (tests wait on them); null before {@link #start}. */
    Caches caches() {
        return caches;
    }

    /** True once the informers have listed and are watching. */
    public boolean isHealthy() {
        return !closed.get() && !informers.isEmpty() && informers.stream().allMatch(i -> i.hasSynced() && i.isRunning());
    }

    /** The cluster settings in effect now: the flags' defaults overlaid with the KubeVirt CR, if any. */
    public ClusterConfig clusterConfig() {
        if (kubevirtInformer == null) {
            return options.defaults();
        }
        List<KubeVirt> crs = kubevirtInformer.getStore().list();
        return crs.isEmpty() ? options.defaults() : options.defaults().with(crs.get(0));
    }

    private synchronized void startWorkers() {
        if (closed.get() || !workersRunning.compareAndSet(false, true)) {
            return;
        }
        VmReconciler vm = new VmReconciler(client, caches, this::clusterConfig, options, clock);
        VmiReconciler vmi = new VmiReconciler(client, caches, this::clusterConfig, clock);
        MigrationReconciler migration = new MigrationReconciler(client, caches, this::clusterConfig, clock,
                this::pendingMigrationsAgain);
        EvacuationReconciler evacuation = new EvacuationReconciler(client, caches, this::clusterConfig, clock);
        workers = Executors.newFixedThreadPool(options.workers() * 4, r -> {
            Thread t = new Thread(r);
            t.setDaemon(true);
            return t;
        });
        for (int i = 0; i < options.workers(); i++) {
            workers.submit(() -> work(vmQueue, "vm", vm));
            workers.submit(() -> work(vmiQueue, "vmi", vmi));
            workers.submit(() -> work(migrationQueue, "migration", migration));
            workers.submit(() -> work(evacuationQueue, "evacuation", evacuation));
        }
        // Whatever the caches hold now is work: nothing may have changed since they were filled.
        caches.allVmKeys().forEach(vmQueue::add);
        caches.allVmiKeys().forEach(vmiQueue::add);
        caches.allVmiKeys().forEach(evacuationQueue::add);
        caches.allMigrationKeys().forEach(migrationQueue::add);
    }

    /** KubeVirt's reEnqueueHighestPriorityPendingMigrations: a migration ended, so a slot may be free. */
    private void pendingMigrationsAgain() {
        caches.allMigrations().stream().filter(m -> MigrationReconciler.PENDING.equals(MigrationReconciler.phase(m)))
                .forEach(m -> migrationQueue.add(Objects2.key(m)));
    }

    /** Lets each worker finish the reconcile it is in (up to 5 s), then interrupts what is left. */
    private synchronized void stopWorkers() {
        if (!workersRunning.compareAndSet(true, false)) {
            return;
        }
        workers.shutdown();
        try {
            if (!workers.awaitTermination(5, TimeUnit.SECONDS)) {
                workers.shutdownNow();
            }
        } catch (InterruptedException e) {
            workers.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }

    private void work(WorkQueue queue, String kind, Reconciler reconciler) {
        Thread.currentThread().setName("qvirt-" + kind + "-worker");
        while (workersRunning.get() && !Thread.currentThread().isInterrupted()) {
            String key;
            try {
                key = queue.take(Duration.ofSeconds(1));
            } catch (InterruptedException e) {
                return;
            }
            if (key != null) {
                process(queue, kind, reconciler, key, metrics);
            }
        }
    }

    /**
     * One reconcile of {@code key} taken from {@code queue}. Whatever the reconcile throws, the key is queued
     * again with the queue's back-off and the calling worker lives on: an {@link Error} (a stack overflow, an
     * assertion, a class that failed to initialise) or a checked exception smuggled out of a library is no
     * reason to drop the key, and a worker thread that died silently (its task's future is never read) would
     * leave the queue with one worker fewer for the rest of the process' life.
     */
    static void process(WorkQueue queue, String kind, Reconciler reconciler, String key, Metrics metrics) {
        long t0 = System.nanoTime();
        String outcome = "success";
        try {
            Duration again = reconciler.reconcile(key);
            queue.forget(key);
            if (again != null) {
                queue.addAfter(key, again);
            }
        } catch (PatchConflictException e) {
            outcome = "conflict";
            LOG.fine(kind + " " + key + ": " + e.getMessage());
            queue.addRateLimited(key);
        } catch (Throwable e) { // NOPMD: see above; the key must come back whatever went wrong
            outcome = "error";
            LOG.log(Level.WARNING, kind + " " + key + ": reconcile failed, will retry", e);
            queue.addRateLimited(key);
        } finally {
            queue.done(key);
            metrics.reconciled(kind, outcome, System.nanoTime() - t0);
        }
    }

    private static List<String> claimKeys(String namespace, io.qvirt.api.model.VirtualMachineInstanceSpec spec) {
        return VolumeClaims.claimVolumes(spec).stream().map(v -> namespace + "/" + VolumeClaims.claimName(v))
                .distinct().toList();
    }

    private <T extends HasMetadata, L extends KubernetesResourceList<T>> io.fabric8.kubernetes.client.dsl.Informable<T>
            scoped(MixedOperation<T, L, Resource<T>> op) {
        return options.namespace() == null ? op.inAnyNamespace() : op.inNamespace(options.namespace());
    }

    private static <T> ResourceEventHandler<T> handler(Consumer<T> enqueue) {
        return io.qvirt.api.client.Informers.onEvery(enqueue);
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        if (election != null) {
            election.cancel(true); // releases the Lease (withReleaseOnCancel)
        }
        stopWorkers();
        vmQueue.close();
        vmiQueue.close();
        migrationQueue.close();
        evacuationQueue.close();
        informers.forEach(SharedIndexInformer::stop);
        if (kubevirtInformer != null) {
            kubevirtInformer.stop();
        }
    }
}
