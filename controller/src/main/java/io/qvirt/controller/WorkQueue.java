package io.qvirt.controller;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A rate-limited work queue of object keys ({@code namespace/name}), shaped like client-go's: a key is
 * queued at most once however often it is added, and never handed to two workers at once (a key added
 * while a worker holds it is queued again when that worker calls {@link #done}). Failed keys come back
 * after a per-key exponential delay ({@link #addRateLimited}); {@link #forget} resets it.
 *
 * <p>Thread-safe. Informer callbacks only call {@link #add}; workers loop on {@link #take}/{@link #done}.
 */
public final class WorkQueue implements AutoCloseable {
    private final String name;
    private final Duration baseDelay;
    private final Duration maxDelay;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition nonEmpty = lock.newCondition();
    private final ArrayDeque<String> queue = new ArrayDeque<>();
    private final Set<String> dirty = new HashSet<>();
    private final Set<String> processing = new HashSet<>();
    private final Map<String, Integer> failures = new HashMap<>();
    private final ScheduledExecutorService delayer;
    private boolean shutDown;

    /**
     * @param name      for metrics and thread names
     * @param baseDelay first retry delay of a failing key; doubles per failure
     * @param maxDelay  cap of the retry delay
     */
    public WorkQueue(String name, Duration baseDelay, Duration maxDelay) {
        this.name = name;
        this.baseDelay = baseDelay;
        this.maxDelay = maxDelay;
        this.delayer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "qvirt-" + name + "-delay");
            t.setDaemon(true);
            return t;
        });
    }

    public String name() {
        return name;
    }

    /** Queues {@code key} unless it is already waiting. */
    public void add(String key) {
        lock.lock();
        try {
            if (shutDown || !dirty.add(key)) {
                return;
            }
            if (!processing.contains(key)) {
                queue.addLast(key);
                nonEmpty.signal();
            }
        } finally {
            lock.unlock();
        }
    }

    /** Queues {@code key} after {@code delay} (at once if the delay is zero or negative). */
    public void addAfter(String key, Duration delay) {
        if (delay.isZero() || delay.isNegative()) {
            add(key);
            return;
        }
        lock.lock();
        try {
            if (shutDown) {
                return;
            }
        } finally {
            lock.unlock();
        }
        delayer.schedule(() -> add(key), delay.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Queues {@code key} after its next back-off delay: base, 2 x base, ... up to the maximum. */
    public void addRateLimited(String key) {
        int n;
        lock.lock();
        try {
            n = failures.merge(key, 1, Integer::sum);
        } finally {
            lock.unlock();
        }
        addAfter(key, backoff(n));
    }

    Duration backoff(int failureCount) {
        long factor = 1L << Math.min(failureCount - 1, 30);
        long ms = baseDelay.toMillis() * factor;
        return ms <= 0 || ms > maxDelay.toMillis() ? maxDelay : Duration.ofMillis(ms);
    }

    /** How many failures of {@code key} its next back-off counts (tests). */
    int failures(String key) {
        lock.lock();
        try {
            return failures.getOrDefault(key, 0);
        } finally {
            lock.unlock();
        }
    }

    /** Clears the failure count of {@code key} (after a successful reconcile). */
    public void forget(String key) {
        lock.lock();
        try {
            failures.remove(key);
        } finally {
            lock.unlock();
        }
    }

    /**
     * The next key, marked as being processed; the caller must call {@link #done} with it.
     *
     * @return null if nothing came within {@code timeout} or the queue is shut down
     */
    public String take(Duration timeout) throws InterruptedException {
        long nanos = timeout.toNanos();
        lock.lock();
        try {
            while (queue.isEmpty()) {
                if (shutDown || nanos <= 0) {
                    return null;
                }
                nanos = nonEmpty.awaitNanos(nanos);
            }
            String key = queue.pollFirst();
            dirty.remove(key);
            processing.add(key);
            return key;
        } finally {
            lock.unlock();
        }
    }

    /** Ends the processing of {@code key}; if it was added meanwhile, it is queued again. */
    public void done(String key) {
        lock.lock();
        try {
            processing.remove(key);
            if (dirty.contains(key) && !shutDown) {
                queue.addLast(key);
                nonEmpty.signal();
            }
        } finally {
            lock.unlock();
        }
    }

    /** Keys waiting (not counting those being processed or delayed). */
    public int depth() {
        lock.lock();
        try {
            return queue.size();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void close() {
        lock.lock();
        try {
            shutDown = true;
            nonEmpty.signalAll();
        } finally {
            lock.unlock();
        }
        delayer.shutdownNow();
    }
}
