package io.qvirt.controller;

import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.ResourceQuota;
import io.fabric8.kubernetes.api.model.apps.ControllerRevision;
import io.fabric8.kubernetes.client.informers.cache.Indexer;
import io.fabric8.kubernetes.client.informers.cache.Lister;
import io.qvirt.api.VirtualMachine;
import io.qvirt.api.VirtualMachineInstance;
import io.qvirt.api.VirtualMachineInstanceMigration;
import java.util.List;

/**
 * The informers' caches the reconcilers read (never the API server, except to re-read after a conflict).
 * Pods are indexed by their {@code kubevirt.io/created-by} label, the VMI's uid.
 */
final class Caches {
    static final String BY_CREATOR = "createdBy";
    static final String BY_OWNER = "ownerUid";
    /** VMs and VMIs by the claims their volumes name, as {@code <namespace>/<claim>}. */
    static final String BY_CLAIM = "claim";
    /** Migrations by the VMI they move ({@code <namespace>/<vmi>}); migrations by uid; target pods by migration uid. */
    static final String BY_VMI = "vmi";
    static final String BY_UID = "uid";
    static final String BY_MIGRATION = "migrationJob";

    private final Indexer<VirtualMachine> vms;
    private final Indexer<VirtualMachineInstance> vmis;
    private final Indexer<Pod> pods;
    private final Indexer<ControllerRevision> revisions;
    private final Indexer<ResourceQuota> quotas;
    private final Indexer<Namespace> namespaces;
    private final Indexer<PersistentVolumeClaim> claims;
    private volatile Indexer<VirtualMachineInstanceMigration> migrations;
    private volatile Indexer<io.qvirt.api.migrations.MigrationPolicy> migrationPolicies;

    Caches(Indexer<VirtualMachine> vms, Indexer<VirtualMachineInstance> vmis, Indexer<Pod> pods,
           Indexer<ControllerRevision> revisions) {
        this(vms, vmis, pods, revisions, null, null);
    }

    /**
     * @param quotas     ResourceQuotas, for KubeVirt's automatic limits; null: none are known
     * @param namespaces Namespaces (their auto-limit ratio label); null: none are known
     */
    Caches(Indexer<VirtualMachine> vms, Indexer<VirtualMachineInstance> vmis, Indexer<Pod> pods,
           Indexer<ControllerRevision> revisions, Indexer<ResourceQuota> quotas, Indexer<Namespace> namespaces) {
        this(vms, vmis, pods, revisions, quotas, namespaces, null);
    }

    /** @param claims PersistentVolumeClaims; null: none are known (every claim is missing) */
    Caches(Indexer<VirtualMachine> vms, Indexer<VirtualMachineInstance> vmis, Indexer<Pod> pods,
           Indexer<ControllerRevision> revisions, Indexer<ResourceQuota> quotas, Indexer<Namespace> namespaces,
           Indexer<PersistentVolumeClaim> claims) {
        this.claims = claims;
        this.vms = vms;
        this.vmis = vmis;
        this.pods = pods;
        this.revisions = revisions;
        this.quotas = quotas;
        this.namespaces = namespaces;
    }

    /** Sets the migrations' cache (indexed {@link #BY_VMI} and {@link #BY_UID}). */
    void migrations(Indexer<VirtualMachineInstanceMigration> migrations) {
        this.migrations = migrations;
    }

    void migrationPolicies(Indexer<io.qvirt.api.migrations.MigrationPolicy> policies) {
        this.migrationPolicies = policies;
    }

    /** Every MigrationPolicy (cluster-scoped); none when no informer is set. */
    List<io.qvirt.api.migrations.MigrationPolicy> migrationPolicies() {
        var p = migrationPolicies;
        return p == null ? List.of() : p.list();
    }

    VirtualMachineInstanceMigration migration(String key) {
        if (migrations == null) {
            return null;
        }
        String[] nn = Objects2.split(key);
        return new Lister<>(migrations).namespace(nn[0]).get(nn[1]);
    }

    VirtualMachineInstanceMigration migrationByUid(String uid) {
        if (migrations == null) {
            return null;
        }
        List<VirtualMachineInstanceMigration> l = migrations.byIndex(BY_UID, uid);
        return l.isEmpty() ? null : l.get(0);
    }

    /** The migrations naming the VMI {@code namespace/vmi}. */
    List<VirtualMachineInstanceMigration> migrationsOf(String namespace, String vmi) {
        return migrations == null ? List.of() : migrations.byIndex(BY_VMI, namespace + "/" + vmi);
    }

    List<VirtualMachineInstanceMigration> allMigrations() {
        return migrations == null ? List.of() : migrations.list();
    }

    List<String> allMigrationKeys() {
        return allMigrations().stream().map(Objects2::key).toList();
    }

    /** Target launcher pods of the migration with this uid (label kubevirt.io/migrationJobUID). */
    List<Pod> targetPodsOf(String migrationUid) {
        return pods.getIndexers().containsKey(BY_MIGRATION) ? pods.byIndex(BY_MIGRATION, migrationUid) : List.of();
    }

    /** Whether a ResourceQuota of {@code namespace} sets a hard {@code limits.<resource>}. */
    boolean quotaLimits(String namespace, String resource) {
        return quotas != null && new Lister<>(quotas).namespace(namespace).list().stream()
                .anyMatch(q -> q.getSpec() != null && q.getSpec().getHard() != null
                        && q.getSpec().getHard().containsKey("limits." + resource));
    }

    /** The namespace's labels, empty when unknown. */
    java.util.Map<String, String> namespaceLabels(String namespace) {
        Namespace n = namespaces == null ? null : new Lister<>(namespaces).get(namespace);
        return n == null || n.getMetadata().getLabels() == null ? java.util.Map.of() : n.getMetadata().getLabels();
    }

    /** The claim {@code namespace/name}, or null if the cache does not hold it. */
    PersistentVolumeClaim pvc(String namespace, String name) {
        return claims == null ? null : new Lister<>(claims).namespace(namespace).get(name);
    }

    /** Keys of the VMs whose template names the claim {@code namespace/name}. */
    List<String> vmsNaming(String namespace, String claim) {
        return vms.getIndexers().containsKey(BY_CLAIM)
                ? vms.byIndex(BY_CLAIM, namespace + "/" + claim).stream().map(Objects2::key).toList() : List.of();
    }

    /** Keys of the VMIs whose volumes name the claim {@code namespace/name}. */
    List<String> vmisNaming(String namespace, String claim) {
        return vmis.getIndexers().containsKey(BY_CLAIM)
                ? vmis.byIndex(BY_CLAIM, namespace + "/" + claim).stream().map(Objects2::key).toList() : List.of();
    }

    /** ControllerRevisions whose controller owner is the VM with this uid. */
    List<ControllerRevision> revisionsOf(String vmUid) {
        return revisions.byIndex(BY_OWNER, vmUid);
    }

    VirtualMachine vm(String key) {
        String[] nn = Objects2.split(key);
        return new Lister<>(vms).namespace(nn[0]).get(nn[1]);
    }

    VirtualMachineInstance vmi(String key) {
        String[] nn = Objects2.split(key);
        return new Lister<>(vmis).namespace(nn[0]).get(nn[1]);
    }

    /** Launcher pods created for the VMI with this uid. */
    List<Pod> podsOf(String vmiUid) {
        return pods.byIndex(BY_CREATOR, vmiUid);
    }

    List<String> allVmKeys() {
        return vms.list().stream().map(Objects2::key).toList();
    }

    List<String> allVmiKeys() {
        return vmis.list().stream().map(Objects2::key).toList();
    }
}
