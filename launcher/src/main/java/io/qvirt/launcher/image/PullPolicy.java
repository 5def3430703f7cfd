package io.qvirt.launcher.image;

/** KubeVirt's (and Kubernetes') {@code imagePullPolicy}. */
public enum PullPolicy {
    /** Ask the registry what the tag names now; blobs already cached by digest are not fetched again. */
    ALWAYS("Always"),
    /** Use the cached image if the tag (or digest) was pulled before; the registry is not contacted. */
    IF_NOT_PRESENT("IfNotPresent"),
    /** Use the cache only; fail if the image is not there. */
    NEVER("Never");

    private final String text;

    PullPolicy(String text) {
        this.text = text;
    }

    /**
     * @param field the spec field, for the message
     * @throws IllegalArgumentException naming the field and the allowed values
     */
    public static PullPolicy parse(String value, String field) {
        for (PullPolicy p : values()) {
            if (p.text.equals(value)) {
                return p;
            }
        }
        throw new IllegalArgumentException(field + ": '" + value + "' is not allowed: Always, IfNotPresent, Never");
    }

    @Override
    public String toString() {
        return text;
    }
}
