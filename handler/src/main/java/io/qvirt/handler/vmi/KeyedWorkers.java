package io.qvirt.handler.vmi;

import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Runs a sync function per key on a small pool: a key is never synced by two threads at once, a key added
 * while it is being synced is synced once more afterwards (however often it was added), and a sync may ask to
 * run again after a delay. Callers (informer callbacks, QMP event listeners, timers) only {@link #add}.
 */
final class KeyedWorkers implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(KeyedWorkers.class.getName());

    private final Function<String, Duration> sync;
    private final ExecutorService pool;
    private final ScheduledExecutorService delayer;
    private final Object lock = new Object();
    /** Keys queued or running with another run owed. */
    private final Set<String> dirty = new HashSet<>();
    private final Set<String> running = new HashSet<>();
    private volatile boolean closed;

    /**
     * @param sync    the sync of one key; returns a delay to run it again, or null
     * @param workers threads syncing at once
     */
    KeyedWorkers(String name, int workers, Function<String, Duration> sync) {
        this.sync = sync;
        AtomicInteger n = new AtomicInteger();
        this.pool = Executors.newFixedThreadPool(workers, r -> {
            Thread t = new Thread(r, "qvirt-" + name + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        this.delayer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "qvirt-" + name + "-delay");
            t.setDaemon(true);
            return t;
        });
    }

    /** Syncs {@code key} soon; a no-op if it is already waiting. */
    void add(String key) {
        synchronized (lock) {
            if (closed || !dirty.add(key) || running.contains(key)) {
                return; // waiting already, or the running sync will see it dirty and go again
            }
        }
        pool.execute(() -> run(key));
    }

    /** Syncs {@code key} after {@code delay}. */
    void addAfter(String key, Duration delay) {
        if (!closed) {
            delayer.schedule(() -> add(key), Math.max(1, delay.toMillis()), TimeUnit.MILLISECONDS);
        }
    }

    private void run(String key) {
        synchronized (lock) {
            dirty.remove(key);
            running.add(key);
        }
        Duration again = null;
        try {
            again = sync.apply(key);
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "sync of " + key + " failed; again in 2 s: " + e, e);
            again = Duration.ofSeconds(2);
        } finally {
            boolean more;
            synchronized (lock) {
                running.remove(key);
                more = dirty.contains(key) && !closed;
            }
            if (more) {
                pool.execute(() -> run(key));
            }
        }
        if (again != null) {
            addAfter(key, again);
        }
    }

    @Override
    public void close() {
        closed = true;
        delayer.shutdownNow();
        pool.shutdownNow();
        try {
            pool.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
