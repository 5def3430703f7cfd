package io.qvirt.launcher.process;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * Starts a child with posix_spawn from a dedicated owner thread that then waits for it (so every child
 * is reaped). With {@link SpawnSpec#killWithOwner()}, the child runs under {@code setpriv --pdeathsig
 * KILL}: Linux delivers the parent-death signal when the spawning <em>thread</em> ends, which is why
 * the owner thread, not a short-lived one, spawns it; if this JVM dies by any signal the child dies too.
 */
public final class Spawner {
    private static final Path SETPRIV = Path.of("/usr/bin/setpriv");

    private Spawner() {
    }

    /**
     * Spawns the child and returns once it exists (or spawning failed).
     *
     * @throws NativeException if posix_spawn fails (e.g. the executable is missing)
     */
    public static Child spawn(SpawnSpec spec) {
        CompletableFuture<Integer> started = new CompletableFuture<>();
        CompletableFuture<ExitStatus> exited = new CompletableFuture<>();
        Thread owner = new Thread(() -> own(spec, started, exited), spec.threadName());
        owner.setDaemon(true);
        owner.start();
        try {
            return new Child(started.get(), exited);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while spawning " + spec.executable(), e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException re) {
                throw re;
            }
            throw new IllegalStateException(e.getCause());
        }
    }

    private static void own(SpawnSpec spec, CompletableFuture<Integer> started, CompletableFuture<ExitStatus> exited) {
        int pid;
        try {
            String path = spec.executable().toString();
            List<String> argv = spec.argv();
            if (spec.killWithOwner()) {
                if (!Files.isExecutable(SETPRIV)) {
                    throw new IllegalStateException(SETPRIV + " not found: apt-get install util-linux");
                }
                List<String> wrapped = new ArrayList<>(List.of("setpriv", "--pdeathsig", "KILL", "--", path));
                wrapped.addAll(argv.subList(1, argv.size()));
                argv = wrapped;
                path = SETPRIV.toString();
            }
            int[] fds = spec.inherit().stream().mapToInt(Fd::value).toArray();
            List<String> env = new ArrayList<>();
            for (Map.Entry<String, String> e : spec.env().entrySet()) {
                env.add(e.getKey() + "=" + e.getValue());
            }
            pid = Native.spawn(path, argv, env, fds,
                    orDevNull(spec.stdin()), orDevNull(spec.stdout()), orDevNull(spec.stderr()), true);
        } catch (RuntimeException e) {
            started.completeExceptionally(e);
            return;
        }
        started.complete(pid);
        try {
            exited.complete(ExitStatus.fromWaitStatus(Native.waitpid(pid, false)));
        } catch (RuntimeException e) {
            exited.completeExceptionally(e);
        }
    }

    private static String orDevNull(Path p) {
        return p == null ? "/dev/null" : p.toString();
    }
}
