package io.qvirt.api.instancetype;

import com.fasterxml.jackson.databind.JsonNode;
import io.qvirt.api.FieldError;
import io.qvirt.api.KubevirtJson;
import io.qvirt.api.LoadedManifest;
import io.qvirt.api.ManifestException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The instancetypes and preferences of one manifest file, as an {@link InstancetypeLookup}: what a
 * VirtualMachine of the same file may name (the launcher has no API server to find them in). A namespaced
 * object is found in its namespace ({@code default} when left out, as for the VM); a Cluster one by name alone.
 * There are no ControllerRevisions.
 */
public final class ManifestInstancetypes implements InstancetypeLookup {
    private final Map<String, JsonNode> specs;

    private ManifestInstancetypes(Map<String, JsonNode> specs) {
        this.specs = specs;
    }

    /**
     * The instancetype and preference documents of {@code docs} (the others are skipped).
     *
     * @throws ManifestException two documents of the same kind, namespace and name (the API server would keep one)
     */
    public static ManifestInstancetypes of(List<LoadedManifest> docs) throws ManifestException {
        Map<String, JsonNode> specs = new LinkedHashMap<>();
        for (LoadedManifest d : docs) {
            Optional<InstancetypeResource> r = d.instancetypeResource();
            if (r.isEmpty()) {
                continue;
            }
            String key = key(r.get(), d.namespace(), d.name());
            JsonNode spec = KubevirtJson.toTree(d.resource()).get("spec");
            if (specs.putIfAbsent(key, spec == null ? KubevirtJson.json().createObjectNode() : spec) != null) {
                throw new ManifestException(d.source(), d.line(), 0, "document " + (d.documentIndex() + 1) + ": a second "
                        + r.get().kind() + " named " + d.name() + (r.get().namespaced() ? " in namespace "
                        + d.namespace() : "") + ": names must be unique");
            }
        }
        return new ManifestInstancetypes(specs);
    }

    /** How many objects the file holds. */
    public int size() {
        return specs.size();
    }

    @Override
    public Optional<JsonNode> spec(InstancetypeResource resource, String namespace, String name) {
        return Optional.ofNullable(specs.get(key(resource, namespace, name)));
    }

    private static String key(InstancetypeResource r, String namespace, String name) {
        return r.kind() + "/" + (r.namespaced() ? namespace : "") + "/" + name;
    }

    /**
     * {@link InstancetypeExpander#find}'s errors with what to do in a file: the object goes in the same file as
     * the VM; a revision cannot be read (the launcher has no ControllerRevisions).
     */
    public static List<FieldError> explain(List<FieldError> findErrors, String vmNamespace) {
        List<FieldError> out = new ArrayList<>();
        for (FieldError e : findErrors) {
            String hint;
            if (e.path().endsWith(".revisionName")) {
                hint = "a file has no ControllerRevisions: leave revisionName out and put the object in the file";
            } else {
                String kind = e.message().contains("." + InstancetypeResource.GROUP) ? kindOf(e.message()) : "object";
                boolean namespaced = InstancetypeResource.forKind(kind).map(InstancetypeResource::namespaced).orElse(false);
                hint = "put the " + kind + " in the same file as the VirtualMachine (another document, after ---"
                        + (namespaced ? ", in namespace " + vmNamespace : "") + ") or in a file given with --instancetypes";
            }
            out.add(new FieldError(e.path(), e.message() + ": " + hint));
        }
        return out;
    }

    private static String kindOf(String notFound) {
        for (InstancetypeResource r : InstancetypeResource.values()) {
            if (notFound.startsWith(r.plural() + ".")) {
                return r.kind();
            }
        }
        return "object";
    }
}
