package io.qvirt.launcher.image;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * An image manifest (OCI or Docker schema 2) reduced to what qvirt needs: its digest, its config and its
 * layers in order (the first is the bottom one).
 *
 * @param digest the digest of the manifest's exact bytes
 * @param raw    those bytes, cached as a blob so a second start needs no registry
 * @param config the config blob's descriptor
 * @param layers layer descriptors, bottom first
 */
public record Manifest(String digest, byte[] raw, Descriptor config, List<Descriptor> layers) {
    public static final String OCI_INDEX = "application/vnd.oci.image.index.v1+json";
    public static final String OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
    public static final String DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";
    public static final String DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
    /** What qvirt asks registries for, most wanted first. */
    public static final String ACCEPT = String.join(", ", OCI_INDEX, OCI_MANIFEST, DOCKER_LIST, DOCKER_MANIFEST);

    static final Pattern DIGEST = Pattern.compile("sha256:[0-9a-f]{64}");
    /** Most layers an image may have (Docker's own limit is 127). */
    static final int MAX_LAYERS = 256;
    private static final ObjectMapper JSON = new ObjectMapper();

    public Manifest {
        layers = List.copyOf(layers);
    }

    /** Whether the JSON is an index / manifest list (as opposed to one image's manifest). */
    static boolean isIndex(String contentType, JsonNode json) {
        String mt = json.path("mediaType").asText(contentType == null ? "" : contentType);
        return mt.startsWith(OCI_INDEX) || mt.startsWith(DOCKER_LIST)
                || (!json.has("layers") && json.has("manifests"));
    }

    static JsonNode json(byte[] raw) throws IOException {
        JsonNode n = JSON.readTree(raw);
        if (n == null || !n.isObject()) {
            throw new IOException("not a JSON object");
        }
        return n;
    }

    /**
     * The linux/amd64 entry of an index, or null if it has none.
     *
     * @throws IOException if an entry is malformed
     */
    static Descriptor pickPlatform(JsonNode index, List<String> seen) throws IOException {
        for (JsonNode m : index.path("manifests")) {
            JsonNode p = m.path("platform");
            String os = p.path("os").asText("");
            String arch = p.path("architecture").asText("");
            seen.add(os + "/" + arch);
            if (os.equals("linux") && arch.equals("amd64")) {
                return descriptor(m);
            }
        }
        return null;
    }

    /**
     * Parses one image's manifest.
     *
     * @throws IOException if it is not a schema 2 / OCI manifest with a config and layers
     */
    static Manifest parse(String digest, byte[] raw, JsonNode json) throws IOException {
        if (json.path("schemaVersion").asInt(0) != 2) {
            throw new IOException("schemaVersion " + json.path("schemaVersion").asText("(none)")
                    + " is not supported: only schema 2 / OCI manifests");
        }
        if (!json.path("config").isObject() || !json.path("layers").isArray()) {
            throw new IOException("a manifest needs \"config\" and \"layers\"");
        }
        if (json.path("layers").size() > MAX_LAYERS) {
            throw new IOException("the manifest has " + json.path("layers").size() + " layers; at most " + MAX_LAYERS
                    + " are taken");
        }
        List<Descriptor> layers = new ArrayList<>();
        for (JsonNode l : json.path("layers")) {
            layers.add(descriptor(l));
        }
        return new Manifest(digest, raw, descriptor(json.path("config")), layers);
    }

    static Descriptor descriptor(JsonNode n) throws IOException {
        String digest = n.path("digest").asText("");
        if (!DIGEST.matcher(digest).matches()) {
            throw new IOException("descriptor digest '" + digest + "' is not sha256:<64 hex> (qvirt verifies sha256 only)");
        }
        long size = n.path("size").asLong(-1);
        if (size < 0) {
            throw new IOException("descriptor " + digest + " has no size");
        }
        return new Descriptor(n.path("mediaType").asText(""), digest, size);
    }
}
