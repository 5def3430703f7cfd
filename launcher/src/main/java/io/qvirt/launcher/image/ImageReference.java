package io.qvirt.launcher.image;

import java.util.regex.Pattern;

/**
 * An image reference as Docker and KubeVirt read it: {@code [registry[:port]/]repository[:tag][@digest]}.
 * A first component without a dot, a colon or {@code localhost} is part of the repository, and the registry
 * is Docker Hub ({@code docker.io}); a one-part Docker Hub repository lives under {@code library/}. Without
 * tag and digest the tag is {@code latest}.
 *
 * @param registry   normalized registry host[:port], e.g. {@code docker.io}, {@code 127.0.0.1:5000}
 * @param repository e.g. {@code library/busybox}, {@code qvirt/guest}
 * @param tag        the tag, or null when only a digest was given
 * @param digest     {@code sha256:<64 hex>}, or null
 */
public record ImageReference(String registry, String repository, String tag, String digest) {
    public static final String DOCKER_HUB = "docker.io";

    private static final Pattern COMPONENT = Pattern.compile("[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*");
    private static final Pattern TAG = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}");
    private static final Pattern DIGEST = Pattern.compile("sha256:[0-9a-f]{64}");
    private static final Pattern HOST = Pattern.compile("(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)"
            + "(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*(?::[0-9]{1,5})?|\\[[0-9A-Fa-f:.]+\\](?::[0-9]{1,5})?");

    /**
     * @throws IllegalArgumentException naming the reference and what is allowed, if it is not one
     */
    public static ImageReference parse(String ref) {
        if (ref == null || ref.isBlank()) {
            throw new IllegalArgumentException("an image reference is required");
        }
        String rest = ref.strip();
        String digest = null;
        int at = rest.indexOf('@');
        if (at >= 0) {
            digest = rest.substring(at + 1);
            rest = rest.substring(0, at);
            if (!DIGEST.matcher(digest).matches()) {
                throw bad(ref, "digest '" + digest + "' must be sha256: and 64 lower-case hex digits");
            }
        }
        String tag = null;
        int slash = rest.lastIndexOf('/');
        int colon = rest.lastIndexOf(':');
        if (colon > slash) {
            tag = rest.substring(colon + 1);
            rest = rest.substring(0, colon);
            if (!TAG.matcher(tag).matches()) {
                throw bad(ref, "tag '" + tag + "' must be 1-128 of [A-Za-z0-9_.-], not starting with . or -");
            }
        }
        String registry = DOCKER_HUB;
        String repo = rest;
        int first = rest.indexOf('/');
        if (first > 0) {
            String head = rest.substring(0, first);
            if (head.contains(".") || head.contains(":") || head.equals("localhost")) {
                if (!HOST.matcher(head).matches()) {
                    throw bad(ref, "registry '" + head + "' is not a host[:port]");
                }
                registry = normalizeRegistry(head);
                repo = rest.substring(first + 1);
            }
        }
        if (repo.isEmpty()) {
            throw bad(ref, "the repository is empty");
        }
        for (String c : repo.split("/", -1)) {
            if (!COMPONENT.matcher(c).matches()) {
                throw bad(ref, "repository component '" + c + "' must be lower-case letters and digits, "
                        + "separated by '.', '_', '__' or '-'");
            }
        }
        if (registry.equals(DOCKER_HUB) && !repo.contains("/")) {
            repo = "library/" + repo;
        }
        if (tag == null && digest == null) {
            tag = "latest";
        }
        return new ImageReference(registry, repo, tag, digest);
    }

    /** {@code index.docker.io} and {@code registry-1.docker.io} are Docker Hub's {@code docker.io}. */
    public static String normalizeRegistry(String host) {
        String h = host.toLowerCase();
        if (h.equals("index.docker.io") || h.equals("registry-1.docker.io")) {
            return DOCKER_HUB;
        }
        return h;
    }

    /** What the manifest is asked for by: the digest if there is one, else the tag. */
    public String reference() {
        return digest != null ? digest : tag;
    }

    /** True if the image is named by digest, so its content can never change. */
    public boolean pinned() {
        return digest != null;
    }

    /** The same repository and tag or digest, at another registry (a mirror). */
    public ImageReference at(String otherRegistry) {
        return new ImageReference(otherRegistry, repository, tag, digest);
    }

    @Override
    public String toString() {
        return registry + "/" + repository + (tag != null ? ":" + tag : "") + (digest != null ? "@" + digest : "");
    }

    private static IllegalArgumentException bad(String ref, String why) {
        return new IllegalArgumentException("'" + ref + "' is not a valid image reference: " + why
                + " (expected [registry[:port]/]repository[:tag][@sha256:digest])");
    }
}
