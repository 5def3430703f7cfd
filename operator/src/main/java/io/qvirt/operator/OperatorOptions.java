package io.qvirt.operator;

import java.time.Duration;

/**
 * How virt-operator runs.
 *
 * @param namespace       where it installs (and where its Lease, Secrets and components live)
 * @param defaultRegistry images' registry when the CR names none (the operator's own)
 * @param defaultTag      images' tag when the CR names none (the operator's own)
 * @param resync          how often every KubeVirt CR is reconciled even without an event
 * @param caValidity      the CA's lifetime
 * @param certValidity    each component certificate's lifetime (renewed with a fifth left)
 */
public record OperatorOptions(String namespace, String defaultRegistry, String defaultTag, Duration resync,
                              Duration caValidity, Duration certValidity) {
    public static final String VERSION = "0.1.0";

    /** Namespace {@code kubevirt}, KubeVirt's defaults: resync 5 minutes, CA 10 years, certificates 1 year. */
    public static OperatorOptions standard(String defaultRegistry, String defaultTag) {
        return new OperatorOptions("kubevirt", defaultRegistry, defaultTag, Duration.ofMinutes(5),
                Duration.ofDays(3650), Duration.ofDays(365));
    }
}
