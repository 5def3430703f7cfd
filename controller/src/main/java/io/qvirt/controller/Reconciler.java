package io.qvirt.controller;

import java.time.Duration;

/** One idempotent reconcile of one object kind, by key. */
@FunctionalInterface
interface Reconciler {
    /**
     * Brings the object {@code key} ({@code namespace/name}) and what it owns towards their desired state.
     * Reads the informers' caches; safe to call any number of times.
     *
     * @return when to look again although nothing changes (a back-off or grace period ending), or null
     * @throws RuntimeException to be retried with the queue's rate-limited back-off
     */
    Duration reconcile(String key);
}
