package io.qvirt.qmp;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;

/**
 * A one-shot wait for an event, registered before the command that causes it (see
 * {@link QmpClient#expectEvent}). Completes with the first matching event after registration, or fails
 * with {@link QmpDisconnectedException} when the connection ends first.
 */
public final class EventWaiter implements AutoCloseable {
    private final QmpClient client;
    private final String name;
    private final Predicate<QmpEvent> filter;
    private final OffLoopFuture<QmpEvent> future = new OffLoopFuture<>();

    EventWaiter(QmpClient client, String name, Predicate<QmpEvent> filter) {
        this.client = client;
        this.name = name;
        this.filter = filter;
    }

    /** The event name waited for, or null for any. */
    public String name() {
        return name;
    }

    boolean matches(QmpEvent e) {
        return (name == null || name.equals(e.name())) && (filter == null || filter.test(e));
    }

    void complete(QmpEvent e) {
        future.complete(e);
    }

    void fail(Throwable t) {
        future.completeExceptionally(t);
    }

    /** The event, as a future; its dependent stages run off the event loop. */
    public CompletableFuture<QmpEvent> future() {
        return future;
    }

    /**
     * Blocks until the event arrives, at most {@code timeout}. On timeout the waiter is cancelled.
     *
     * @throws QmpTimeoutException      if no matching event came in time
     * @throws QmpDisconnectedException if the connection ended first
     * @throws QmpException             if interrupted (the interrupt flag is kept)
     */
    public QmpEvent await(Duration timeout) {
        try {
            return future.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            close();
            throw new QmpTimeoutException("no QMP event " + (name == null ? "(any)" : name)
                    + (filter == null ? "" : " matching the filter") + " within " + timeout);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof QmpException q) {
                throw q;
            }
            throw new QmpException("waiting for event " + name + " failed: " + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            close();
            throw new QmpException("interrupted while waiting for QMP event " + name, e);
        }
    }

    /** Stops waiting; the future is cancelled if not yet complete. */
    @Override
    public void close() {
        client.removeWaiter(this);
        future.cancel(false);
    }
}
