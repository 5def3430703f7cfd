package io.qvirt.sandbox;

import io.qvirt.launcher.process.Child;
import io.qvirt.launcher.process.ExitStatus;
import io.qvirt.launcher.process.Signals;
import io.qvirt.launcher.process.SpawnSpec;
import io.qvirt.launcher.process.Spawner;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * A component of the rig that runs as a real process (virt-controller, virt-handler), restarted when it
 * exits as a Deployment's or DaemonSet's pod would be (1 s, doubling to 10 s), until {@link #stop}. Spawned
 * by the launcher's {@link Spawner} under {@code setpriv --pdeathsig KILL} from a thread that lives as long
 * as the process: if the rig's daemon dies, even by SIGKILL, the process dies too. Its stdout and stderr
 * are appended to its log file.
 */
public final class Supervised {
    private static final ScheduledExecutorService RESTARTS = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "sandbox-restarts");
        t.setDaemon(true);
        return t;
    });

    private final String name;
    private final List<String> argv;
    private final Map<String, String> env;
    private final Path log;
    private final ComponentLog events;
    private volatile Child child;
    private volatile boolean stopping;
    private volatile int restarts;
    private volatile ExitStatus lastExit;
    private long backoffMs = 1000;

    public Supervised(String name, List<String> argv, Map<String, String> env, Path log, ComponentLog events) {
        this.name = name;
        this.argv = List.copyOf(argv);
        this.env = Map.copyOf(env);
        this.log = log;
        this.events = events;
    }

    public synchronized void start() {
        if (stopping) {
            return;
        }
        Child c = Spawner.spawn(new SpawnSpec(Path.of(argv.get(0)), argv, env, List.of(), null, log, log, true,
                "sandbox-" + name));
        child = c;
        events.info(name + " started, pid " + c.pid() + ", log " + log);
        long startedAt = System.nanoTime();
        c.exit().whenComplete((st, err) -> exited(c, st, startedAt));
    }

    private void exited(Child c, ExitStatus st, long startedAt) {
        lastExit = st;
        if (stopping) {
            events.info(name + " (pid " + c.pid() + ") stopped: " + (st == null ? "?" : st.describe()));
            return;
        }
        long delay;
        synchronized (this) {
            if (System.nanoTime() - startedAt > TimeUnit.SECONDS.toNanos(30)) {
                backoffMs = 1000;
            }
            delay = backoffMs;
            backoffMs = Math.min(10_000, backoffMs * 2);
        }
        events.warn(name + " (pid " + c.pid() + ") exited: " + (st == null ? "?" : st.describe()) + "; restarting in "
                + delay + " ms, as its pod would be");
        RESTARTS.schedule(() -> {
            try {
                restarts++;
                start();
            } catch (RuntimeException e) {
                events.warn(name + ": cannot restart", e);
            }
        }, delay, TimeUnit.MILLISECONDS);
    }

    public String name() {
        return name;
    }

    /** The current process's pid, or -1 if none runs. */
    public long pid() {
        Child c = child;
        return c != null && c.isAlive() ? c.pid() : -1;
    }

    public boolean alive() {
        Child c = child;
        return c != null && c.isAlive();
    }

    public int restarts() {
        return restarts;
    }

    public Path log() {
        return log;
    }

    /** SIGTERM, then SIGKILL after {@code grace}; returns once the process is reaped (bounded by grace + 5 s). */
    public void stop(Duration grace) {
        stopping = true;
        Child c = child;
        if (c == null || !c.isAlive()) {
            return;
        }
        c.signal(Signals.SIGTERM);
        try {
            c.exit().get(grace.toMillis(), TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            events.warn(name + " (pid " + c.pid() + ") did not stop within " + grace.toSeconds() + " s of SIGTERM: SIGKILL");
            c.signal(Signals.SIGKILL);
            try {
                c.exit().get(5, TimeUnit.SECONDS);
            } catch (Exception e2) {
                events.warn(name + " (pid " + c.pid() + ") not reaped 5 s after SIGKILL");
            }
        }
    }

    /** Signals the current process (tests: kill a handler and see it restarted). */
    public void signal(int sig) {
        Child c = child;
        if (c != null) {
            c.signal(sig);
        }
    }
}
