package io.qvirt.handler;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.qvirt.api.MigrationSettings;
import io.qvirt.api.client.KubeVirtCrReader;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.logging.Logger;

/**
 * The KubeVirt CR's setting virt-handler uses, read live as virt-api and virt-controller read theirs:
 * {@code spec.configuration.developerConfiguration.useEmulation} of the first {@code kubevirt.io/v1 KubeVirt} (by
 * namespace/name) in any namespace, from an informer's cache once it has synced, and until then by a LIST at most every
 * 5 s (so the first labelling after start already sees the CR). When no CR says (none, or the field is absent or not a
 * boolean), the {@code --use-emulation} flag's value. If the CR cannot be read, the last value read stays.
 *
 * <p>Lifecycle: {@link #start(Runnable)} once, then {@link #close()}. The informer's callbacks only mark the cache
 * changed and call the change callback, which must not block either (the node agent's {@link NodeAgent#relabel()}
 * only enqueues).
 */
public final class KubeVirtConfig implements BooleanSupplier, AutoCloseable {
    private static final Logger LOG = Logger.getLogger(KubeVirtConfig.class.getName());
    static final ResourceDefinitionContext KUBEVIRT = KubeVirtCrReader.KUBEVIRT;

    private final KubeVirtCrReader cr;
    private final boolean fallback;
    private boolean useEmulation;
    /** The CR's spec.configuration.migrations (KubeVirt's defaults where it says nothing, or says it wrong). */
    private MigrationSettings migrations = MigrationSettings.KUBEVIRT_DEFAULTS;
    /** What the CR said last (null: it did not say), to log only changes. */
    private Boolean said;
    private boolean read;

    /**
     * @param client   the API server (read with the handler's service account: kubevirts get/list/watch)
     * @param fallback the {@code --use-emulation} flag: the value while no KubeVirt CR says
     */
    public KubeVirtConfig(KubernetesClient client, boolean fallback) {
        this.cr = new KubeVirtCrReader(client);
        this.fallback = fallback;
        this.useEmulation = fallback;
    }

    /**
     * Starts watching the CR (not awaited: until the informer has synced, reads list).
     *
     * @param onChange called on the informer's thread after every add, update and delete of a KubeVirt CR;
     *                 precondition: it does not block
     */
    public synchronized void start(Runnable onChange) {
        cr.start(onChange);
    }

    /** KubeVirt's {@code useEmulation}: the CR's when it says, else the flag's. */
    public synchronized boolean useEmulation() {
        refresh();
        return useEmulation;
    }

    /** The CR's live-migration settings ({@code spec.configuration.migrations}), KubeVirt's defaults where it says nothing. */
    public synchronized MigrationSettings migrations() {
        refresh();
        return migrations;
    }

    @Override
    public boolean getAsBoolean() {
        return useEmulation();
    }

    private void refresh() {
        KubeVirtCrReader.Read r;
        try {
            r = cr.poll();
        } catch (RuntimeException e) {
            LOG.fine("KubeVirt CR not read, keeping useEmulation " + useEmulation + ": " + e);
            return;
        }
        if (r == null) {
            return;
        }
        Boolean v = useEmulation(r.spec());
        if (!read || !java.util.Objects.equals(v, said)) {
            LOG.info(v == null ? "no KubeVirt CR says useEmulation: --use-emulation=" + fallback
                    : "KubeVirt CR: useEmulation " + v);
        }
        read = true;
        said = v;
        try {
            MigrationSettings m = MigrationSettings.fromKubeVirtSpec(r.spec());
            if (!m.equals(migrations)) {
                LOG.info("KubeVirt CR: migrations " + m);
            }
            migrations = m;
        } catch (IllegalArgumentException e) {
            LOG.warning("KubeVirt CR: " + e.getMessage() + "; migrations use KubeVirt's defaults");
            migrations = MigrationSettings.KUBEVIRT_DEFAULTS;
        }
        useEmulation = v == null ? fallback : v;
    }

    /**
     * {@code configuration.developerConfiguration.useEmulation} of a KubeVirt CR's {@code spec} (a parsed map), or
     * null when it does not say (no spec, the field absent, or not a boolean).
     */
    static Boolean useEmulation(Object spec) {
        Object v = dig(dig(dig(spec, "configuration"), "developerConfiguration"), "useEmulation");
        return v instanceof Boolean b ? b : null;
    }

    private static Object dig(Object o, String key) {
        return o instanceof Map<?, ?> m ? m.get(key) : null;
    }

    @Override
    public synchronized void close() {
        cr.close();
    }
}
