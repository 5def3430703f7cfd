package io.qvirt.qmp;

import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;

/** Runs tasks one at a time, in submission order, on a base executor. Keeps events ordered per client. */
final class SerialExecutor implements Executor {
    private static final System.Logger LOG = System.getLogger(SerialExecutor.class.getName());
    private final Queue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean scheduled = new AtomicBoolean();
    private final Executor base;

    SerialExecutor(Executor base) {
        this.base = base;
    }

    @Override
    public void execute(Runnable task) {
        tasks.add(task);
        schedule();
    }

    private void schedule() {
        if (!tasks.isEmpty() && scheduled.compareAndSet(false, true)) {
            try {
                base.execute(this::drain);
            } catch (RuntimeException e) {
                scheduled.set(false);
                LOG.log(System.Logger.Level.ERROR, "listener executor rejected a task; events dropped", e);
                tasks.clear();
            }
        }
    }

    private void drain() {
        try {
            Runnable r;
            while ((r = tasks.poll()) != null) {
                try {
                    r.run();
                } catch (RuntimeException | Error e) {
                    LOG.log(System.Logger.Level.WARNING, "QMP event listener threw", e);
                }
            }
        } finally {
            scheduled.set(false);
            // A task may have arrived between the last poll and the reset.
            schedule();
        }
    }
}
