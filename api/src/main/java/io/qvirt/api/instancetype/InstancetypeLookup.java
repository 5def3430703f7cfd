package io.qvirt.api.instancetype;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Optional;

/**
 * Where {@link InstancetypeExpander} finds what a VM references: the API server (virt-api, the controller) or the
 * other documents of a manifest file (the launcher).
 */
@FunctionalInterface
public interface InstancetypeLookup {
    /**
     * The {@code spec} of the named object, as JSON.
     *
     * @param namespace the VM's namespace; ignored for the Cluster kinds
     * @return empty when there is no such object
     * @throws InstancetypeLookupException when the store cannot answer (an API error, a timeout): not "not found"
     */
    Optional<JsonNode> spec(InstancetypeResource resource, String namespace, String name);

    /**
     * The object a ControllerRevision holds (its {@code data}: apiVersion, kind, metadata, spec), for a matcher's
     * {@code revisionName}. By default there are none.
     *
     * @return empty when there is no such revision
     * @throws InstancetypeLookupException when the store cannot answer
     */
    default Optional<JsonNode> revision(String namespace, String revisionName) {
        return Optional.empty();
    }

    /** A lookup that finds nothing. */
    static InstancetypeLookup none() {
        return (resource, namespace, name) -> Optional.empty();
    }
}
