package io.qvirt.controller;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.qvirt.api.VirtualMachineInstance;
import io.qvirt.api.VirtualMachineInstanceMigration;
import io.qvirt.api.model.ConditionType;
import io.qvirt.api.model.Phase;
import io.qvirt.api.model.PhaseTransition;
import io.qvirt.api.model.VirtualMachineInstanceMigrationSpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * KubeVirt's evacuation controller ({@code pkg/virt-controller/watch/drain/evacuation/}), for the eviction path: a
 * VMI whose {@code status.evacuationNodeName} is its own node (virt-api's eviction webhook set it when the node's
 * drain tried to evict its launcher pod) and whose eviction strategy is {@code LiveMigrate} or
 * {@code LiveMigrateIfPossible} (the VMI's, else the KubeVirt CR's {@code configuration.evictionStrategy}) gets a
 * migration, {@code generateName: kubevirt-evacuation-}, annotated {@value #EVACUATION_ANNOTATION} with the node,
 * priority {@code system-critical}, unless one is in flight already. Once the VMI runs elsewhere
 * ({@code nodeName != evacuationNodeName}) nothing more is done. A failed evacuation is tried again after a back-off
 * (20 s, doubling per failure, at most 5 min), where KubeVirt's migration controller holds it Pending for as long.
 * Keyed by the VMI.
 */
final class EvacuationReconciler implements Reconciler {
    static final String EVACUATION_ANNOTATION = "kubevirt.io/evacuationMigration";
    static final String GENERATE_NAME = "kubevirt-evacuation-";
    static final Duration BACKOFF_BASE = Duration.ofSeconds(20);
    static final Duration BACKOFF_MAX = Duration.ofMinutes(5);

    private final KubernetesClient client;
    private final Caches caches;
    private final Supplier<ClusterConfig> config;
    private final Clock clock;
    private final Events events;
    /** VMI uid -> when an evacuation migration was created for it and not yet seen in the cache. */
    private final Map<String, Instant> expectations = new ConcurrentHashMap<>();

    EvacuationReconciler(KubernetesClient client, Caches caches, Supplier<ClusterConfig> config, Clock clock) {
        this.client = client;
        this.caches = caches;
        this.config = config;
        this.clock = clock;
        this.events = new Events(client, clock);
    }

    /** KubeVirt's VMIMigratableOnEviction: the strategy that asks for a migration when the VMI is evicted. */
    static boolean migratesOnEviction(VirtualMachineInstance vmi, ClusterConfig config) {
        String strategy = vmi.getSpec() == null ? null : vmi.getSpec().getEvictionStrategy();
        if (strategy == null || strategy.isEmpty()) {
            strategy = config.evictionStrategy();
        }
        return "LiveMigrate".equals(strategy) || "LiveMigrateIfPossible".equals(strategy);
    }

    @Override
    public Duration reconcile(String key) {
        VirtualMachineInstance vmi = caches.vmi(key);
        if (vmi == null) {
            return null;
        }
        String uid = vmi.getMetadata().getUid();
        var s = vmi.getStatus();
        String node = s == null ? null : s.getNodeName();
        if (s == null || node == null || node.isEmpty() || !node.equals(s.getEvacuationNodeName())) {
            expectations.remove(uid);
            return null; // not asked to leave, or left already
        }
        if (Objects2.deleting(vmi) || !Phase.RUNNING.equals(VmReconciler.phase(vmi))
                || !migratesOnEviction(vmi, config.get())
                || !Objects2.isTrue(s.getConditions(), ConditionType.LIVE_MIGRATABLE)) {
            return null;
        }
        List<VirtualMachineInstanceMigration> ms = caches.migrationsOf(vmi.getMetadata().getNamespace(),
                vmi.getMetadata().getName());
        if (ms.stream().anyMatch(m -> !MigrationReconciler.isFinal(MigrationReconciler.phase(m)))) {
            expectations.remove(uid);
            return null; // already migrating
        }
        Instant now = clock.instant();
        Instant expected = expectations.get(uid);
        if (expected != null && now.isBefore(expected.plus(VmiReconciler.EXPECTATION_TIMEOUT))) {
            return VmiReconciler.EXPECTATION_TIMEOUT;
        }
        if (activePods(caches.podsOf(uid)) > 1) {
            return Duration.ofSeconds(2); // a previous migration's pods are still going
        }
        Instant retryAt = backoffUntil(ms);
        if (retryAt != null && now.isBefore(retryAt)) {
            return Duration.between(now, retryAt);
        }
        VirtualMachineInstanceMigration m = new VirtualMachineInstanceMigration();
        m.getMetadata().setGenerateName(GENERATE_NAME);
        m.getMetadata().setNamespace(vmi.getMetadata().getNamespace());
        m.getMetadata().setAnnotations(Map.of(EVACUATION_ANNOTATION, node));
        VirtualMachineInstanceMigrationSpec spec = new VirtualMachineInstanceMigrationSpec();
        spec.setVmiName(vmi.getMetadata().getName());
        spec.setPriority("system-critical");
        m.setSpec(spec);
        expectations.put(uid, now);
        VirtualMachineInstanceMigration created;
        try {
            created = client.resources(VirtualMachineInstanceMigration.class).inNamespace(vmi.getMetadata().getNamespace())
                    .resource(m).create();
        } catch (KubernetesClientException e) {
            expectations.remove(uid);
            events.record(vmi, Events.WARNING, VmiReconciler.FAILED_CREATE, "Error creating a Migration: "
                    + Objects.requireNonNullElse(e.getMessage(), e.toString()));
            throw e;
        }
        events.record(vmi, Events.NORMAL, "SuccessfulCreate", "Created Migration " + created.getMetadata().getName());
        return null;
    }

    /** When the next evacuation may start after failed ones (null: no failure to wait for). */
    private static Instant backoffUntil(List<VirtualMachineInstanceMigration> ms) {
        int failures = 0;
        Instant last = null;
        for (VirtualMachineInstanceMigration m : ms) {
            if (m.getMetadata().getAnnotations() == null
                    || !m.getMetadata().getAnnotations().containsKey(EVACUATION_ANNOTATION)
                    || !MigrationReconciler.FAILED.equals(MigrationReconciler.phase(m))) {
                continue;
            }
            failures++;
            List<PhaseTransition> ts = m.getStatus().getPhaseTransitionTimestamps();
            Instant at = ts == null ? null : ts.stream().filter(t -> MigrationReconciler.FAILED.equals(t.getPhase()))
                    .map(t -> Objects2.time(t.getPhaseTransitionTimestamp())).filter(Objects::nonNull)
                    .findFirst().orElse(null);
            if (at != null && (last == null || at.isAfter(last))) {
                last = at;
            }
        }
        if (failures == 0 || last == null) {
            return null;
        }
        Duration wait = BACKOFF_BASE.multipliedBy(1L << Math.min(failures - 1, 10));
        return last.plus(wait.compareTo(BACKOFF_MAX) > 0 ? BACKOFF_MAX : wait);
    }

    /** KubeVirt's VMIActivePodsCount: launcher pods neither ended, nor deleted, nor with their compute container ended. */
    static long activePods(List<Pod> pods) {
        // a pod whose compute container ended holds no VM, even while a containerDisk container still runs
        return pods.stream().filter(p -> !VmiReconciler.podIsDownOrGoingDown(p)).count();
    }
}
