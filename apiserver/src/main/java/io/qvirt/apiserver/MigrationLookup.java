package io.qvirt.apiserver;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Optional;

/**
 * What the migration webhook reads from the API server: the VMI a migration names, and the namespace's migrations (to
 * refuse a second one in flight). A read that fails or runs out throws {@link MigrationLookupException}, never "none".
 */
public interface MigrationLookup {
    /** The VMI {@code namespace/name} as JSON, empty when it does not exist. */
    Optional<JsonNode> vmi(String namespace, String name);

    /** Every VirtualMachineInstanceMigration of {@code namespace}, as JSON. */
    List<JsonNode> migrations(String namespace);

    /** The pod {@code namespace/name} as JSON, empty when it does not exist (the eviction webhook). */
    default Optional<JsonNode> pod(String namespace, String name) {
        throw new MigrationLookupException("no API server to read the pod from", null);
    }

    /** The KubeVirt CR's {@code spec.configuration.evictionStrategy}, null when it sets none. */
    default String clusterEvictionStrategy() {
        return null;
    }

    /**
     * Sets the VMI's {@code status.evacuationNodeName} (KubeVirt's mark: the controller migrates it off {@code node});
     * nothing is written on a dry run.
     */
    default void markForEvacuation(String namespace, String vmi, String node, boolean dryRun) {
        throw new MigrationLookupException("no API server to mark the VMI in", null);
    }

    /** Thrown when the API server cannot be read in time. */
    final class MigrationLookupException extends RuntimeException {
        public MigrationLookupException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** No API server: every read fails (webhooks built without one, e.g. the fuzz test). */
    static MigrationLookup none() {
        return new MigrationLookup() {
            @Override
            public Optional<JsonNode> vmi(String namespace, String name) {
                throw new MigrationLookupException("no API server to read the VMI from", null);
            }

            @Override
            public List<JsonNode> migrations(String namespace) {
                throw new MigrationLookupException("no API server to read the migrations from", null);
            }
        };
    }
}
