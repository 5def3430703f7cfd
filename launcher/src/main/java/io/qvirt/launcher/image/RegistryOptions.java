package io.qvirt.launcher.image;

import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * How registries are reached.
 *
 * @param mirrors        source registry (normalized, e.g. {@code quay.io}, {@code docker.io}) -> host[:port] asked instead
 * @param insecure       host[:port] entries spoken to over plain HTTP; an entry without a port matches every
 *                       port of that host. Nothing else is insecure, not even 127.0.0.1 or localhost.
 * @param credentials    credentials by registry (looked up for the host actually contacted, then for the source)
 * @param connectTimeout bound on establishing a connection
 * @param requestTimeout bound on waiting for the response headers of one request
 * @param stallTimeout   bound on a blob download receiving no bytes at all
 */
public record RegistryOptions(Map<String, String> mirrors, Set<String> insecure, DockerConfig credentials,
                              Duration connectTimeout, Duration requestTimeout, Duration stallTimeout) {
    /** host[:port], or a bracketed IPv6 address with an optional port. */
    static final Pattern HOST_PORT = Pattern.compile("(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
            + "(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\\[[0-9A-Fa-f:.]+\\])(?::[0-9]{1,5})?");

    public static final RegistryOptions DEFAULTS = new RegistryOptions(Map.of(), Set.of(), DockerConfig.EMPTY,
            Duration.ofSeconds(5), Duration.ofSeconds(30), Duration.ofSeconds(30));

    public RegistryOptions {
        mirrors = Map.copyOf(mirrors);
        insecure = Set.copyOf(insecure);
    }

    /** The host[:port] to contact for a source registry: its mirror if one is set; Docker Hub's API host for docker.io. */
    public String endpoint(String registry) {
        String m = mirrors.get(registry);
        String host = m != null ? m : registry;
        return host.equals(ImageReference.DOCKER_HUB) ? "registry-1.docker.io" : host;
    }

    /** Whether host[:port] is spoken to over plain HTTP. */
    public boolean isInsecure(String hostPort) {
        if (insecure.contains(hostPort)) {
            return true;
        }
        int colon = hostPort.lastIndexOf(':');
        return colon > 0 && !hostPort.endsWith("]") && insecure.contains(hostPort.substring(0, colon));
    }

    /**
     * Parses {@code SRC=DST}.
     *
     * @throws IllegalArgumentException naming {@code flag} and what is allowed
     */
    public static Map.Entry<String, String> parseMirror(String flag, String value) {
        int eq = value == null ? -1 : value.indexOf('=');
        if (eq <= 0 || eq == value.length() - 1) {
            throw new IllegalArgumentException(flag + ": '" + value + "' is not allowed: SRC=DST, e.g. quay.io=127.0.0.1:5000");
        }
        String src = value.substring(0, eq).strip();
        String dst = value.substring(eq + 1).strip();
        checkHost(flag, src, value);
        checkHost(flag, dst, value);
        return Map.entry(ImageReference.normalizeRegistry(src), dst.toLowerCase());
    }

    /**
     * Checks a {@code HOST[:PORT]} entry.
     *
     * @throws IllegalArgumentException naming {@code flag} and what is allowed
     */
    public static String parseHost(String flag, String value) {
        checkHost(flag, value == null ? "" : value.strip(), value);
        return value.strip().toLowerCase();
    }

    private static void checkHost(String flag, String host, String whole) {
        if (!HOST_PORT.matcher(host).matches()) {
            throw new IllegalArgumentException(flag + ": '" + host + "'" + (host.equals(whole) ? "" : " in '" + whole + "'")
                    + " is not allowed: HOST[:PORT] without scheme or path, e.g. 127.0.0.1:5000");
        }
        int colon = host.lastIndexOf(':');
        if (colon > 0 && !host.endsWith("]")) {
            int port = Integer.parseInt(host.substring(colon + 1));
            if (port < 1 || port > 65535) {
                throw new IllegalArgumentException(flag + ": port " + port + " in '" + whole + "' is not allowed: 1-65535");
            }
        }
    }
}
