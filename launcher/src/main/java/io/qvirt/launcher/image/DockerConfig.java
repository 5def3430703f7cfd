package io.qvirt.launcher.image;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Registry credentials from a Docker-style {@code config.json}: {@code auths.<host>.auth} (base64 of
 * {@code user:password}) or {@code auths.<host>.username} and {@code password}. Keys may be written as
 * URLs ({@code https://index.docker.io/v1/}); they are reduced to the registry's host[:port].
 * Credential helpers ({@code credsStore}, {@code credHelpers}) are not run.
 */
public final class DockerConfig {
    /** A user name and password for one registry. */
    public record Credentials(String username, String password) {
        @Override
        public String toString() {
            return "Credentials[" + username + ", password hidden]";
        }
    }

    public static final DockerConfig EMPTY = new DockerConfig(Map.of(), null);

    private final Map<String, Credentials> auths;
    private final Path source;

    private DockerConfig(Map<String, Credentials> auths, Path source) {
        this.auths = Map.copyOf(auths);
        this.source = source;
    }

    /**
     * @param file a readable config.json
     * @throws IllegalArgumentException naming {@code flag}, the file and the entry that is wrong
     */
    public static DockerConfig load(Path file, String flag) {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(Files.readAllBytes(file));
        } catch (IOException e) {
            throw new IllegalArgumentException(flag + ": cannot read " + file + " as JSON: " + e.getMessage());
        }
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException(flag + ": " + file + " must hold a JSON object with \"auths\"");
        }
        Map<String, Credentials> out = new LinkedHashMap<>();
        JsonNode auths = root.path("auths");
        if (!auths.isMissingNode() && !auths.isObject()) {
            throw new IllegalArgumentException(flag + ": " + file + ": \"auths\" must be an object of host -> {auth}");
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = auths.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String where = flag + ": " + file + ": auths." + e.getKey();
            JsonNode a = e.getValue();
            Credentials c;
            if (a.hasNonNull("auth") && !a.get("auth").asText().isEmpty()) {
                String decoded;
                try {
                    decoded = new String(Base64.getDecoder().decode(a.get("auth").asText().strip()), StandardCharsets.UTF_8);
                } catch (IllegalArgumentException ex) {
                    throw new IllegalArgumentException(where + ".auth: not base64 (" + ex.getMessage() + ")");
                }
                int colon = decoded.indexOf(':');
                if (colon <= 0) {
                    throw new IllegalArgumentException(where + ".auth: must be base64 of user:password");
                }
                c = new Credentials(decoded.substring(0, colon), decoded.substring(colon + 1));
            } else if (a.hasNonNull("username") && a.hasNonNull("password")) {
                c = new Credentials(a.get("username").asText(), a.get("password").asText());
            } else {
                // Entries without credentials (e.g. only an identitytoken from a helper) say nothing qvirt can use.
                continue;
            }
            out.put(hostOf(e.getKey()), c);
        }
        return new DockerConfig(out, file);
    }

    /** The credentials for a registry host[:port] (Docker Hub under any of its names), or null. */
    public Credentials lookup(String registry) {
        return auths.get(ImageReference.normalizeRegistry(registry));
    }

    /** The file it came from, or null. */
    public Path source() {
        return source;
    }

    /** {@code https://index.docker.io/v1/} -> {@code docker.io}; {@code host:5000} stays. */
    static String hostOf(String key) {
        String k = key.strip();
        int scheme = k.indexOf("://");
        if (scheme >= 0) {
            k = k.substring(scheme + 3);
        }
        int slash = k.indexOf('/');
        if (slash >= 0) {
            k = k.substring(0, slash);
        }
        return ImageReference.normalizeRegistry(k);
    }
}
