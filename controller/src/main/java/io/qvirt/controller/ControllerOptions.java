package io.qvirt.controller;

import java.time.Duration;
import java.util.Objects;

/**
 * How a {@link Controller} runs.
 *
 * @param namespace          the namespace to watch, or null for all
 * @param kubevirtNamespace  where the {@code KubeVirt} CR lives ({@code kubevirt})
 * @param workers            worker threads per work queue (VM and VMI)
 * @param defaults           cluster settings used when there is no KubeVirt CR
 * @param crashLoopBase      the least back-off interval of a VM whose VMIs fail before running (KubeVirt: 10 s);
 *                           the n-th failure waits {@code max(base, max / 30) x n^2} plus up to half of it again
 * @param crashLoopMax       cap of that delay (KubeVirt: 5 min)
 * @param retryBase          first retry delay of a failed reconcile
 * @param retryMax           cap of the retry delay
 * @param resync             how often every VM and VMI is reconciled again although nothing changed (a safety
 *                           net: a key whose last reconcile was lost somehow converges anyway); zero for never
 */
public record ControllerOptions(String namespace, String kubevirtNamespace, int workers, ClusterConfig defaults,
                                Duration crashLoopBase, Duration crashLoopMax,
                                Duration retryBase, Duration retryMax, Duration resync) {
    public ControllerOptions {
        Objects.requireNonNull(kubevirtNamespace, "kubevirtNamespace");
        Objects.requireNonNull(defaults, "defaults");
        Objects.requireNonNull(resync, "resync");
        if (resync.isNegative() || (!resync.isZero() && resync.toMillis() < 1000)) {
            throw new IllegalArgumentException("resync must be zero (off) or at least 1 s, not " + resync);
        }
        if (workers < 1) {
            throw new IllegalArgumentException("workers must be at least 1, not " + workers);
        }
    }

    /**
     * KubeVirt's numbers: crash-loop back-off 10 s x n^2 (+ up to 50% jitter) capped at 5 min; 4 workers; failed
     * reconciles retried after 50 ms doubling to 30 s; everything reconciled again every 5 min.
     */
    public static ControllerOptions standard() {
        return new ControllerOptions(null, "kubevirt", 4, ClusterConfig.defaults(), Duration.ofSeconds(10),
                Duration.ofMinutes(5), Duration.ofMillis(50), Duration.ofSeconds(30),
                Duration.ofMinutes(5));
    }

    public ControllerOptions withNamespace(String ns) {
        return new ControllerOptions(ns, kubevirtNamespace, workers, defaults, crashLoopBase, crashLoopMax,
                retryBase, retryMax, resync);
    }

    public ControllerOptions withWorkers(int n) {
        return new ControllerOptions(namespace, kubevirtNamespace, n, defaults, crashLoopBase, crashLoopMax,
                retryBase, retryMax, resync);
    }

    public ControllerOptions withDefaults(ClusterConfig config) {
        return new ControllerOptions(namespace, kubevirtNamespace, workers, config, crashLoopBase, crashLoopMax,
                retryBase, retryMax, resync);
    }

    public ControllerOptions withCrashLoop(Duration base, Duration max) {
        return new ControllerOptions(namespace, kubevirtNamespace, workers, defaults, base, max, retryBase,
                retryMax, resync);
    }

    public ControllerOptions withResync(Duration period) {
        return new ControllerOptions(namespace, kubevirtNamespace, workers, defaults, crashLoopBase, crashLoopMax,
                retryBase, retryMax, period);
    }
}
