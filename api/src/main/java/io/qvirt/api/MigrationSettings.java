package io.qvirt.api;

import io.fabric8.kubernetes.api.model.Quantity;
import io.qvirt.api.migrations.MigrationPolicySpec;
import io.qvirt.api.model.MigrationConfiguration;
import java.util.Map;

/**
 * A KubeVirt cluster's live-migration settings, {@code spec.configuration.migrations} of the KubeVirt CR, with
 * KubeVirt's defaults. The one parser of them: virt-controller (the parallel limits) and virt-handler (bandwidth and
 * timeouts of the migration it drives) both read the CR through {@link #fromKubeVirtSpec}.
 *
 * @param parallelMigrationsPerCluster      migrations past Pending at once in the cluster (KubeVirt: 5)
 * @param parallelOutboundMigrationsPerNode migrations past Pending at once out of one node (KubeVirt: 2)
 * @param bandwidthPerMigrationBytes        bytes per second one migration may use; 0 is unlimited (KubeVirt's
 *                                          {@code bandwidthPerMigration}, a quantity such as {@code 64Mi})
 * @param completionTimeoutPerGiB           seconds a migration may take per GiB of guest memory before it is
 *                                          cancelled (KubeVirt: 150)
 * @param progressTimeout                   seconds without progress before a migration is cancelled (KubeVirt: 150)
 * @param allowAutoConverge                 QEMU may throttle a guest that dirties memory faster than it is sent
 *                                          (KubeVirt: false)
 * @param allowPostCopy                     a migration may switch to postcopy (KubeVirt: false)
 * @param allowWorkloadDisruption           at the completion timeout a migration is not cancelled but switched to
 *                                          postcopy (if allowed) or finished with the guest paused (KubeVirt: the
 *                                          value of allowPostCopy when not given)
 */
public record MigrationSettings(int parallelMigrationsPerCluster, int parallelOutboundMigrationsPerNode,
                                long bandwidthPerMigrationBytes, long completionTimeoutPerGiB, long progressTimeout,
                                boolean allowAutoConverge, boolean allowPostCopy, boolean allowWorkloadDisruption) {
    /** KubeVirt's defaults (virtconfig: ParallelMigrationsPerCluster 5, ParallelOutboundMigrationsPerNode 2, ...). */
    public static final MigrationSettings KUBEVIRT_DEFAULTS = new MigrationSettings(5, 2, 0, 150, 150);

    private static final String PREFIX = "spec.configuration.migrations.";

    /** @throws IllegalArgumentException for a limit below 1 or a negative bandwidth or timeout */
    public MigrationSettings {
        if (parallelMigrationsPerCluster < 1) {
            throw new IllegalArgumentException(PREFIX + "parallelMigrationsPerCluster: " + parallelMigrationsPerCluster
                    + " is not allowed: at least 1");
        }
        if (parallelOutboundMigrationsPerNode < 1) {
            throw new IllegalArgumentException(PREFIX + "parallelOutboundMigrationsPerNode: "
                    + parallelOutboundMigrationsPerNode + " is not allowed: at least 1");
        }
        if (bandwidthPerMigrationBytes < 0 || completionTimeoutPerGiB < 0 || progressTimeout < 0) {
            throw new IllegalArgumentException(PREFIX + "bandwidthPerMigration, completionTimeoutPerGiB, progressTimeout:"
                    + " negative values are not allowed");
        }
    }

    /** With KubeVirt's defaults for the rest: no auto-converge, no postcopy, cancelled at the completion timeout. */
    public MigrationSettings(int parallelMigrationsPerCluster, int parallelOutboundMigrationsPerNode,
                             long bandwidthPerMigrationBytes, long completionTimeoutPerGiB, long progressTimeout) {
        this(parallelMigrationsPerCluster, parallelOutboundMigrationsPerNode, bandwidthPerMigrationBytes,
                completionTimeoutPerGiB, progressTimeout, false, false, false);
    }

    /**
     * The migration settings of a KubeVirt CR's {@code spec} (as parsed JSON: maps, numbers, strings; null for no
     * CR), KubeVirt's defaults ({@link #KUBEVIRT_DEFAULTS}) for what it leaves out.
     *
     * @throws IllegalArgumentException naming the field ({@code spec.configuration.migrations.<field>}) and what is
     *                                  allowed
     */
    public static MigrationSettings fromKubeVirtSpec(Object spec) {
        return parse(dig(dig(spec, "configuration"), "migrations"), KUBEVIRT_DEFAULTS, PREFIX);
    }

    /**
     * The settings a migration runs with, as virt-controller wrote them into the VMI's
     * {@code status.migrationState.migrationConfiguration}; {@code fallback}'s for what it leaves out (all of them for
     * null: a migration whose state was written without any).
     *
     * @throws IllegalArgumentException naming the field and what is allowed
     */
    public static MigrationSettings fromConfiguration(MigrationConfiguration c, MigrationSettings fallback) {
        if (c == null) {
            return fallback;
        }
        return parse(KubevirtJson.json().convertValue(c, Map.class), fallback,
                "status.migrationState.migrationConfiguration.");
    }

    /** These settings as KubeVirt's {@code MigrationConfiguration}, every field given. */
    public MigrationConfiguration toConfiguration() {
        MigrationConfiguration c = new MigrationConfiguration();
        c.setParallelMigrationsPerCluster((long) parallelMigrationsPerCluster);
        c.setParallelOutboundMigrationsPerNode((long) parallelOutboundMigrationsPerNode);
        c.setBandwidthPerMigration(new Quantity(Long.toString(bandwidthPerMigrationBytes)));
        c.setCompletionTimeoutPerGiB(completionTimeoutPerGiB);
        c.setProgressTimeout(progressTimeout);
        c.setAllowAutoConverge(allowAutoConverge);
        c.setAllowPostCopy(allowPostCopy);
        c.setAllowWorkloadDisruption(allowWorkloadDisruption);
        return c;
    }

    /**
     * KubeVirt's applyMigrationPolicySpec: these settings with what the policy gives over them; a policy giving
     * allowPostCopy but not allowWorkloadDisruption sets both (KubeVirt's backward compatibility).
     *
     * @throws IllegalArgumentException for a bad value, naming the policy's field ({@code spec.<field>})
     */
    public MigrationSettings applying(MigrationPolicySpec p) {
        long bandwidth = p.getBandwidthPerMigration() == null ? bandwidthPerMigrationBytes
                : bandwidth(Quantities.text(p.getBandwidthPerMigration()), "spec.");
        long completion = p.getCompletionTimeoutPerGiB() != null ? p.getCompletionTimeoutPerGiB() : completionTimeoutPerGiB;
        if (completion < 0 || completion > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("spec.completionTimeoutPerGiB: '" + completion + "' is not allowed: an "
                    + "integer from 0 to " + Integer.MAX_VALUE);
        }
        boolean postCopy = p.getAllowPostCopy() != null ? p.getAllowPostCopy() : allowPostCopy;
        boolean disruption = p.getAllowWorkloadDisruption() != null ? p.getAllowWorkloadDisruption()
                : p.getAllowPostCopy() != null ? p.getAllowPostCopy() : allowWorkloadDisruption;
        boolean autoConverge = p.getAllowAutoConverge() != null ? p.getAllowAutoConverge() : allowAutoConverge;
        return new MigrationSettings(parallelMigrationsPerCluster, parallelOutboundMigrationsPerNode, bandwidth,
                completion, progressTimeout, autoConverge, postCopy, disruption);
    }

    private static MigrationSettings parse(Object m, MigrationSettings d, String prefix) {
        int perCluster = (int) integer(m, "parallelMigrationsPerCluster", d.parallelMigrationsPerCluster(), 1, prefix);
        int perNode = (int) integer(m, "parallelOutboundMigrationsPerNode", d.parallelOutboundMigrationsPerNode(), 1,
                prefix);
        long completion = integer(m, "completionTimeoutPerGiB", d.completionTimeoutPerGiB(), 0, prefix);
        long progress = integer(m, "progressTimeout", d.progressTimeout(), 0, prefix);
        long bandwidth = d.bandwidthPerMigrationBytes();
        Object bw = dig(m, "bandwidthPerMigration");
        if (bw != null) {
            String text = bw instanceof Number n ? n.toString() : bw instanceof String s ? s : null;
            if (text == null) {
                throw new IllegalArgumentException(prefix + "bandwidthPerMigration: '" + Messages.clean(String.valueOf(bw))
                        + "' is not allowed: " + BANDWIDTH_ALLOWED);
            }
            bandwidth = bandwidth(text, prefix);
        }
        boolean autoConverge = bool(m, "allowAutoConverge", d.allowAutoConverge(), prefix);
        boolean postCopy = bool(m, "allowPostCopy", d.allowPostCopy(), prefix);
        // KubeVirt's virtconfig: "for backward compatibility" it follows allowPostCopy when not given
        boolean disruption = bool(m, "allowWorkloadDisruption",
                dig(m, "allowPostCopy") != null ? postCopy : d.allowWorkloadDisruption(), prefix);
        return new MigrationSettings(perCluster, perNode, bandwidth, completion, progress, autoConverge, postCopy,
                disruption);
    }

    private static final String BANDWIDTH_ALLOWED = "a quantity of bytes per second such as 64Mi, 0 for unlimited";

    /**
     * Bytes per second of a {@code bandwidthPerMigration} quantity.
     *
     * @param prefix the field's path up to {@code bandwidthPerMigration}, for the message
     * @throws IllegalArgumentException naming {@code <prefix>bandwidthPerMigration} and what is allowed
     */
    public static long bandwidthPerMigration(String text, String prefix) {
        return bandwidth(text, prefix);
    }

    private static long bandwidth(String text, String prefix) {
        if (!Quantities.inRange(text)) {
            throw new IllegalArgumentException(prefix + "bandwidthPerMigration: '" + Messages.clean(text)
                    + "' is not allowed: " + BANDWIDTH_ALLOWED);
        }
        long bytes = Quantities.bytes(text);
        if (bytes < 0) {
            throw new IllegalArgumentException(prefix + "bandwidthPerMigration: '" + Messages.clean(text)
                    + "' is not allowed: not negative");
        }
        return bytes;
    }

    private static long integer(Object map, String field, long fallback, long min, String prefix) {
        Object v = dig(map, field);
        if (v == null) {
            return fallback;
        }
        if (!(v instanceof Integer || v instanceof Long) || ((Number) v).longValue() < min
                || ((Number) v).longValue() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(prefix + field + ": '" + Messages.clean(String.valueOf(v))
                    + "' is not allowed: an integer from " + min + " to " + Integer.MAX_VALUE);
        }
        return ((Number) v).longValue();
    }

    private static boolean bool(Object map, String field, boolean fallback, String prefix) {
        Object v = dig(map, field);
        if (v == null) {
            return fallback;
        }
        if (!(v instanceof Boolean b)) {
            throw new IllegalArgumentException(prefix + field + ": '" + Messages.clean(String.valueOf(v))
                    + "' is not allowed: true or false");
        }
        return b;
    }

    private static Object dig(Object o, String key) {
        return o instanceof Map<?, ?> m ? m.get(key) : null;
    }
}
