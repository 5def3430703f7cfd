package io.qvirt.launcher.image;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The {@code --image-config} file, YAML or JSON (JSON is YAML):
 * <pre>
 * mirrors: {quay.io: 127.0.0.1:5000}   # source registry -> host[:port]
 * insecure: [127.0.0.1:5000]           # plain HTTP only for these
 * registryConfig: /root/.docker/config.json
 * cacheDir: /var/lib/qvirt/images
 * </pre>
 * Every key is optional; unknown keys are refused. Relative paths are relative to the file's directory.
 *
 * @param mirrors        as {@link RegistryOptions#mirrors()}
 * @param insecure       as {@link RegistryOptions#insecure()}
 * @param registryConfig a Docker config.json, or null
 * @param cacheDir       the image cache, or null
 */
public record ImageConfig(Map<String, String> mirrors, List<String> insecure, Path registryConfig, Path cacheDir) {
    private static final Set<String> KEYS = Set.of("mirrors", "insecure", "registryConfig", "cacheDir");

    public static final ImageConfig EMPTY = new ImageConfig(Map.of(), List.of(), null, null);

    public ImageConfig {
        mirrors = Map.copyOf(mirrors);
        insecure = List.copyOf(insecure);
    }

    /**
     * @param flag the option that named the file, for messages
     * @throws IllegalArgumentException naming the flag, the file, the key and what is allowed
     */
    public static ImageConfig load(Path file, String flag) {
        JsonNode root;
        try {
            root = new YAMLMapper().readTree(Files.readAllBytes(file));
        } catch (IOException e) {
            throw new IllegalArgumentException(flag + ": cannot read " + file + ": " + e.getMessage().lines().findFirst().orElse(""));
        }
        if (root == null || root.isMissingNode() || root.isNull()) {
            return EMPTY;
        }
        String where = flag + ": " + file;
        if (!root.isObject()) {
            throw new IllegalArgumentException(where + ": must be a mapping with keys " + String.join(", ", sorted()));
        }
        for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!KEYS.contains(k)) {
                throw new IllegalArgumentException(where + ": unknown key '" + k + "' (allowed: " + String.join(", ", sorted()) + ")");
            }
        }
        Map<String, String> mirrors = new LinkedHashMap<>();
        JsonNode m = root.path("mirrors");
        if (!m.isMissingNode() && !m.isNull()) {
            if (!m.isObject()) {
                throw new IllegalArgumentException(where + ": mirrors must be a mapping SRC: DST, e.g. {quay.io: 127.0.0.1:5000}");
            }
            for (Iterator<Map.Entry<String, JsonNode>> it = m.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                if (!e.getValue().isTextual()) {
                    throw new IllegalArgumentException(where + ": mirrors." + e.getKey() + " must be a host[:port] string");
                }
                Map.Entry<String, String> p = RegistryOptions.parseMirror(where + ": mirrors",
                        e.getKey() + "=" + e.getValue().asText());
                mirrors.put(p.getKey(), p.getValue());
            }
        }
        List<String> insecure = new ArrayList<>();
        JsonNode in = root.path("insecure");
        if (!in.isMissingNode() && !in.isNull()) {
            if (!in.isArray()) {
                throw new IllegalArgumentException(where + ": insecure must be a list of HOST[:PORT]");
            }
            for (JsonNode h : in) {
                insecure.add(RegistryOptions.parseHost(where + ": insecure", h.asText()));
            }
        }
        return new ImageConfig(mirrors, insecure, path(root, "registryConfig", file, where), path(root, "cacheDir", file, where));
    }

    private static Path path(JsonNode root, String key, Path file, String where) {
        JsonNode n = root.path(key);
        if (n.isMissingNode() || n.isNull()) {
            return null;
        }
        if (!n.isTextual() || n.asText().isBlank()) {
            throw new IllegalArgumentException(where + ": " + key + " must be a path");
        }
        Path p = Path.of(n.asText());
        Path dir = file.toAbsolutePath().getParent();
        return p.isAbsolute() || dir == null ? p : dir.resolve(p).normalize();
    }

    private static List<String> sorted() {
        return KEYS.stream().sorted().toList();
    }
}
