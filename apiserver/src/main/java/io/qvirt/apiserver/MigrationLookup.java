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
