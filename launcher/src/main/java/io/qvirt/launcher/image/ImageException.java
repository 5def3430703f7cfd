package io.qvirt.launcher.image;

import io.qvirt.launcher.runtime.LauncherException;

/**
 * Fetching an image failed (exit code 1). Every message names the image and the registry it was asked
 * of; the subclasses tell what went wrong, so callers and tests can tell the cases apart.
 */
public class ImageException extends LauncherException {
    private final String image;
    private final String registry;

    public ImageException(String image, String registry, String message) {
        this(image, registry, message, null);
    }

    public ImageException(String image, String registry, String message, Throwable cause) {
        super((image == null ? "" : "image " + image + (registry == null ? "" : " (registry " + registry + ")") + ": ")
                + message, cause);
        this.image = image;
        this.registry = registry;
    }

    /** The image as the spec names it (null for a failure of the cache as a whole). */
    public String image() {
        return image;
    }

    /** The registry that was contacted (a mirror's address when one is used), or null if none was. */
    public String registry() {
        return registry;
    }

    /** No connection, or no (complete) answer in time. */
    public static final class Unreachable extends ImageException {
        public Unreachable(String image, String registry, String message, Throwable cause) {
            super(image, registry, message, cause);
        }
    }

    /** The repository, tag or digest does not exist (404, MANIFEST_UNKNOWN, NAME_UNKNOWN). */
    public static final class NotFound extends ImageException {
        public NotFound(String image, String registry, String message) {
            super(image, registry, message);
        }
    }

    /** The registry refused access (401/403) with the credentials qvirt had, or asked for some it had none of. */
    public static final class AuthRefused extends ImageException {
        public AuthRefused(String image, String registry, String message) {
            super(image, registry, message);
        }
    }

    /** Content did not match its digest (or its announced size); nothing of it is kept. */
    public static final class DigestMismatch extends ImageException {
        private final String digest;

        public DigestMismatch(String image, String registry, String digest, String message) {
            super(image, registry, message);
            this.digest = digest;
        }

        /** The digest the content should have had. */
        public String digest() {
            return digest;
        }
    }

    /** The image holds no usable disk under /disk, or lacks a file the spec names (kernelPath, initrdPath, path). */
    public static final class MissingContent extends ImageException {
        public MissingContent(String image, String registry, String message) {
            super(image, registry, message);
        }
    }

    /** The registry answered something that is not the distribution API (bad JSON, unknown media type, ...). */
    public static final class Protocol extends ImageException {
        public Protocol(String image, String registry, String message, Throwable cause) {
            super(image, registry, message, cause);
        }
    }

    /** {@code imagePullPolicy: Never} and the image is not in the local cache. */
    public static final class NotCached extends ImageException {
        public NotCached(String image, String message) {
            super(image, null, message);
        }
    }

    /** The local cache cannot be read or written. */
    public static final class Cache extends ImageException {
        public Cache(String image, String message, Throwable cause) {
            super(image, null, message, cause);
        }
    }

    /**
     * The image is refused as unsafe or over a bound: a layer entry whose path or link leaves the image, a
     * layer that decompresses past the limit, a layer larger than the cache can hold. Nothing of it is kept
     * outside the cache's work directory.
     */
    public static final class Unsafe extends ImageException {
        public Unsafe(String image, String registry, String message, Throwable cause) {
            super(image, registry, message, cause);
        }
    }
}
